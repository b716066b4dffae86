"""Runs an ablation grid and reports it: python -m cifar10_ablation.sweep

    python -m cifar10_ablation.sweep --flagfile=flags/quick.flags --data_dir=../shared/cifar10 \\
        --log_dir=tensorboard_logs/grid --seeds=3
    python -m cifar10_ablation.sweep --sweep=conv_activation=linear,relu,tanh --fc_relu=false \\
        --pool=avg --flagfile=flags/quick.flags --log_dir=tensorboard_logs/activations
    python -m cifar10_ablation.sweep --report_only --log_dir=tensorboard_logs/grid

The grid is the product of every `--sweep=FLAG=V1,V2,...` (default: conv_relu x fc_relu x pool,
8 configs) times `--seeds` seeds; every other training flag is the base of each run. Each
(config, seed) trains in its own run directory under --log_dir, whose name lists the swept
values. Finished runs are skipped and unfinished ones resume from their checkpoints, so a
sweep is restarted by running the same command; SIGTERM or SIGINT stops the runs in flight with
a checkpoint (exit status 75). `--shard_index/--num_shards` split one grid between machines
sharing the directory; sweeps started twice on one directory share its runs (a lock per run
directory, see runlock.py) and both end when all are done. At the end (or with --report_only)
every results.json under --log_dir goes into results.csv, results.md (mean, std, n, min, max
per config) and results.png, and the table is printed.
"""

import csv
import dataclasses
import itertools
import json
import multiprocessing
import os
import signal
import statistics
import sys
import time
from pathlib import Path

import keras
import tensorflow as tf
from absl import app, flags
from tensorboard.plugins.hparams import api as hp

from cifar10_ablation import cli, runlock, scale, train
from cifar10_ablation import config as config_lib
from cifar10_ablation import eval as eval_lib

DEFAULT_GRID = ("conv_relu=true,false", "fc_relu=true,false", "pool=max,avg")
DEFAULT_SWEEP_DIR = "tensorboard_logs/sweep"
SCALE_TAG = "scale/position"
SWEEP_FILENAME = "sweep.json"
LOCK_POLL_SECONDS = 2  # between looks at the runs another process is training
# Report columns of the final pool-window diagnostics (diagnostics.py), averaged per config.
WINDOW_COLUMNS = {
    f"{pool} {kind}": f"diagnostics/{pool}_{tag}_windows"
    for pool in ("pool1", "pool2")
    for kind, tag in (("all-negative", "all_negative"), ("mixed-sign", "mixed_sign"))
}
# Columns of results.csv after the varying config fields.
RUN_COLUMNS = (
    "run",
    "seed",
    "global_step",
    "test_accuracy",
    "test_accuracy_raw",
    "train_seconds_total",
    "wall_seconds",
    "train_images_per_second",
)

FLAGS = flags.FLAGS
flags.DEFINE_multi_string(
    "sweep",
    None,
    "FLAG=V1,V2,...: a training flag and its values; "
    "repeat for a product. Default: " + " ".join(DEFAULT_GRID),
)
flags.DEFINE_integer("seeds", 1, "Seeds per config: --seed, --seed+1, ...", lower_bound=1)
flags.DEFINE_integer("shard_index", 0, "This machine's share of the grid.", lower_bound=0)
flags.DEFINE_integer("num_shards", 1, "Machines splitting the grid.", lower_bound=1)
flags.DEFINE_integer(
    "parallel", 1, "Trainings at once (separate processes when > 1).", lower_bound=1
)
flags.DEFINE_boolean("report_only", False, "Only aggregate the finished runs under --log_dir.")
flags.DEFINE_enum(
    "preset",
    None,
    ["activation_scale"],
    "activation_scale: sweep --conv_activation over --activations (with flags/"
    "activation_scale.flags: FC activations linear, average pooling) and report each one's "
    "position between linear (0) and relu (1).",
)
flags.DEFINE_list("activations", list(scale.ACTIVATIONS), "The activation_scale preset's set.")


@flags.multi_flags_validator(
    ["shard_index", "num_shards"], message="--shard_index must be below --num_shards"
)
def _shard_in_range(values):
    return values["shard_index"] < values["num_shards"]


def grid_specs():
    """The --sweep specs, with the preset's axis first; the default grid when none is given."""
    specs = list(FLAGS.sweep or [])
    if FLAGS.preset == "activation_scale":
        specs.insert(0, f"conv_activation={','.join(FLAGS.activations)}")
    return specs or list(DEFAULT_GRID)


