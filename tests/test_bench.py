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


def test_conv_grad_bench_times_every_pass_and_checks_the_alternatives():
    result = json.loads(
        run_bench(
            "conv_grad.py",
            "--synthetic",
            "--batch_size=8",
            "--repeats=1",
            "--calls=2",
            "--train_steps=25",
            "--train_repeats=1",
            "--warmup=25",
        )[-1]
    )
    for layer in ("conv1", "conv2"):
        assert set(result["layers"][layer]["ms"]) == {
            "forward",
            "input_grad",
            "filter_grad keras_conv2d",
            "filter_grad split_bias",
            "filter_grad im2col",
        }
        assert max(result["layers"][layer]["max_relative_difference"].values()) < 1e-5
        kernels = result["layers"][layer]["kernels"]
        assert any("Conv2DBackpropFilter" in k for k in kernels["filter_grad split_bias"])
        assert any("MatMul" in k for k in kernels["filter_grad im2col"])
    assert set(result["train_images_per_second"]) == {
        "keras_conv2d",
        "split_conv1",
        "split_conv1_conv2",
    }
    assert all(rate > 0 for rate in result["train_images_per_second"].values())


def test_profile_step_lists_the_ops_of_the_real_training_step(tmp_path):
    lines = run_bench(
        "profile_step.py", "--synthetic", "--batch_size=8", "--warmup=25", "--steps=25",
        "--top=50", f"--trace_dir={tmp_path}",
    )  # fmt: skip
    assert lines[0].startswith("25 steps, ")
    ops = "\n".join(lines[1:])
    for op in ("Conv2DBackpropFilter", "Conv2DBackpropInput", "MatMul", "MaxPool"):
        assert op in ops
    assert "LRN" not in ops  # our LRN layer, not TF's LRN/LRNGrad ops
    assert list(tmp_path.glob("**/*.xplane.pb"))


def test_train_throughput_prints_rates_for_both_nets():
    result = json.loads(
        run_bench(
            "train_throughput.py",
            "--synthetic",
            "--batch_size=8",
            "--steps=5",
            "--warmup=5",
            "--steps_per_execution=5",
        )[-1]
    )
    assert set(result["train_images_per_second"]) == {"tutorial", "conv_relu=false,pool=avg"}
    assert all(rate > 0 for rate in result["train_images_per_second"].values())
    assert result["ceiling_images_per_second"] > 0


def test_train_throughput_times_a_resnet_pair_on_whole_images_without_a_ceiling():
    args = ["--synthetic", "--arch=resnet20", "--batch_size=8", "--steps=2", "--warmup=1"]
    lines = run_bench("train_throughput.py", *args, "--steps_per_execution=1")
    result = json.loads(lines[-1])
    assert set(result["train_images_per_second"]) == {
        "resnet20",
        "resnet20 conv_relu=false,downsample=max",
    }
    # the FLOPs per image are the tutorial net's: no fraction of the ceiling for another net
    assert result["arch"] == "resnet20" and result["fraction_of_ceiling"] == {}
    assert result["ceiling_images_per_second"] is None
    assert not any(line.startswith("ceiling") for line in lines)
    assert any(line.startswith("input pipeline (pad_crop): ") for line in lines)


def test_cpu_families_table_links_every_log(tmp_path):
    row = {
        "family": "avx2",
        "stands_for": "an AVX2-only host",
        "ours_images_per_second": [1300.4, 1290.0],
        "torch_images_per_second": [640.0, 610.2],
        "ratio_lowest_over_highest": 2.02,
        "fraction_of_ceiling": [0.76, 0.75],
        "ceiling_images_per_second": 1700.0,
    }
    (tmp_path / "summary.json").write_text(json.dumps({"families": [row]}))
    lines = run_bench("cpu_families.py", f"--log_dir={tmp_path}", "--table_only")
    assert lines[2].startswith("| `avx2` | an AVX2-only host | 1,300 / 1,290 | 640 / 610 | 2.02x |")
    assert "76% / 75% (of 1,700)" in lines[2]
    for log in ("avx2_0_tf.log", "avx2_0_torch.log", "avx2_1_tf.log", "avx2_1_torch.log"):
        assert log in lines[2]
    assert (tmp_path / "table.md").read_text().splitlines() == lines


def test_cpu_families_refuses_an_unknown_family(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            str(BENCH / "cpu_families.py"),
            "--families=avx9",
            f"--log_dir={tmp_path}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == [
        "error: unknown --families ['avx9']; known: avx512, avx2, avx2_onednn_off"
    ]
