"""Fault injection: kills at any moment, killed sweeps, bad inputs, NaN, determinism, disk use."""

import json
import os
import random
import signal
import subprocess
import sys
import tarfile
import time

import pytest
import tensorflow as tf
from tensorboard.backend.event_processing import event_accumulator

from cifar10_ablation import config as config_lib
from cifar10_ablation import data, train
from cifar10_ablation import state as state_lib

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
    for step in _checkpoint_steps(run_dir)[-config.keep_checkpoints :]:
        state = state_lib.TrainState(config, state_lib.checkpoint_dir(run_dir))
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
    for kill in range(6):
        if kill == 3:  # inside a checkpoint save: files written, not yet recorded by the manager
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
            f"--log_dir={sweep_dir}", "--sweep=pool=max,avg", "--seeds=2", "--max_steps=30",
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
    assert skipped >= 1 and trained + skipped == 4
    assert first.stat().st_mtime_ns == finished_at  # not run again
    with open(sweep_dir / "results.csv") as f:
        assert len(f.readlines()) == 1 + 4  # each run once


def _setup_truncated(cifar_dir, tmp_path):
    path = cifar_dir / data.BATCHES_DIRNAME / "data_batch_5.bin"
    path.write_bytes(path.read_bytes()[:-10])
    return [f"--data_dir={cifar_dir}"]


def _setup_wrong_archive(cifar_dir, tmp_path):
    folder = tmp_path / "archive"
    folder.mkdir()
    with tarfile.open(folder / data.ARCHIVE_NAME, "w:gz") as tar:
        tar.add(__file__, arcname="not_cifar.py")
    return [f"--data_dir={folder}"]


def _setup_not_gzip(cifar_dir, tmp_path):
    (tmp_path / "gz").mkdir()
    (tmp_path / "gz" / data.ARCHIVE_NAME).write_text("plain text")
    return [f"--data_dir={tmp_path / 'gz'}"]


def _setup_bad_label(cifar_dir, tmp_path):
    path = cifar_dir / data.BATCHES_DIRNAME / "test_batch.bin"
    raw = bytearray(path.read_bytes())
    raw[0] = 200
    path.write_bytes(bytes(raw))
    return [f"--data_dir={cifar_dir}"]


def _setup_unwritable_log_dir(cifar_dir, tmp_path):
    (tmp_path / "a_file").write_text("")
    return [f"--data_dir={cifar_dir}", f"--log_dir={tmp_path / 'a_file' / 'run'}"]


def _setup_other_config(cifar_dir, tmp_path):
    train.train(config_lib.RunConfig(data_dir=str(cifar_dir), log_dir=str(tmp_path / "run"),
                                     max_steps=2, batch_size=8))  # fmt: skip
    return [f"--data_dir={cifar_dir}", "--pool=avg"]


def _setup_other_architecture(cifar_dir, tmp_path):
    _setup_other_config(cifar_dir, tmp_path)
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
    ("batch size negative", None, ["--batch_size=-8"], "flag --batch_size=-8"),
    ("steps negative", None, ["--max_steps=-1"], "flag --max_steps=-1: -1 is not a non-negative"),
    ("learning rate 0", None, ["--learning_rate=0"], "error: learning_rate=0.0 must be > 0"),
    ("momentum 1", None, ["--momentum=1"], "error: momentum=1.0 must be in [0, 1)"),
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
    assert "Traceback" not in done.stderr
    after = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if "cache" not in p.parts)
    assert after == before  # nothing new
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps  # nothing rewritten


def test_nan_loss_stops_at_once_and_keeps_the_last_good_checkpoint(cifar_dir, tmp_path):
    run_dir = tmp_path / "run"
    common = [f"--data_dir={cifar_dir}", f"--log_dir={run_dir}", "--checkpoint_every=5", *SMALL]
    done = subprocess.run(_train_command(*common, "--max_steps=10"), capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0
    # The same run continued with an absurd learning rate... is another config: use a copy.
    bad = tmp_path / "bad"
    done = subprocess.run(_train_command(*common[:1], f"--log_dir={bad}", "--learning_rate=1e9",
                                         "--max_steps=40", "--checkpoint_every=1", *SMALL),
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
        config = config_lib.RunConfig(
            data_dir=str(cifar_dir), log_dir=str(tmp_path / name), max_steps=12, batch_size=8,
            summary_every=1, histogram_every=12, eval_every=12, steps_per_execution=3,
            deterministic=True, seed=3)  # fmt: skip
        train.train(config)
        runs.append(_losses(tmp_path / name))
    assert len(runs[0]) == 12
    assert runs[0] == runs[1]  # bit for bit


def test_only_the_last_k_checkpoints_are_kept(cifar_dir, tmp_path):
    run_dir = tmp_path / "run"
    train.train(config_lib.RunConfig(data_dir=str(cifar_dir), log_dir=str(run_dir), max_steps=12,
                                     batch_size=8, checkpoint_every=2, keep_checkpoints=2,
                                     steps_per_execution=2))  # fmt: skip
    assert _checkpoint_steps(run_dir) == [10, 12]
    files = sorted(p.name for p in (run_dir / "checkpoints").iterdir())
    assert files == ["checkpoint", "ckpt-10.data-00000-of-00001", "ckpt-10.index",
                     "ckpt-12.data-00000-of-00001", "ckpt-12.index"]  # fmt: skip


def test_results_json_is_written_atomically(tmp_path, monkeypatch):
    path = tmp_path / "results.json"
    config_lib.write_json_atomic(path, {"a": 1})

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(json, "dump", fail)
    with pytest.raises(OSError):
        config_lib.write_json_atomic(path, {"a": 2})
    assert json.loads(path.read_text()) == {"a": 1}  # old file intact, no temporary left
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]
