"""docs/PERFORMANCE.md is read from the benchmark logs: a log measured again changes the page."""

import json
import shutil
from pathlib import Path

import build_docs
import performance
import projection
import pytest
from conftest import write_results_csv

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.fixture
def bench_copy(tmp_path):
    """The docs' benchmark logs and the files PERFORMANCE.md reads beside them, in tmp_path."""
    shutil.copytree(DOCS / "bench", tmp_path / "bench")
    (tmp_path / "logs").mkdir()
    shutil.copy(DOCS / "logs" / "bf16_quick.log", tmp_path / "logs")
    shutil.copy(DOCS / "results_quick.csv", tmp_path)
    return tmp_path


def _measure(log, rate, net="tutorial"):
    """The log as if the bench had measured `rate` images/s for `net`."""
    lines = log.read_text().splitlines()
    result = json.loads(lines[-1])
    result["train_images_per_second"][net] = rate
    log.write_text("\n".join([*lines[:-1], json.dumps(result)]) + "\n")


def test_a_bench_log_measured_again_changes_the_rates_and_the_times_per_run(bench_copy):
    for name in ("default.log", "default2.log"):
        _measure(bench_copy / "bench" / name, 1000.0)
    fragments = performance.fragments(bench_copy, build_docs.FLAGS)
    first_row = fragments["time_table"].splitlines()[2]
    # 100,000 steps x 128 images at 1,000 images/s; 20,000 x 256; 6,000 x 128
    assert "| 1,000 | 3.6 h | 85 min | 13 min |" in first_row
    assert fragments["shipped_rate"] == "1,000"
    assert "| 1,000 |" in fragments["options_table"].splitlines()[2]


def test_the_input_pipeline_is_set_against_the_fastest_training_rate_of_any_option(bench_copy):
    pipeline = json.loads((bench_copy / "bench" / "default.log").read_text().splitlines()[-1])
    pipeline = pipeline["input_pipeline_images_per_second"]
    # the fastest option is XLA's linear config now: its rate sets the ratio, not bfloat16's
    _measure(bench_copy / "bench" / "xla.log", pipeline / 10, net=performance.LINEAR)
    gpu = {"device_kind": "GPU X", "images_per_second": pipeline / 2}
    text = " ".join(
        performance.pipeline_note(performance.option_results(bench_copy / "bench"), gpu).split()
    )
    assert "10x the fastest training rate above: it never holds CPU training up." in text
    assert "GPU X" not in text
    gpu["images_per_second"] = pipeline * 2  # a GPU that outruns it is said to
    text = " ".join(
        performance.pipeline_note(performance.option_results(bench_copy / "bench"), gpu).split()
    )
    assert "The GPU X's training steps alone" in text and text.endswith("is not measured.")


def test_each_net_s_bfloat16_gain_on_the_amx_host_spans_its_alternated_runs(bench_copy):
    folder = bench_copy / "bench" / "intel_amx_host"
    for prefix, key, rates in (("", "tutorial", (1000, 1100, 1500, 1650)),
                               ("resnet56_", "resnet56", (150, 180, 160, 170))):  # fmt: skip
        logs = [f"{prefix}default1.log", f"{prefix}default2.log", f"{prefix}bf16_1.log",
                f"{prefix}bf16_2.log"]  # fmt: skip
        for name, rate in zip(logs, rates, strict=True):
            _measure(folder / name, rate, key)
    fragments = performance.fragments(bench_copy, build_docs.FLAGS)
    # slowest bfloat16 over fastest float32, fastest over slowest
    assert (
        "the tutorial net 1,500-1,650 against 1,000-1,100 (1.36-1.65x)"
        in fragments["amx_precisions"]
    )
    assert (
        "ResNet-56 on whole images 160-170 against 150-180 (0.89-1.13x)"
        in fragments["amx_precisions"]
    )
    assert fragments["amx_overlap"] == (
        "; for ResNet-56 on whole images the two precisions' rates overlap"
    )


def test_the_amx_logs_are_grouped_by_what_each_log_records_not_by_its_name(bench_copy):
    folder = bench_copy / "bench" / "intel_amx_host"

    def rates():  # each precision's rates in no particular order
        return [
            {**net, "float32": sorted(net["float32"]), "bfloat16": sorted(net["bfloat16"])}
            for net in performance.amx_rates(folder)
        ]

    before = rates()
    (folder / "resnet20_default1.log").rename(folder / "resnet20_measured_again.log")
    assert rates() == before
    _measure(folder / "resnet20_measured_again.log", 1.0, "resnet20")
    resnet20 = next(n for n in performance.amx_rates(folder) if n["net"].startswith("ResNet-20"))
    assert 1.0 in resnet20["float32"] and 1.0 not in resnet20["bfloat16"]
    for log in folder.glob("resnet56_bf16_*.log"):
        log.unlink()
    with pytest.raises(ValueError, match=r"intel_amx_host has no bench log of resnet56 bfloat16"):
        performance.amx_rates(folder)