def parse_sweep(specs):
    """[(flag name, [parsed values])] from 'name=v1,v2' strings; ValueError on a bad one."""
    allowed = [n for n in cli.train_flag_names() if n not in ("log_dir", "data_dir")]
    axes = []
    for spec in specs:
        name, sep, values = spec.partition("=")
        if not sep or not values:
            raise ValueError(f"--sweep={spec!r} must look like FLAG=V1,V2,...")
        if name not in allowed:
            raise ValueError(
                f"--sweep={spec!r}: {name!r} is not a training flag a sweep can "
                f"vary; allowed: {', '.join(allowed)}"
            )
        if name in dict(axes):
            raise ValueError(f"--sweep names {name!r} twice")
        parser = FLAGS[name].parser
        try:
            parsed = [parser.parse(value) for value in values.split(",")]
        except ValueError as error:
            raise ValueError(f"--sweep={spec!r}: {error}") from None
        axes.append((name, parsed))
    return axes


def _value_name(value):
    return str(value).lower() if isinstance(value, bool) else str(value)


def expand(axes, seeds, sweep_dir):
    """Every (run name, RunConfig) of the grid, in a fixed order; validated before anything runs."""
    base = cli.flag_values()
    runs = []
    for values in itertools.product(*(v for _, v in axes)):
        point = dict(zip((n for n, _ in axes), values, strict=True))
        for seed in range(base.seed, base.seed + seeds):
            name = "_".join([*(f"{k}-{_value_name(v)}" for k, v in point.items()), f"seed{seed}"])
            overrides = {**point, "seed": seed, "log_dir": str(Path(sweep_dir) / name)}
            try:
                runs.append((name, cli.config_from_flags(cli.flag_values(overrides))))
            except ValueError as error:
                raise ValueError(f"grid point {name}: {error}") from None
    if any(config.distribution == "multi_worker" for _, config in runs):
        raise ValueError(
            "distribution=multi_worker is for one run: split a sweep over machines with "
            "--shard_index/--num_shards instead (whole runs per machine, no step waits on "
            "the network); mirrored and auto pass through"
        )
    return runs


def varying_fields(configs):
    """Config fields (other than seed and run control) whose value differs between configs."""
    skip = config_lib.RUN_CONTROL_FIELDS | {"seed"}
    dicts = [c.to_dict() for c in configs]
    return (
        [
            name
            for name in dicts[0]
            if name not in skip and len({json.dumps(d[name]) for d in dicts}) > 1
        ]
        if dicts
        else []
    )


def _hparam_value(value):
    return value if isinstance(value, bool | int | float | str) else json.dumps(value)


def write_hparams_config(sweep_dir, configs):
    """The HParams plugin's table: the varying fields and the seed, with test accuracy.

    It covers this grid and every run already in sweep_dir, so a sweep extended by a later
    invocation (more seeds, more values) stays one table.
    """
    known = {c.log_dir for c in configs}
    for path in sorted(Path(sweep_dir).glob(f"*/{config_lib.CONFIG_FILENAME}")):
        existing = config_lib.load_run_config(path.parent)
        if existing.log_dir not in known:
            configs = [*configs, existing]
    fields = varying_fields(configs)
    hparams = [
        hp.HParam(name, hp.Discrete(sorted({_hparam_value(getattr(c, name)) for c in configs})))
        for name in fields + ["seed"]
    ]
    metrics = [
        hp.Metric("test/accuracy", display_name="test accuracy (averaged)"),
        hp.Metric("test/accuracy_raw", display_name="test accuracy (raw)"),
    ]
    if set(scale.SCALE_FIELDS) & set(fields):  # written by the report, see report_scale
        metrics.append(hp.Metric(SCALE_TAG, display_name="scale position (0 linear, 1 relu)"))
    # TensorBoard keeps the first metadata it reads for a tag, so an older table must go.
    older = list(Path(sweep_dir).glob("events.out.tfevents.*"))
    writer = tf.summary.create_file_writer(str(sweep_dir))
    with writer.as_default():
        hp.hparams_config(hparams=hparams, metrics=metrics)
    writer.close()
    for path in older:
        path.unlink(missing_ok=True)
    return fields


_worker_stop = None  # a pool worker's stop request (_start_worker)


