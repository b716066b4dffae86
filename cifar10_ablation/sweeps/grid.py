"""A sweep's grid: `--sweep=FLAG=V1,V2,...` specs into one validated RunConfig per run.

    axes = parse(["pool=max,avg", "conv_relu=true,false"], parsers)
    runs = expand(axes, seeds=3, sweep_dir="tensorboard_logs/grid", base=base)
    # [("pool-max_conv_relu-true_seed0", RunConfig), ...], a fixed order

The grid is the product of the axes times the seeds base["seed"], base["seed"] + 1, ...; every
other training flag keeps its value in `base` (the parsed flags' {flag: value}, passed in by
the sweep's command line: nothing here reads flags). Each run is named (switches.run_name) by
the settings that tell runs apart set away from their defaults (arch, dataset, schedule, ...:
name_settings), then its swept values, then the seed:

    --dataset=mnist --sweep=conv_activation=gelu,relu  -> dataset-mnist_conv_activation-gelu_seed0

so two sweeps under one TensorBoard folder never share a run name (nor an HParams row). A grid
at the defaults is named by its swept values alone, as before those settings joined the names.
A point already run under another name keeps that run's name, so nothing trains twice: its
tokens in another order (the same --sweep flags given in another order), or its swept values
alone (named before the settings joined the names) when the run's config.json or CSV row has
the same settings.
"""

import csv
import dataclasses
import itertools
import json
from pathlib import Path

from cifar10_ablation import config as config_lib
from cifar10_ablation import switches

DEFAULT_GRID = ("conv_relu=true,false", "fc_relu=true,false", "pool=max,avg")
# Settings beside the swept flags that tell runs apart (data, net, schedule): a sweep's run name
# carries those away from their defaults ahead of the swept flags (name_settings), and every
# run's HParams row holds them all (sweeps/hparams.py), so two sweeps under one TensorBoard
# folder never share a name or a row. The ResNet switches not in a run name's switch flags
# (downsample, stage_activations) are among them.
NAMED_SETTINGS = (
    "arch",
    "dataset",
    "augmentation",
    "validation_examples",
    "downsample",
    "stage_activations",
    "schedule",
)


def specs(sweep=None, preset=None, activations=()):
    """The --sweep specs, with the preset's axis first; the default grid when none is given."""
    found = list(sweep or [])
    if preset == "activation_scale":
        found.insert(0, f"conv_activation={','.join(activations)}")
    return found or list(DEFAULT_GRID)


def parse(specs, parsers, option="--sweep"):
    """[(flag name, [parsed values])] from 'name=v1,v2' strings; ValueError on a bad one.

    `parsers` maps each flag a sweep may vary to its parser (a string -> its value).
    """
    axes = []
    for spec in specs:
        name, sep, values = spec.partition("=")
        if not sep or not values:
            raise ValueError(f"{option}={spec!r} must look like FLAG=V1,V2,...")
        if name == "seed":  # expand() sets it per run: a swept one would be overwritten
            raise ValueError(f"{option}={spec!r}: the seeds are --seed and --seeds, not an axis")
        if name not in parsers:
            raise ValueError(
                f"{option}={spec!r}: {name!r} is not a training flag a sweep can "
                f"vary; allowed: {', '.join(parsers)}"
            )
        if name in dict(axes):
            raise ValueError(f"{option} names {name!r} twice")
        try:
            parsed = [parsers[name](value) for value in values.split(",")]
        except ValueError as error:
            raise ValueError(f"{option}={spec!r}: {error}") from None
        axes.append((name, parsed))
    return axes


def with_point(base, point):
    """`base` with a grid point's values; setting one of a group's two switches (`conv_relu`,
    `conv_activation`) clears the other, so the point's one wins over the base's."""
    values = dict(base)
    for name, value in point.items():
        for group in switches.GROUPS:
            pair = (f"{group}_relu", f"{group}_activation")
            if name in pair:
                values[pair[1 - pair.index(name)]] = None
        values[name] = value
    return values


def expand(axes, seeds, sweep_dir, base, recorded_csvs=()):
    """Every (run name, RunConfig) of the grid, in a fixed order; validated before anything runs.

    A point that a folder of sweep_dir or a row of `recorded_csvs` already holds under another
    name (_known_name) keeps that name, so the run is skipped or resumed rather than trained
    again in a second folder.
    """
    rows = [row for path in recorded_csvs for row in _results_rows(path)]
    taken = _taken(sweep_dir, rows)
    runs = []
    for values in itertools.product(*(v for _, v in axes)):
        point = dict(zip((n for n, _ in axes), values, strict=True))
        for seed in range(base["seed"], base["seed"] + seeds):
            label = switches.run_name(point, seed)
            overrides = {**point, "seed": seed, "log_dir": str(Path(sweep_dir) / label)}
            try:
                config = config_lib.from_flag_values(with_point(base, overrides))
            except ValueError as error:
                raise ValueError(f"grid point {label}: {error}") from None
            name = _known_name(config, point, taken, rows)
            runs.append((name, dataclasses.replace(config, log_dir=str(Path(sweep_dir) / name))))
    if any(config.distribution == "multi_worker" for _, config in runs):
        raise ValueError(
            "distribution=multi_worker is for one run: split a sweep over machines with "
            "--shard_index/--num_shards instead (whole runs per machine, no step waits on "
            "the network); mirrored and auto pass through"
        )
    return runs


