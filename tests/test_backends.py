"""The model factory under Keras 3's JAX and PyTorch backends equals it under TensorFlow.

Keras fixes its backend per process: these tests compute TensorFlow's results here and the other
backend's in a subprocess (`backend_worker.py`, KERAS_BACKEND set), with the same weights and
inputs. JAX (`jax[cpu]`, in the `test` extra) always runs. PyTorch is not in the extra: its CPU
wheel is several hundred MB, so its tests run only where torch is installed and are skipped in CI
(`pip install torch` locally; on a machine without a GPU take the CPU build).
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import backend_worker
import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import assert_matches_tf_lrn

from cifar10_ablation import models, switches
from cifar10_ablation.models import layers
from cifar10_ablation.switches import Switches

ROOT = Path(__file__).resolve().parents[1]
BACKENDS = [
    "jax",
    pytest.param(
        "torch",
        marks=pytest.mark.skipif(
            importlib.util.find_spec("torch") is None, reason="torch is not installed"
        ),
    ),
]
# Every activation with max pooling and LRN, and average pooling with and without LRN; the
# first three also train two steps.
CONFIGS = [
    {"switches": {}, "train": True},
    {
        "switches": {
            "conv_activation": "linear",
            "fc_activation": "linear",
            "pool": "avg",
            "lrn": False,
        },
        "train": True,
    },
    {
        "switches": {"conv_activation": "maxout", "fc_activation": "abs", "pool": "avg"},
        "train": True,
    },
    *(
        {"switches": {"conv_activation": name, "fc_activation": name}, "train": False}
        for name in switches.ACTIVATIONS
        if name != "relu"
    ),
]


def run_under(backend, *args):
    """Runs `python ARGS` with KERAS_BACKEND=backend and this checkout first on the path."""
    env = {
        **os.environ,
        "KERAS_BACKEND": backend,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [sys.executable, *args], env=env, capture_output=True, text=True, timeout=600, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.fixture(scope="module")
def tensorflow_results(tmp_path_factory):
    """Weights from TensorFlow's initialisers, shared inputs, and TensorFlow's results on them."""
    assert keras.backend.backend() == "tensorflow"
    rng = np.random.default_rng(0)
    inputs = {
        "images": rng.standard_normal((4, 24, 24, 3)).astype(np.float32),
        "labels": np.arange(4) % 10,
        "configs": json.dumps(CONFIGS),
        "lrn_x": 3 * rng.standard_normal((2, 5, 5, 64)).astype(np.float32),
        "lrn_upstream": rng.standard_normal((2, 5, 5, 64)).astype(np.float32),
    }
    for i, config in enumerate(CONFIGS):
        for j, weight in enumerate(
            models.build_model(Switches(**config["switches"])).get_weights()
        ):
            inputs[f"{i}/{j}"] = weight
    path = tmp_path_factory.mktemp("backends") / "inputs.npz"
    np.savez(path, **inputs)
    return path, backend_worker.run(np.load(path))


@pytest.fixture(scope="module", params=BACKENDS)
def backend_results(request, tensorflow_results, tmp_path_factory):
    inputs, _ = tensorflow_results
    out = tmp_path_factory.mktemp(request.param) / "outputs.npz"
    run_under(request.param, str(ROOT / "tests" / "backend_worker.py"), str(inputs), str(out))
    results = dict(np.load(out))
    assert str(results.pop("backend")) == request.param  # KERAS_BACKEND was honoured
    return request.param, results


def test_every_switch_gives_tensorflows_logits(tensorflow_results, backend_results):
    _, expected = tensorflow_results
    backend, results = backend_results
    for i, config in enumerate(CONFIGS):
        np.testing.assert_allclose(
            results[f"{i}/logits"],
            expected[f"{i}/logits"],
            rtol=1e-4,
            atol=2e-6,
            err_msg=f"{backend} {config['switches']}",
        )


def test_two_fit_steps_give_tensorflows_losses_and_weights(tensorflow_results, backend_results):
    inputs, expected = tensorflow_results
    backend, results = backend_results
    start = np.load(inputs)
    for i in [i for i, config in enumerate(CONFIGS) if config["train"]]:
        switches = f"{backend} {CONFIGS[i]['switches']}"
        np.testing.assert_allclose(
            results[f"{i}/losses"], expected[f"{i}/losses"], rtol=1e-5, err_msg=switches
        )
        weights = sorted(k for k in expected if k.startswith(f"{i}/trained/"))
        assert weights, switches
        for key in weights:
            # The tolerance is 5% of the largest move the two steps made in this weight. XLA on
            # CPU sums in an order that varies with the threads it gets, and near a kink of maxout
            # or abs that flips which side a unit takes: in two 4-worker suite runs the maxout/abs
            # net's first conv weights differed by up to 7.2e-6 and 7.8e-6, 0.5% of their largest
            # move, 1.5e-3 (2026-12-08); alone, by 5e-8. A wrong gradient differs by about the
            # size of the move itself.
            moved = np.abs(expected[key] - start[key.replace("trained/", "")]).max()
            np.testing.assert_allclose(
                results[key], expected[key], rtol=0, atol=0.05 * moved, err_msg=f"{switches} {key}"
            )
        # The steps moved the weights: the equality is not just of the shared start.
        assert not np.allclose(results[f"{i}/trained/0"], start[f"{i}/0"]), switches


@pytest.mark.parametrize("beta", backend_worker.LRN_BETAS)
def test_lrn_values_and_gradients_are_tensorflows_op(beta, tensorflow_results, backend_results):
    inputs, _ = tensorflow_results
    backend, results = backend_results
    with np.load(inputs) as arrays:
        x, upstream = tf.constant(arrays["lrn_x"]), tf.constant(arrays["lrn_upstream"])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.nn.local_response_normalization(
            x, depth_radius=4, bias=1.0, alpha=backend_worker.LRN_ALPHA, beta=beta
        )
    dx = tape.gradient(y, x, output_gradients=upstream)
    np.testing.assert_allclose(results[f"lrn{beta}/y"], y.numpy(), rtol=1e-5, err_msg=backend)
    np.testing.assert_allclose(
        results[f"lrn{beta}/dx"], dx.numpy(), rtol=1e-5, atol=1e-6, err_msg=backend
    )


@pytest.mark.parametrize("beta", [0.75, 0.5])
def test_keras_ops_lrn_matches_tensorflows_op_here_too(beta):
    """The other backends' LRN, run on TensorFlow tensors: values and autodiff gradient."""
    x = tf.random.stateless_normal([2, 5, 5, 64], seed=[1, 2]) * 3.0
    upstream = tf.random.stateless_normal(x.shape, seed=[3, 4])
    assert_matches_tf_lrn(lambda v: layers._lrn_keras_ops(v, 4, 1.0, 0.01, beta), x, upstream, beta)


