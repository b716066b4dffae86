"""Training and evaluation: a short real run through the library and the command lines."""

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from tensorboard.backend.event_processing import event_accumulator

from cifar10_ablation import cli
from cifar10_ablation import config as config_lib
from cifar10_ablation.data import cifar10
from cifar10_ablation.training import evaluation, loop, precision, rundir
from cifar10_ablation.training import run as run_lib
from cifar10_ablation.training import state as state_lib

# Small enough for CI: 16-image batches, every event every few steps.
SMOKE = dict(
    batch_size=16,
    summary_every=5,
    histogram_every=10,
    eval_every=10,
    checkpoint_every=10,
    steps_per_execution=5,
)
SMOKE_FLAGS = [f"--{k}={v}" for k, v in SMOKE.items()]


def _config(cifar_dir, log_dir, **overrides):
    return config_lib.RunConfig.flat(
        data_dir=str(cifar_dir), log_dir=str(log_dir), **{**SMOKE, **overrides}
    )


def _tags(run_dir):
    accumulator = event_accumulator.EventAccumulator(
        str(run_dir), size_guidance={event_accumulator.TENSORS: 0, event_accumulator.IMAGES: 0}
    )
    accumulator.Reload()
    return set(accumulator.Tags()["tensors"]), accumulator


def _run_cli(module, *args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", f"cifar10_ablation.{module}", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
    )


def test_averaging_decay_is_tfs_warm_up():
    for step in (0, 1, 5, 100, 1000, 10**5, 10**6):
        assert float(state_lib.averaging_decay(step, 0.9999)) == pytest.approx(
            min(0.9999, (1 + step) / (10 + step)), rel=1e-6
        )


def test_averaged_weights_follow_the_formula():
    variable = tf.Variable([1.0, -2.0])
    averages = state_lib.AveragedWeights([variable], max_decay=0.9)
    expected = np.array([1.0, -2.0])
    for step, value in enumerate([[3.0, 0.0], [-1.0, 4.0], [10.0, 10.0], [0.0, 0.0]], start=1):
        variable.assign(value)
        decay = min(0.9, (1 + step) / (10 + step))
        expected = expected - (1 - decay) * (expected - np.array(value))
        averages.update([variable], tf.constant(step, tf.int64))
        np.testing.assert_allclose(averages.averages[0].numpy(), expected, rtol=1e-6)


def test_schedules():
    tutorial = state_lib.make_learning_rate(config_lib.RunConfig())
    assert float(tutorial(0)) == pytest.approx(0.1)
    assert float(tutorial(136_717)) == pytest.approx(0.1)  # int(50000/128*350) steps per decay
    assert float(tutorial(136_718)) == pytest.approx(0.01)
    fast = state_lib.make_learning_rate(config_lib.RunConfig.flat(schedule="fast", max_steps=1000))
    assert float(fast(0)) == pytest.approx(0.0)
    assert float(fast(100)) == pytest.approx(0.025)  # half-way through the 200-step warm-up
    assert float(fast(200)) == pytest.approx(0.05)
    assert float(fast(600)) == pytest.approx(0.025, rel=1e-3)  # cosine half-way
    assert float(fast(1000)) == pytest.approx(0.0, abs=1e-7)


def test_evaluation_predicts_the_models_classes_and_traces_once_per_model():
    traces = []

    def traced(x):  # runs when the model is traced, not when a traced graph runs
        traces.append(x.shape)
        return x

    model = keras.Sequential(
        [
            keras.Input((24, 24, 3)),
            keras.layers.Lambda(traced),
            keras.layers.Flatten(),
            keras.layers.Dense(10),
        ]
    )
    images = np.random.default_rng(0).uniform(-1, 1, (1100, 24, 24, 3)).astype("float32")
    dataset = tf.data.Dataset.from_tensor_slices((images, np.arange(1100) % 10)).batch(500)
    expected = np.argmax(model.predict(images, batch_size=500, verbose=0), axis=-1)
    traces.clear()
    for _ in range(3):  # as every --eval_every does
        predictions, labels = evaluation.predict_classes(model, dataset)
        np.testing.assert_array_equal(predictions, expected)
    np.testing.assert_array_equal(labels, np.arange(1100) % 10)
    # traced once for the model: full batches, then a shape that also takes the partial last one
    assert len(traces) == 2


