#!/bin/bash
# Activation scale: seeds 1 and 2 (and silu), so positions get intervals.
cd "$(dirname "$0")/../.."  # the repository root (this copy lives in docs/logs)
echo "== start $(date) $(git rev-parse --short HEAD)"
python -m cifar10_ablation.sweep --flagfile=flags/activation_scale.flags --flagfile=flags/quick.flags \
    --data_dir=../shared/cifar10 --log_dir=tensorboard_logs/activation_scale_quick \
    --activations=linear,relu,leaky_relu,tanh,elu,abs,gelu,softplus,silu --seeds=3
echo "== done $(date)"
