"""Fault injection: kills at any moment, killed sweeps, bad inputs, NaN, determinism, disk use;
preemption signals, two sweeps on one folder, a full disk, damaged checkpoints, concurrent cache
extraction, read-only data and cache."""

import hashlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import time

import numpy as np
import pytest
import tensorflow as tf
from conftest import write_cifar_binary
from tensorboard.backend.event_processing import event_accumulator

from cifar10_ablation import config as config_lib
from cifar10_ablation import files
from cifar10_ablation.data import cifar10
from cifar10_ablation.training import evaluation, precision, runlock, stopping
from cifar10_ablation.training import run as run_lib
from cifar10_ablation.training import state as state_lib

SMALL = ["--batch_size=8", "--summary_every=2", "--histogram_every=20", "--eval_every=20",
         "--steps_per_execution=1"]  # fmt: skip
# Runs the train command line with tf.train.Checkpoint._write wrapped: after the N-th write
# of the checkpoint files, and before CheckpointManager records it, the process kills itself.
KILL_IN_SAVE = """
import os, signal, sys
import tensorflow as tf
from cifar10_ablation import train
kill_at, writes = int(os.environ["KILL_AT_WRITE"]), [0]
original = tf.train.Checkpoint._write
def write(self, *args, **kwargs):
    path = original(self, *args, **kwargs)
    writes[0] += 1
    if writes[0] == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)
    return path
tf.train.Checkpoint._write = write
sys.argv[0] = "train"
train.run_main()
"""


def _train_command(*args, wrapper=None):
    prefix = [sys.executable, "-c", wrapper] if wrapper else [
        sys.executable, "-m", "cifar10_ablation.train"]  # fmt: skip
    return [*prefix, *args]


def _checkpoint_steps(run_dir):
    state = tf.train.get_checkpoint_state(str(run_dir / "checkpoints"))
    paths = state.all_model_checkpoint_paths if state else []
    return [int(p.rsplit("-", 1)[1]) for p in paths]


def _assert_all_checkpoints_load(run_dir):
    """The newest keep_checkpoints recorded checkpoints load. (Killed while retention deletes the
    oldest, TF's manager has already recorded the new list's predecessor, which still names it.)"""
    config = config_lib.load_run_config(run_dir)
    state = state_lib.TrainState(
        config, precision.build_model(config), state_lib.checkpoint_dir(run_dir)
    )
    for step in _checkpoint_steps(run_dir)[-config.keep_checkpoints :]:
        state.restore(str(run_dir / "checkpoints" / f"ckpt-{step}"))
        assert state.step == step


def _resumed_from(stdout):
    return int(stdout.split(" from step ")[1].split()[0])


