"""Every command-line flag, defined and read here: per command line, its groups of flags.

- define: the helper every group defines its flags with, and the defaults they show
- training, sweep: the groups of a training run (and eval), and the sweep's own

    console.run(main, cli.TRAIN, __doc__)  # an entry point: defines its flags, parses, main()
    config = cli.train_config()            # in main: the parsed training flags as a RunConfig

Each command line (train, eval, sweep) defines only its own flags, in the groups of the
README's flag tables, which is how `--help` lists them (console.py). Importing this module
defines nothing, so the library (which never reads flags) can be imported by any of them;
`train_config` turns the flags into the validated RunConfig that is passed down.
"""

import dataclasses

from absl import flags

from cifar10_ablation import config as config_lib
from cifar10_ablation import schedules, switches
from cifar10_ablation.cli import sweep, training
from cifar10_ablation.sweeps import grid, select

FLAGS = flags.FLAGS
DEFAULT_SWEEP_DIR = sweep.DEFAULT_SWEEP_DIR


# Per command line, its flag groups in help order: (title, defines them). The README's tables.
_TRAINING = (
    ("model", training.model),
    ("data", training.data),
    ("schedule", training.schedule),
    ("output", training.run_output),
    ("speed", training.speed),
    ("devices", training.devices),
    ("diagnostics", training.diagnostics),
)
TRAIN = _TRAINING
SWEEP = (("sweep", sweep.sweep), *_TRAINING[:3], ("output", sweep.sweep_output), *_TRAINING[4:])
EVAL = (("run", training.eval),)
# Training flags a sweep does not vary: where runs live, what they read, the seed (--seeds).
NOT_SWEPT = ("log_dir", "data_dir", "seed")


def train_flag_names(flag_values=FLAGS):
    """The training flags defined, in definition order: RunConfig's fields and the groups' ReLU
    bools (what `train_config` reads and a sweep may vary)."""
    names = set(config_lib.FIELDS)
    names |= {f"{group}_relu" for group in switches.GROUPS}
    return [name for name in flag_values if name in names]


def train_values(flag_values=FLAGS):
    """{training flag: parsed value}: the base of a run (or of every grid point)."""
    return {name: flag_values[name].value for name in train_flag_names(flag_values)}


def train_config(flag_values=FLAGS):
    """The RunConfig the parsed training flags describe (config.from_flag_values), reading its
    dataset's folder of a per-dataset --data_dir, a short run's intervals scaled (_short_runs)."""
    config = config_lib.from_flag_values(train_values(flag_values))
    return _short_runs(_with_data_dirs([config], flag_values.data_dir), flag_values)[0]


def sweep_parsers(flag_values=FLAGS):
    """{training flag a sweep may vary: its parser}, for grid.parse."""
    names = train_flag_names(flag_values)
    return {name: flag_values[name].parser.parse for name in names if name not in NOT_SWEPT}


def grid_axes(flag_values=FLAGS):
    """The sweep's [(flag, [values])] from --sweep and --preset (grid.py)."""
    fv = flag_values
    return grid.parse(grid.specs(fv.sweep, fv.preset, fv.activations), sweep_parsers(fv))


def grid_runs(flag_values=FLAGS):
    """The sweep's [(run name, RunConfig)] from its parsed flags (grid.py), all validated: each
    with its dataset's folder of --data_dir, whose data is there (data.check), before any runs;
    a short run's intervals scaled (_short_runs)."""
    fv = flag_values
    axes = grid_axes(fv)
    runs = grid.expand(axes, fv.seeds, fv.log_dir, train_values(fv), fv.recorded)
    configs = _checked_data(_with_data_dirs([c for _, c in runs], fv.data_dir))
    configs = _short_runs(configs, fv, swept=dict(axes))
    return [(name, config) for (name, _), config in zip(runs, configs, strict=True)]


def selection(flag_values=FLAGS):
    """--select's (select.Plan, its trial runs), validated; (None, []) without --select."""
    fv = flag_values
    if not fv.select:
        return None, []
    ((flag, values),) = grid.parse([fv.select], sweep_parsers(fv), "--select")
    axes = grid_axes(fv)
    if flag in dict(axes) or flag in ("validation_examples", "max_steps"):
        raise ValueError(f"--select={fv.select}: {flag} is swept or set by the selection itself")
    plan = select.Plan(
        flag, tuple(values), fv.select_max_steps, fv.select_validation_examples, fv.select_seeds
    )
    trials = plan.runs(axes, train_values(fv), fv.log_dir, fv.recorded)
    configs = _checked_data(_with_data_dirs([c for _, c, _ in trials], fv.data_dir))
    configs = _short_runs(configs, fv, swept=dict(axes))
    return plan, [(n, c, p) for (n, _, p), c in zip(trials, configs, strict=True)]


def _with_data_dirs(configs, data_dir):
    """The configs, each with its dataset's folder of --data_dir (training.data_dirs)."""
    folders = training.data_dirs(data_dir)
    return [c.replace(data_dir=training.data_dir_of(folders, c.dataset)) for c in configs]


def _checked_data(configs):
    """The configs once each (dataset, folder) they read holds that dataset (data.check,
    cheap: no decoding); ValueError naming the first that does not. Plain Python: the sweep
    checks its whole grid before TensorFlow loads and before the first run."""
    from cifar10_ablation import data  # imports no TensorFlow

    for dataset, folder in dict.fromkeys((c.dataset, c.data_dir) for c in configs):
        try:
            data.check(dataset, folder)
        except data.DataError as error:
            raise ValueError(f"dataset={dataset}: {error}") from None
    return configs


def _short_runs(configs, flag_values, swept=()):
    """The configs with a short run's intervals scaled (config.short_run_intervals): those the
    command line left unset, or set longer than the run (a preset's, with a shorter
    --max_steps). Prints each distinct note once (config.short_run_note): here, where the
    configs are made from flags, so that train and sweep say it before TensorFlow loads."""
    chosen = {n for n in schedules.SHORT_RUN_MINIMUMS if flag_values[n].present} | set(swept)
    for note in dict.fromkeys(schedules.short_run_note(c, chosen) for c in configs):
        if note:
            print(note, flush=True)
    return [dataclasses.replace(c, **schedules.short_run_intervals(c, chosen)) for c in configs]
