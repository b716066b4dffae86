"""The sweep: grid expansion, resumable runs, sharding, HParams and the report."""

import csv
import dataclasses
import json
import subprocess
import sys

import pytest
from tensorboard.backend.event_processing import event_accumulator

from cifar10_ablation import cli, files, host
from cifar10_ablation import config as config_lib
from cifar10_ablation.reports import report, verdicts
from cifar10_ablation.sweeps import grid, hparams, runner

SMOKE_FLAGS = [
    "--batch_size=8",
    "--max_steps=4",
    "--summary_every=2",
    "--histogram_every=4",
    "--eval_every=4",
    "--checkpoint_every=2",
    "--steps_per_execution=2",
]


@pytest.fixture
def grid_of(parse_flags, cifar_dir, tmp_path):
    """The runs the sweep command line expands from these arguments (and the smoke flags)."""

    def runs(*args):
        base = [f"--data_dir={cifar_dir}", f"--log_dir={tmp_path}", *SMOKE_FLAGS]
        return cli.grid_runs(parse_flags(cli.SWEEP, *base, *args))

    return runs


def _run_cli(*args, timeout=600):
    return subprocess.run(
        [sys.executable, "-m", "cifar10_ablation.sweep", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_default_grid_is_conv_relu_x_fc_relu_x_pool(grid_of, tmp_path):
    runs = grid_of("--seeds=2")
    assert len(runs) == 16
    names = [n for n, _ in runs]
    assert names[:2] == [
        "conv_relu-true_fc_relu-true_pool-max_seed0",
        "conv_relu-true_fc_relu-true_pool-max_seed1",
    ]
    assert len(set(names)) == 16
    switches = {
        (c.switches.conv_activation, c.switches.fc_activation, c.switches.pool) for _, c in runs
    }
    assert len(switches) == 8 and ("linear", "linear", "avg") in switches
    assert {c.seed for _, c in runs} == {0, 1}
    assert all(c.log_dir == str(tmp_path / n) for n, c in runs)
    assert all(c.max_steps == 4 and c.batch_size == 8 for _, c in runs)  # base flags pass through


def test_any_flag_can_be_swept_and_overrides_the_base_switch(grid_of):
    runs = grid_of(
        "--conv_relu=false",
        "--learning_rate=0.2",
        "--sweep=conv_activation=linear,tanh,maxout",
        "--sweep=learning_rate=0.1,0.01",
    )
    assert len(runs) == 6
    assert {(c.switches.conv_activation, c.learning_rate) for _, c in runs} == {
        (a, lr) for a in ("linear", "tanh", "maxout") for lr in (0.1, 0.01)
    }


# Sweeps in progress under ~/runs, by their command lines: their run directories must keep
# these names, or a restarted sweep would not find (skip, resume) them.
EXISTING_SWEEPS = [
    (
        ["--sweep=conv_relu=true", "--sweep=fc_relu=false", "--sweep=pool=avg"],
        ["conv_relu-true_fc_relu-false_pool-avg_seed0"],
    ),
    (
        ["--flagfile=flags/tutorial.flags", "--sweep=conv_relu=true,false", "--sweep=fc_relu=false"]
        + ["--sweep=pool=avg"],
        [
            "conv_relu-true_fc_relu-false_pool-avg_seed0",
            "conv_relu-false_fc_relu-false_pool-avg_seed0",
        ],
    ),
    (
        ["--flagfile=flags/quick.flags", "--sweep=pool=max", "--sweep=conv_relu=true,false"]
        + ["--fc_relu=false", "--seed=2"],
        ["pool-max_conv_relu-true_seed2", "pool-max_conv_relu-false_seed2"],
    ),
]


@pytest.mark.parametrize("args, names", EXISTING_SWEEPS)
def test_run_directories_of_existing_sweeps_keep_their_names(grid_of, tmp_path, args, names):
    for name in names:  # as the sweep left them (a fast-schedule name now leads with schedule-fast)
        (tmp_path / name).mkdir()
    runs = grid_of(*args)
    assert [name for name, _ in runs] == names
    assert [config.log_dir for _, config in runs] == [str(tmp_path / name) for name in names]


def test_flags_swept_in_another_order_find_the_runs_already_made(grid_of, tmp_path):
    for folder in [
        "pool-max_conv_relu-true_seed0",  # the same point, swept as --sweep=pool --sweep=conv_relu
        "pool-avg_conv_activation-leaky_relu_seed0",  # a value holding "_"
        "pool-avg_conv_activation-leaky_relu_seed1",  # another seed
        "pool-max_conv_activation-tanh_seed0",  # another value
    ]:
        (tmp_path / folder).mkdir()
    (tmp_path / "pool-max_conv_relu-false_seed0").write_text("a file, not a run")
    runs = grid_of("--sweep=conv_relu=true,false", "--sweep=pool=max")
    assert [name for name, _ in runs] == [
        "pool-max_conv_relu-true_seed0",
        "conv_relu-false_pool-max_seed0",
    ]
    assert runs[0][1].log_dir == str(tmp_path / "pool-max_conv_relu-true_seed0")
    runs = grid_of("--sweep=conv_activation=leaky_relu,tanh", "--sweep=pool=avg")
    assert [name for name, _ in runs] == [
        "pool-avg_conv_activation-leaky_relu_seed0",
        "conv_activation-tanh_pool-avg_seed0",
    ]


def test_a_recorded_run_swept_in_another_order_is_skipped(grid_of, tmp_path):
    results = tmp_path / "recorded.csv"
    results.write_text(
        "conv_activation,fc_activation,pool,lrn,run,seed,global_step\n"
        "linear,relu,avg,true,pool-avg_conv_relu-false_seed0,0,4\n"
    )
    runs = grid_of("--sweep=conv_relu=true,false", "--sweep=pool=avg", f"--recorded={results}")
    names = [name for name, _ in runs]
    assert names == ["conv_relu-true_pool-avg_seed0", "pool-avg_conv_relu-false_seed0"]
    assert set(grid.recorded_rows(runs, results)) == {"pool-avg_conv_relu-false_seed0"}


@pytest.mark.parametrize(
    "spec, message",
    [
        ("pool=max,median", "value should be one of <max|avg>"),
        ("pool", "must look like FLAG=V1,V2"),
        ("poool=max", "'poool' is not a training flag a sweep can vary; allowed:"),
        ("seed=1,2", "the seeds are --seed and --seeds, not an axis"),
        ("max_steps=10,-1", "-1 is not a non-negative integer"),
        ("distribution=multi_worker", "distribution=multi_worker is for one run: split a sweep"),
    ],
)
def test_bad_sweeps_raise_before_anything_runs(grid_of, tmp_path, spec, message):
    with pytest.raises(ValueError, match=message.replace("|", r"\|")):
        grid_of(f"--sweep={spec}")
    assert not list(tmp_path.glob("*seed*"))


def test_shards_split_the_grid_without_overlap(grid_of, tmp_path):
    runs = grid_of()
    for count in (1, 2, 3, 5):
        shares = [[n for n, _ in runner.shard(runs, k, count)] for k in range(count)]
        assert sorted(sum(shares, [])) == sorted(n for n, _ in runs)  # no run lost or doubled
        assert max(map(len, shares)) - min(map(len, shares)) <= 1
    trained, skipped, errors = runner.run_sweep(
        runs[:2], tmp_path / "s", shard_index=1, num_shards=2
    )
    assert trained == [runs[1][0]] and skipped == [] and errors == []


def test_runs_a_results_csv_records_at_their_max_steps_are_skipped(grid_of, tmp_path):
    runs = grid_of("--sweep=pool=max,avg", "--seeds=2")  # max_steps=4
    results = tmp_path / "results.csv"
    results.write_text(
        "pool,run,seed,global_step,test_accuracy\n"
        "max,pool-max_seed0,0,4,0.5\n"
        "max,pool-max_seed1,1,3,0.5\n"  # stopped short of max_steps: not finished
        "max,pool-avg_seed0,0,4,0.5\n"  # another config's run of that name: not this one
        "avg,pool-avg_seed9,9,4,0.5\n"  # not a run of this grid
    )
    assert set(grid.recorded_rows(runs, results)) == {"pool-max_seed0"}
    trained, skipped, errors = runner.run_sweep(
        runs[:2], tmp_path / "s", recorded={"pool-max_seed0"}
    )
    assert trained == ["pool-max_seed1"] and skipped == ["pool-max_seed0"] and errors == []
    assert not (tmp_path / "s" / "pool-max_seed0").exists()


def test_a_recorded_csv_that_is_missing_or_not_results_is_one_line(cifar_dir, tmp_path):
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    for name, why in [
        ("missing.csv", "No such file or directory"),
        ("other.csv", "not a results CSV (needs run, global_step)"),
    ]:
        path = tmp_path / name
        done = _run_cli(f"--data_dir={cifar_dir}", f"--log_dir={tmp_path}/s", f"--recorded={path}")
        assert done.returncode == 1
        assert done.stderr.strip().splitlines() == [f"error: --recorded={path}: {why}"]
        assert not (tmp_path / "s").exists()


def test_sweep_runs_reports_and_resumes(cifar_dir, tmp_path):
    sweep_dir = tmp_path / "sweep"
    args = [
        f"--data_dir={cifar_dir}",
        f"--log_dir={sweep_dir}",
        "--sweep=conv_relu=true,false",
        "--fc_relu=false",
        "--pool=avg",
        "--seeds=2",
        *SMOKE_FLAGS,
    ]
    done = _run_cli(*args)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "trained 4, already finished 0, failed 0" in done.stdout
    assert "| conv_activation | mean % | sd | n | 95% interval | min % | max % |" in done.stdout
    assert "| none: n < 3 |" in done.stdout  # two seeds: no interval
    assert "conv_activation relu and linear: no interval yet (" in done.stdout or (
        "conv_activation linear and relu: no interval yet (" in done.stdout
    )
    with open(sweep_dir / "results.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4 and {r["conv_activation"] for r in rows} == {"relu", "linear"}
    assert {r["cpu"] for r in rows} == {host.cpu_label(host.describe())}  # times compare per CPU
    assert {(r["fc_activation"], r["pool"], r["lrn"]) for r in rows} == {("linear", "avg", "true")}
    summary = json.loads((sweep_dir / "summary.json").read_text())
    assert summary["fields"] == ["conv_activation"] and summary["runs"] == 4
    plan = json.loads((sweep_dir / config_lib.SWEEP_FILENAME).read_text())
    assert plan["varying_fields"] == ["conv_activation"]  # what the report reads mid-sweep
    assert [c["n"] for c in summary["configs"]] == [2, 2]
    assert summary["comparisons"][0]["method"] == "paired"
    assert (sweep_dir / "results.png").stat().st_size > 1000
    assert "| relu |" in (sweep_dir / "results.md").read_text()
    assert "pool1 all-negative % | pool1 mixed-sign % | pool2 all-negative %" in done.stdout
    assert all(0 <= float(r["pool2 all-negative"]) <= 1 for r in rows)
    top = event_accumulator.EventAccumulator(str(sweep_dir))
    top.Reload()
    assert "_hparams_/experiment" in top.Tags()["tensors"]
    run = event_accumulator.EventAccumulator(str(sweep_dir / "conv_relu-false_seed1"))
    run.Reload()
    assert "_hparams_/session_start_info" in run.Tags()["tensors"]
    # One run loses its results (as if killed before the end): only it runs again.
    (sweep_dir / "conv_relu-true_seed0" / "results.json").unlink()
    done = _run_cli(*args)
    assert "trained 1, already finished 3, failed 0" in done.stdout
    assert "from step 4 to 4" in done.stdout  # resumed from its checkpoint, not retrained
    # The report alone regenerates the table.
    done = _run_cli("--report_only", f"--log_dir={sweep_dir}")
    assert done.returncode == 0 and "| linear |" in done.stdout


def test_report_only_without_results_fails_clearly(tmp_path):
    done = _run_cli("--report_only", f"--log_dir={tmp_path}")
    assert done.returncode != 0
    assert f"error: no finished runs under {tmp_path}" in done.stderr


def test_an_unwritable_sweep_folder_is_one_line(cifar_dir, tmp_path):
    (tmp_path / "a_file").write_text("")
    sweep_dir = tmp_path / "a_file" / "sweep"
    done = _run_cli(f"--data_dir={cifar_dir}", f"--log_dir={sweep_dir}", *SMOKE_FLAGS)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"error: cannot write to --log_dir={sweep_dir}: Not a directory"
    ]


def _experiment(sweep_dir):
    """The HParams experiment (hparam name -> domain values) written last at the sweep's top."""
    from tensorboard.plugins.hparams import plugin_data_pb2

    accumulator = event_accumulator.EventAccumulator(str(sweep_dir))
    accumulator.Reload()
    metadata = accumulator.SummaryMetadata("_hparams_/experiment")
    data = plugin_data_pb2.HParamsPluginData.FromString(metadata.plugin_data.content)
    return {
        h.name: sorted(getattr(v, v.WhichOneof("kind")) for v in h.domain_discrete.values)
        for h in data.experiment.hparam_infos
    }


def test_an_extended_sweep_keeps_one_hparams_table(grid_of, tmp_path):
    first = grid_of("--fc_relu=false", "--sweep=pool=max,avg")
    hparams.write_hparams_config(tmp_path, [c for _, c in first])
    for _, config in first:  # as if trained: config.json as train saves it (resolved)
        saved = dataclasses.replace(config.resolved(), replicas=1)
        (tmp_path / config.log_dir).mkdir(parents=True, exist_ok=True)
        (tmp_path / config.log_dir / "config.json").write_text(json.dumps(saved.to_dict()))
    more = grid_of("--fc_relu=false", "--sweep=pool=avg", "--seeds=3")  # more seeds, one pool
    fields = hparams.write_hparams_config(tmp_path, [c for _, c in more])
    assert fields == ["pool"]
    experiment = _experiment(tmp_path)
    assert experiment["pool"] == ["avg", "max"] and experiment["seed"] == [0, 1, 2]


def test_report_reads_runs_saved_before_a_config_field_existed(tmp_path):
    """Results of older versions lack newer fields (replicas, distribution): defaults fill them."""
    for name, pool, extra in (("old", "max", {}), ("new", "avg", {"replicas": 1})):
        config = {"conv_activation": "relu", "fc_activation": "relu", "pool": pool, **extra}
        (tmp_path / name).mkdir()
        (tmp_path / name / "results.json").write_text(
            json.dumps({"config": config, "global_step": 4, "test_accuracy": 0.5})
        )
    table, _ = report.report(tmp_path)
    assert "| pool | mean % |" in table and "replicas" not in table
    with open(tmp_path / "results.csv") as f:
        assert [row["pool"] for row in csv.DictReader(f)] == ["avg", "max"]


def test_a_report_of_a_sweep_in_progress_names_the_axes_of_its_whole_grid(tmp_path):
    """One rate of a learning-rate grid finished: its row names the rate, so a CSV collected now
    and again later keeps one header."""
    files.write_json_atomic(
        tmp_path / config_lib.SWEEP_FILENAME,
        {"runs": ["learning_rate-0.02_seed0", "learning_rate-0.04_seed0"],
         "varying_fields": ["learning_rate"]},
    )  # fmt: skip
    config = config_lib.RunConfig(learning_rate=0.02, log_dir=str(tmp_path / "r"))
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "results.json").write_text(
        json.dumps({"config": config.to_dict(), "global_step": 4, "test_accuracy": 0.5})
    )
    report.report(tmp_path)
    with open(tmp_path / "results.csv") as f:
        assert [row["learning_rate"] for row in csv.DictReader(f)] == ["0.02"]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["constant"]["learning_rate"] == "0.02"


@pytest.mark.parametrize(
    "first, second, wording",
    [
        (
            [0.80, 0.81, 0.82],
            [0.40, 0.41, 0.43],
            "With pool=avg: conv_activation relu above linear: +39.67 points (95% interval ",
        ),
        (
            [0.80, 0.85, 0.80],
            [0.80, 0.80, 0.81],
            "With pool=avg: conv_activation relu and linear: not separated at this n (+1.33 "
            "points, 95% interval ",
        ),
        (  # 40 points, but two seeds: nothing says how much of it is seed noise
            [0.80, 0.81],
            [0.40, 0.41],
            "With pool=avg: conv_activation relu and linear: no interval yet (+40.00 points; n=2:"
            " an interval needs 3 seeds each).",
        ),
    ],
)
def test_a_comparison_says_above_only_when_its_interval_excludes_0(first, second, wording):
    configs = [
        {
            "config": {"conv_activation": act, "pool": "avg"},
            "mean": sum(a) / len(a),
            "accuracies": dict(enumerate(a)),
        }
        for act, a in (("relu", first), ("linear", second))
    ]
    [comparison] = report.comparisons(["conv_activation", "pool"], configs)
    assert verdicts.comparison_sentence(comparison).startswith(wording)
