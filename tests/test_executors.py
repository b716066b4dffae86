"""Where a sweep's runs train: GPU placement of --parallel workers (faked GPUs), quiet workers,
the GPU-only code paths on CPU (float16 with loss scaling, XLA), and --executor=ray: the same
files as the local executor, a killed worker's run finished from its checkpoint."""

import csv
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from google.protobuf import json_format
from tensorboard.plugins.hparams import plugin_data_pb2

from cifar10_ablation import cli
from cifar10_ablation import config as config_lib
from cifar10_ablation.reports import report
from cifar10_ablation.sweeps import executors, ray_executor, runner
from cifar10_ablation.training import distribute, precision, runlock
from cifar10_ablation.training import run as run_lib
from cifar10_ablation.training import state as state_lib

TESTS = Path(__file__).resolve().parent
SMALL = ["--batch_size=8", "--summary_every=2", "--histogram_every=20", "--eval_every=20",
         "--steps_per_execution=1", "--jit_compile=false"]  # fmt: skip
STARTUP_LINES = ("oneDNN custom operations", "cuda", "cuInit", "absl::InitializeLog", "TF-TRT")
# Columns of results.csv that differ between two trainings of one run: time, host, folder.
TIMINGS = ("seconds", "wall", "images_per", "peak", "host", "log_dir", "time")


def _sweep(*args, script=None, env=None):
    command = (
        [sys.executable, script] if script else [sys.executable, "-m", "cifar10_ablation.sweep"]
    )
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=600, env=env)


@pytest.mark.parametrize(
    "gpus, workers, per_gpu, sets",
    [
        (["0", "1"], 4, 2, ["0", "1", "0", "1"]),
        (["0", "1"], 4, 1, ["0", "1"]),  # no more than runs_per_gpu workers on a GPU
        (["0", "1", "2", "3"], 2, 1, ["0,2", "1,3"]),  # fewer workers: each a GPU set
        (["5", "7"], 3, 3, ["5", "7", "5"]),  # the ids CUDA_VISIBLE_DEVICES gave this process
        ([], 3, 1, [None, None, None]),  # no GPU: nothing changes
    ],
)
def test_workers_get_their_gpus_round_robin(gpus, workers, per_gpu, sets):
    assert executors.gpu_sets(gpus, workers, per_gpu) == sets


@pytest.mark.parametrize(
    "workers, cores, threads", [(2, 2, 1), (2, 16, 8), (3, 16, 5), (4, 2, 1), (1, 2, 2)]
)
def test_cpu_workers_share_the_cores_out_at_least_one_thread_each(workers, cores, threads):
    assert executors.cpu_threads(workers, cores) == threads


def test_without_a_gpu_nothing_is_placed_and_no_memory_growth_is_set(monkeypatch):
    calls = []
    monkeypatch.setattr(tf.config.experimental, "set_memory_growth", lambda *a: calls.append(a))
    assert tf.config.list_physical_devices("GPU") == [] and executors.visible_gpus() == []
    distribute.grow_gpu_memory()
    assert calls == []