def test_a_bigger_net_s_run_is_priced_on_each_host_from_its_slowest_to_fastest_config(bench_copy):
    folder = bench_copy / "bench" / "avx2_host"
    for name, rates in (("resnet18_default1.log", (40.0, 50.0)),
                        ("resnet18_default2.log", (32.0, 64.0))):  # fmt: skip
        configs = ("resnet18", "resnet18 conv_relu=false,downsample=max")
        for config, rate in zip(configs, rates, strict=True):
            _measure(folder / name, rate, config)
    table = performance.fragments(bench_copy, build_docs.FLAGS)["depth_table"]
    [row] = [r for r in table.splitlines() if r.startswith("| ResNet-18 |") and "AVX2" in r]
    # 2,900 steps x 128 images: at 64 images/s 97 min, at 32 images/s 3.2 h
    assert (
        "| 371,200 images | 2 cores, AVX2 only (AMD EPYC) | 32-40 | 50-64 | 97 min-3.2 h |" in row
    )
    for log in folder.glob("resnet56_*.log"):
        log.unlink()
    with pytest.raises(ValueError, match=r"avx2_host has no float32 bench log of resnet56"):
        performance.fragments(bench_copy, build_docs.FLAGS)


def test_two_runs_at_once_are_set_against_the_same_runs_in_turn(bench_copy):
    log = bench_copy / "bench" / "avx2_host" / "concurrent_runs.log"
    lines = log.read_text().splitlines()
    result = json.loads(lines[-1])
    result["at once, 1 thread each"]["rate_vs_in_turn"] = [0.9, 0.95]
    log.write_text("\n".join([*lines[:-1], json.dumps(result)]) + "\n")
    note = " ".join(performance.fragments(bench_copy, build_docs.FLAGS)["concurrent_runs"].split())
    assert "train 0.90x-0.95x the images/s of the same runs one after the other when each" in note
    assert "and 1.08x-1.14x when each uses every core" in note  # the log's other way, as measured
    assert note.endswith("Side by side does not pay here: train one run at a time.")


def test_a_log_without_its_json_line_is_one_clear_error(bench_copy):
    log = bench_copy / "bench" / "xla.log"
    log.write_text("\n".join(log.read_text().splitlines()[:-1]) + "\n")
    with pytest.raises(ValueError, match=r"xla\.log ends with no JSON line: not a bench log"):
        performance.fragments(bench_copy, build_docs.FLAGS)


def test_the_preset_runs_are_priced_from_the_flagfiles(tmp_path):
    for name, text in {
        "tutorial": "--max_steps=100\n--batch_size=128\n",
        "fast": "--max_steps=10\n--batch_size=256\n",
        "quick": "--batch_size=64\n--max_steps=3\n",
    }.items():
        (tmp_path / f"{name}.flags").write_text(text)
    assert performance.preset_images(tmp_path) == {"tutorial": 12800, "fast": 2560, "quick": 192}


def test_a_preset_flagfile_is_read_as_train_reads_it(tmp_path):
    for name in ("tutorial", "fast", "quick"):  # --batch_size left out: the flag's default
        (tmp_path / f"{name}.flags").write_text("--max_steps=100\n")
    assert performance.preset_images(tmp_path)["tutorial"] == 100 * 128
    (tmp_path / "quick.flags").write_text("--max_steps=-1\n")
    with pytest.raises(
        ValueError, match=r"quick\.flags: flag --max_steps=-1: -1 is not a non-negative"
    ):
        performance.preset_images(tmp_path)


def test_a_grid_s_gpu_time_is_its_images_over_the_measured_rate(tmp_path):
    (tmp_path / "bench" / "gpu_h200").mkdir(parents=True)
    run = {
        "backend": "jax",
        "float32_precision": "default",
        "conv_activation": "relu",
        "arch": "vgg",
        "images_per_second": 10.0,
        "device_kind": "Some GPU",
    }
    (tmp_path / "bench" / "gpu_h200" / "results.jsonl").write_text(json.dumps(run) + "\n")
    (tmp_path / "flags").mkdir()
    resnet = {**run, "arch": "resnet18", "image_size": 24, "images_per_second": 5.0}
    (tmp_path / "bench" / "gpu_h200" / "results.jsonl").write_text(
        json.dumps(run) + "\n" + json.dumps(resnet) + "\n"  # ResNet-18 at 24x24, not 32x32
    )
    for net in ("vgg", "resnet18"):
        (tmp_path / "flags" / f"{net}.flags").write_text("--max_steps=10\n--batch_size=128\n")
    for name in ("beyond_vgg.csv", "depth_resnet18.csv"):
        rows = [
            {"conv_activation": "relu", "run": f"r{s}", "seed": s, "test_accuracy": 0.5}
            for s in range(2)
        ]
        write_results_csv(tmp_path / name, rows)
    text = projection.fragments(tmp_path, tmp_path)
    assert text["gpu_device"] == "Some GPU"
    rows = text["gpu_table"].splitlines()[2:]
    assert rows == [  # 2 runs x 1,280 images at 10 images/s: 256 s
        "| VGG-style net | 2 | 1,280 | 10 | 4 minutes |",
        "| ResNet-18 | 2 | 1,280 | not measured | not measured |",
    ]


def test_the_committed_runs_own_rates_are_given_per_recorded_cpu(tmp_path):
    def row(seed, rate, cpu):
        run = {"pool": "max", "seed": seed, "test_accuracy": 0.8}
        return run | {"train_images_per_second": rate, "cpu": cpu}

    write_results_csv(tmp_path / "results_fast.csv", [row(0, 1500.4, "CPU A"), row(1, 900, "")])
    write_results_csv(tmp_path / "results_quick.csv", [row(0, 2100, "CPU A")])
    text = " ".join(performance.run_rates(tmp_path).split())
    # the run without a recorded CPU is left out: its rate says nothing about a host
    assert "trained at 1,500-2,100 images/s on CPU A (2 runs)." in text
    write_results_csv(tmp_path / "results_fast.csv", [row(0, 900, "")])
    (tmp_path / "results_quick.csv").unlink()
    assert performance.run_rates(tmp_path) == ""
