"""TensorBoard's HParams table of a sweep folder: the table's columns, and each run's row.

The folder's HParams config names the columns (arch, dataset and schedule always, then the
fields varying among the folder's runs, then the seed) and the metrics; each run's hparams record
(written once per run, also across restarts: a marker file) its values: its switches and
grid.NAMED_SETTINGS always, so the rows of two sweeps under one TensorBoard folder (runs named
apart: grid.py) stay apart and each says what it ran. The activation scale's positions
(reports/scale.py) join as a metric.
"""

import dataclasses
import json
from pathlib import Path

import tensorflow as tf
from tensorboard.plugins.hparams import api as hp

from cifar10_ablation import config as config_lib
from cifar10_ablation import switches
from cifar10_ablation.reports import scale
from cifar10_ablation.sweeps import grid

# The switches and NAMED_SETTINGS are in every run's hparams, varied or not: a later sweep on the
# same folder (or beside it) may vary them, and TensorBoard shows a run's first hparams record only.
HPARAMS_MARKER = "hparams.written"
# Columns of every table, varied or not: TensorBoard shows one folder's table (the first it finds)
# for every sweep under its --logdir, so what net, on what data, with which schedule is always one.
ALWAYS_COLUMNS = ("arch", "dataset", "schedule")


def _hparam_value(value):
    """A value the HParams table takes: a list of stages as run names and CSVs write it
    ("linear+linear+relu"), other non-scalars as JSON."""
    if isinstance(value, list | tuple):
        return switches.value_name(value)
    return value if isinstance(value, bool | int | float | str) else json.dumps(value)


def write_run_hparams(config, fields):
    """The run's row in the HParams table: its switches, NAMED_SETTINGS, the sweep's varying
    fields and the seed; once per run (a marker file), also across restarts."""
    run_dir = Path(config.log_dir)
    marker = run_dir / HPARAMS_MARKER
    if marker.exists():
        return
    always = list(dict.fromkeys([*switches.SWITCH_DEFAULTS, *grid.NAMED_SETTINGS]))
    names = [*always, *(f for f in fields if f not in always), "seed"]
    with tf.summary.create_file_writer(str(run_dir)).as_default():
        flat = config.to_dict()
        hp.hparams({n: _hparam_value(flat[n]) for n in names}, trial_id=run_dir.name)
    marker.touch()


def write_hparams_config(sweep_dir, configs):
    """The HParams plugin's table: ALWAYS_COLUMNS, the varying fields (returned) and the seed,
    with test accuracy.

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
        hp.HParam(name, hp.Discrete(sorted({_hparam_value(c.to_dict()[name]) for c in configs})))
        for name in dict.fromkeys([*ALWAYS_COLUMNS, *fields, "seed"])
    ]
    metrics = [
        hp.Metric("test/accuracy", display_name="test accuracy (averaged)"),
        hp.Metric("test/accuracy_raw", display_name="test accuracy (raw)"),
    ]
    if any(c.validation_examples for c in configs):
        metrics.append(hp.Metric("validation/accuracy", display_name="validation accuracy"))
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


def write_scale_positions(sweep_dir, positions):
    """Each run's activation-scale position ({run: (step, position)}, scale.write) as SCALE_TAG."""
    for run, (step, position) in positions.items():
        with tf.summary.create_file_writer(str(Path(sweep_dir) / run)).as_default():
            tf.summary.scalar(scale.SCALE_TAG, position, step=step)
