"""--arch and --dataset end to end: configs saved before them, run names, training, refusals."""

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from tensorboard.backend.event_processing import event_accumulator

from cifar10_ablation import cli, files, models
from cifar10_ablation import config as config_lib
from cifar10_ablation.reports import report
from cifar10_ablation.switches import Switches
from cifar10_ablation.training import precision, rundir
from cifar10_ablation.training import run as run_lib
from cifar10_ablation.training import state as state_lib

REPO = Path(__file__).resolve().parents[1]
SMOKE = dict(
    batch_size=8,
    summary_every=2,
    histogram_every=4,
    eval_every=4,
    checkpoint_every=4,
    steps_per_execution=2,
)
SMOKE_FLAGS = [f"--{k}={v}" for k, v in SMOKE.items()]


def _config(data_dir, log_dir, **overrides):
    return config_lib.RunConfig.flat(
        data_dir=str(data_dir), log_dir=str(log_dir), **{**SMOKE, **overrides}
    )


def _run_cli(module, *args):
    return subprocess.run(
        [sys.executable, "-m", f"cifar10_ablation.{module}", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def _tags(run_dir):
    accumulator = event_accumulator.EventAccumulator(
        str(run_dir), size_guidance={event_accumulator.TENSORS: 0}
    )
    accumulator.Reload()
    return set(accumulator.Tags()["tensors"])


def _without_new_fields(path):
    """Rewrites a config.json (or results.json's config) as saved before arch/dataset existed."""
    values = json.loads(path.read_text())
    target = values["config"] if "config" in values else values
    del target["arch"], target["dataset"]
    path.write_text(json.dumps(values))


def test_a_lone_runs_name_is_its_switch_flags_as_a_sweep_names_them():
    config = config_lib.RunConfig()
    assert (config.arch, config.dataset) == ("tutorial", "cifar10")
    assert config.run_name() == "conv_relu-true_fc_relu-true_pool-max_schedule-tutorial_seed0"
    changed = config.replace(
        conv_activation="linear", pool="avg", lrn=False, schedule="fast", seed=2
    )
    assert (
        changed.run_name() == "conv_relu-false_fc_relu-true_pool-avg_lrn-false_schedule-fast_seed2"
    )
    tanh = config.replace(fc_activation="tanh")
    assert tanh.run_name().startswith("conv_relu-true_fc_activation-tanh_pool-max_")


@pytest.mark.parametrize(
    "fields, name",
    [
        (
            {"dataset": "mnist"},
            "dataset-mnist_conv_relu-true_fc_relu-true_pool-max_schedule-fast_seed0",
        ),
        (
            {"arch": "vgg", "fc_activation": "linear"},
            "arch-vgg_conv_relu-true_fc_relu-false_pool-max_schedule-fast_seed0",
        ),
        (
            {"arch": "resnet20", "pool": "avg"},
            "arch-resnet20_conv_relu-true_pool-avg_schedule-fast_seed0",
        ),
        ({"arch": "linear", "dataset": "mnist"}, "arch-linear_dataset-mnist_schedule-fast_seed0"),
    ],
)
def test_run_names_lead_with_arch_and_dataset_and_list_only_the_archs_switches(fields, name):
    assert config_lib.RunConfig.flat(schedule="fast", **fields).run_name() == name


def test_a_config_saved_before_arch_and_dataset_loads_with_their_defaults(tmp_path):
    saved = config_lib.RunConfig.flat(conv_activation="linear", pool="avg", log_dir=str(tmp_path))
    files.write_json_atomic(tmp_path / "config.json", saved.resolved().to_dict())
    _without_new_fields(tmp_path / "config.json")
    loaded = config_lib.load_run_config(tmp_path)
    assert loaded == saved.resolved()
    assert rundir.identity_differences(loaded, saved) == []
    assert rundir.identity_differences(loaded, dataclasses.replace(saved, arch="vgg")) == [
        "arch: saved 'tutorial', requested 'vgg'"
    ]


def test_a_run_saved_before_arch_and_dataset_resumes_and_reports(cifar_dir, tmp_path):
    run_dir = tmp_path / "sweep" / "conv_relu-false_seed0"
    config = _config(cifar_dir, run_dir, max_steps=4, conv_activation="linear")
    run_lib.train(config)
    _without_new_fields(run_dir / "config.json")
    _without_new_fields(run_dir / "results.json")
    results = run_lib.train(dataclasses.replace(config, max_steps=6))
    assert results["global_step"] == 6 and results["steps_this_invocation"] == 2
    assert results["config"]["arch"] == "tutorial" and results["config"]["dataset"] == "cifar10"
    _without_new_fields(run_dir / "results.json")
    rows = report.collect(tmp_path / "sweep")  # the report reads results.json without the keys
    assert [row["test_accuracy"] for row in rows] == [results["test_accuracy"]]
    assert "arch" not in report.summarize(rows)["fields"]


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"arch": "resnet20", "fc_activation": "linear"}, "arch=resnet20 has no hidden fully"),
        ({"arch": "vgg", "lrn": False}, "arch=vgg has no LRN layers"),
        ({"dataset": "svhn"}, "dataset='svhn' is not known; allowed: cifar10, mnist"),
        ({"arch": "lenet"}, "arch='lenet' is not known"),
    ],
)
def test_validate_refuses(fields, message):
    with pytest.raises(ValueError, match=message):
        config_lib.validate(config_lib.RunConfig.flat(**fields))


