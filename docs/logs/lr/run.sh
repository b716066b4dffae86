#!/bin/bash
# A learning rate per config (issue 41, item 3), for the researcher's four configs at the fast
# preset: each config at each peak rate on the validation split, at a quarter of the fast
# preset's steps (flags/select.flags), one seed. The choice per config is the rate with the
# best validation accuracy; the test accuracies these runs also record are never read by it.
# Run from the repo root (docs/logs/stages.sh: RUNS, the stages, the start line).
# Started again it skips finished runs and resumes the unfinished one from its checkpoint.
source docs/logs/stages.sh "$@"
selection() {
    python -m cifar10_ablation.sweep --flagfile=flags/fast.flags --flagfile=flags/select.flags \
        --data_dir=../shared/cifar10 --log_dir="$RUNS/lr/selection" \
        $(recorded docs/selection_fast.csv) "$@" \
        --sweep=learning_rate=0.01,0.02,0.04,0.08,0.16 --seeds=1
}
# 1. selection: the max-pool pair (tutorial, conv_linear_max), then the finding pair. 0.16 joined
#    the rates after conv_linear_max and finding_conv_relu chose 0.08, the largest first tried:
#    a choice at the edge says nothing of the rates beyond it. (Stage 2 trains any trial not
#    finished here before it chooses.)
stage 1 && selection --sweep=conv_relu=true,false --sweep=fc_relu=true --sweep=pool=max
stage 1 && selection --sweep=conv_relu=true,false --sweep=fc_relu=false --sweep=pool=avg
# 2. the seeds at each config's choice: the same command with --select finds stage 1's runs in
#    $RUNS/lr/selection, chooses, and trains 3 seeds per config at the fast preset on all
#    50,000 images; a config whose choice is the shared 0.04 keeps the committed runs
#    (docs/results_fast.csv, --recorded), and on a machine laid anew the seeds already
#    committed at a chosen rate (docs/results_fast_lr.csv) are not trained again, nor are the
#    trials stage 1 committed (docs/selection_fast.csv): the choice reads their rows.
seeds() {
    python -m cifar10_ablation.sweep --flagfile=flags/fast.flags --data_dir=../shared/cifar10 \
        --log_dir="$RUNS/lr" --recorded=docs/results_fast.csv \
        --recorded=docs/results_fast_lr.csv --recorded=docs/selection_fast.csv \
        --select=learning_rate=0.01,0.02,0.04,0.08,0.16 --select_max_steps=5000 \
        --select_validation_examples=5000 --seeds=3 "$@"
}
stage 2 && seeds --sweep=conv_relu=true,false --sweep=fc_relu=true --sweep=pool=max
stage 2 && seeds --sweep=conv_relu=true,false --sweep=fc_relu=false --sweep=pool=avg
# 3. does the tutorial net's choice hold at the fast preset's full length? Its rates on the
#    validation split at 20,000 steps (this is also the check of the fast preset's own 0.04,
#    first chosen on test accuracy: docs/tuning_fast.csv).
stage 3 && python -m cifar10_ablation.sweep --flagfile=flags/fast.flags \
    --validation_examples=5000 --data_dir=../shared/cifar10 --log_dir="$RUNS/lr/full_length" \
    $(recorded docs/selection_fast_full_length.csv) \
    --sweep=conv_relu=true --sweep=fc_relu=true --sweep=pool=max \
    --sweep=learning_rate=0.02,0.04,0.08 --seeds=1
# 4. the fast preset's batch size, first chosen on test accuracy like its rate (256 against the
#    first preset's 128: docs/tuning_fast*.csv), re-checked as stage 1 checked the rate: the
#    tutorial net at batch 128 at each rate on the validation split, at the selection's length,
#    set against stage 1's batch-256 trials of it. A folder of its own: the choice of stage 2
#    reads stage 1's folder and CSV only.
stage 4 && python -m cifar10_ablation.sweep --flagfile=flags/fast.flags \
    --flagfile=flags/select.flags --data_dir=../shared/cifar10 --log_dir="$RUNS/lr/batch" \
    $(recorded docs/selection_fast_batch.csv) \
    --sweep=conv_relu=true --sweep=fc_relu=true --sweep=pool=max --sweep=batch_size=128 \
    --sweep=learning_rate=0.01,0.02,0.04,0.08,0.16 --seeds=1
finished
