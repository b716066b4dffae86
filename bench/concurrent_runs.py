"""Whether two trainings at once beat two in turn on this machine's cores: a sweep's --parallel.

    python bench/concurrent_runs.py --data_dir=../shared/cifar10 [--steps=500] [--repeats=2]
    python bench/concurrent_runs.py --data_dir=../shared/cifar10 -- --flagfile=flags/fast.flags

Runs --runs real trainings (`python -m cifar10_ablation.train`, the tutorial schedule's flags
unless flags follow `--`, --steps steps each, seeds 0, 1, ...) three ways, in turn per repeat:
one after another; all at once; all at once with one intra-op thread each
(TF_NUM_INTRAOP_THREADS=1, so that the processes do not contend for the same cores). Per way it
prints the wall seconds of all the runs and their training images/second summed over the runs
at once (each run's own `train_images_per_second`, which leaves out start-up and evaluation:
the rate a long run keeps). First line, the CPU; last line, machine-readable JSON: per way, the
wall seconds and the summed rate of each repeat, and their ratios to one-after-another.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cifar10_ablation import host  # no TensorFlow here: the trainings load their own

WAYS = {
    "in turn": {"at_once": False, "env": {}},
    "at once": {"at_once": True, "env": {}},
    "at once, 1 thread each": {"at_once": True, "env": {"TF_NUM_INTRAOP_THREADS": "1"}},
}


def train_command(args, flags, seed, log_dir):
    return [
        sys.executable,
        "-m",
        "cifar10_ablation.train",
        *(flags or ["--flagfile=flags/tutorial.flags"]),
        f"--data_dir={args.data_dir}",
        f"--max_steps={args.steps}",
        f"--seed={seed}",
        f"--log_dir={log_dir}",
    ]


def run_way(args, flags, way, folder):
    """(wall seconds, summed training images/second) of --runs trainings the given way."""
    env = {**os.environ, **WAYS[way]["env"]}
    dirs = [Path(folder) / f"seed{seed}" for seed in range(args.runs)]
    commands = [train_command(args, flags, seed, d) for seed, d in enumerate(dirs)]
    start = time.perf_counter()
    if WAYS[way]["at_once"]:
        processes = [subprocess.Popen(c, env=env, stdout=subprocess.DEVNULL) for c in commands]
        codes = [p.wait() for p in processes]
    else:
        codes = [subprocess.run(c, env=env, stdout=subprocess.DEVNULL).returncode for c in commands]
    wall = time.perf_counter() - start
    if any(codes):
        sys.exit(f"concurrent_runs: a training exited with {codes} ({way})")
    rates = [json.loads((d / "results.json").read_text())["train_images_per_second"] for d in dirs]
    # Runs in turn never overlap: their summed rate is their mean rate.
    summed = sum(rates) if WAYS[way]["at_once"] else sum(rates) / len(rates)
    return wall, summed


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data_dir", required=True)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=2)
    args, flags = parser.parse_known_args()
    flags = [f for f in flags if f != "--"]
    cpu = host.cpu()
    print(f"cpu: {host.cpu_label({'cpu': cpu})}, {cpu['usable_cores']} cores", flush=True)
    measured = {way: {"wall_seconds": [], "images_per_second": []} for way in WAYS}
    for repeat in range(args.repeats):
        for way in WAYS:
            with tempfile.TemporaryDirectory() as folder:
                wall, rate = run_way(args, flags, way, folder)
            measured[way]["wall_seconds"].append(round(wall, 1))
            measured[way]["images_per_second"].append(round(rate, 1))
            print(f"repeat {repeat}, {way}: {wall:.0f} s wall, {rate:.0f} images/s", flush=True)
    base = measured["in turn"]
    for m in measured.values():
        m["rate_vs_in_turn"] = [
            round(r / b, 3)
            for r, b in zip(m["images_per_second"], base["images_per_second"], strict=True)
        ]
        m["wall_vs_in_turn"] = [
            round(w / b, 3) for w, b in zip(m["wall_seconds"], base["wall_seconds"], strict=True)
        ]
    found = {"runs": args.runs, "steps": args.steps, "flags": flags, "cpu": cpu, **measured}
    print(json.dumps(found))


if __name__ == "__main__":
    main()
