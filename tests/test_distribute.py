"""tf.distribute: mirrored replicas on logical CPUs, two local workers, a killed worker."""

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time

import pytest
import tensorflow as tf
from tensorboard.backend.event_processing import event_accumulator

SMOKE_FLAGS = [
    "--max_steps=4",
    "--summary_every=1",
    "--histogram_every=4",
    "--eval_every=4",
    "--checkpoint_every=2",
    "--steps_per_execution=1",
]
# Runs train's command line with the CPU split into two logical devices first.
TWO_CPUS = """
import sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from cifar10_ablation import train
sys.argv[0] = "train"
train.run_main()
"""


def _train(*args, env=None, two_cpus=False):
    command = ["-c", TWO_CPUS] if two_cpus else ["-m", "cifar10_ablation.train"]
    return subprocess.Popen(
        [sys.executable, *command, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def _finish(process, timeout=300):
    stdout, stderr = process.communicate(timeout=timeout)
    return process.returncode, stdout, stderr


def _losses(run_dir):
    accumulator = event_accumulator.EventAccumulator(
        str(run_dir), size_guidance={event_accumulator.TENSORS: 0}
    )
    accumulator.Reload()
    return {
        e.step: float(tf.make_ndarray(e.tensor_proto)) for e in accumulator.Tensors("train/loss")
    }


def test_mirrored_replicas_train_as_one_device_on_the_global_batch(cifar_dir, tmp_path):
    mirrored = _train(
        f"--data_dir={cifar_dir}",
        f"--log_dir={tmp_path / 'mirrored'}",
        "--distribution=mirrored",
        "--batch_size=8",  # per replica: a global batch of 16
        *SMOKE_FLAGS,
        two_cpus=True,
    )
    code, stdout, stderr = _finish(mirrored)
    assert code == 0, stderr[-3000:]
    assert "on 2 replicas" in stdout
    single = _train(
        f"--data_dir={cifar_dir}",
        f"--log_dir={tmp_path / 'single'}",
        "--distribution=none",
        "--batch_size=16",
        *SMOKE_FLAGS,
    )
    code, _, stderr = _finish(single)
    assert code == 0, stderr[-3000:]
    mirrored_losses, single_losses = _losses(tmp_path / "mirrored"), _losses(tmp_path / "single")
    assert sorted(mirrored_losses) == [1, 2, 3, 4]
    for step in mirrored_losses:  # the first step exactly, later ones to float32 round-off
        assert mirrored_losses[step] == pytest.approx(single_losses[step], rel=1e-4), step
    results = json.loads((tmp_path / "mirrored" / "results.json").read_text())
    assert results["config"]["replicas"] == 2 and results["global_step"] == 4
    # Continuing the 2-replica run on one device would train another run: refused.
    again = _train(
        f"--data_dir={cifar_dir}",
        f"--log_dir={tmp_path / 'mirrored'}",
        "--distribution=none",
        "--batch_size=8",
        "--max_steps=6",
    )
    code, _, stderr = _finish(again)
    assert code != 0
    assert "was trained with 2 replica(s) of batch 8; this invocation has 1" in stderr


def _free_ports(count):
    """Free ports from a range of this test process's own, below the kernel's ephemeral ports
    (32768 and up): a port found by binding port 0 and closing it could be handed to a parallel
    test's connection before a worker binds it; ports of another xdist worker's range never are."""
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    base = 20_000 + 1_000 * (worker % 12)
    ports = []
    for port in range(base + random.randrange(500), base + 1_000):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        ports.append(port)
        if len(ports) == count:
            return ports
    raise RuntimeError(f"no {count} free ports in {base}..{base + 999}")


def _workers(cifar_dir, log_dir, *args):
    cluster = {"worker": [f"127.0.0.1:{port}" for port in _free_ports(2)]}
    return [
        _train(
            f"--data_dir={cifar_dir}",
            f"--log_dir={log_dir}",
            "--distribution=multi_worker",
            "--batch_size=8",
            *args,
            env={
                "TF_CONFIG": json.dumps(
                    {"cluster": cluster, "task": {"type": "worker", "index": i}}
                )
            },
        )
        for i in range(2)
    ]


def test_two_workers_train_together_and_only_the_chief_writes(cifar_dir, tmp_path):
    log_dir = tmp_path / "run"
    workers = _workers(cifar_dir, log_dir, *SMOKE_FLAGS)
    outcomes = [_finish(w) for w in workers]
    for code, _, stderr in outcomes:
        assert code == 0, stderr[-3000:]
    results = json.loads((log_dir / "results.json").read_text())
    assert results["global_step"] == 4 and results["config"]["replicas"] == 2
    checkpoints = sorted(p.name for p in (log_dir / "checkpoints").iterdir())
    assert "ckpt-4.index" in checkpoints and "ckpt-2.index" in checkpoints
    written = sorted(p.name for p in log_dir.iterdir())
    assert [n for n in written if not n.startswith("events.out.tfevents")] == [
        "checkpoints",
        "config.json",
        "results.json",
    ]
    assert len([n for n in written if n.startswith("events.out.tfevents")]) == 1  # the chief's


def test_a_killed_worker_fails_the_other_clearly_not_a_hang(cifar_dir, tmp_path):
    log_dir = tmp_path / "run"
    chief, other = _workers(
        cifar_dir, log_dir, "--max_steps=1000000", "--checkpoint_every=5", "--eval_every=1000000"
    )
    try:
        deadline = time.time() + 240
        while not list((log_dir / "checkpoints").glob("ckpt-*.index")):
            assert time.time() < deadline and chief.poll() is None, "the workers never checkpointed"
            time.sleep(1)
        other.send_signal(signal.SIGKILL)
        code, _, stderr = _finish(chief, timeout=240)  # the bound: a hang fails here
    finally:
        for process in (chief, other):
            process.kill()
    assert code != 0
    last_line = stderr.strip().splitlines()[-1]
    assert last_line.startswith("error: a worker failed or stopped answering near step")
    assert list((log_dir / "checkpoints").glob("ckpt-*.index"))  # the last checkpoint stays


def test_multi_worker_without_tf_config_fails_clearly_and_writes_nothing(cifar_dir, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    done = subprocess.run(
        [sys.executable, "-m", "cifar10_ablation.train", "--distribution=multi_worker",
         f"--data_dir={cifar_dir}", f"--log_dir={tmp_path / 'run'}"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert done.returncode != 0
    assert (
        done.stderr.strip()
        .splitlines()[-1]
        .startswith("error: --distribution=multi_worker needs TF_CONFIG with a cluster of workers")
    )
    assert not (tmp_path / "run").exists()
