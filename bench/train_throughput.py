"""Training images/second through the project's real training step, against the FLOP ceiling.

    python bench/train_throughput.py --data_dir=../shared/cifar10
    python bench/train_throughput.py --synthetic --steps=200 --steps_per_execution=1
    python bench/train_throughput.py --arch=resnet18 --steps=20 --warmup=5 --steps_per_execution=5

For each config (the tutorial net, and --conv_relu=false --pool=avg; or with --arch a ResNet on
its published input, with all its ReLUs and with none, max-pool downsampling kept: the pair of
docs/logs/depth/run.sh) it builds the same state and compiled multi-step function
`training/loop.py` uses, runs --warmup steps, then times --steps steps. It also times the input
pipeline alone, and measures this machine's float32 matrix-multiply rate (numpy, 2048x2048;
--ceiling_isa picks the kernel) to express the tutorial net's training as a fraction of the
ceiling: ~111 MFLOP per 24x24 training image (18.5M multiply-adds forward, x3 with the backward
pass; counted for the tutorial net only). Last line, machine-readable JSON:
{"train_images_per_second": {...}, ...}.
"""

import cifar10_ablation  # noqa: F401 - first: sets TF_ENABLE_ONEDNN_OPTS before TensorFlow loads

# isort: split

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import tensorflow as tf

from cifar10_ablation import config as config_lib
from cifar10_ablation import host, switches
from cifar10_ablation.data import cifar10
from cifar10_ablation.data.splits import Splits
from cifar10_ablation.training import loop, precision
from cifar10_ablation.training import state as state_lib

sys.path.insert(0, str(Path(__file__).parent))
from input_pipeline import pipeline_images_per_second  # noqa: E402

FLOP_PER_TRAINING_IMAGE = 3 * 2 * 18.5e6
CONFIGS = {
    "tutorial": {},
    "conv_relu=false,pool=avg": {
        "conv_activation": switches.activation("conv", False, None),
        "pool": "avg",
    },
}


def configs(arch):
    """{name: RunConfig fields} timed for --arch: CONFIGS for the tutorial net; a ResNet (whole
    images, pad-and-crop, its global average pool) with all its ReLUs and with none."""
    if arch == "tutorial":
        return CONFIGS
    base = {"arch": arch, "augmentation": "pad_crop", "pool": "avg"}
    linear = {"conv_activation": switches.activation("conv", False, None), "downsample": "max"}
    return {arch: base, f"{arch} conv_relu=false,downsample=max": {**base, **linear}}


MATMUL = """
import time, numpy as np
a = np.random.default_rng(0).standard_normal((2048, 2048), dtype=np.float32)
b = np.random.default_rng(1).standard_normal((2048, 2048), dtype=np.float32)
a @ b
best = min((lambda t: (a @ b, time.perf_counter() - t)[1])(time.perf_counter()) for _ in range(5))
print(2 * 2048**3 / best)
"""
# Set on some machines to dodge old OpenBLAS bugs; they slow a current numpy's matmul.
OPENBLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
# OpenBLAS kernels the ceiling is measured with: the CPU's best, and AVX2 (Haswell) for the
# AVX2 family emulated on an AVX-512 host (ONEDNN_MAX_CPU_ISA=AVX2, see bench/cpu_families.py).
MATMUL_KERNELS = {"native": {}, "avx2": {"OPENBLAS_CORETYPE": "Haswell"}}


def matmul_flops():
    """Best float32 FLOP/s of numpy's 2048x2048 a @ b per OpenBLAS kernel: {"native": x, ...}.

    Each in a fresh process, as numpy reads the OpenBLAS variables at import.
    """
    rates = {}
    for name, kernel in MATMUL_KERNELS.items():
        env = {k: v for k, v in os.environ.items() if k not in OPENBLAS_OVERRIDES}
        done = subprocess.run(
            [sys.executable, "-c", MATMUL],
            env={**env, **kernel},
            capture_output=True,
            text=True,
            check=True,
        )
        rates[name] = float(done.stdout.split()[-1])
    return rates


def synthetic_cifar10(num_images=4096):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (num_images, 32, 32, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, num_images, dtype=np.int32)
    return Splits(images, labels, images[:1000], labels[:1000], "synthetic", cifar10.CLASS_NAMES)