def _start_worker():
    """Pool initializer: the worker stops its run on SIGTERM/SIGINT, as a lone trainer does."""
    global _worker_stop
    _worker_stop = train.StopRequest()
    _worker_stop.install()


def _train_one(config, fields, stop=None):
    """Trains one grid point (resuming it) under its run directory's lock.

    Returns (outcome, detail): ("trained", results), ("finished", None) when another process
    finished it, ("locked", who holds it), ("stopped", message) on a stop request, or
    ("failed", error line). DiskFull propagates: every other run would meet it too.
    """
    stop = stop or _worker_stop or train.StopRequest()
    run_dir = Path(config.log_dir)
    if stop.requested:
        return "stopped", None
    try:
        lock = runlock.acquire(run_dir)
    except runlock.RunLocked as locked:
        return "locked", str(locked)
    with lock:
        if lock.took_over:
            print(f"{run_dir}: {lock.took_over}", flush=True)
        if is_finished(config):
            return "finished", None
        try:
            results = train.train(config, stop=stop)
        except train.Interrupted as stopped:
            return "stopped", str(stopped)
        except (ValueError, train.TrainingDiverged) as error:
            return "failed", f"{run_dir.name}: {error}"
        finally:
            keras.backend.clear_session()
        marker = run_dir / "hparams.written"
        if not marker.exists():  # one hparams record per run, also across restarts
            with tf.summary.create_file_writer(str(run_dir)).as_default():
                hp.hparams(
                    {n: _hparam_value(getattr(config, n)) for n in fields + ["seed"]},
                    trial_id=run_dir.name,
                )
            marker.touch()
    return "trained", results


def is_finished(config):
    path = Path(config.log_dir) / train.RESULTS_FILENAME
    if not path.exists():
        return False
    return config_lib.load_json(path).get("global_step") == config.max_steps


def run_sweep(runs, sweep_dir, shard_index=0, num_shards=1, parallel=1):
    """Trains this shard's unfinished runs; returns (trained names, skipped names, errors).

    Skipped runs are those finished before, or meanwhile by another sweep process on the same
    directory; runs another process is training are waited for at the end. SIGTERM or SIGINT
    stop the runs in flight with a checkpoint and raise train.Interrupted.
    """
    configs = [c for _, c in runs]
    Path(sweep_dir).mkdir(parents=True, exist_ok=True)
    fields = write_hparams_config(sweep_dir, configs)
    config_lib.write_json_atomic(
        Path(sweep_dir) / SWEEP_FILENAME,
        {"runs": [name for name, _ in runs], "varying_fields": fields},
    )
    mine = [(n, c) for i, (n, c) in enumerate(runs) if i % num_shards == shard_index]
    todo = [(n, c) for n, c in mine if not is_finished(c)]
    print(
        f"sweep {sweep_dir}: {len(runs)} runs, shard {shard_index}/{num_shards}: "
        f"{len(mine)}, finished {len(mine) - len(todo)}, to train {len(todo)}",
        flush=True,
    )
    with train.StopRequest().installed() as stop:
        outcomes = _train_all(todo, fields, parallel, stop)
    stopped = [detail for outcome, detail in outcomes.values() if outcome == "stopped"]
    if stopped or stop.requested:
        for line in filter(None, stopped):
            print(line, file=sys.stderr)
        left = sum(o not in ("trained", "finished") for o, _ in outcomes.values())
        raise train.Interrupted(
            f"sweep {sweep_dir}: stopped by {stop.signal_name or 'a signal to a worker'} with "
            f"{left} of its runs unfinished; run the same command to continue (exit status "
            f"{train.EXIT_INTERRUPTED})"
        )
    return (
        [n for n, _ in todo if outcomes[n][0] == "trained"],
        [n for n, c in mine if n not in outcomes or outcomes[n][0] == "finished"],
        [detail for outcome, detail in outcomes.values() if outcome == "failed"],
    )


