#!/bin/bash
# After the main chain: two more alternatives (abs diverged at lr 0.05), abs at a lower rate,
# then the finding's pair on a 20,000-step fast schedule (~51 epochs).
cd "$(dirname "$0")/../.."  # the repository root (this copy lives in docs/logs)
while pgrep -f runs/chain.sh > /dev/null; do sleep 20; done
Q="--flagfile=flags/quick.flags --data_dir=../shared/cifar10"
echo "== more activations $(date)"
python -m cifar10_ablation.sweep --flagfile=flags/activation_scale.flags $Q --log_dir=tensorboard_logs/activation_scale_quick --activations=linear,relu,leaky_relu,tanh,elu,abs,gelu,softplus
echo "== abs lower lr $(date)"
python -m cifar10_ablation.train $Q --conv_activation=abs --fc_relu=false --pool=avg --learning_rate=0.02 --log_dir=tensorboard_logs/abs_lr0.02
echo "== longer $(date)"
python -m cifar10_ablation.sweep $Q --max_steps=20000 --eval_every=5000 --log_dir=tensorboard_logs/finding_longer --fc_relu=false --pool=avg --sweep=conv_relu=true,false
echo "== chain3 done $(date)"
