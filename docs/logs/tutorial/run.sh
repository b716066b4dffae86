#!/bin/bash
# The tutorial-schedule runs (issue 15), one resumable sweep folder, finding pair first.
# Run from the repo root; RUNS (default ~/runs) keeps the long-run folders outside the checkout.
# Started again it skips finished runs and resumes the unfinished one from its checkpoint.
set -u
RUNS=${RUNS:-$HOME/runs}
sweep() {
    python -m cifar10_ablation.sweep --flagfile=flags/tutorial.flags \
        --data_dir=../shared/cifar10 --log_dir="$RUNS/tutorial" "$@"
}
echo "== start $(date -u) $(git rev-parse --short HEAD)"
# seed 0: finding_conv_relu, finding_no_conv_relu, then tutorial, conv_linear_max
sweep --sweep=conv_relu=true,false --sweep=fc_relu=false --sweep=pool=avg --seeds=1
sweep --sweep=conv_relu=true,false --sweep=fc_relu=true --sweep=pool=max --seeds=1
# seed 1 of finding_conv_relu and tutorial; then the remaining seed-1 pair
sweep --sweep=conv_relu=true --sweep=fc_relu=false --sweep=pool=avg --seeds=2
sweep --sweep=conv_relu=true --sweep=fc_relu=true --sweep=pool=max --seeds=2
sweep --sweep=conv_relu=false --sweep=fc_relu=false --sweep=pool=avg --seeds=2
sweep --sweep=conv_relu=false --sweep=fc_relu=true --sweep=pool=max --seeds=2
echo "== done $(date -u)"
