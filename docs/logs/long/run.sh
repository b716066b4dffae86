#!/bin/bash
# The 83.4% (issue 41, item 5): does training far past 100K steps close the gap between the
# tutorial net and the finding's ReLU end (FC ReLUs off, average pooling)? The tutorial schedule
# (plain SGD at 0.1, x0.1 after 350 epochs: step 123,046 of the 45,000 images trained on here)
# to 200,000 steps with 5,000 training images held out and evaluated every 10,000 steps, 2 seeds
# each. A longer --max_steps continues a finished run, should the curve still rise.
# In float32, as every other run: the tutorial net's bfloat16 gain on the AMX host these run on
# (docs/PERFORMANCE.md, from docs/bench/intel_amx_host/) is less than its side-by-side accuracy
# check would cost.
# Run from the repo root (docs/logs/stages.sh). Started again it skips finished runs.
source docs/logs/stages.sh "$@"
long() {
    python -m cifar10_ablation.sweep --flagfile=flags/tutorial.flags --max_steps=200000 \
        --validation_examples=5000 --eval_every=10000 --data_dir=../shared/cifar10 \
        --log_dir="$RUNS/long" $(recorded docs/results_long.csv) "$@"
}
# 1. seed 0 of both nets first (~5 hours a run on 2 cores), so that one pair of curves answers
#    early; 2. seed 1 of both (--seeds=2 skips the finished seed 0). One at a time, not side by
#    side: a finished run is a result the repo keeps, and two at once trained at about the rate
#    of one in their first hour here (2026-12-07), less than bench/concurrent_runs.py's
#    500-step runs gain, while a machine lost mid-run would cost both.
for seeds in 1 2; do
    stage $seeds && long --sweep=conv_relu=true --sweep=fc_relu=true --sweep=pool=max --seeds=$seeds
    stage $seeds && long --sweep=conv_relu=true --sweep=fc_relu=false --sweep=pool=avg \
        --seeds=$seeds
done
finished