@contextlib.contextmanager
def training_steps(dataset, config_fields):
    """Yields (run, config); run(steps) -> (steps run, seconds) of loop.Trainer's compiled step.

    run() goes in whole calls of the config's steps_per_execution and returns once they are done;
    the trainer lives, traced once, until the context exits.
    """
    with tempfile.TemporaryDirectory() as run_dir:
        config = config_lib.RunConfig.flat(log_dir=run_dir, **config_fields).resolved()
        state = state_lib.TrainState(
            config, precision.build_model(config), state_lib.checkpoint_dir(run_dir)
        )
        trainer = loop.Trainer(config, state, dataset, Path(run_dir))
        chunk = tf.constant(config.steps_per_execution)

        def run(steps):
            calls = -(-steps // config.steps_per_execution)
            start = time.perf_counter()
            for _ in range(calls):
                trainer.train_steps(trainer.iterator, chunk)
            int(state.step)  # waits for the last call
            return calls * config.steps_per_execution, time.perf_counter() - start

        yield run, config


def time_training(dataset, config_fields, warmup, steps, around_timed=contextlib.nullcontext):
    """Times the real compiled training function of loop.Trainer after a warm-up.

    Returns (images/second, steps timed, seconds). `around_timed()` wraps the timed steps only (a
    profiler, say). Steps run in whole calls of the config's steps_per_execution.
    """
    with training_steps(dataset, config_fields) as (run, config):
        run(warmup)
        with around_timed():
            timed_steps, seconds = run(steps)
    return timed_steps * config.batch_size / seconds, timed_steps, seconds


def main():
    # Over 60 lines: the arguments, then one measurement after another, read top to bottom.
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data_dir", default="../shared/cifar10")
    parser.add_argument("--synthetic", action="store_true", help="random images, no data dir")
    parser.add_argument("--arch", choices=("tutorial", *switches.STAGES), default="tutorial")
    parser.add_argument("--batch_size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--steps_per_execution", type=int, default=25)
    parser.add_argument(
        "--jit_compile",
        type=lambda s: {"true": True, "false": False}[s.lower()],
        default=None,
        help="true/false; default: the trainer's (XLA on GPU)",
    )
    parser.add_argument(
        "--mixed_precision",
        action="store_true",
        help="the trainer's --mixed_precision (bfloat16 on CPU, float16 on GPU)",
    )
    parser.add_argument(
        "--ceiling_isa",
        choices=sorted(MATMUL_KERNELS),
        default="native",
        help="the matmul kernel the ceiling is measured with: native (the best of both) or avx2",
    )
    args = parser.parse_args()

    machine = host.describe()
    print(f"cpu: {machine['cpu']['model']}, {machine['cpu']['usable_cores']} cores, ", end="")
    print(f"isa {[f for f, on in machine['cpu']['isa'].items() if on]}; ", end="")
    print(
        f"tensorflow {machine['tensorflow']['version']}, oneDNN {machine['tensorflow']['onednn']}"
    )
    matmul = matmul_flops()
    flops = max(matmul.values()) if args.ceiling_isa == "native" else matmul[args.ceiling_isa]
    for name, rate in matmul.items():
        print(f"float32 matmul, OpenBLAS {name} kernel: {rate / 1e9:.0f} GFLOP/s")
    counted = args.arch == "tutorial"  # FLOP_PER_TRAINING_IMAGE is the tutorial net's
    ceiling = flops / FLOP_PER_TRAINING_IMAGE if counted else None
    if counted:
        print(
            f"ceiling ({args.ceiling_isa}): {flops / 1e9:.0f} GFLOP/s / 111 MFLOP = "
            f"{ceiling:.0f} training images/s"
        )
    timed = configs(args.arch)
    augmentation = next(iter(timed.values())).get("augmentation", "tutorial")
    dataset = synthetic_cifar10() if args.synthetic else cifar10.load(args.data_dir)
    pipeline = pipeline_images_per_second(dataset, args.batch_size, 300, augmentation=augmentation)
    print(f"input pipeline ({augmentation}): {pipeline:.0f} images/s ({dataset.source})")
    rates = {}
    for name, overrides in timed.items():
        rates[name], _, _ = time_training(
            dataset,
            {
                "batch_size": args.batch_size,
                "steps_per_execution": args.steps_per_execution,
                "jit_compile": args.jit_compile,
                "mixed_precision": args.mixed_precision,
                **overrides,
            },
            args.warmup,
            args.steps,
        )
        of_ceiling = f" = {rates[name] / ceiling:.0%} of the ceiling" if counted else ""
        print(
            f"train {name}: {rates[name]:.0f} images/s{of_ceiling}; input pipeline "
            f"{pipeline / rates[name]:.1f}x faster"
        )
    print(
        json.dumps(
            {
                "train_images_per_second": {k: round(v, 1) for k, v in rates.items()},
                "input_pipeline_images_per_second": round(pipeline, 1),
                "matmul_gflops": {k: round(v / 1e9, 1) for k, v in matmul.items()},
                "ceiling_images_per_second": round(ceiling, 1) if counted else None,
                "fraction_of_ceiling": {
                    k: round(v / ceiling, 3) for k, v in rates.items() if counted
                },
                "arch": args.arch,
                "batch_size": args.batch_size,
                "steps": args.steps,
                "steps_per_execution": args.steps_per_execution,
                "jit_compile": args.jit_compile,
                "mixed_precision": args.mixed_precision,
                "ceiling_isa": args.ceiling_isa,
                "host": machine,
                "peak_resident_mb": host.peak_memory_mb(),
            }
        )
    )


if __name__ == "__main__":
    main()
