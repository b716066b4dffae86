#!/bin/bash
# Issue 16's experiment: 3 seeds per config, one resumable sweep folder per (arch, dataset).
# Run from the repo root; RUNS (default ~/runs) keeps the run folders outside the checkout.
set -u
RUNS=${RUNS:-$HOME/runs}
echo "== start $(date -u) $(git rev-parse --short HEAD)"
python -m cifar10_ablation.sweep --flagfile=flags/linear.flags --data_dir=../shared/cifar10 \
    --sweep=arch=linear --seeds=3 --log_dir="$RUNS/beyond/linear"
python -m cifar10_ablation.sweep --flagfile=flags/mnist.flags --data_dir=../shared/mnist \
    --seeds=3 --log_dir="$RUNS/beyond/mnist"
python -m cifar10_ablation.sweep --flagfile=flags/activation_scale.flags \
    --flagfile=flags/quick.flags --data_dir=../shared/cifar10 --activations=maxout --seeds=3 \
    --log_dir="$RUNS/beyond/activation_scale_maxout"
python -m cifar10_ablation.sweep --flagfile=flags/vgg.flags --data_dir=../shared/cifar10 \
    --fc_relu=false --sweep=conv_relu=true,false --sweep=pool=max,avg --seeds=3 \
    --log_dir="$RUNS/beyond/vgg"
python -m cifar10_ablation.sweep --flagfile=flags/resnet20.flags --data_dir=../shared/cifar10 \
    --sweep=conv_activation=relu,linear --sweep=pool=avg,max --seeds=3 \
    --log_dir="$RUNS/beyond/resnet20"
echo "== done $(date -u)"