def _train_all(todo, fields, parallel, stop):
    """{name: (outcome, detail)} for every run of todo; runs locked by other processes are
    tried again every LOCK_POLL_SECONDS until they are free (then trained or found finished)."""
    pool = None
    if parallel > 1:
        pool = multiprocessing.get_context("spawn").Pool(parallel, initializer=_start_worker)
    outcomes, waiting_for = {}, None
    try:
        while todo:
            for (name, _), outcome in zip(
                todo, _train_round(todo, fields, pool, stop), strict=True
            ):
                outcomes[name] = outcome
            todo = [(n, c) for n, c in todo if outcomes[n][0] == "locked"]
            if stop.requested or not todo:
                break
            if waiting_for != [n for n, _ in todo]:
                waiting_for = [n for n, _ in todo]
                print(
                    f"waiting for {len(todo)} run(s) other processes are training "
                    f"({outcomes[todo[0][0]][1]}, ...)",
                    flush=True,
                )
            deadline = time.monotonic() + LOCK_POLL_SECONDS
            while time.monotonic() < deadline and not stop.requested:
                time.sleep(0.1)
    except BaseException:
        _signal_workers(pool)  # e.g. DiskFull in one worker: the others stop with a checkpoint
        raise
    finally:
        if pool is not None:  # not terminate(): workers finish their step and save first
            pool.close()
            pool.join()
    return outcomes


def _train_round(todo, fields, pool, stop):
    """The outcome of _train_one for each run of todo: here in turn, or in the pool's workers,
    which get this process's stop request as SIGTERM."""
    if pool is None:
        return [_train_one(config, fields, stop) for _, config in todo]
    pending = [pool.apply_async(_train_one, (config, fields)) for _, config in todo]
    signalled = False
    for result in pending:
        while not result.ready():
            if stop.requested and not signalled:
                _signal_workers(pool)
                signalled = True
            result.wait(0.5)
    return [result.get() for result in pending]


def _signal_workers(pool):
    if pool is not None:
        for child in multiprocessing.active_children():
            os.kill(child.pid, signal.SIGTERM)


def collect(sweep_dir):
    """Every finished run's results.json under sweep_dir, one per run directory, by name."""
    rows = []
    for path in sorted(Path(sweep_dir).glob(f"*/{train.RESULTS_FILENAME}")):
        results = config_lib.load_json(path)
        evaluated = path.parent / eval_lib.EVAL_FILENAME
        if "diagnostics" not in results and evaluated.exists():  # a run from before diagnostics
            at_end = config_lib.load_json(evaluated)
            if at_end.get("global_step") == results["global_step"]:
                results["diagnostics"] = at_end.get("diagnostics")
        # Every field present (runs saved before a field existed take its default); runs saved
        # before distribution existed trained on one replica.
        config = config_lib.RunConfig.from_dict(results["config"])
        results["config"] = dataclasses.replace(config, replicas=config.replicas or 1).to_dict()
        rows.append({"run": path.parent.name, **results})
    if not rows:
        raise ValueError(
            f"no finished runs under {sweep_dir} (no */{train.RESULTS_FILENAME}); "
            "run the sweep first"
        )
    return rows


def summarize(rows):
    """(varying fields, per-config summaries): mean, std, n, min, max of test accuracy."""
    configs = [config_lib.RunConfig.from_dict(r["config"]) for r in rows]
    fields = varying_fields(configs)
    groups = {}
    for row, config in zip(rows, configs, strict=True):
        key = tuple(getattr(config, name) for name in fields)
        groups.setdefault(key, []).append(row)
    summaries = []
    for key, group in groups.items():
        accuracies = [row["test_accuracy"] for row in group]
        summary = {
            **dict(zip(fields, key, strict=True)),
            "mean": statistics.fmean(accuracies),
            "std": statistics.stdev(accuracies) if len(accuracies) > 1 else None,
            "n": len(accuracies),
            "min": min(accuracies),
            "max": max(accuracies),
            "accuracies": accuracies,
        }
        for column, tag in WINDOW_COLUMNS.items():  # mean over the runs that measured it
            values = [row["diagnostics"][tag] for row in group if row.get("diagnostics")]
            summary[column] = statistics.fmean(values) if values else None
        summaries.append(summary)
    return fields, summaries