def test_short_run_writes_events_checkpoints_results_and_resumes(cifar_dir, tmp_path):
    run_dir = tmp_path / "run"
    results = run_lib.train(_config(cifar_dir, run_dir, max_steps=20))
    assert results["global_step"] == 20 and results["steps_this_invocation"] == 20
    for key in (
        "test_accuracy",
        "test_accuracy_raw",
        "wall_seconds",
        "train_images_per_second",
        "versions",
        "config",
    ):
        assert key in results
    assert 0 <= results["test_accuracy"] <= 1 and results["num_test_examples"] == 30
    assert json.loads((run_dir / "results.json").read_text()) == results
    assert results["host"]["cpu"]["cores"] >= 1 and "avx2" in results["host"]["cpu"]["isa"]
    assert results["host"]["tensorflow"]["version"] == tf.__version__
    assert isinstance(results["host"]["tensorflow"]["onednn"], bool)
    assert 200 < results["peak_resident_mb"] < 100_000  # this process: TensorFlow alone is more
    assert results["config"]["max_steps"] == 20 and results["config"]["learning_rate"] == 0.1
    assert tf.train.latest_checkpoint(run_dir / "checkpoints").endswith("ckpt-20")
    tags, accumulator = _tags(run_dir)
    expected = {
        "train/loss",
        "train/cross_entropy",
        "train/accuracy",
        "train/learning_rate",
        "train/images_per_second",
        "test/accuracy",
        "test/accuracy_raw",
        "weights/conv1/kernel",
        "weights/softmax_linear/bias",
        "conv1_act/activations",
        "conv1_act/sparsity",
        "local4_act/sparsity",
        "input/distorted",
        "diagnostics/pool1_all_negative_windows",
        "diagnostics/pool2_mixed_sign_windows",
        "conv2_act/dead_units",
        "test/class_accuracy/truck",
        "test/confusion_matrix",
        "test_averaged/diagnostics/pool1_all_negative_windows",
    }
    assert expected <= tags
    assert [e.step for e in accumulator.Tensors("test/accuracy")] == [10, 20]
    assert np.array(results["confusion_matrix"]).sum() == 30
    assert set(results["per_class_accuracy"]) == set(cifar10.CLASS_NAMES)
    assert 0 <= results["diagnostics"]["diagnostics/pool2_all_negative_windows"] <= 1
    # Continued with a higher max_steps: from step 20, not 0.
    more = run_lib.train(_config(cifar_dir, run_dir, max_steps=30))
    assert more["global_step"] == 30 and more["steps_this_invocation"] == 10
    # Asked for the step it is at: reports, trains nothing.
    again = run_lib.train(_config(cifar_dir, run_dir, max_steps=30))
    assert again == more


@pytest.mark.parametrize(
    "schedule",
    [
        {"schedule": "tutorial"},  # plain SGD: weights, averages and the step
        # Nesterov momentum, as every committed preset result: the momentum buffers too
        {"schedule": "fast", "warmup_steps": 4, "learning_rate": 0.05},
    ],
)
def test_resume_is_exact(cifar_dir, tmp_path, schedule):
    """10 + 10 steps in two invocations end with the weights, averaged weights and optimizer
    state (momentum included) of 20 steps in one."""
    straight = _config(
        cifar_dir, tmp_path / "straight", max_steps=20, deterministic=True, **schedule
    )
    run_lib.train(straight)
    split = dataclasses.replace(straight, log_dir=str(tmp_path / "split"))
    run_lib.train(dataclasses.replace(split, max_steps=10, decay_steps=20))
    run_lib.train(split)
    states = []
    for config in (straight, split):
        state = state_lib.TrainState(
            config, precision.build_model(config), state_lib.checkpoint_dir(config.log_dir)
        )
        state.restore()
        states.append(state)
    assert states[0].step == states[1].step == 20
    momentum = [v for v in states[0].optimizer.variables if "momentum" in v.path]
    assert bool(momentum) == (schedule["schedule"] == "fast")
    assert all(np.abs(v.numpy()).max() > 0 for v in momentum)  # buffers that carry something
    for a, b in zip(
        states[0].checkpoint_variables(), states[1].checkpoint_variables(), strict=True
    ):
        name = getattr(a, "path", a.name)
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6, err_msg=name)


def test_a_run_with_another_config_is_refused_unless_overwritten(cifar_dir, tmp_path):
    run_dir = tmp_path / "run"
    run_lib.train(_config(cifar_dir, run_dir, max_steps=5))
    with pytest.raises(rundir.RunDirError, match="pool: saved 'max', requested 'avg'"):
        run_lib.train(_config(cifar_dir, run_dir, max_steps=5, pool="avg"))
    results = run_lib.train(_config(cifar_dir, run_dir, max_steps=5, pool="avg"), overwrite=True)
    assert results["config"]["pool"] == "avg"
    with pytest.raises(rundir.RunDirError, match="is at step 5, past --max_steps=3"):
        run_lib.train(_config(cifar_dir, run_dir, max_steps=3, pool="avg"))