def _kill_after_progress(args, lines, delay):
    """Starts training, SIGKILLs it `delay` s after its `lines`-th progress line; the step."""
    process = subprocess.Popen(_train_command(*args), stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    seen = 0
    for line in process.stdout:
        seen += line.startswith("step ") and "/" in line.split()[1]
        if seen >= lines:
            break
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait()
    return process.returncode


def test_kill_9_at_random_moments_then_resume(cifar_dir, tmp_path):
    run_dir = tmp_path / "run"
    args = [f"--data_dir={cifar_dir}", f"--log_dir={run_dir}", "--max_steps=300",
            "--checkpoint_every=3", "--keep_checkpoints=3", *SMALL]  # fmt: skip
    rng = random.Random(0)
    for kill in range(3):  # each a new process: ~10 s of TensorFlow start-up on 2 cores
        if kill == 1:  # inside a checkpoint save: files written, not yet recorded by the manager
            env = {**os.environ, "KILL_AT_WRITE": "2"}
            done = subprocess.run(_train_command(*args, wrapper=KILL_IN_SAVE), env=env,
                                  capture_output=True, text=True, timeout=300)  # fmt: skip
            assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
        else:  # anywhere: training steps, summaries, evaluation, saves
            returncode = _kill_after_progress(args, rng.randint(1, 8), rng.uniform(0, 0.5))
            assert returncode == -signal.SIGKILL
        _assert_all_checkpoints_load(run_dir)
    last_saved = max(_checkpoint_steps(run_dir))
    # The restart continues from the newest recorded checkpoint and finishes.
    done = subprocess.run(_train_command(*args), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert _resumed_from(done.stdout) == last_saved  # only steps since it are redone
    results = json.loads((run_dir / "results.json").read_text())
    assert results["global_step"] == 300 and {"test_accuracy", "config"} <= set(results)
    _assert_all_checkpoints_load(run_dir)


def test_killed_sweep_finishes_only_what_is_missing(cifar_dir, tmp_path):
    sweep_dir = tmp_path / "sweep"
    args = [sys.executable, "-m", "cifar10_ablation.sweep", f"--data_dir={cifar_dir}",
            f"--log_dir={sweep_dir}", "--sweep=pool=max,avg", "--max_steps=30",
            "--checkpoint_every=5", *SMALL]  # fmt: skip
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    first = sweep_dir / "pool-max_seed0" / "results.json"
    deadline = time.time() + 240
    while not first.exists() and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(2.0)  # into the second run
    process.send_signal(signal.SIGKILL)
    process.wait()
    finished_at = first.stat().st_mtime_ns
    done = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    trained = int(done.stdout.split("trained ")[1].split(",")[0])
    skipped = int(done.stdout.split("already finished ")[1].split(",")[0])
    assert skipped >= 1 and trained + skipped == 2
    assert first.stat().st_mtime_ns == finished_at  # not run again
    with open(sweep_dir / "results.csv") as f:
        assert len(f.readlines()) == 1 + 2  # each run once


def _setup_truncated(cifar_dir, tmp_path):
    path = cifar_dir / cifar10.BATCHES_DIRNAME / "data_batch_5.bin"
    path.write_bytes(path.read_bytes()[:-10])
    return [f"--data_dir={cifar_dir}"]


def _setup_wrong_archive(cifar_dir, tmp_path):
    folder = tmp_path / "archive"
    folder.mkdir()
    with tarfile.open(folder / cifar10.ARCHIVE_NAME, "w:gz") as tar:
        tar.add(__file__, arcname="not_cifar.py")
    return [f"--data_dir={folder}"]


def _setup_not_gzip(cifar_dir, tmp_path):
    (tmp_path / "gz").mkdir()
    (tmp_path / "gz" / cifar10.ARCHIVE_NAME).write_text("plain text")
    return [f"--data_dir={tmp_path / 'gz'}"]


def _setup_bad_label(cifar_dir, tmp_path):
    path = cifar_dir / cifar10.BATCHES_DIRNAME / "test_batch.bin"
    raw = bytearray(path.read_bytes())
    raw[0] = 200
    path.write_bytes(bytes(raw))
    return [f"--data_dir={cifar_dir}"]


def _setup_unwritable_log_dir(cifar_dir, tmp_path):
    (tmp_path / "a_file").write_text("")
    return [f"--data_dir={cifar_dir}", f"--log_dir={tmp_path / 'a_file' / 'run'}"]


def _setup_other_config(cifar_dir, tmp_path):
    """A run's config.json alone: the refusal comes before any checkpoint is read."""
    saved = config_lib.RunConfig.flat(data_dir=str(cifar_dir), log_dir=str(tmp_path / "run"),
                                      max_steps=2, batch_size=8)  # fmt: skip
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / config_lib.CONFIG_FILENAME).write_text(json.dumps(saved.to_dict()))
    return [f"--data_dir={cifar_dir}", "--pool=avg"]


def _setup_other_architecture(cifar_dir, tmp_path):
    run_lib.train(config_lib.RunConfig.flat(data_dir=str(cifar_dir), log_dir=str(tmp_path / "run"),
                                     max_steps=2, batch_size=8))  # fmt: skip
    path = tmp_path / "run" / "config.json"
    saved = json.loads(path.read_text())
    path.write_text(json.dumps({**saved, "conv_activation": "maxout"}))  # checkpoint unchanged
    return [f"--data_dir={cifar_dir}", "--conv_activation=maxout", "--max_steps=4"]


# (name, setup(cifar_dir, tmp_path) -> extra args, default args, expected line)
BAD_INPUTS = [
    ("unknown pool", None, ["--pool=median"], "flag --pool=median: value should be one of"),
    ("unknown activation", None, ["--fc_activation=swishy"], "flag --fc_activation=swishy"),
    ("conflicting conv switches", None, ["--conv_relu=false", "--conv_activation=tanh"],
     "give --conv_relu or --conv_activation, not both"),
    ("conflicting fc switches", None, ["--nofc_relu", "--fc_activation=elu"],
     "give --fc_relu or --fc_activation, not both"),
    ("batch size 0", None, ["--batch_size=0"], "flag --batch_size=0: 0 is not a positive"),
    ("validation split negative", None, ["--validation_examples=-1"],
     "error: validation_examples=-1 must be an integer >= 0"),
    ("validation split of every image", None, ["--validation_examples=50000"],
     "must be below the 50,000 training images of cifar10"),
    ("validation split the data cannot give", None, ["--validation_examples=200"],
     "validation_examples=200 must be between 1 and the 200 training images"),
    ("downsample on the tutorial net", None, ["--downsample=max"],
     "arch=tutorial has no strided stages"),
    ("stages of another net", None, ["--arch=resnet20", "--stage_activations=relu+relu"],
     "names 2 stages; arch=resnet20 has 3"),
    ("batch size negative", None, ["--batch_size=-8"], "flag --batch_size=-8"),
    ("steps negative", None, ["--max_steps=-1"], "flag --max_steps=-1: -1 is not a non-negative"),
    ("learning rate 0", None, ["--learning_rate=0"], "error: learning_rate=0.0 must be > 0"),
    ("momentum 1", None, ["--momentum=1"], "error: momentum=1.0 must be in [0, 1)"),
    ("decay under one step", None, ["--epochs_per_decay=0.0001"],
     "error: epochs_per_decay=0.0001 is less than one step of 8 images"),
    ("fast schedule of no steps", None, ["--schedule=fast", "--max_steps=0"],
     "error: warmup_steps=200 must be below decay_steps=0"),
    ("non-existent data dir", None, ["--data_dir=/no/such/dir"],
     "error: data_dir /no/such/dir does not exist"),
    ("truncated data file", _setup_truncated, [], "data_batch_5.bin has 122910 bytes, not a"),
    ("label above 9", _setup_bad_label, [], "test_batch.bin has a record with label 200"),
    ("wrong archive", _setup_wrong_archive, [], "holds no cifar-10-batches-bin/ folder"),
    ("archive not gzip", _setup_not_gzip, [], "is not a readable gzip tar archive"),
    ("log dir not writable", _setup_unwritable_log_dir, [], "error: cannot write to --log_dir="),
    ("run with another config", _setup_other_config, [],
     "holds a run with another configuration (pool: saved 'max', requested 'avg')"),
    ("checkpoint of another architecture", _setup_other_architecture, [],
     "does not match the model of this run's config"),
    ("stray argument", None, ["extra"], "unexpected arguments: extra"),
]  # fmt: skip


@pytest.mark.parametrize("name, setup, args, message", BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_gives_one_clear_line_and_writes_nothing(
    cifar_dir, tmp_path, name, setup, args, message
):
    extra = setup(cifar_dir, tmp_path) if setup else []
    run_dir = tmp_path / "run"
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if "cache" not in p.parts)
    stamps = {p: p.stat().st_mtime_ns for p in run_dir.rglob("*")} if run_dir.exists() else {}
    done = subprocess.run(_train_command(f"--data_dir={cifar_dir}", f"--log_dir={run_dir}",
                                         "--batch_size=8", "--max_steps=2", *extra, *args),
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode != 0
    assert message in done.stderr, done.stderr[-1500:]
    # one line, "error: ...", whatever the input (warnings on the way stay hidden)
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1, done.stderr
    after = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if "cache" not in p.parts)
    assert after == before  # nothing new
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps  # nothing rewritten


def test_nan_loss_stops_at_once_and_keeps_the_last_good_checkpoint(cifar_dir, tmp_path):
    bad = tmp_path / "bad"  # a checkpoint every step, then an absurd learning rate blows it up
    done = subprocess.run(_train_command(f"--data_dir={cifar_dir}", f"--log_dir={bad}",
                                         "--learning_rate=1e9", "--max_steps=40",
                                         "--checkpoint_every=1", *SMALL),
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode != 0
    line = [x for x in done.stderr.splitlines() if x.startswith("error:")][-1]
    assert "loss became NaN or infinite at step" in line and "Last good checkpoint" in line
    nan_step = int(line.split("at step ")[1].split(";")[0])
    steps = _checkpoint_steps(bad)
    assert all(s < nan_step for s in steps)  # nothing saved from after the blow-up
    _assert_all_checkpoints_load(bad)
    assert not (bad / "results.json").exists()


def _losses(run_dir):
    accumulator = event_accumulator.EventAccumulator(str(run_dir), size_guidance={
        event_accumulator.TENSORS: 0})  # fmt: skip
    accumulator.Reload()
    return [float(tf.make_ndarray(e.tensor_proto)) for e in accumulator.Tensors("train/loss")]


def test_deterministic_runs_repeat_loss_for_loss(cifar_dir, tmp_path):
    runs = []
    for name in ("a", "b"):
        config = config_lib.RunConfig.flat(
            data_dir=str(cifar_dir), log_dir=str(tmp_path / name), max_steps=12, batch_size=8,
            summary_every=1, histogram_every=12, eval_every=12, steps_per_execution=3,
            deterministic=True, seed=3)  # fmt: skip
        run_lib.train(config)
        runs.append(_losses(tmp_path / name))
    assert len(runs[0]) == 12
    assert runs[0] == runs[1]  # bit for bit


def test_only_the_last_k_checkpoints_are_kept(cifar_dir, tmp_path):
    run_dir = tmp_path / "run"
    run_lib.train(config_lib.RunConfig.flat(data_dir=str(cifar_dir), log_dir=str(run_dir),
        max_steps=12, batch_size=8, checkpoint_every=2, keep_checkpoints=2,
                                     steps_per_execution=2))  # fmt: skip
    assert _checkpoint_steps(run_dir) == [10, 12]
    files = sorted(p.name for p in (run_dir / "checkpoints").iterdir())
    assert files == ["checkpoint", "ckpt-10.data-00000-of-00001", "ckpt-10.index",
                     "ckpt-12.data-00000-of-00001", "ckpt-12.index"]  # fmt: skip


def test_results_json_is_written_atomically(tmp_path, monkeypatch):
    path = tmp_path / "results.json"
    files.write_json_atomic(path, {"a": 1})

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", fail)  # the new file is written, not yet renamed
    with pytest.raises(OSError):
        files.write_json_atomic(path, {"a": 2})
    assert json.loads(path.read_text()) == {"a": 1}  # old file intact, no temporary left
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


# --- Faults of long jobs on shared machines: preemption, two sweeps, full disk, damaged
# checkpoints, concurrent extraction, read-only folders.


class Tmpfs:
    """Small tmpfs mounts for real full-disk and read-only faults: mount() returns False where
    this process may not mount (not root, or a container without the right), and the test then
    simulates the fault; everything is unmounted after the test."""

    def __init__(self):
        self.mounted = []

    def mount(self, path, megabytes, read_only=False):
        path.mkdir(parents=True, exist_ok=True)
        if os.geteuid() != 0 or shutil.which("mount") is None:
            return False
        options = f"size={megabytes}m" + (",ro" if read_only else "")
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                              capture_output=True)  # fmt: skip
        if done.returncode == 0:
            self.mounted.append(path)
        return done.returncode == 0

    def make_read_only(self, path):
        subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True)


