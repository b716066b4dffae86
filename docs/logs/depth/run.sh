#!/bin/bash
# Questions 2 and 3 at honest scale (issue 42): nets bigger than the tutorial net on their
# published input, conv ReLUs removed with max-pool downsampling kept, and the ReLU budget
# (ReLUs in the last stage only). In the order the CPU is to be spent: ResNet-18's pair, its
# budget configs, then ResNet-20, then ResNet-56. The flags are always given in the same order
# (conv_relu or stage_activations, then downsample) so that a config's folder name never changes.
# In float32: on the AMX host these run on, each net's bfloat16 gain (docs/PERFORMANCE.md, from
# docs/bench/intel_amx_host/) is about what the side-by-side accuracy check it would need first
# costs, and for ResNet-56 the two precisions' rates overlap.
# Run from the repo root (docs/logs/stages.sh). Started again it skips finished runs.
source docs/logs/stages.sh "$@"
sweep() {
    local net=$1
    shift
    python -m cifar10_ablation.sweep --flagfile="flags/$net.flags" --data_dir=../shared/cifar10 \
        --log_dir="$RUNS/depth/$net" $(recorded "docs/depth_$net.csv") "$@"
}
LAST_STAGE_18=linear+linear+linear+relu
LAST_STAGE_3=linear+linear+relu
# 1. ResNet-18: all ReLUs (the published net) and no ReLU with max-pool downsampling
stage 1 && sweep resnet18 --sweep=conv_relu=true --sweep=downsample=stride --seeds=3
stage 1 && sweep resnet18 --sweep=conv_relu=false --sweep=downsample=max --seeds=3
# 2. ResNet-18's budget: ReLUs in the last stage only; no ReLU at all with strides (the affine
#    floor: one seed checks it)
stage 2 && sweep resnet18 --sweep=stage_activations=$LAST_STAGE_18 --sweep=downsample=stride \
    --seeds=3
stage 2 && sweep resnet18 --sweep=conv_relu=false --sweep=downsample=stride --seeds=1
# 3. ResNet-20 then ResNet-56: relu vs linear with max-pool downsampling, and the same budget
for net in resnet20_pad_crop resnet56; do
    stage 3 && sweep $net --sweep=conv_relu=true,false --sweep=downsample=max --seeds=3
    stage 3 && sweep $net --sweep=stage_activations=$LAST_STAGE_3 --sweep=downsample=stride \
        --seeds=3
    stage 3 && sweep $net --sweep=conv_relu=true,false --sweep=downsample=stride --seeds=3
done
finished