def test_four_workers_on_two_faked_gpus_see_0_1_0_1_and_each_run_grows_memory(cifar_dir, tmp_path):
    log = tmp_path / "gpus.log"
    env = {**os.environ, "FAKE_GPUS": "2", "FAKE_GPU_LOG": str(log)}
    for name in ("CUDA_VISIBLE_DEVICES", "TF_NUM_INTRAOP_THREADS"):
        env.pop(name, None)
    done = _sweep(f"--data_dir={cifar_dir}", f"--log_dir={tmp_path / 'sweep'}",
                  "--sweep=pool=max,avg", "--max_steps=2", "--parallel=4", "--runs_per_gpu=2",
                  *SMALL, script=str(TESTS / "fake_gpus.py"), env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [line.split() for line in log.read_text().splitlines()]
    workers = {pid: seen for pid, what, seen in (x[:3] for x in lines) if what == "list"}
    driver = [pid for pid, seen in workers.items() if seen == "-"]
    assert len(driver) == 1
    del workers[driver[0]]
    assert sorted(workers.values()) == ["0", "0", "1", "1"]
    assert {x[3] for x in lines if x[1] == "list"} == {"-"}  # GPU workers keep every core
    growth = [x for x in lines if x[1] == "growth" and x[0] in workers]
    # One run per grid point, each turning growth on for the one GPU its worker sees.
    assert len(growth) == 2
    for pid, _, seen, device, enable in growth:
        assert device == f"/physical_device:GPU:{seen}" == f"/physical_device:GPU:{workers[pid]}"
        assert enable == "True"
    for run in ("pool-max_seed0", "pool-avg_seed0"):  # one device: auto is one in a sweep
        results = json.loads((tmp_path / "sweep" / run / "results.json").read_text())
        assert results["config"]["replicas"] == 1 and results["global_step"] == 2


def test_parallel_workers_start_as_quietly_as_one_run_each_on_a_share_of_the_cores(
    cifar_dir, tmp_path
):
    env = {k: v for k, v in os.environ.items() if k != "TF_NUM_INTRAOP_THREADS"}
    done = _sweep(f"--data_dir={cifar_dir}", f"--log_dir={tmp_path / 'sweep'}",
                  "--sweep=pool=max,avg", "--max_steps=2", "--parallel=2", *SMALL,
                  env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    text = done.stdout + done.stderr
    assert "trained 2, already finished 0, failed 0" in text
    assert [x for x in text.splitlines() if any(s in x for s in STARTUP_LINES)] == []
    assert done.stderr == ""
    # the two runs' progress and evaluation lines, interleaved in one log, each name its run
    steps = [x for x in done.stdout.splitlines() if x.startswith("step ")]
    assert {x.split()[-1] for x in steps} == {"pool-max_seed0", "pool-avg_seed0"}
    # without a GPU each worker trained on its share of the cores, as its results record
    for run in ("pool-max_seed0", "pool-avg_seed0"):
        results = json.loads((tmp_path / "sweep" / run / "results.json").read_text())
        assert results["host"]["tensorflow"]["intra_op_threads"] == str(executors.cpu_threads(2))


def test_float16_with_loss_scaling_and_xla_train_on_cpu(cifar_dir, tmp_path, monkeypatch):
    """What --mixed_precision and the XLA default pick on a GPU, forced here."""
    monkeypatch.setattr(precision, "policy", lambda config: "mixed_float16")

    class StartingHigh(keras.optimizers.LossScaleOptimizer):  # overflows float16 at once
        def __init__(self, inner, **kwargs):
            super().__init__(inner, initial_scale=2.0**30, **kwargs)

    monkeypatch.setattr(keras.optimizers, "LossScaleOptimizer", StartingHigh)
    config = config_lib.RunConfig.flat(data_dir=str(cifar_dir), log_dir=str(tmp_path / "run"),
        max_steps=4, batch_size=8, mixed_precision=True, jit_compile=True, eval_every=20,
        summary_every=1, steps_per_execution=1)  # fmt: skip
    results = run_lib.train(config)  # a non-finite loss would raise TrainingDiverged
    assert results["global_step"] == 4 and np.isfinite(results["test_accuracy"])
    state = state_lib.TrainState(
        config, precision.build_model(config), state_lib.checkpoint_dir(config.log_dir)
    )
    state.restore()
    assert state.model.get_layer("conv1").compute_dtype == "float16"
    assert all(v.dtype == "float32" for v in state.model.trainable_variables)
    assert state.model.output.dtype == "float32"
    # Scaled gradients of 2**30 x the loss overflow float16: the scale came down, halving.
    scale = float(state.optimizer.dynamic_scale.numpy())
    assert 0 < scale < 2**30 and np.log2(scale) % 1 == 0, scale


def _rows(sweep_dir):
    with open(sweep_dir / "results.csv") as f:
        rows = list(csv.DictReader(f))
    return sorted(
        ({k: v for k, v in row.items() if not any(t in k for t in TIMINGS)} for row in rows),
        key=lambda row: json.dumps(row, sort_keys=True),
    )


def _hparams_files(sweep_dir):
    """{path under the sweep: the HParams plugin's content in its events}."""
    contents = {}
    for path in sorted(sweep_dir.rglob("events.out.tfevents.*")):
        for record in tf.compat.v1.train.summary_iterator(str(path)):
            for value in record.summary.value:
                if value.metadata.plugin_data.plugin_name == "hparams":
                    data = plugin_data_pb2.HParamsPluginData.FromString(
                        value.metadata.plugin_data.content
                    )
                    data.session_start_info.start_time_secs = 0  # when it was written
                    key = str(path.parent.relative_to(sweep_dir))
                    contents.setdefault(key, []).append(json_format.MessageToDict(data))
    return contents


@pytest.fixture
def runs_of(parse_flags, cifar_dir):
    """A sweep's runs of pool=max,avg x 1 seed, deterministic, from the sweep's flags."""

    def runs(sweep_dir, *args):
        flags = [f"--data_dir={cifar_dir}", f"--log_dir={sweep_dir}", "--sweep=pool=max,avg",
                 "--max_steps=3", "--deterministic", *SMALL, *args]  # fmt: skip
        return cli.grid_runs(parse_flags(cli.SWEEP, *flags))

    return runs


@pytest.fixture
def ray_cluster():
    ray = pytest.importorskip("ray")
    yield ray
    if ray.is_initialized():
        ray.shutdown()


def test_ray_gives_the_local_executors_runs_hparams_and_report(runs_of, tmp_path, ray_cluster):
    local, on_ray = tmp_path / "local", tmp_path / "ray"
    assert runner.run_sweep(runs_of(local), local)[2] == []
    executor = ray_executor.RayExecutor(local_cpus=2)
    trained, skipped, errors = runner.run_sweep(runs_of(on_ray), on_ray, executor=executor)
    assert (sorted(trained), skipped, errors) == (["pool-avg_seed0", "pool-max_seed0"], [], [])
    assert not ray_cluster.is_initialized()  # the local instance stopped with the sweep
    tables = [report.report(folder)[0] for folder in (local, on_ray)]
    assert tables[0] == tables[1]
    assert _rows(local) == _rows(on_ray) and len(_rows(local)) == 2
    assert _hparams_files(local) == _hparams_files(on_ray) and len(_hparams_files(local)) == 3
    names = {p.relative_to(local) for p in local.rglob("*") if "events" not in p.name}
    assert names == {p.relative_to(on_ray) for p in on_ray.rglob("*") if "events" not in p.name}
    # Started again, the sweep trains nothing: every run is finished.
    assert runner.run_sweep(runs_of(on_ray), on_ray, executor=executor)[:2] == (
        [], ["pool-max_seed0", "pool-avg_seed0"])  # fmt: skip


def test_a_killed_ray_worker_s_run_continues_from_its_checkpoint(runs_of, tmp_path, ray_cluster):
    sweep_dir = tmp_path / "sweep"
    runs = runs_of(sweep_dir, "--max_steps=100", "--checkpoint_every=5")[:1]
    run_dir = sweep_dir / runs[0][0]
    killed = []

    def kill_after_a_checkpoint():  # the worker named in the run's lock, SIGKILLed mid-run
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not list(run_dir.glob("checkpoints/ckpt-*.index")):
            time.sleep(0.02)
        owner = json.loads((run_dir / runlock.LOCK_FILENAME).read_text())
        os.kill(owner["pid"], signal.SIGKILL)
        killed.append((owner["pid"], (run_dir / "results.json").exists()))

    watcher = threading.Thread(target=kill_after_a_checkpoint)
    watcher.start()
    executor = ray_executor.RayExecutor(local_cpus=2, retries=1)
    trained, _, errors = runner.run_sweep(runs, sweep_dir, executor=executor)
    watcher.join()
    assert len(killed) == 1 and killed[0][1] is False  # killed before the run ended
    assert (trained, errors) == ([runs[0][0]], [])
    results = json.loads((run_dir / "results.json").read_text())
    # The retry trained only what the killed worker had not saved.
    assert results["global_step"] == 100 and results["steps_this_invocation"] < 100, results


def test_ray_without_ray_installed_is_one_line_before_tensorflow(tmp_path):
    code = (
        "import sys; sys.modules['ray'] = None; sys.argv[0] = 'sweep'; "
        "from cifar10_ablation import sweep; sweep.run_main()"
    )
    done = subprocess.run([sys.executable, "-c", code, "--executor=ray",
                           f"--log_dir={tmp_path}"], capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.strip() == f"error: {ray_executor.MISSING}"
    assert not tmp_path.joinpath("sweep.json").exists()