def test_diagnostics_can_be_turned_off(cifar_dir, tmp_path):
    results = run_lib.train(_config(cifar_dir, tmp_path / "run", max_steps=10, diagnostics=False))
    tags, _ = _tags(tmp_path / "run")
    assert not any(t.startswith("diagnostics/") or t.endswith("dead_units") for t in tags)
    assert "conv1_act/sparsity" in tags and "diagnostics" not in results


def test_nan_loss_stops_with_the_step(cifar_dir, tmp_path):
    config = _config(cifar_dir, tmp_path / "run", max_steps=40, learning_rate=1e6)
    with pytest.raises(loop.TrainingDiverged, match=r"NaN or infinite at step \d+"):
        run_lib.train(config)


def test_cli_train_then_eval(cifar_dir, tmp_path):
    run_dir = tmp_path / "run"
    done = _run_cli(
        "train",
        f"--data_dir={cifar_dir}",
        f"--log_dir={run_dir}",
        "--max_steps=10",
        "--conv_relu=false",
        "--pool=avg",
        *SMOKE_FLAGS,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "step 10/10" in done.stdout and "test accuracy" in done.stdout
    saved = config_lib.load_run_config(run_dir)
    assert (saved.switches.conv_activation, saved.switches.fc_activation, saved.switches.pool) == (
        "linear",
        "relu",
        "avg",
    )
    done = _run_cli("eval", f"--log_dir={run_dir}")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "step 10: precision @ 1 = " in done.stdout and "(raw weights)" in done.stdout
    evaluated = json.loads((run_dir / "eval.json").read_text())
    assert evaluated["global_step"] == 10 and evaluated["num_examples"] == 30
    assert {"eval/accuracy", "eval/accuracy_raw"} <= _tags(run_dir)[0]


def test_default_log_dir_is_named_after_the_switches(parse_flags, cifar_dir):
    flag_values = parse_flags(cli.TRAIN, f"--data_dir={cifar_dir}", "--fc_relu=false", "--pool=avg")
    assert cli.train_config(flag_values).log_dir == str(
        Path("tensorboard_logs")  # the README's folder
        / "conv_relu-true_fc_relu-false_pool-avg_schedule-tutorial_seed0"  # switches.run_name
    )


def test_eval_of_a_missing_run_fails_clearly(tmp_path):
    done = _run_cli("eval", f"--log_dir={tmp_path / 'nothing'}", "--verbosity=0")
    assert done.returncode != 0
    assert "is not a run directory: it has no config.json" in done.stderr
    assert len(done.stderr.splitlines()) == 1  # even verbose: found before TensorFlow loads


def _weights(config):
    state = state_lib.TrainState(
        config, precision.build_model(config), state_lib.checkpoint_dir(config.log_dir)
    )
    state.restore()
    return state.step, [v.numpy() for v in state.checkpoint_variables()]


@pytest.mark.parametrize(
    "steps, fast_options",
    [(1, {"jit_compile": True}), (6, {"steps_per_execution": 3}), (6, {"steps_per_execution": 6})],
)
def test_fast_path_computes_what_the_plain_path_does(cifar_dir, tmp_path, steps, fast_options):
    """XLA, and several steps per graph call, end where plain single steps do."""
    plain = _config(
        cifar_dir, tmp_path / "plain", max_steps=steps, jit_compile=False, steps_per_execution=1
    )
    fast = dataclasses.replace(plain, log_dir=str(tmp_path / "fast"), **fast_options)
    run_lib.train(plain)
    run_lib.train(fast)
    (plain_step, plain_weights), (fast_step, fast_weights) = _weights(plain), _weights(fast)
    assert plain_step == fast_step == steps
    # Float32 round-off only. XLA's own convolutions sum in another order than oneDNN's: one
    # step at lr 0.1 moves ~0.05-sized weights by up to ~1e-5 differently.
    atol = 1e-5 if fast_options.get("jit_compile") else 2e-6
    for a, b in zip(plain_weights, fast_weights, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=atol)


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_trains_with_float32_weights_and_logits(
    cifar_dir, tmp_path, policy, monkeypatch
):
    monkeypatch.setattr(precision, "policy", lambda config: policy)
    config = _config(cifar_dir, tmp_path / "run", max_steps=5, mixed_precision=True)
    results = run_lib.train(config)
    assert results["global_step"] == 5 and np.isfinite(results["test_accuracy"])
    state = state_lib.TrainState(
        config, precision.build_model(config), state_lib.checkpoint_dir(config.log_dir)
    )
    assert state.model.get_layer("conv1").compute_dtype == policy.split("_")[1]
    assert state.model.get_layer("conv1").kernel.dtype == "float32"
    assert state.model.output.dtype == "float32"
    float16 = policy == "mixed_float16"
    assert isinstance(state.optimizer, keras.optimizers.LossScaleOptimizer) == float16
