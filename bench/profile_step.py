"""Where the training step's time goes: TF's profiler over the trainer's real step, per op.

    python bench/profile_step.py --data_dir=../shared/cifar10
    python bench/profile_step.py --synthetic --inter_op_threads=1 --conv_relu=false --pool=avg

Runs the same compiled multi-step function as `python -m cifar10_ablation.train`, traces
--steps steps with `tf.profiler`, and prints milliseconds per training step for the costliest
ops (summed over threads: with more than one inter-op thread ops overlap, so the column can add
up to more than the step). The raw trace stays in --trace_dir for TensorBoard's profile tab.
"""

import argparse
import collections
import glob
import tempfile
import time
from pathlib import Path

import tensorflow as tf
from tensorflow.tsl.profiler.protobuf import xplane_pb2
from train_throughput import synthetic_cifar10  # bench/, on the path when run as a script

from cifar10_ablation import config as config_lib
from cifar10_ablation import data, train
from cifar10_ablation import state as state_lib


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
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--inter_op_threads", type=int, default=0, help="0: TF's default")
    parser.add_argument("--conv_relu", choices=("true", "false"), default="true")
    parser.add_argument("--pool", choices=("max", "avg"), default="max")
    parser.add_argument("--trace_dir", default=None, help="default: a temporary directory")
    args = parser.parse_args()
    if args.inter_op_threads:
        tf.config.threading.set_inter_op_parallelism_threads(args.inter_op_threads)

    dataset = synthetic_cifar10() if args.synthetic else data.load(args.data_dir)
    trace_dir = args.trace_dir or tempfile.mkdtemp(prefix="profile_step_")
    with tempfile.TemporaryDirectory() as run_dir:
        config = config_lib.RunConfig(
            log_dir=run_dir,
            conv_activation="relu" if args.conv_relu == "true" else "linear",
            pool=args.pool,
        ).resolved()
        state = state_lib.TrainState(config, state_lib.checkpoint_dir(run_dir))
        trainer = train.Trainer(config, state, dataset, Path(run_dir))
        chunk = tf.constant(config.steps_per_execution)
        calls = -(-args.steps // config.steps_per_execution)
        for _ in range(2):
            trainer.train_steps(trainer.iterator, chunk)
        int(state.step)  # waits for the warm-up
        tf.profiler.experimental.start(trace_dir)
        start = time.perf_counter()
        for _ in range(calls):
            trainer.train_steps(trainer.iterator, chunk)
        int(state.step)
        seconds = time.perf_counter() - start
        tf.profiler.experimental.stop()
    steps = calls * config.steps_per_execution
    print(
        f"{steps} steps, {seconds / steps * 1e3:.1f} ms per step with the profiler on "
        f"({steps * config.batch_size / seconds:.0f} images/s); trace in {trace_dir}"
    )
    totals = op_milliseconds(trace_dir)
    for name, ms in totals.most_common(args.top):
        print(f"{ms / steps:8.2f} ms/step  {name}")


if __name__ == "__main__":
    main()
