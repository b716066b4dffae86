#!/bin/bash
# Seed 2 of the quick preset's max-pool pair (issue 17: n >= 3 for the finding's table).
set -u
RUNS=${RUNS:-$HOME/runs}
echo "== start $(date -u) $(git rev-parse --short HEAD)"
python -m cifar10_ablation.sweep --flagfile=flags/quick.flags --data_dir=../shared/cifar10 \
    --log_dir="$RUNS/finding_quick_seed2" --recorded=docs/results_quick.csv \
    --fc_relu=false --sweep=pool=max \
    --sweep=conv_relu=true,false --seed=2 --seeds=1
echo "== done $(date -u)"
