"""A sweep's grid: `--sweep=FLAG=V1,V2,...` specs into one validated RunConfig per run.

    axes = parse(["pool=max,avg", "conv_relu=true,false"], parsers)
    runs = expand(axes, seeds=3, sweep_dir="tensorboard_logs/grid", base=base)
    # [("pool-max_conv_relu-true_seed0", RunConfig), ...], a fixed order

The grid is the product of the axes times the seeds base["seed"], base["seed"] + 1, ...; every
other training flag keeps its value in `base` (the parsed flags' {flag: value}, passed in by
the sweep's command line: nothing here reads flags). Each run is named by its swept values
(switches.run_name), so a sweep's run directories keep their names between versions, and a
point already run under its swept flags in another order keeps that run's name.
"""

import csv
import itertools
from pathlib import Path

from cifar10_ablation import config as config_lib
from cifar10_ablation import switches

DEFAULT_GRID = ("conv_relu=true,false", "fc_relu=true,false", "pool=max,avg")


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

    A point that a folder of sweep_dir or a row of `recorded_csvs` already holds under its swept
    flags in another order (the same --sweep flags given in another order) keeps that name, so
    the run is skipped or resumed rather than trained again in a second folder.
    """
    taken = sorted(_taken_names(sweep_dir, recorded_csvs))
    runs = []
    for values in itertools.product(*(v for _, v in axes)):
        point = dict(zip((n for n, _ in axes), values, strict=True))
        tokens = frozenset(switches.name_tokens(point))
        for seed in range(base["seed"], base["seed"] + seeds):
            name = switches.run_name(point, seed)
            if name not in taken:
                name = next((t for t in taken if _reordered(t, tokens, seed)), name)
            overrides = {**point, "seed": seed, "log_dir": str(Path(sweep_dir) / name)}
            try:
                runs.append((name, config_lib.from_flag_values(with_point(base, overrides))))
            except ValueError as error:
                raise ValueError(f"grid point {name}: {error}") from None
    if any(config.distribution == "multi_worker" for _, config in runs):
        raise ValueError(
            "distribution=multi_worker is for one run: split a sweep over machines with "
            "--shard_index/--num_shards instead (whole runs per machine, no step waits on "
            "the network); mirrored and auto pass through"
        )
    return runs


def recorded(runs, csv_path, fields=()):
    """The names of `runs` a results CSV (a sweep's results.csv, or one committed under docs/)
    holds a row for at the run's max_steps and with its switches: a sweep laid anew on another
    machine skips them instead of training again what the repo already records. ValueError on
    a bad CSV. `fields` (e.g. a --select flag) must also be a column with the run's value."""
    rows = _results_rows(csv_path)
    found = set()
    for name, config in runs:
        wanted = {"run": name, "global_step": str(config.max_steps)}
        flat = config.to_dict()
        wanted |= {k: switches.value_name(flat[k]) for k in switches.SWITCH_DEFAULTS}
        defaults = {k: switches.value_name(v) for k, v in switches.SWITCH_DEFAULTS.items()}
        required = {k: switches.value_name(flat[k]) for k in fields}
        if any(
            all(row.get(k, defaults.get(k, v)) == v for k, v in wanted.items())
            and all(row.get(k) == v for k, v in required.items())
            for row in rows
        ):
            found.add(name)
    return found


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


def _taken_names(sweep_dir, csv_paths):
    """The run names the sweep's folder and the recorded CSVs already hold."""
    folder = Path(sweep_dir)
    try:
        names = {p.name for p in folder.iterdir() if p.is_dir()} if folder.is_dir() else set()
    except OSError as error:
        raise ValueError(f"--log_dir={sweep_dir}: {error.strerror}") from None
    return names | {row["run"] for path in csv_paths for row in _results_rows(path)}


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