@pytest.fixture
def tmpfs():
    mounts = Tmpfs()
    yield mounts
    for path in reversed(mounts.mounted):
        subprocess.run(["umount", "-l", str(path)], check=False)


def _progress_steps(lines):
    """The steps of the progress lines ('step 12/300  loss ...') among `lines`."""
    for line in lines:
        words = line.split()
        if len(words) > 1 and words[0] == "step" and "/" in words[1]:
            yield int(words[1].split("/")[0])


def _signal_after_progress(command, signum, marker=None):
    """Starts `command`, sends `signum` at its first progress line (after a line containing
    `marker`, if given); returns (exit status, stdout, stderr)."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)  # fmt: skip
    seen, armed = [], marker is None
    for line in process.stdout:
        seen.append(line)
        armed = armed or marker in line
        if armed and any(_progress_steps([line])):
            process.send_signal(signum)
            break
    stdout, stderr = process.communicate(timeout=300)
    return process.returncode, "".join(seen) + stdout, stderr


def _weights(checkpoint):
    """Every saved tensor but the bookkeeping that differs between invocations."""
    reader = tf.train.load_checkpoint(str(checkpoint))
    return {
        name: reader.get_tensor(name)
        for name in reader.get_variable_to_shape_map()
        if not name.startswith(("train_seconds", "save_counter", "_CHECKPOINTABLE"))
    }


PREEMPTIBLE = ["--batch_size=8", "--max_steps=150", "--steps_per_execution=3", "--summary_every=3",
               "--histogram_every=150", "--eval_every=150", "--checkpoint_every=150",
               "--deterministic"]  # fmt: skip


def test_sigterm_stops_with_a_checkpoint_and_resumes_to_the_same_weights(cifar_dir, tmp_path):
    run_dir = tmp_path / "run"
    args = _train_command(f"--data_dir={cifar_dir}", f"--log_dir={run_dir}", *PREEMPTIBLE)
    status, stdout, stderr = _signal_after_progress(args, signal.SIGTERM)
    assert status == stopping.EXIT_INTERRUPTED, stderr[-2000:]
    line = stderr.strip().splitlines()[-1]  # one line says what happened and what to do
    assert f"{run_dir}: stopped by SIGTERM at step " in line and "Traceback" not in stderr
    step = int(line.split(" at step ")[1].split()[0])
    assert f"checkpoint ckpt-{step} saved; run the same command to continue" in line
    assert step % 3 == 0 and 0 < step < 150  # whole graph calls of 3 steps
    assert _checkpoint_steps(run_dir)[-1] == step and not (run_dir / "results.json").exists()
    done = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert _resumed_from(done.stdout) == step
    # The same final step and weights as a run that was never interrupted.
    reference = tmp_path / "reference"
    done = subprocess.run(_train_command(f"--data_dir={cifar_dir}", f"--log_dir={reference}",
                                         *PREEMPTIBLE), capture_output=True, text=True,
                          timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    resumed, uninterrupted = (
        _weights(run_dir / "checkpoints" / "ckpt-150"),
        _weights(reference / "checkpoints" / "ckpt-150"),
    )
    assert resumed.keys() == uninterrupted.keys() and len(resumed) > 20
    for name, value in resumed.items():
        np.testing.assert_array_equal(value, uninterrupted[name], err_msg=name)
    assert json.loads((run_dir / "results.json").read_text())["global_step"] == 150


def test_ctrl_c_stops_a_sweep_which_then_skips_its_finished_runs(cifar_dir, tmp_path):
    """SIGINT (Ctrl-C) here, SIGTERM for a lone run above: both stop (stopping.StopRequest)."""
    sweep_dir = tmp_path / "sweep"
    args = [sys.executable, "-m", "cifar10_ablation.sweep", f"--data_dir={cifar_dir}",
            f"--log_dir={sweep_dir}", "--sweep=pool=max,avg", *PREEMPTIBLE]  # fmt: skip
    status, stdout, stderr = _signal_after_progress(args, signal.SIGINT, "pool-avg_seed0: training")
    assert status == stopping.EXIT_INTERRUPTED, stderr[-2000:]
    assert stderr.strip().splitlines()[-1] == (
        f"sweep {sweep_dir}: stopped by SIGINT with 1 of its runs unfinished; run the same "
        "command to continue (exit status 75)")  # fmt: skip
    stopped = [x for x in stderr.splitlines() if " stopped by SIGINT at step " in x]
    assert len(stopped) == 1 and stopped[0].startswith(f"{sweep_dir / 'pool-avg_seed0'}: ")
    step = int(stopped[0].split(" at step ")[1].split()[0])
    assert (sweep_dir / "pool-max_seed0" / "results.json").exists()
    assert not (sweep_dir / "pool-avg_seed0" / runlock.LOCK_FILENAME).exists()  # released
    done = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "trained 1, already finished 1, failed 0" in done.stdout
    assert _resumed_from(done.stdout) == step


def test_two_sweeps_on_one_folder_share_the_runs_and_both_finish(cifar_dir, tmp_path):
    sweep_dir = tmp_path / "sweep"
    args = [sys.executable, "-m", "cifar10_ablation.sweep", f"--data_dir={cifar_dir}",
            f"--log_dir={sweep_dir}", "--sweep=pool=max,avg", "--max_steps=20",
            "--checkpoint_every=10", *SMALL]  # fmt: skip
    processes = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for _ in range(2)]  # fmt: skip
    outputs = [p.communicate(timeout=600) for p in processes]
    for process, (stdout, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, stderr[-2000:]
        assert stdout.count("| max |") == 1 and "| avg |" in stdout  # each reports the whole grid
    runs = sorted(p.name for p in sweep_dir.glob("pool-*"))
    assert len(runs) == 2
    both = "".join(stdout for stdout, _ in outputs)
    for run in runs:  # each run trained by one process, once, from the start
        started = [x for x in both.splitlines() if x.startswith(f"{sweep_dir / run}: training ")]
        assert len(started) == 1 and " from step 0 to 20 " in started[0], both
        assert json.loads((sweep_dir / run / "results.json").read_text())["global_step"] == 20
        assert not (sweep_dir / run / runlock.LOCK_FILENAME).exists()
        _assert_all_checkpoints_load(sweep_dir / run)
    counts = [stdout.split("trained ")[-1].split(",")[0] for stdout, _ in outputs]
    assert sum(map(int, counts)) == 2
    with open(sweep_dir / "results.csv") as f:
        assert len(f.readlines()) == 1 + 2


def test_train_takes_the_run_lock_and_overwrite_keeps_it(cifar_dir, tmp_path):
    run_dir = tmp_path / "run"
    args = [f"--data_dir={cifar_dir}", f"--log_dir={run_dir}", "--max_steps=2", *SMALL]
    with runlock.acquire(run_dir):  # a live process (this one) trains it
        done = subprocess.run(_train_command(*args), capture_output=True, text=True, timeout=300)
        assert done.returncode == 1
        assert done.stderr.strip().splitlines()[-1] == (
            f"error: {run_dir} is being trained by pid {os.getpid()} on {socket.gethostname()};"
            " wait for it to end, or stop it (SIGTERM saves a checkpoint)"
        )
        assert [p.name for p in run_dir.iterdir()] == [runlock.LOCK_FILENAME]
        # --overwrite deletes the old run, not the lock of the process training the new one.
        config = config_lib.RunConfig.flat(data_dir=str(cifar_dir), log_dir=str(run_dir),
        max_steps=2, batch_size=8, pool="avg")  # fmt: skip
        run_lib.train(config)
        run_lib.train(config.replace(pool="max"), overwrite=True)
        mine = json.loads((run_dir / runlock.LOCK_FILENAME).read_text())
        assert mine["pid"] == os.getpid()
    # A killed train's lock is taken over, with a line saying so.
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout  # fmt: skip
    (run_dir / runlock.LOCK_FILENAME).write_text(json.dumps({**mine, "pid": int(gone)}))
    done = subprocess.run(_train_command(*args, "--pool=max"), capture_output=True, text=True,
                          timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-1500:]
    assert f"{run_dir}: took over the stale lock of pid {int(gone)} on " in done.stdout
    assert not (run_dir / runlock.LOCK_FILENAME).exists()
    # A refused run leaves no folder behind: here the data folder does not exist.
    new = tmp_path / "new"
    done = subprocess.run(_train_command(f"--data_dir={tmp_path / 'none'}", f"--log_dir={new}"),
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 1 and done.stderr.strip().startswith("error: ")
    assert not new.exists()


def test_a_run_lock_is_exclusive_and_a_dead_owners_lock_is_taken_over(
    tmp_path, monkeypatch, capsys
):
    run_dir = tmp_path / "run"
    path = run_dir / runlock.LOCK_FILENAME
    with runlock.acquire(run_dir):
        mine = json.loads(path.read_text())
        assert mine["pid"] == os.getpid() and capsys.readouterr().out == ""
        with pytest.raises(runlock.RunLocked, match=f"pid {os.getpid()} on "):
            runlock.acquire(run_dir)
    assert not path.exists()
    # The owner was killed: on this host its pid is gone.
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout  # fmt: skip
    here = {"host": mine["host"], "pid_namespace": mine["pid_namespace"]}
    path.write_text(json.dumps({**here, "pid": int(gone), "started": 0}))
    with runlock.acquire(run_dir):
        assert capsys.readouterr().out == (  # said once, by acquire, for train and sweep alike
            f"{run_dir}: took over the stale lock of pid {int(gone)} on "
            f"{socket.gethostname()} (pid {int(gone)} is gone)\n"
        )
    # Alive here, it keeps its lock however old (stopped with Ctrl-Z, say).
    path.write_text(json.dumps({**here, "pid": os.getppid(), "started": 0}))
    old = time.time() - runlock.STALE_SECONDS - 5
    os.utime(path, (old, old))
    with pytest.raises(runlock.RunLocked, match=f"being trained by pid {os.getppid()} on "):
        runlock.acquire(run_dir)
    # Another host's owner is judged by the age of its heartbeat.
    path.write_text(json.dumps({"host": "elsewhere", "pid": 1, "started": 0}))
    with pytest.raises(runlock.RunLocked, match="being trained by pid 1 on elsewhere"):
        runlock.acquire(run_dir)
    os.utime(path, (old, old))
    monkeypatch.setattr(runlock, "HEARTBEAT_SECONDS", 0.05)
    with runlock.acquire(run_dir):
        assert capsys.readouterr().out.startswith(
            f"{run_dir}: took over the stale lock of pid 1 on elsewhere (untouched"
        )
        os.utime(path, (old, old))
        time.sleep(0.5)
        assert time.time() - path.stat().st_mtime < 5  # the heartbeat keeps it fresh
    assert not path.exists()


# Runs the train command line with the disk filling up right before one kind of write (FULL_AT:
# the 2nd checkpoint, event files after the 1st checkpoint, results.json). With BALLAST, a file
# on a small tmpfs grows until the kernel answers ENOSPC; without, the write raises what TF or
# Python raises on a full disk.
FILL_DISK = """
import errno, os, sys
import tensorflow as tf
from cifar10_ablation import files, train
from cifar10_ablation.training import summaries
from cifar10_ablation.training import state as state_lib
full_at, ballast, calls = os.environ["FULL_AT"], os.environ.get("BALLAST"), {}
ENOSPC = os.strerror(errno.ENOSPC)

