#!/bin/bash
# Benches on the idle machine first, then the real runs in priority order.
cd "$(dirname "$0")/../.."  # the repository root (this copy lives in docs/logs)
B=../runs/bench
mkdir -p $B
echo "== bench start $(date)"
env | grep -i openblas
python bench/train_throughput.py --data_dir=../shared/cifar10 > $B/default.log 2>&1
python bench/train_throughput.py --data_dir=../shared/cifar10 --jit_compile=true > $B/xla.log 2>&1
python bench/train_throughput.py --data_dir=../shared/cifar10 --steps_per_execution=1 > $B/spe1.log 2>&1
../torchenv/bin/python ../shared/bench/torch_reference.py > $B/torch.log 2>&1
python bench/input_pipeline.py --data_dir=../shared/cifar10 > $B/pipeline.log 2>&1
echo "== bench done $(date)"
Q="--flagfile=flags/quick.flags --data_dir=../shared/cifar10"
echo "== finding avg $(date)"
python -m cifar10_ablation.sweep $Q --log_dir=tensorboard_logs/finding_quick --fc_relu=false --sweep=pool=avg --sweep=conv_relu=true,false --seeds=3
python docs/logs/copy_pair.py
echo "== activation scale $(date)"
python -m cifar10_ablation.sweep --flagfile=flags/activation_scale.flags $Q --log_dir=tensorboard_logs/activation_scale_quick --activations=linear,relu,leaky_relu,tanh,elu,abs
echo "== finding max $(date)"
python -m cifar10_ablation.sweep $Q --log_dir=tensorboard_logs/finding_quick --fc_relu=false --sweep=pool=avg,max --sweep=conv_relu=true,false --seeds=2
echo "== chain done $(date)"
