"""The benchmark scripts run as a user runs them and report what they claim (no timing asserted)."""

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench"


def run_bench(script, *args):
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()


def test_lrn_bench_reports_both_layers_and_their_agreement():
    result = json.loads(run_bench("lrn.py", "--batch_size=8", "--repeats=3")[-1])
    assert set(result["ms_forward_backward"]) == {
        "tf.nn.local_response_normalization",
        "model.LocalResponseNormalization",
    }
    assert result["max_abs_difference"]["output"] < 1e-5
    assert result["max_abs_difference"]["gradient"] < 1e-5
    assert result["shape"] == [8, 12, 12, 64]


def test_profile_step_lists_the_ops_of_the_real_training_step(tmp_path):
    lines = run_bench(
        "profile_step.py", "--synthetic", "--steps=25", "--top=50", f"--trace_dir={tmp_path}"
    )
    assert lines[0].startswith("25 steps, ")
    ops = "\n".join(lines[1:])
    for op in ("Conv2DBackpropFilter", "Conv2DBackpropInput", "MatMul", "MaxPool"):
        assert op in ops
    assert "LRN" not in ops  # our LRN layer, not TF's LRN/LRNGrad ops
    assert list(tmp_path.glob("**/*.xplane.pb"))


def test_train_throughput_prints_rates_for_both_nets():
    result = json.loads(
        run_bench("train_throughput.py", "--synthetic", "--steps=25", "--warmup=25")[-1]
    )
    assert set(result["train_images_per_second"]) == {"tutorial", "conv_relu=false,pool=avg"}
    assert all(rate > 0 for rate in result["train_images_per_second"].values())
    assert result["ceiling_images_per_second"] > 0