def test_tutorial_schedule_counts_epochs_of_the_dataset():
    mnist = state_lib.make_learning_rate(config_lib.RunConfig.flat(dataset="mnist"))
    steps_per_decay = int(60_000 / 128 * 350)
    assert float(mnist(steps_per_decay - 1)) == pytest.approx(0.1)
    assert float(mnist(steps_per_decay)) == pytest.approx(0.01)


@pytest.mark.parametrize("arch", ["vgg", "linear"])
def test_other_archs_train_and_the_averaged_model_keeps_batch_norm_statistics(
    cifar_dir, tmp_path, arch
):
    config = _config(cifar_dir, tmp_path / "run", max_steps=4, arch=arch, schedule="fast",
                     warmup_steps=1)  # fmt: skip
    results = run_lib.train(config)
    assert results["global_step"] == 4 and np.isfinite(results["test_accuracy"])
    assert "diagnostics/pool1_all_negative_windows" not in results.get("diagnostics", {})
    state = state_lib.TrainState(
        config, precision.build_model(config), state_lib.checkpoint_dir(config.log_dir)
    )
    state.restore()
    moving = state.model.non_trainable_variables
    assert len(moving) == (12 if arch == "vgg" else 0)
    for average, variable in zip(
        state.averaged_model().non_trainable_variables, moving, strict=True
    ):
        np.testing.assert_array_equal(average.numpy(), variable.numpy())
    if moving:  # trained: the statistics moved from their start (mean 0)
        assert np.abs(moving[0].numpy()).max() > 0


