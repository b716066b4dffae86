#!/bin/bash
# Issue 6 after the LRN change: benches on the idle machine, then the quick-preset accuracy check.
cd "$(dirname "$0")/../.."  # the repository root (this copy lives in docs/logs)
B=../runs/bench4
mkdir -p $B
echo "== bench start $(date) $(git rev-parse --short HEAD)"
env | grep -i openblas
python bench/train_throughput.py --data_dir=../shared/cifar10 > $B/default.log 2>&1
../torchenv/bin/python ../shared/bench/torch_reference.py > $B/torch.log 2>&1
python bench/train_throughput.py --data_dir=../shared/cifar10 --jit_compile=true > $B/xla.log 2>&1
python bench/train_throughput.py --data_dir=../shared/cifar10 --steps_per_execution=1 > $B/spe1.log 2>&1
python bench/input_pipeline.py --data_dir=../shared/cifar10 > $B/pipeline.log 2>&1
../torchenv/bin/python ../shared/bench/torch_reference.py > $B/torch2.log 2>&1
python bench/train_throughput.py --data_dir=../shared/cifar10 > $B/default2.log 2>&1
echo "== bench done $(date)"
Q="--flagfile=flags/quick.flags --data_dir=../shared/cifar10"
python -m cifar10_ablation.sweep $Q --log_dir=tensorboard_logs/finding_quick_fastlrn --fc_relu=false --sweep=pool=avg --sweep=conv_relu=true,false --seeds=1
echo "== chain done $(date)"
