#!/bin/bash
# The quick preset (a smoke-scale look, 6,000 steps) on the max-pool pair with FC ReLUs on,
# tutorial and conv_linear_max, 3 seeds: RESULTS.md's quick column for them. The finding pair's
# quick rows (FC ReLUs off) are older runs, already in docs/results_quick.csv; collect.py adds
# these rows to that file.
# Run from the repo root (docs/logs/stages.sh: RUNS, the stages, the start line).
source docs/logs/stages.sh "$@"
stage 1 && python -m cifar10_ablation.sweep --flagfile=flags/quick.flags \
    --data_dir=../shared/cifar10 --log_dir="$RUNS/quick" --recorded=docs/results_quick.csv \
    --fc_relu=true --pool=max \
    --sweep=conv_relu=true,false --seeds=3
finished
