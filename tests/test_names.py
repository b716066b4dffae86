"""Run names and HParams rows that keep runs apart: two sweeps under one TensorBoard folder (one
on MNIST, one on CIFAR-10) never share a name or a row, and runs made under the names from
before the settings joined them are still found (grid.py, sweeps/hparams.py)."""

import json
from pathlib import Path

import pytest
from conftest import SMOKE_FLAGS
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.plugins.hparams import plugin_data_pb2

from cifar10_ablation import cli
from cifar10_ablation import config as config_lib
from cifar10_ablation.sweeps import grid, runner

# ~/runs/lr/selection's stage 1 (docs/logs/lr/run.sh), trained before names carried settings.
SELECTION = ["--flagfile=flags/fast.flags", "--flagfile=flags/select.flags"]
SELECTION_AXES = ["--sweep=conv_relu=true", "--sweep=fc_relu=true", "--sweep=pool=max"]
SELECTION_OLD_NAME = "conv_relu-true_fc_relu-true_pool-max_learning_rate-0.01_seed0"


def _hparams(folder, tag):
    accumulator = event_accumulator.EventAccumulator(
        str(folder), size_guidance={event_accumulator.TENSORS: 0}
    )
    accumulator.Reload()
    content = accumulator.SummaryMetadata(tag).plugin_data.content
    return plugin_data_pb2.HParamsPluginData.FromString(content)


@pytest.fixture
def grid_of(parse_flags, cifar_dir, tmp_path):
    """The runs the sweep command line expands from these arguments, in tmp_path/sweep."""

    def runs(*args, data_dir=cifar_dir):
        base = [f"--data_dir={data_dir}", f"--log_dir={tmp_path / 'sweep'}"]
        return cli.grid_runs(parse_flags(cli.SWEEP, *base, *args))

    return runs


def test_two_sweeps_in_one_folder_keep_apart_in_tensorboard(grid_of, mnist_dir, tmp_path):
    sweep_dir = tmp_path / "sweep"
    gelu = ["--sweep=conv_activation=gelu", *SMOKE_FLAGS]
    cifar = grid_of(*gelu)
    mnist = grid_of("--dataset=mnist", *gelu, data_dir=mnist_dir)
    assert [name for name, _ in cifar] == ["conv_activation-gelu_seed0"]  # defaults add nothing
    assert [name for name, _ in mnist] == ["dataset-mnist_conv_activation-gelu_seed0"]
    for runs in (cifar, mnist):
        trained, _, errors = runner.run_sweep(runs, sweep_dir)
        assert len(trained) == 1 and not errors

    experiment = _hparams(sweep_dir, "_hparams_/experiment").experiment
    columns = [h.name for h in experiment.hparam_infos]
    assert columns[:3] == ["arch", "dataset", "schedule"] and columns[-1] == "seed"
    datasets = next(h for h in experiment.hparam_infos if h.name == "dataset")
    assert sorted(v.string_value for v in datasets.domain_discrete.values) == ["cifar10", "mnist"]
    rows = {}
    for name, config in (*cifar, *mnist):
        start = _hparams(sweep_dir / name, "_hparams_/session_start_info").session_start_info
        rows[start.group_name] = start.hparams
        assert start.hparams["dataset"].string_value == config.dataset
        for setting in ("arch", "schedule", "augmentation", "downsample"):
            assert start.hparams[setting].string_value == config.to_dict()[setting]
        assert start.hparams["validation_examples"].number_value == 0
    assert len(rows) == 2  # two rows in the HParams table, not one row averaging both


def test_settings_away_from_their_defaults_lead_the_name(grid_of, mnist_dir):
    runs = grid_of(
        "--arch=resnet20",
        "--dataset=mnist",
        "--augmentation=pad_crop",
        "--validation_examples=100",
        "--downsample=avg",
        "--schedule=fast",
        "--sweep=conv_relu=true",
        data_dir=mnist_dir,
    )
    assert [name for name, _ in runs] == [
        "arch-resnet20_dataset-mnist_augmentation-pad_crop_validation_examples-100_"
        "downsample-avg_schedule-fast_conv_relu-true_seed0"
    ]
    swept = grid_of("--schedule=fast", "--sweep=dataset=cifar10", "--sweep=schedule=fast")
    assert [name for name, _ in swept] == ["dataset-cifar10_schedule-fast_seed0"]  # said once


