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
report.py sums up every results.json under --log_dir (results.csv, summary.json, results.md,
results.png) and the table is printed. `--report_only --log_dir=docs` instead regenerates the
project's docs from the CSVs committed there (docs.py).
"""

import dataclasses
import itertools
import json
import multiprocessing
import os
import signal
import sys
import time
from pathlib import Path

import keras
import tensorflow as tf
from absl import app, flags
from tensorboard.plugins.hparams import api as hp

from cifar10_ablation import cli, docs, report, runlock, scale, train
from cifar10_ablation import config as config_lib

DEFAULT_GRID = ("conv_relu=true,false", "fc_relu=true,false", "pool=max,avg")
DEFAULT_SWEEP_DIR = "tensorboard_logs/sweep"
SWEEP_FILENAME = "sweep.json"
LOCK_POLL_SECONDS = 2  # between looks at the runs another process is training

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
    # Compared as runs save them (schedule defaults filled, replicas counted), so that a new
    # grid's unset fields (None) are not a "varying" field against the saved runs' values.
    configs = [dataclasses.replace(c.resolved(), replicas=c.replicas or 1) for c in configs]
    fields = config_lib.varying_fields(configs)
    hparams = [
        hp.HParam(name, hp.Discrete(sorted({_hparam_value(getattr(c, name)) for c in configs})))
        for name in fields + ["seed"]
    ]
    metrics = [
        hp.Metric("test/accuracy", display_name="test accuracy (averaged)"),
        hp.Metric("test/accuracy_raw", display_name="test accuracy (raw)"),
    ]
    if set(scale.SCALE_FIELDS) & set(fields):  # written by scale.write
        metrics.append(hp.Metric(scale.SCALE_TAG, display_name="scale position (0 linear, 1 relu)"))
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
        if FLAGS.report_only and docs.is_docs_dir(sweep_dir):
            table = docs.write_docs(sweep_dir)
        else:
            table = report.report(sweep_dir)
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