def fill():
    with open(ballast, "ab") as f:
        try:
            while True:
                f.write(bytes(1 << 16))
        except OSError:
            pass

def no_space(*args):
    raise OSError(errno.ENOSPC, ENOSPC)

def before(name, function, tf_message=None, at_call=1):
    def wrapped(*args, **kwargs):
        calls[name] = calls.get(name, 0) + 1
        if calls[name] == at_call:
            if ballast:
                fill()
            elif tf_message:
                raise tf.errors.ResourceExhaustedError(None, None, tf_message(*args))
            else:
                os.fsync = no_space  # the atomic JSON write's fsync finds the disk full
        return function(*args, **kwargs)
    return wrapped

if full_at == "checkpoint":
    def message(state):
        temp = state.manager.directory + f"/ckpt-{state.step}_temp"
        os.makedirs(temp)
        open(temp + "/part-00000-of-00001.data-00000-of-00001.tempstate1", "wb").close()
        return f"{temp}/part-00000-of-00001.data-00000-of-00001.tempstate1; {ENOSPC}"
    state_lib.TrainState._write_checkpoint = before(
        "save", state_lib.TrainState._write_checkpoint, message, at_call=2)
elif full_at == "event file":
    def message(trainer, *args):
        return f"{trainer.run_dir}/events.out.tfevents.1.host.1.0.v2; {ENOSPC}"
    summaries.RunSummaries.train_scalars = before(
        "scalars", summaries.RunSummaries.train_scalars, message, at_call=5)