def test_cli_resnet20_trains_and_eval_rebuilds_it(cifar_dir, tmp_path):
    run_dir = tmp_path / "run"
    done = _run_cli(
        "train",
        "--arch=resnet20",
        "--conv_relu=false",
        "--pool=avg",
        "--downsample=max",
        f"--data_dir={cifar_dir}",
        f"--log_dir={run_dir}",
        "--max_steps=4",
        *SMOKE_FLAGS,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    name = "arch-resnet20_conv_relu-false_pool-avg_downsample-max_schedule-tutorial_seed0"
    assert f"training {name}" in done.stdout
    # the non-linearity left, counted on the net it trained: no activation, the max-pool
    # downsampling's windows
    results = json.loads((run_dir / "results.json").read_text())
    built = models.build_model(
        Switches(conv_activation="linear", pool="avg", downsample="max"), arch="resnet20"
    )
    assert results["activation_units"] == 0
    assert results["max_pool_windows"] == models.max_pool_windows(built) > 0
    saved = config_lib.load_run_config(run_dir)
    assert (saved.arch, saved.switches.conv_activation, saved.switches.pool) == (
        "resnet20",
        "linear",
        "avg",
    )
    tags = _tags(run_dir)
    assert {"stage3_block3_act/sparsity", "conv1_act/dead_units"} <= tags
    assert not any(t.startswith("diagnostics/") for t in tags)
    done = _run_cli("eval", f"--log_dir={run_dir}")
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads((run_dir / "results.json").read_text())
    evaluated = json.loads((run_dir / "eval.json").read_text())
    assert evaluated["test_accuracy"] == pytest.approx(results["test_accuracy"])


def test_cli_mnist_trains_with_digit_classes(mnist_dir, tmp_path):
    run_dir = tmp_path / "run"
    done = _run_cli(
        "train",
        "--dataset=mnist",
        "--fc_relu=false",
        f"--data_dir={mnist_dir}",
        f"--log_dir={run_dir}",
        "--max_steps=4",
        *SMOKE_FLAGS,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"on idx:{mnist_dir}" in done.stdout
    results = json.loads((run_dir / "results.json").read_text())
    assert results["config"]["dataset"] == "mnist" and results["num_test_examples"] == 20
    assert list(results["per_class_accuracy"]) == [str(d) for d in range(10)]
    assert "diagnostics/pool1_all_negative_windows" in results["diagnostics"]
    assert "test/class_accuracy/7" in _tags(run_dir)


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--arch=resnet20", "--fc_relu=false"],
            "error: arch=resnet20 has no hidden fully connected layers: fc_activation='linear' "
            "does not apply (leave it at its default 'relu'); resnet20's switches: "
            "conv_activation, pool",
        ),
        (["--arch=vgg", "--nolrn"], "error: arch=vgg has no LRN layers (batch norm instead)"),
        (["--dataset=svhn"], "flag --dataset=svhn: value should be one of <cifar10|mnist>"),
        (["--dataset=mnist"], "lacks t10k-images-idx3-ubyte.gz"),
    ],
)
def test_bad_arch_and_dataset_flags_are_one_clear_line(cifar_dir, mnist_dir, tmp_path, args,
                                                       message):  # fmt: skip
    (mnist_dir / "t10k-images-idx3-ubyte.gz").unlink()
    data_dir = mnist_dir if "--dataset=mnist" in args else cifar_dir
    run_dir = tmp_path / "run"
    done = _run_cli("train", f"--data_dir={data_dir}", f"--log_dir={run_dir}", *args)
    assert done.returncode != 0
    assert any(message in line for line in done.stderr.splitlines()), done.stderr[-2000:]
    assert not run_dir.exists()


@pytest.mark.parametrize(
    "args, configs, arch, dataset",
    [
        (["--flagfile=flags/mnist.flags"], 8, "tutorial", "mnist"),
        (
            [
                "--flagfile=flags/vgg.flags",
                "--fc_relu=false",
                "--sweep=conv_relu=true,false",
                "--sweep=pool=max,avg",
            ],  # fmt: skip
            4,
            "vgg",
            "cifar10",
        ),
        (
            [
                "--flagfile=flags/resnet20.flags",
                "--sweep=conv_activation=relu,linear",
                "--sweep=pool=avg,max",
            ],  # fmt: skip
            4,
            "resnet20",
            "cifar10",
        ),
        (["--flagfile=flags/linear.flags", "--sweep=arch=linear"], 1, "linear", "cifar10"),
    ],
)
def test_the_readmes_sweeps_expand_from_the_flagfiles(
    parse_flags, cifar_dir, mnist_dir, tmp_path, args, configs, arch, dataset
):
    """Every grid point of the README's sweeps is valid (expand validates before anything runs),
    and one run of each stays a fast-schedule run of its arch on its dataset."""
    flagfile = f"--flagfile={REPO / args[0].split('=')[1]}"
    data_dir = f"--data_dir=cifar10:{cifar_dir},mnist:{mnist_dir}"  # checked before any runs
    parsed = parse_flags(
        cli.SWEEP, flagfile, *args[1:], data_dir, "--seeds=3", f"--log_dir={tmp_path / 'sweep'}"
    )
    runs = cli.grid_runs(parsed)
    assert len(runs) == 3 * configs
    assert {(c.arch, c.dataset, c.schedule) for _, c in runs} == {(arch, dataset, "fast")}
