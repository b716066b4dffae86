#!/bin/bash
# The fast preset (issue 15): its proof against the tutorial schedule (seeds 0-1 of the four
# named configs), then the full 8-config grid with 3 seeds, one resumable sweep folder. The
# first preset's runs (batch 128) are in $RUNS/fast_batch128, made by this script before the
# preset changed (git log flags/fast.flags).
# Run from the repo root (docs/logs/stages.sh: RUNS, the stages, the start line).
# Started again it skips finished runs and resumes the unfinished one from its checkpoint.
# `run.sh 2` runs stage 2 only. The switches are always given in the same order (conv_relu,
# fc_relu, pool) so that every stage names a config's run folder the same way.
source docs/logs/stages.sh "$@"
sweep() {
    python -m cifar10_ablation.sweep --flagfile=flags/fast.flags \
        --data_dir=../shared/cifar10 --log_dir="$RUNS/fast" \
        --recorded=docs/results_fast.csv "$@"
}
# 1. seeds 0-1 of the finding pair: finding_conv_relu, finding_no_conv_relu
stage 1 && sweep --sweep=conv_relu=true,false --sweep=fc_relu=false --sweep=pool=avg --seeds=2
# 2. seeds 0-1 of the max-pool pair: tutorial, conv_linear_max. Seed 0 of tutorial repeats the
# screening run that chose this preset (docs/tuning_fast.csv: same flags, same seed), so it is
# not independent of the choice; seeds 1-2 are.
stage 2 && sweep --sweep=conv_relu=true,false --sweep=fc_relu=true --sweep=pool=max --seeds=2
# 3. the rest of the grid: 8 configs x 3 seeds
stage 3 && sweep --sweep=conv_relu=true,false --sweep=fc_relu=true,false --sweep=pool=max,avg \
    --seeds=3
finished