else:
    original = files.write_json_atomic
    def write_json_atomic(path, values):
        if path.name == "results.json":
            return before("results", original)(path, values)
        return original(path, values)
    files.write_json_atomic = write_json_atomic
sys.argv[0] = "train"
train.run_main()
"""


@pytest.mark.parametrize("full_at, named", [("checkpoint", "ckpt-8"),
                                            ("event file", "events.out.tfevents."),
                                            ("results.json", "results.json")])  # fmt: skip
def test_a_full_disk_stops_with_one_line_and_the_run_continues_once_space_is_freed(
    cifar_dir, tmp_path, tmpfs, full_at, named
):
    disk = tmp_path / "disk"
    real = tmpfs.mount(disk, 64)
    run_dir = disk / "run"
    args = [f"--data_dir={cifar_dir}", f"--log_dir={run_dir}", "--batch_size=8", "--max_steps=12",
            "--checkpoint_every=4", "--summary_every=1", "--histogram_every=2",
            "--eval_every=12", "--steps_per_execution=1"]  # fmt: skip
    env = {**os.environ, "FULL_AT": full_at, **({"BALLAST": str(disk / "ballast")} if real else {})}
    done = subprocess.run(_train_command(*args, wrapper=FILL_DISK), env=env, capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    assert done.returncode not in (0, stopping.EXIT_INTERRUPTED), done.stderr[-2000:]
    line = done.stderr.strip().splitlines()[-1]
    assert line.startswith(f"error: no space left on device writing {run_dir}"), done.stderr[-2000:]
    assert named in line and " free there; " in line and "Traceback" not in done.stderr
    assert " MB needed for " in line or " kB needed for " in line  # the space it takes
    newest = 12 if full_at == "results.json" else 4
    assert line.endswith(f"free space and run the same command to continue from ckpt-{newest}")
    # The newest complete checkpoint loads; nothing half-written where a resume would read.
    assert _checkpoint_steps(run_dir)[-1] == newest
    _assert_all_checkpoints_load(run_dir)
    leftovers = [p.name for p in run_dir.rglob("*") if "tmp" in p.name or "_temp" in p.name]
    assert leftovers == [] and not (run_dir / "results.json").exists()
    if full_at == "checkpoint":
        assert not list((run_dir / "checkpoints").glob("ckpt-8*"))
    (disk / "ballast").unlink(missing_ok=True)
    done = subprocess.run(_train_command(*args), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert _resumed_from(done.stdout) == newest
    assert json.loads((run_dir / "results.json").read_text())["global_step"] == 12
    _assert_all_checkpoints_load(run_dir)


def test_a_damaged_newest_checkpoint_is_skipped_and_never_silently(cifar_dir, tmp_path, capfd):
    run_dir = tmp_path / "run"
    run_lib.train(config_lib.RunConfig.flat(data_dir=str(cifar_dir), log_dir=str(run_dir),
        max_steps=6, batch_size=8, checkpoint_every=2, keep_checkpoints=3,
                                     steps_per_execution=2))  # fmt: skip
    checkpoints = run_dir / "checkpoints"
    data_file = "ckpt-{}.data-00000-of-00001"
    truncated, zeroed = checkpoints / data_file.format(6), checkpoints / data_file.format(4)
    truncated.write_bytes(truncated.read_bytes()[: truncated.stat().st_size // 2])
    zeroed.write_bytes(bytes(zeroed.stat().st_size))
    # eval takes the newest that loads too, with the same lines (it writes no checkpoint).
    assert evaluation.evaluate_run(run_dir)["checkpoint"] == str(checkpoints / "ckpt-2")
    with pytest.raises(
        ValueError, match=r"checkpoint .*ckpt-9 does not exist \(no .*ckpt-9\.index\)"
    ):
        evaluation.evaluate_run(run_dir, str(checkpoints / "ckpt-9"))
    skipped = [x for x in capfd.readouterr().err.splitlines() if x.startswith("warning: skipped")]
    assert skipped == [
        f"warning: skipped checkpoint {checkpoints / name}: it does not load ({why}); using ckpt-2"
        for name, why in (("ckpt-6", state_lib.checkpoint_damage(checkpoints / "ckpt-6")),
                          ("ckpt-4", state_lib.checkpoint_damage(checkpoints / "ckpt-4")))
    ]  # fmt: skip
    args = [f"--data_dir={cifar_dir}", f"--log_dir={run_dir}", "--batch_size=8",
            "--checkpoint_every=2", "--keep_checkpoints=3", "--steps_per_execution=2"]  # fmt: skip
    done = subprocess.run(_train_command(*args, "--max_steps=8"), capture_output=True, text=True,
                          timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    warnings = [x for x in done.stderr.splitlines() if x.startswith("warning: skipped checkpoint")]
    skipped = [w.split(":")[1].split()[-1] for w in warnings]
    assert skipped == [str(checkpoints / "ckpt-6"), str(checkpoints / "ckpt-4")]
    assert all(w.endswith("); using ckpt-2") and "(" in w for w in warnings)
    assert _resumed_from(done.stdout) == 2  # the newest that loads, not the start
    _assert_all_checkpoints_load(run_dir)  # steps 4 and 6 trained and saved again, then 8
    assert _checkpoint_steps(run_dir) == [4, 6, 8]
    # A missing or unreadable `checkpoint` file: the checkpoint files themselves are found.
    (checkpoints / "checkpoint").write_bytes(bytes(100))
    assert state_lib.recorded_checkpoints(checkpoints)[0] == str(checkpoints / "ckpt-8")
    (checkpoints / "checkpoint").unlink()
    assert len(state_lib.recorded_checkpoints(checkpoints)) == 3
    # None loads: one line, non-zero exit, nothing written.
    for path in checkpoints.glob("*.data-*"):
        path.write_bytes(bytes(path.stat().st_size))
    stamps = {p: p.stat().st_mtime_ns for p in run_dir.rglob("*")}
    done = subprocess.run(_train_command(*args, "--max_steps=10"), capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    assert done.returncode != 0
    line = done.stderr.strip().splitlines()[-1]
    assert line.startswith(f"error: no checkpoint in {checkpoints} loads (ckpt-8: ")
    assert "; ckpt-6: " in line and "; ckpt-4: " in line and "Traceback" not in done.stderr
    assert line.endswith("move the run directory away, or pass --overwrite to start it over")
    with pytest.raises(ValueError, match=r"\(ckpt-8: .*; train the run again to evaluate it$"):
        evaluation.evaluate_run(run_dir)
    assert {p: p.stat().st_mtime_ns for p in run_dir.rglob("*")} == stamps


# Loads CIFAR-10 from an archive; the extraction waits until the other process has extracted
# too, so both renames race; prints the source folder and a digest of the arrays.
EXTRACT = """
import hashlib, os, sys, time
from pathlib import Path
from cifar10_ablation.data import cifar10
archive_dir, cache = Path(sys.argv[1]), Path(sys.argv[2])
original = cifar10._extract_batches
def extract_then_wait(archive, target):
    original(archive, target)
    (cache.parent / f"extracted-{os.getpid()}").touch()
    deadline = time.time() + 120
    while len(list(cache.parent.glob("extracted-*"))) < 2 and time.time() < deadline:
        time.sleep(0.05)
