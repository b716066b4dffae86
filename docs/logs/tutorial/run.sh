#!/bin/bash
# The tutorial-schedule runs (issue 15), one resumable sweep folder, finding pair first.
# Run from the repo root (docs/logs/stages.sh: RUNS, the stages, the start line).
# Started again it skips finished runs and resumes the unfinished one from its checkpoint.
# `run.sh 2` runs stage 2 only (docs/logs/queue.sh interleaves the stages with the fast preset's).
source docs/logs/stages.sh "$@"
sweep() {
    python -m cifar10_ablation.sweep --flagfile=flags/tutorial.flags \
        --data_dir=../shared/cifar10 --log_dir="$RUNS/tutorial" \
        --recorded=docs/results_tutorial.csv "$@"
}
# 1. seed 0 of the finding pair: finding_conv_relu, finding_no_conv_relu
stage 1 && sweep --sweep=conv_relu=true,false --sweep=fc_relu=false --sweep=pool=avg --seeds=1
# 2a. seed 0 of tutorial, the control; 2. seed 0 of the max-pool pair: tutorial, conv_linear_max
stage 2a && sweep --sweep=conv_relu=true --sweep=fc_relu=true --sweep=pool=max --seeds=1
stage 2 && sweep --sweep=conv_relu=true,false --sweep=fc_relu=true --sweep=pool=max --seeds=1
# 3. seed 1 of finding_conv_relu and tutorial; then the remaining seed-1 pair
stage 3 && sweep --sweep=conv_relu=true --sweep=fc_relu=false --sweep=pool=avg --seeds=2
stage 3 && sweep --sweep=conv_relu=true --sweep=fc_relu=true --sweep=pool=max --seeds=2
stage 4 && sweep --sweep=conv_relu=false --sweep=fc_relu=false --sweep=pool=avg --seeds=2
stage 4 && sweep --sweep=conv_relu=false --sweep=fc_relu=true --sweep=pool=max --seeds=2
finished
