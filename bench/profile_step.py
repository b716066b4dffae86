"""Where the training step's time goes: TF's profiler over the trainer's real step, per op.

    python bench/profile_step.py --data_dir=../shared/cifar10
    python bench/profile_step.py --synthetic --inter_op_threads=1 --conv_relu=false --pool=avg

Runs the same compiled multi-step function as `python -m cifar10_ablation.train`, traces
--steps steps with `tf.profiler`, and prints milliseconds per training step for the costliest
ops (summed over threads: with more than one inter-op thread ops overlap, so the column can add
up to more than the step). The raw trace stays in --trace_dir for TensorBoard's profile tab.
"""

import cifar10_ablation  # noqa: F401 - first: sets TF_ENABLE_ONEDNN_OPTS before TensorFlow loads

# isort: split

import argparse
import collections
import glob
import json
import tempfile
from pathlib import Path

import tensorflow as tf
from tensorflow.tsl.profiler.protobuf import xplane_pb2
from train_throughput import (  # bench/, on the path when run as a script
    synthetic_cifar10,
    time_training,
)

from cifar10_ablation import host, switches
from cifar10_ablation.data import cifar10


def op_milliseconds(trace_dir):
    """{op name: total milliseconds} from the newest trace in trace_dir, host CPU plane."""
    path = sorted(glob.glob(f"{trace_dir}/**/*.xplane.pb", recursive=True))[-1]
    space = xplane_pb2.XSpace()
    space.ParseFromString(Path(path).read_bytes())
    totals = collections.Counter()
    for plane in space.planes:
        for line in plane.lines:
            for event in line.events:
                name = plane.event_metadata[event.metadata_id].name
                if "/" in name and ":" in name:  # a graph op: "scope/.../op_name:OpType"
                    totals[name.rsplit("/", 1)[-1]] += event.duration_ps / 1e9
    return totals


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data_dir", default="../shared/cifar10")
    parser.add_argument("--synthetic", action="store_true", help="random images, no data dir")
    parser.add_argument("--batch_size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--inter_op_threads", type=int, default=0, help="0: TF's default")
    parser.add_argument("--conv_relu", choices=("true", "false"), default="true")
    parser.add_argument("--pool", choices=switches.POOLS, default="max")
    parser.add_argument("--trace_dir", default=None, help="default: a temporary directory")
    args = parser.parse_args()
    if args.inter_op_threads:
        tf.config.threading.set_inter_op_parallelism_threads(args.inter_op_threads)

    dataset = synthetic_cifar10() if args.synthetic else cifar10.load(args.data_dir)
    trace_dir = args.trace_dir or tempfile.mkdtemp(prefix="profile_step_")
    images_per_second, steps, seconds = time_training(
        dataset,
        {
            "conv_activation": switches.activation("conv", args.conv_relu == "true", None),
            "pool": args.pool,
            "batch_size": args.batch_size,
        },
        warmup=args.warmup,
        steps=args.steps,
        around_timed=lambda: tf.profiler.experimental.Profile(trace_dir),
    )
    print(
        f"{steps} steps, {seconds / steps * 1e3:.1f} ms "
        f"per step with the profiler on ({images_per_second:.0f} images/s); trace in {trace_dir}"
    )
    totals = op_milliseconds(trace_dir)
    for name, ms in totals.most_common(args.top):
        print(f"{ms / steps:8.2f} ms/step  {name}")
    print(json.dumps({"host": host.describe()}))  # which kernels these are depends on it


if __name__ == "__main__":
    main()
