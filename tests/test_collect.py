"""tools/docs/collect.py: what it writes into the repo from the long runs (no training here)."""

import csv
import importlib.util
import json
import shutil
from pathlib import Path

import pytest

from cifar10_ablation import config as config_lib
from cifar10_ablation.switches import Switches

SCRIPT = Path(__file__).resolve().parent.parent / "tools" / "docs" / "collect.py"


@pytest.fixture
def collect():
    spec = importlib.util.spec_from_file_location("collect", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _finished_sweep(folder, results_csv):
    """A sweep folder as collect sees it: one finished run, and the results.csv its report
    would write (the tests stub _report)."""
    (folder / "r").mkdir(parents=True)
    (folder / "r" / "results.json").write_text("{}")
    (folder / "results.csv").write_text(results_csv)
    return folder


def test_trim_keeps_what_a_reader_needs(collect):
    home = str(Path.home())
    log = "\n".join(
        [
            "I0000 00:00:1 cuda_dasher.cc: start-up noise",
            f"{home}/runs/fast/run_seed0: training run_seed0 from step 0 to 12000",
            *(f"step {s:5d}/12000  loss 1.0" for s in range(100, 12001, 100)),
            "step 5000: test accuracy 0.7393 (averaged), 0.7029 (raw)",
            "Traceback (most recent call last):",
            f'  File "{home}/venv/lib/python3.12/site-packages/x.py", line 3, in f',
            "    raise ValueError('bad')",
            "ValueError: bad",
            "== done",
        ]
    )
    lines = collect.trim(log).splitlines()
    assert lines == [
        "~/runs/fast/run_seed0: training run_seed0 from step 0 to 12000",
        "step  5000/12000  loss 1.0",
        "step 10000/12000  loss 1.0",
        "step 12000/12000  loss 1.0",
        "step 5000: test accuracy 0.7393 (averaged), 0.7029 (raw)",
        "ValueError: bad",
        "== done",
    ]


def test_trim_drops_a_restart_that_had_nothing_to_train(collect):
    done = ["sweep x: 2 runs, shard 0/1: 2, finished 2, to train 0"]
    done += ["trained 0, already finished 2, failed 0", "| 83.1 |"]
    trained = ["== start stage 1 a", "sweep x: 2 runs, shard 0/1: 2, finished 0, to train 2"]
    trained += ["trained 2, already finished 0, failed 0"]
    idle = ["== start stage 1 b", *done]
    failed = ["== start stage 1 c", *done[:1], "trained 0, already finished 1, failed 1"]
    stopped = ["== start stage 2 d", *done, "sweep y: 1 runs, shard 0/1: 1, finished 0, to train 1"]
    stopped += ["y: stopped by SIGTERM at step 550 of 15000"]
    mixed = ["== start stage 2 e", *done, *trained[1:]]
    selected = ["sweep x/selection: 4 runs, shard 0/1: 4, finished 4, to train 0"]
    selected += ["selection: trained 0, already finished 4, failed 0", "| chosen |"]
    idle_selection = ["== start stage 3 f", *selected, *done]
    log = ["queue: started", *trained, *idle, *failed, *stopped, *mixed, *idle, *idle_selection]
    kept = ["queue: started", *trained, *failed, *stopped, *mixed]
    assert collect.trim("\n".join(log)).splitlines() == kept


def test_a_machine_path_is_refused_and_not_written(collect, tmp_path):
    target = tmp_path / "docs" / "results_fast.csv"
    with pytest.raises(SystemExit, match="would hold a path of this machine: .*/work/x"):
        collect._checked_write(target, "run,log\na,/work/x\n")
    assert not target.exists()
    collect._checked_write(target, "run,log\na,~/runs/x\n")
    assert target.read_text() == "run,log\na,~/runs/x\n"
    assert [p.name for p in target.parent.iterdir()] == ["results_fast.csv"]


def test_maxout_rows_replace_only_maxout_rows(collect, tmp_path, monkeypatch):
    monkeypatch.setattr(
        collect, "_report", lambda folder, always=(): None
    )  # results.csv written below
    header = "seed,conv_activation,run,test_accuracy"  # matched by column name, not position
    scale = tmp_path / "activation_scale_quick.csv"
    scale.write_text(
        f"{header}\n0,elu,a,0.72\n0,maxout,old,0.50\n0,relu,maxout-like,0.61\n0,relu,c,0.74\n"
    )
    new = f"{header}\n0,maxout,new0,0.70\n1,maxout,new1,0.71\n"
    sweep = _finished_sweep(tmp_path / "activation_scale_maxout", new)
    collect.merge_rows(sweep, scale)
    assert scale.read_text().splitlines() == [
        header,
        "0,elu,a,0.72",
        "0,relu,maxout-like,0.61",
        "0,relu,c,0.74",
        "0,maxout,new0,0.70",
        "1,maxout,new1,0.71",
    ]


def test_new_result_columns_join_new_switches_read_as_defaults_and_other_config_columns_are_refused(
    collect, tmp_path, monkeypatch
):
    monkeypatch.setattr(collect, "_report", lambda folder, always=(): None)
    scale = tmp_path / "activation_scale_quick.csv"
    scale.write_text("conv_activation,run,seed\nrelu,r0,0\n")
    sweep = _finished_sweep(
        tmp_path / "maxout", "conv_activation,run,seed,validation_accuracy\nmaxout,r1,0,0.5\n"
    )
    collect.merge_rows(sweep, scale)  # a result column the committed rows never had: empty
    assert scale.read_text() == (
        "conv_activation,run,seed,validation_accuracy\nrelu,r0,0,\nmaxout,r1,0,0.5\n"
    )
    sweep = _finished_sweep(
        tmp_path / "deep", "conv_activation,downsample,run,seed\nrelu,max,r2,0\n"
    )
    collect.merge_rows(sweep, scale)  # a report writes a switch set away from its default
    assert _column(scale, "downsample") == ["stride", "stride", "max"]
    sweep = _finished_sweep(
        tmp_path / "rates", "conv_activation,learning_rate,run,seed\nrelu,0.02,r3,0\n"
    )
    before = scale.read_text()
    with pytest.raises(SystemExit, match="adds the config columns \\['learning_rate'\\]"):
        collect.merge_rows(sweep, scale)  # the committed rows' rates are not known
    assert scale.read_text() == before


def test_quick_rows_of_new_configs_join_and_rows_of_the_same_config_are_replaced(
    collect, tmp_path, monkeypatch
):
    monkeypatch.setattr(collect, "_report", lambda folder, always=(): None)
    header = "conv_activation,fc_activation,pool,lrn,run,seed,test_accuracy"
    quick = tmp_path / "results_quick.csv"
    quick.write_text(f"{header}\nrelu,linear,max,true,a,0,0.74\nlinear,relu,max,true,old,0,0.60\n")
    new = f"{header}\nrelu,relu,max,true,t,0,0.76\nlinear,relu,max,true,new,0,0.75\n"
    sweep = _finished_sweep(tmp_path / "quick", new)
    collect.merge_rows(sweep, quick)
    assert quick.read_text().splitlines() == [
        header,
        "relu,linear,max,true,a,0,0.74",  # FC ReLUs off: another config, kept
        "relu,relu,max,true,t,0,0.76",
        "linear,relu,max,true,new,0,0.75",
    ]


def test_a_sweep_adds_its_runs_and_keeps_the_committed_rows_of_a_lost_machine(
    collect, tmp_path, monkeypatch
):
    monkeypatch.setattr(collect, "_report", lambda folder, always=(): None)
    header = "conv_activation,pool,run,seed,test_accuracy"
    vgg = tmp_path / "beyond_vgg.csv"
    vgg.write_text(f"{header}\nrelu,max,m0,0,0.83\nrelu,max,m1,1,0.84\n")
    # the new machine's folder: another run of relu/max and a new config
    new = f"{header}\nrelu,max,m1,1,0.85\nlinear,max,l0,0,0.80\n"
    sweep = _finished_sweep(tmp_path / "vgg", new)
    collect.merge_rows(sweep, vgg, key="run")
    expected = [header, "relu,max,m0,0,0.83", "relu,max,m1,1,0.85", "linear,max,l0,0,0.80"]
    assert vgg.read_text().splitlines() == expected
    collect.merge_rows(sweep, vgg, key="run")  # collected again: the same
    assert vgg.read_text().splitlines() == expected
    fresh = tmp_path / "beyond_resnet20.csv"  # no committed CSV yet: the sweep's rows
    collect.merge_rows(sweep, fresh, key="run")
    assert fresh.read_text().splitlines() == [header, *expected[2:]]


def _finish(sweep, name, switches=None, **settings):
    """A finished run of a sweep: its results.json, as training writes the fields collect reads."""
    run = sweep / name
    run.mkdir(parents=True)
    switches = Switches(**(switches or {}))
    config = config_lib.RunConfig(**settings, switches=switches, log_dir=str(run))
    results = {"config": config.to_dict(), "global_step": 10, "test_accuracy": 0.5}
    (run / "results.json").write_text(json.dumps(results))
    return run


def _column(path, name):
    with open(path, newline="") as f:
        return [row[name] for row in csv.DictReader(f)]


def test_a_sweep_collected_after_each_run_holds_its_axis_from_the_first_on(collect, tmp_path):
    # stage 3 of logs/lr/run.sh, collected after its first rate, then the machine laid anew:
    # the sweep's plan (sweep.json, as the sweep writes it) names the rate from the first run on
    sweep, committed = tmp_path / "full_length", tmp_path / "selection_fast_full_length.csv"
    rates = ["learning_rate-0.02_seed0", "learning_rate-0.04_seed0"]
    plan = {"runs": rates, "varying_fields": ["learning_rate"]}
    _finish(sweep, "learning_rate-0.02_seed0", learning_rate=0.02)
    (sweep / config_lib.SWEEP_FILENAME).write_text(json.dumps(plan))
    collect.merge_rows(sweep, committed, "run")
    shutil.rmtree(sweep)
    _finish(sweep, "learning_rate-0.04_seed0", learning_rate=0.04)
    (sweep / config_lib.SWEEP_FILENAME).write_text(json.dumps(plan))
    collect.merge_rows(sweep, committed, "run")
    assert _column(committed, "learning_rate") == ["0.02", "0.04"]
    # depth stage 1 of ResNet-18: the published net first, then no ReLU with max pooling, whose
    # downsample column the committed rows lack: they are at its default
    sweep, committed = tmp_path / "resnet18", tmp_path / "depth_resnet18.csv"
    resnet18 = {"arch": "resnet18", "augmentation": "pad_crop"}
    _finish(sweep, "relu_stride", {"pool": "avg", "lrn": False}, **resnet18)
    collect.merge_rows(sweep, committed, "run")
    linear = {"pool": "avg", "lrn": False, "conv_activation": "linear", "downsample": "max"}
    _finish(sweep, "linear_max", linear, **resnet18)
    collect.merge_rows(sweep, committed, "run")  # not refused as a new config column
    assert _column(committed, "downsample") == ["max", "stride"]
    # laid anew again, the published net's next seed alone: its rows lack the column the
    # committed CSV has
    shutil.rmtree(sweep)
    _finish(sweep, "relu_stride_seed1", {"pool": "avg", "lrn": False}, seed=1, **resnet18)
    collect.merge_rows(sweep, committed, "run")
    assert _column(committed, "downsample") == ["max", "stride", "stride"]


def test_each_machine_s_queue_log_has_its_own_trimmed_file(collect, tmp_path):
    folder = tmp_path / "beyond"
    folder.mkdir()
    (folder / "run.log").write_text("== start stage 1 Mon Nov 30 11:02:03 UTC 2026 abc\nold\n")
    again = "== start stage 1 Mon Nov 30 11:02:03 UTC 2026 abc\nold\nmore\n"
    assert collect.trimmed_log_path(folder, again) == folder / "run.log"
    new = "== start stage 2 Tue Dec  1 02:54:16 UTC 2026 0e601a9\nstep\n"
    assert collect.trimmed_log_path(folder, new) == folder / "run-20261201-0254.log"
    (folder / "run-20261201-0254.log").write_text(new)
    assert collect.trimmed_log_path(folder, new + "more\n") == folder / "run-20261201-0254.log"
    with pytest.raises(SystemExit, match="should start with '== start ...': 'sweep x'"):
        collect.trimmed_log_path(folder, "sweep x\n")


def test_the_readme_summary_block_is_replaced_whole():
    import readme

    text = f"# title\n\n{readme.START}\nold\nlines\n{readme.END}\n\n## rest\n"
    new = readme.replace_block(text, "new summary\n")
    assert new == f"# title\n\n{readme.START}\nnew summary\n{readme.END}\n\n## rest\n"


def test_curves_of_runs_without_events_are_read_from_the_committed_logs(collect, tmp_path, capsys):
    docs, logs = tmp_path / "docs", tmp_path / "docs" / "logs" / "fast"
    logs.mkdir(parents=True)
    (docs / "results_fast.csv").write_text(
        "pool,run,seed,global_step,test_accuracy\n"
        "max,logged_seed0,0,200,0.65\nmax,unlogged_seed1,1,200,0.66\nmax,kept_seed2,2,200,0.5\n"
    )
    kept = "run,step,train_loss,validation_accuracy,test_accuracy\nkept_seed2,200,0.25,,0.5\n"
    (docs / "curves_results_fast.csv").write_text(kept)
    (logs / "run.log").write_text(
        "== start stage 1 Mon Nov 30 10:05:33 UTC 2026 abc\n"
        "~/runs/fast/logged_seed0: training x from step 0 to 200 on binary:~/data\n"
        "step 200/200  loss 1.5000  accuracy 0.5  lr 0  9 images/s  ETA 0:00:00\n"
        "step 200: test accuracy 0.6500 (averaged), 0.6000 (raw)\n"
        "~/runs/fast/kept_seed2: training x from step 0 to 200 on binary:~/data\n"
        "step 200/200  loss 9.0000  accuracy 0.5  lr 0  9 images/s  ETA 0:00:00\n"
        "step 200: test accuracy 0.5000 (averaged), 0.6000 (raw)\n"
    )
    collect.write_log_curves("fast", docs / "results_fast.csv", logs)
    assert (docs / "curves_results_fast.csv").read_text() == (
        f"{kept}logged_seed0,200,1.5,,0.65\n"  # the committed curve of kept_seed2 left as it was
    )
    assert "no committed log holds the whole of fast/unlogged_seed1" in capsys.readouterr().out
