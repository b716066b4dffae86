"""Choosing a flag's value per config on validation data (--select), before the seeds train.

    plan = Plan("learning_rate", [0.01, 0.02, 0.04], max_steps=5000, validation_examples=5000)
    trials = plan.runs(axes, base, sweep_dir)     # every config at every value, on validation
    choices = choose(plan, trials)                # reads validation accuracy, never test
    write(sweep_dir, plan, choices)               # selection.json, selection.csv, selection.md
    runs = apply(plan, runs, choices)             # the grid's seeds at each config's choice

Each config of the grid (a point of its swept flags) trains at each value with `validation_examples`
training images held out, for `max_steps` steps (a shorter schedule than the seeds' may do:
say so where the result is reported), `seeds` seeds each, in `<sweep>/selection/`. The value
with the best mean validation accuracy over those seeds is the config's choice (ties: the
first value given); a value whose runs failed (diverged) is out. The seeds then train at the
chosen value with the base flags (by default on every training image).
"""

import dataclasses
import json
from pathlib import Path

from cifar10_ablation import config as config_lib
from cifar10_ablation import files, switches
from cifar10_ablation.reports import markdown
from cifar10_ablation.sweeps import grid

SELECTION_DIRNAME = "selection"
SELECTION_FILENAME = "selection.json"


@dataclasses.dataclass(frozen=True)
class Plan:
    """What --select chooses and how: the flag, its candidate values, the trial runs' length
    (0: the sweep's --max_steps), hold-out and seeds."""

    flag: str
    values: tuple
    max_steps: int = 0
    validation_examples: int = 5000
    seeds: int = 1

    def runs(self, axes, base, sweep_dir, recorded_csvs=()):
        """[(name, RunConfig, point)] of every trial: each grid point at each value and seed,
        on the validation split, under `sweep_dir`/selection (names as a sweep of both; a
        trial a `recorded_csvs` row holds keeps its name there: grid.expand)."""
        trial_base = {**base, "validation_examples": self.validation_examples}
        if self.max_steps:
            trial_base["max_steps"] = self.max_steps
        trial_axes = [*axes, (self.flag, list(self.values))]
        folder = Path(sweep_dir) / SELECTION_DIRNAME
        found = grid.expand(trial_axes, self.seeds, folder, trial_base, recorded_csvs)
        return [(name, config, point_of(config, axes)) for name, config in found]


def point_of(config, axes):
    """The grid point a config is at: its values of the swept flags, as run names write them
    (a swept conv_relu/fc_relu read back from the activation)."""
    values = config.to_dict()
    for group in switches.GROUPS:
        values[f"{group}_relu"] = switches.relu_flag(values[f"{group}_activation"])
    return tuple((name, switches.value_name(values[name])) for name, _ in axes)


def choose(plan, trials, recorded=None):
    """{point: {"value", "validation_accuracy", "by_value": {value: mean or None}}}.

    Reads each trial's validation_accuracy only: from its results.json, or from its row of a
    results CSV (`recorded`: {name: row}, grid.recorded_rows) for a trial the repo records.
    ValueError naming the trials not finished yet, or a config none of whose values finished.
    """
    by_point, missing = {}, []
    for name, config, point in trials:
        value = config.to_dict()[plan.flag]
        path = Path(config.log_dir) / config_lib.RESULTS_FILENAME
        scores = by_point.setdefault(point, {}).setdefault(value, [])
        row = (recorded or {}).get(name)
        if row is not None:
            if not row.get("validation_accuracy"):
                raise ValueError(
                    f"the recorded run {name} has no validation_accuracy: not a selection run"
                )
            scores.append(float(row["validation_accuracy"]))
            continue
        if not path.exists():
            missing.append(name)
            continue
        results = files.load_json(path)
        if results.get("global_step") != config.max_steps:
            missing.append(name)
        elif results.get("validation_accuracy") is None:
            raise ValueError(f"{path} has no validation_accuracy: not a selection run")
        else:
            scores.append(results["validation_accuracy"])
    if missing:
        raise ValueError(
            f"selection runs not finished: {', '.join(missing)}; run the sweep again (other "
            "shards' runs first, if it is split)"
        )
    choices = {}
    for point, scores in by_point.items():
        means = {v: (sum(s) / len(s) if s else None) for v, s in scores.items()}
        ranked = [v for v in plan.values if means.get(v) is not None]
        if not ranked:
            raise ValueError(f"no value of {plan.flag} finished for {_label(point)}")
        best = max(ranked, key=lambda v: means[v])  # max keeps the first of equals
        choices[point] = {
            "value": best,
            "validation_accuracy": means[best],
            "by_value": means,
        }
    return choices


def apply(plan, runs, choices, axes):
    """The grid's runs with the flag at each config's choice (validated again)."""
    chosen = []
    for name, config in runs:
        value = choices[point_of(config, axes)]["value"]
        chosen.append((name, config_lib.validate(config.replace(**{plan.flag: value}))))
    return chosen


def _label(point):
    return ", ".join(f"{k}={v}" for k, v in point) or "the base config"


def table(plan, choices):
    """Per config: the mean validation accuracy at each value, the chosen one in bold."""
    header = ["config", *(f"{plan.flag}={v}" for v in plan.values), "chosen"]
    rows = []
    for point, choice in choices.items():
        cells = []
        for value in plan.values:
            mean = choice["by_value"].get(value)
            text = "failed" if mean is None else markdown.percent(mean, 2)
            cells.append(f"**{text}**" if value == choice["value"] else text)
        rows.append([_label(point), *cells, str(choice["value"])])
    return markdown.table(header, rows) + "\n"


def chosen_flag(sweep_dir):
    """The flag this sweep chose per config (its selection.json), or None: every row of its
    results.csv records that flag, even where every config chose the same value."""
    path = Path(sweep_dir) / SELECTION_FILENAME
    return files.load_json(path)["plan"]["flag"] if path.exists() else None


def write(sweep_dir, plan, choices):
    """selection.json (the plan and each choice), selection.md (the table); returns the table."""
    text = table(plan, choices)
    heading = (
        f"Validation accuracy (%, averaged weights, mean over {plan.seeds} seed(s)) after "
        f"{plan.max_steps or 'the sweep'}'s steps with {plan.validation_examples:,} training "
        f"images held out; per config the best {plan.flag} is chosen.\n\n"
    )
    files.write_text_atomic(Path(sweep_dir) / "selection.md", heading + text)
    record = {
        "plan": dataclasses.asdict(plan),
        "choices": [
            {"config": dict(point), **{k: v for k, v in c.items() if k != "by_value"}}
            | {"by_value": {json.dumps(v): m for v, m in c["by_value"].items()}}
            for point, c in choices.items()
        ],
    }
    files.write_json_atomic(Path(sweep_dir) / SELECTION_FILENAME, record)
    return text