cifar10._extract_batches = extract_then_wait
loaded = cifar10.load(archive_dir, cache)
digest = hashlib.sha256()
for array in (loaded.train_images, loaded.train_labels, loaded.test_images, loaded.test_labels):
    digest.update(array.tobytes())
print(loaded.source, digest.hexdigest())
"""


def _archive(tmp_path):
    """A CIFAR-10 binary archive of the conftest records; returns (its folder, the arrays)."""
    arrays = write_cifar_binary(tmp_path / "src" / cifar10.BATCHES_DIRNAME)
    folder = tmp_path / "archive"
    folder.mkdir()
    with tarfile.open(folder / cifar10.ARCHIVE_NAME, "w:gz") as tar:
        tar.add(tmp_path / "src" / cifar10.BATCHES_DIRNAME, arcname=cifar10.BATCHES_DIRNAME)
    return folder, arrays


def test_two_processes_extracting_into_one_cache_both_read_the_complete_files(tmp_path):
    archive_dir, arrays = _archive(tmp_path)
    cache = tmp_path / "shared" / "cache"
    cache.parent.mkdir()
    expected = hashlib.sha256()
    for names in (cifar10.TRAIN_FILES, cifar10.TEST_FILES):
        expected.update(np.concatenate([arrays[n][0] for n in names]).tobytes())
        expected.update(np.concatenate([arrays[n][1] for n in names]).tobytes())
    processes = [subprocess.Popen([sys.executable, "-c", EXTRACT, archive_dir, cache],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]  # fmt: skip
    sizes = {
        n: cifar10.RECORD_BYTES * len(arrays[n][1])
        for n in (*cifar10.TRAIN_FILES, *cifar10.TEST_FILES)
    }
    while any(p.poll() is None for p in processes):  # what the cache shows is always complete
        for entry in cache.glob("[!.]*"):  # not the temporary .extracting-* folders
            shown = {p.name: p.stat().st_size for p in (entry / cifar10.BATCHES_DIRNAME).iterdir()}
            assert shown == sizes
        time.sleep(0.02)
    outputs = [p.communicate()[0].split() for p in processes]
    assert all(p.returncode == 0 for p in processes), [p.stderr.read() for p in processes]
    assert outputs[0] == outputs[1] and outputs[0][1] == expected.hexdigest()
    assert len(list(cache.parent.glob("extracted-*"))) == 2  # both extracted: the renames raced
    assert [p.name for p in cache.iterdir()] == [outputs[0][0].split("/")[-2]]  # one entry, no temp


# The train command line; without a read-only mount (READ_ONLY_DIRS set), creating the cache's
# temporary folder under those directories fails as the kernel fails it on one.
READ_ONLY = """
import errno, os, sys, tempfile
from cifar10_ablation import train
read_only = tuple(filter(None, os.environ.get("READ_ONLY_DIRS", "").split(os.pathsep)))
mkdtemp = tempfile.mkdtemp
def refusing_mkdtemp(*args, dir=None, **kwargs):
    if dir is not None and str(dir).startswith(read_only):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(dir))
    return mkdtemp(*args, dir=dir, **kwargs)
