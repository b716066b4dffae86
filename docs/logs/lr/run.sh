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
        --data_dir=../shared/cifar10 --log_dir="$RUNS/lr/selection" "$@" \
        --sweep=learning_rate=0.01,0.02,0.04,0.08 --seeds=1
}
# 1. selection: the max-pool pair (tutorial, conv_linear_max), then the finding pair
stage 1 && selection --sweep=conv_relu=true,false --sweep=fc_relu=true --sweep=pool=max
stage 1 && selection --sweep=conv_relu=true,false --sweep=fc_relu=false --sweep=pool=avg
finished