def markdown_table(fields, summaries):
    def percent(value):
        return "" if value is None else f"{100 * value:.1f}"

    windows = [c for c in WINDOW_COLUMNS if any(s[c] is not None for s in summaries)]
    header = [*fields, "mean %", "std", "n", "min %", "max %", *(f"{c} %" for c in windows)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for s in summaries:
        cells = [_value_name(s[f]) for f in fields]
        cells += [percent(s["mean"]), percent(s["std"]), str(s["n"]), percent(s["min"])]
        cells += [percent(s["max"]), *(percent(s[c]) for c in windows)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_csv(path, rows, fields):
    """One row per run: the varying fields, RUN_COLUMNS and the final pool-window fractions."""
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([*fields, *RUN_COLUMNS, *WINDOW_COLUMNS])
        for row in rows:
            config = row["config"]
            measured = row.get("diagnostics") or {}
            writer.writerow(
                [_value_name(config[n]) for n in fields]
                + [row["run"], config["seed"]]
                + [row.get(c) for c in RUN_COLUMNS[2:]]
                + [measured.get(tag) for tag in WINDOW_COLUMNS.values()]
            )


def plot(path, fields, summaries, title):
    """Test accuracy per config: a point per seed and the mean as a bar."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = ["\n".join(f"{f}={_value_name(s[f])}" for f in fields) or "all" for s in summaries]
    figure, axis = plt.subplots(figsize=(max(4, 1.6 * len(summaries)), 4.5))
    positions = range(len(summaries))
    axis.bar(positions, [100 * s["mean"] for s in summaries], color="#c6dbef", label="mean")
    for position, summary in zip(positions, summaries, strict=True):
        axis.scatter(
            [position] * summary["n"],
            [100 * a for a in summary["accuracies"]],
            color="#08519c",
            zorder=3,
            s=18,
        )
    axis.set_xticks(list(positions), labels, fontsize=7)
    axis.set_ylabel("test accuracy, averaged weights (%)")
    axis.set_ylim(0, 100)
    axis.set_title(title, fontsize=9)
    axis.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def report_scale(sweep_dir, rows, fields):
    """scale.md and scale.png, and each run's position as `scale/position` for HParams.

    Returns the scale table, a one-line reason when the scale is degenerate, or "" when the
    sweep does not vary an activation between linear and relu.
    """
    field = scale.scale_field(fields, rows)
    if field is None:
        return ""
    try:
        entries = scale.positions(rows, field, fields)
    except scale.DegenerateScale as error:
        (sweep_dir / "scale.md").write_text(f"{error}\n")
        return f"\nactivation scale: {error}\n"
    table = scale.markdown(entries, field)
    (sweep_dir / "scale.md").write_text(table)
    scale.plot(
        sweep_dir / "scale.png", entries, f"{sweep_dir.name}: {field} between linear and relu"
    )
    ends = {}
    for e in entries:
        ends.setdefault(json.dumps(e["context"], sort_keys=True), {})[e["activation"]] = e
    for row in rows:
        context = {f: row["config"][f] for f in fields if f != field}
        end = ends.get(json.dumps(context, sort_keys=True))
        if end is None:
            continue
        nothing, relu = end[scale.NOTHING]["accuracy"], end[scale.RELU]["accuracy"]
        with tf.summary.create_file_writer(str(sweep_dir / row["run"])).as_default():
            position = (row["test_accuracy"] - nothing) / (relu - nothing)
            tf.summary.scalar(SCALE_TAG, position, step=row["global_step"])
    return "\n" + table


def report(sweep_dir):
    """Writes results.csv, results.md and results.png (and the activation scale, when swept)
    under sweep_dir; returns the tables."""
    sweep_dir = Path(sweep_dir)
    rows = collect(sweep_dir)
    fields, summaries = summarize(rows)
    write_csv(sweep_dir / "results.csv", rows, fields)
    table = markdown_table(fields, summaries)
    (sweep_dir / "results.md").write_text(table)
    plot(sweep_dir / "results.png", fields, summaries, f"{sweep_dir.name}: {len(rows)} runs")
    return table + report_scale(sweep_dir, rows, fields)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    cli.quiet_info_logs()
    sweep_dir = FLAGS.log_dir or DEFAULT_SWEEP_DIR
    try:
        if not FLAGS.report_only:
            runs = expand(parse_sweep(grid_specs()), FLAGS.seeds, sweep_dir)
            trained, skipped, errors = run_sweep(
                runs, sweep_dir, FLAGS.shard_index, FLAGS.num_shards, FLAGS.parallel
            )
            print(f"trained {len(trained)}, already finished {len(skipped)}, failed {len(errors)}")
            for error in errors:
                print(f"failed: {error}", file=sys.stderr)
        table = report(sweep_dir)
    except (ValueError, train.DiskFull) as error:
        sys.exit(f"error: {error}")
    except train.Interrupted as stopped:
        print(stopped, file=sys.stderr)
        sys.exit(train.EXIT_INTERRUPTED)
    print(table, end="")
    if not FLAGS.report_only and errors:
        sys.exit(1)


def run_main():
    app.run(main)


if __name__ == "__main__":
    run_main()