def test_factory_builds_under_jax_without_tensorflow():
    """The documented JAX command, and no TensorFlow import on the way."""
    out = run_under(
        "jax",
        "-c",
        "import sys; from cifar10_ablation.models import build_model; "
        "from cifar10_ablation.switches import Switches; "
        "build_model(Switches(conv_activation='linear', pool='avg')).summary(); "
        "print('tensorflow' in sys.modules)",
    )
    assert "Total params: 1,068,298" in out
    assert out.strip().splitlines()[-1] == "False"


def test_backend_throughput_bench_times_a_resnet_on_whole_images():
    out = run_under(
        "jax",
        "bench/backend_throughput.py",
        "--batch_size=4",
        "--steps=2",
        "--warmup=1",
        "--steps_per_execution=1",
        "--arch=resnet20",
        "--augmentation=pad_crop",
        "--downsample=max",
        "--conv_relu=false",
        "--dtype_policy=mixed_bfloat16",
    )
    result = json.loads(out.strip().splitlines()[-1])
    assert (result["arch"], result["image_size"], result["downsample"]) == ("resnet20", 32, "max")
    assert result["conv_activation"] == "linear" and result["parameters"] > 0
    assert result["dtype_policy"] == "mixed_bfloat16"


def test_backend_throughput_bench_reports_jax_and_imports_no_tensorflow():
    out = run_under(
        "jax",
        "-c",
        "import runpy, sys; sys.argv = ['backend_throughput.py', '--batch_size=8', "
        "'--steps=4', '--warmup=2', '--steps_per_execution=2', '--conv_relu=false', "
        "'--pool=avg']; runpy.run_path('bench/backend_throughput.py', run_name='__main__'); "
        "print('tensorflow' in sys.modules)",
    )
    *_, json_line, imported_tensorflow = out.strip().splitlines()
    result = json.loads(json_line)
    assert imported_tensorflow == "False"
    assert result["backend"] == "jax"
    assert result["device_kind"] == "cpu"
    assert (result["steps"], result["warmup_steps"], result["steps_per_execution"]) == (4, 2, 2)
    assert (result["conv_activation"], result["fc_activation"], result["pool"]) == (
        "linear",
        "relu",
        "avg",
    )
    assert result["parameters"] == 1_068_298
    assert result["images_per_second"] > 0
    assert np.isfinite(result["final_loss"])