def _known_name(config, point, taken, rows):
    """The run name of `config` at grid `point`: its settings and swept values (switches.run_name),
    or a name `taken` ({name: settings known of it}) holds the same run under: those tokens in
    another order, or the swept values alone (the names before the settings joined them) where
    its known settings are the config's. A name whose recorded row (`rows`) is this run finished
    comes first, so a partial folder under another of its names does not hide that row and
    train the run again."""
    settings = name_settings(config, point)
    name = switches.run_name({**settings, **point}, config.seed)
    tokens = frozenset(switches.name_tokens({**settings, **point}))
    swept_only = frozenset(switches.name_tokens(point))
    known = [
        *([name] if name in taken else []),
        *(t for t in sorted(taken) if t != name and _reordered(t, tokens, config.seed)),
        *(
            t
            for t in sorted(taken)
            if settings
            and _reordered(t, swept_only, config.seed)
            and _same_settings(taken[t], config)
        ),
    ]
    finished = [t for t in known if _row_of(t, config, rows) is not None]
    return (finished or known or [name])[0]


def _same_settings(known, config):
    """Whether one of `known` ([{setting: value as run names write it}]) fits config: every
    setting it knows has the config's value (a CSV row knows only the columns it has)."""
    flat = config.to_dict()
    return any(
        all(value == switches.value_name(flat[k]) for k, value in settings.items())
        for settings in known
    )


def recorded_rows(runs, csv_path, fields=()):
    """{name: its row} of `runs` a results CSV (a sweep's results.csv, or one committed under
    docs/) holds a row for at the run's max_steps and with its switches (_row_of): a sweep laid
    anew on another machine skips them instead of training again what the repo already
    records, and a selection reads a recorded trial's validation accuracy there. ValueError on
    a bad CSV. `fields` (e.g. a --select flag) must also be a column with the run's value."""
    rows = _results_rows(csv_path)
    found = {name: _row_of(name, config, rows, fields) for name, config in runs}
    return {name: row for name, row in found.items() if row is not None}


def _row_of(name, config, rows, fields=()):
    """The first of `rows` that records run `name` of `config` finished: its name, its
    max_steps, its switches (a column a CSV lacks at its default), the NAMED_SETTINGS columns
    it has, and `fields` as columns with the run's values; None if none does."""
    flat = config.to_dict()
    wanted = {"run": name, "global_step": str(config.max_steps)}
    wanted |= {k: switches.value_name(flat[k]) for k in switches.SWITCH_DEFAULTS}
    # arch, dataset, schedule, ...: matched where the CSV has the column (varied there)
    wanted |= {k: switches.value_name(flat[k]) for k in NAMED_SETTINGS}
    defaults = {k: switches.value_name(v) for k, v in switches.SWITCH_DEFAULTS.items()}
    required = {k: switches.value_name(flat[k]) for k in fields}
    return next(
        (
            row
            for row in rows
            if all(row.get(k, defaults.get(k, v)) == v for k, v in wanted.items())
            and all(row.get(k) == v for k, v in required.items())
        ),
        None,
    )


def _results_rows(csv_path):
    """The rows of a results CSV given to --recorded; ValueError if missing or not one."""
    try:
        with open(csv_path, newline="") as file:
            rows = list(csv.DictReader(file))
    except OSError as error:
        raise ValueError(f"--recorded={csv_path}: {error.strerror}") from None
    if rows and not {"run", "global_step"} <= rows[0].keys():
        raise ValueError(f"--recorded={csv_path}: not a results CSV (needs run, global_step)")
    return rows


def _taken(sweep_dir, rows):
    """{run name: [the settings known of it]} of the sweep folder's runs and the recorded CSVs'
    `rows`. A folder's settings are its config.json's (fields it lacks at their defaults, as
    RunConfig loads it; none known without one), a row's the NAMED_SETTINGS columns it has."""
    folder = Path(sweep_dir)
    try:
        folders = [p for p in folder.iterdir() if p.is_dir()] if folder.is_dir() else []
    except OSError as error:
        raise ValueError(f"--log_dir={sweep_dir}: {error.strerror}") from None
    taken = {}
    for path in folders:
        taken.setdefault(path.name, []).append(_saved_settings(path))
    for row in rows:
        known = {k: row[k] for k in NAMED_SETTINGS if k in row}
        taken.setdefault(row["run"], []).append(known)
    return taken


def _saved_settings(run_dir):
    """The NAMED_SETTINGS of a run directory's config.json as run names write them; {} (nothing
    known) when it has none or it is unreadable."""
    try:
        saved = json.loads((run_dir / config_lib.CONFIG_FILENAME).read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(saved, dict):
        return {}
    defaults = config_lib.RunConfig().to_dict()
    return {k: switches.value_name(saved.get(k, defaults[k])) for k in NAMED_SETTINGS}


def _reordered(name, tokens, seed):
    """Whether `name` is run_name's `<flag>-<value>` tokens, in any order, then `seed<N>`."""
    body, _, last = name.rpartition("_")
    return last == f"seed{seed}" and _joins(body, tokens)


def _joins(text, tokens):
    """Whether `text` is every one of `tokens` joined by "_" in some order (a flag's name and
    value may hold "_" themselves, so the name is matched against the tokens, not split)."""
    if len(tokens) <= 1:
        return text == "".join(tokens)
    return any(
        text.startswith(f"{t}_") and _joins(text[len(t) + 1 :], tokens - {t}) for t in tokens
    )


def name_settings(config, swept):
    """{setting: value} of NAMED_SETTINGS away from their defaults and not in `swept` (the
    swept flags, which a sweep's run name holds anyway), in NAMED_SETTINGS order: what a
    sweep's run name carries ahead of its swept flags. The defaults add nothing, so a grid
    on the tutorial net, CIFAR-10 and its schedule keeps the names it always had."""
    flat, defaults = config.to_dict(), config_lib.RunConfig().to_dict()
    return {
        name: flat[name]
        for name in NAMED_SETTINGS
        if name not in swept and flat[name] != defaults[name]
    }