tempfile.mkdtemp = refusing_mkdtemp
sys.argv[0] = "train"
train.run_main()
"""


def test_read_only_data_and_cache_name_the_cache_and_its_variable(tmp_path, tmpfs):
    archive_dir, _ = _archive(tmp_path)
    data_dir, cache = tmp_path / "read_only_data", tmp_path / "read_only_cache"
    real = tmpfs.mount(data_dir, 8) and tmpfs.mount(cache, 1, read_only=True)
    shutil.copy(archive_dir / cifar10.ARCHIVE_NAME, data_dir)
    if real:
        tmpfs.make_read_only(data_dir)
        with pytest.raises(OSError, match="Read-only file system"):
            (data_dir / "probe").write_text("")  # really read-only, also for root
    run_dir = tmp_path / "run"
    args = [f"--data_dir={data_dir}", f"--log_dir={run_dir}", "--batch_size=8", "--max_steps=2"]
    simulated = "" if real else os.pathsep.join([str(data_dir), str(cache)])
    env = {**os.environ, cifar10.CACHE_ENV: str(cache), "READ_ONLY_DIRS": simulated}
    done = subprocess.run([sys.executable, "-c", READ_ONLY, *args], env=env, capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    assert done.returncode != 0 and "Traceback" not in done.stderr
    line = done.stderr.strip().splitlines()[-1]
    assert line == (
        f"error: cannot extract {data_dir / cifar10.ARCHIVE_NAME} into the cache {cache} "
        "(Read-only file system); set CIFAR10_ABLATION_CACHE to a writable folder with room, or "
        "pass --data_dir=<a folder holding cifar-10-batches-bin/>"
    )
    assert not run_dir.exists()
    # The variable moves the cache; the data folder stays read-only and is only read.
    env[cifar10.CACHE_ENV] = str(tmp_path / "writable_cache")
    done = subprocess.run([sys.executable, "-c", READ_ONLY, *args], env=env, capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"on binary:{tmp_path / 'writable_cache'}" in done.stdout
    assert sorted(p.name for p in data_dir.iterdir()) == [cifar10.ARCHIVE_NAME]
