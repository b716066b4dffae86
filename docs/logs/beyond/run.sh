#!/bin/bash
# Issue 16's experiment: 3 seeds per config, one resumable sweep folder per (arch, dataset).
# Run from the repo root (docs/logs/stages.sh: RUNS, the stages, the start line).
# `run.sh 1` runs stage 1 only: seed 0 of one config per (arch, dataset), a check of each
# schedule's time and accuracy before the hours of stage 2 (which skips the finished runs).
# The switches are always given in the same order so every stage names a run folder the same way.
source docs/logs/stages.sh "$@"
linear() {
    python -m cifar10_ablation.sweep --flagfile=flags/linear.flags --data_dir=../shared/cifar10 \
        --sweep=arch=linear --log_dir="$RUNS/beyond/linear" --recorded=docs/beyond_linear.csv "$@"
}
mnist() {
    python -m cifar10_ablation.sweep --flagfile=flags/mnist.flags --data_dir=../shared/mnist \
        --log_dir="$RUNS/beyond/mnist" --recorded=docs/beyond_mnist.csv "$@"
}
maxout() {
    python -m cifar10_ablation.sweep --flagfile=flags/activation_scale.flags \
        --flagfile=flags/quick.flags --data_dir=../shared/cifar10 --activations=maxout \
        --log_dir="$RUNS/beyond/activation_scale_maxout" \
        --recorded=docs/activation_scale_quick.csv "$@"
}
vgg() {
    python -m cifar10_ablation.sweep --flagfile=flags/vgg.flags --data_dir=../shared/cifar10 \
        --fc_relu=false --log_dir="$RUNS/beyond/vgg" --recorded=docs/beyond_vgg.csv "$@"
}
resnet20() {
    python -m cifar10_ablation.sweep --flagfile=flags/resnet20.flags \
        --data_dir=../shared/cifar10 --log_dir="$RUNS/beyond/resnet20" \
        --recorded=docs/beyond_resnet20.csv "$@"
}
# 1. seed 0 of the all-ReLU config of each deeper net and of MNIST's grid
if stage 1; then
    mnist --sweep=conv_relu=true --sweep=fc_relu=true --sweep=pool=max --seeds=1
    vgg --sweep=conv_relu=true --sweep=pool=max --seeds=1
    resnet20 --sweep=conv_activation=relu --sweep=pool=avg --seeds=1
fi
# 2. everything, 3 seeds per config
if stage 2; then
    linear --seeds=3
    mnist --seeds=3
    maxout --seeds=3
    vgg --sweep=conv_relu=true,false --sweep=pool=max,avg --seeds=3
    resnet20 --sweep=conv_activation=relu,linear --sweep=pool=avg,max --seeds=3
fi
finished