def test_a_run_named_before_settings_joined_names_is_found_when_its_settings_match(grid_of):
    args = [*SELECTION, *SELECTION_AXES, "--sweep=learning_rate=0.01,0.02"]
    new = [name for name, _ in grid_of(*args)]
    assert new[0] == f"validation_examples-5000_schedule-fast_{SELECTION_OLD_NAME}"
    # As ~/runs/lr/selection holds it: its config.json has the same settings.
    first = grid_of(*args)[0][1]
    found = Path(first.log_dir).parent / SELECTION_OLD_NAME
    old = first.resolved().replace(log_dir=str(found), replicas=1)
    found.mkdir(parents=True)
    (found / config_lib.CONFIG_FILENAME).write_text(json.dumps(old.to_dict()))
    runs = grid_of(*args)
    assert [name for name, _ in runs] == [SELECTION_OLD_NAME, new[1]]
    assert runs[0][1].log_dir == str(found)
    # Another dataset's run of that old name is not this run.
    (found / config_lib.CONFIG_FILENAME).write_text(
        json.dumps(old.replace(dataset="mnist").to_dict())
    )
    assert [name for name, _ in grid_of(*args)] == new


def test_a_recorded_row_named_before_settings_joined_names_is_found(grid_of, tmp_path):
    """docs/results_fast.csv's rows: runs of the fast preset, named by their swept flags."""
    results = tmp_path / "recorded.csv"
    head = "conv_activation,fc_activation,pool,lrn,run,seed,global_step"
    results.write_text(f"{head}\nlinear,linear,avg,true,conv_relu-false_seed0,0,2\n")
    args = ["--schedule=fast", "--fc_relu=false", "--pool=avg", *SMOKE_FLAGS]
    runs = grid_of(*args, "--sweep=conv_relu=true,false", f"--recorded={results}")
    assert [name for name, _ in runs] == [
        "schedule-fast_conv_relu-true_seed0",
        "conv_relu-false_seed0",
    ]
    assert set(grid.recorded_rows(runs, results)) == {"conv_relu-false_seed0"}
    # A row that says it ran on another dataset is not this run, by name nor as recorded.
    results.write_text(f"{head},dataset\nlinear,linear,avg,true,conv_relu-false_seed0,0,2,mnist\n")
    runs = grid_of(*args, "--sweep=conv_relu=true,false", f"--recorded={results}")
    assert runs[1][0] == "schedule-fast_conv_relu-false_seed0"
    renamed = [("conv_relu-false_seed0", runs[1][1])]
    assert set(grid.recorded_rows(renamed, results)) == set()


def test_a_partial_folder_under_a_new_name_does_not_hide_the_run_s_recorded_row(grid_of, tmp_path):
    """A run laid anew (or stopped) under its new name, whose finished row the repo records
    under its old name: the row's name wins, so the run is skipped, not trained again."""
    results = tmp_path / "recorded.csv"
    head = "conv_activation,fc_activation,pool,lrn,run,seed,global_step"
    results.write_text(f"{head}\nlinear,linear,avg,true,conv_relu-false_seed0,0,2\n")
    args = ["--schedule=fast", "--fc_relu=false", "--pool=avg", *SMOKE_FLAGS]
    sweep = ["--sweep=conv_relu=false", f"--recorded={results}"]
    new = grid_of(*args, "--sweep=conv_relu=false")[0][1]
    partial = Path(new.log_dir)
    partial.mkdir(parents=True)
    (partial / config_lib.CONFIG_FILENAME).write_text(json.dumps(new.resolved().to_dict()))
    runs = grid_of(*args, *sweep)
    assert [name for name, _ in runs] == ["conv_relu-false_seed0"]
    assert set(grid.recorded_rows(runs, results)) == {"conv_relu-false_seed0"}
    # A row at other steps is not this run finished: the partial folder keeps the run.
    results.write_text(f"{head}\nlinear,linear,avg,true,conv_relu-false_seed0,0,3\n")
    assert [name for name, _ in grid_of(*args, *sweep)] == [partial.name]


def test_the_hparams_row_writes_a_stage_list_as_run_names_do(tmp_path):
    from cifar10_ablation.sweeps import hparams

    for stages, shown in (("linear+linear+relu", "linear+linear+relu"), ("", "")):
        run = tmp_path / (stages or "unset")
        config = config_lib.RunConfig.flat(
            arch="resnet20", pool="avg", stage_activations=stages, log_dir=str(run)
        )
        hparams.write_run_hparams(config, ["stage_activations"])
        start = _hparams(run, "_hparams_/session_start_info").session_start_info
        assert start.hparams["stage_activations"].string_value == shown
        assert start.hparams["arch"].string_value == "resnet20"
