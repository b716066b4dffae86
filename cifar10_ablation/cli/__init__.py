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

from absl import flags

from cifar10_ablation import config as config_lib
from cifar10_ablation import switches
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
    """The RunConfig the parsed training flags describe (config.from_flag_values)."""
    return config_lib.from_flag_values(train_values(flag_values))


def sweep_parsers(flag_values=FLAGS):
    """{training flag a sweep may vary: its parser}, for grid.parse."""
    names = train_flag_names(flag_values)
    return {name: flag_values[name].parser.parse for name in names if name not in NOT_SWEPT}


def grid_axes(flag_values=FLAGS):
    """The sweep's [(flag, [values])] from --sweep and --preset (grid.py)."""
    fv = flag_values
    return grid.parse(grid.specs(fv.sweep, fv.preset, fv.activations), sweep_parsers(fv))


def grid_runs(flag_values=FLAGS):
    """The sweep's [(run name, RunConfig)] from its parsed flags (grid.py), all validated."""
    fv = flag_values
    return grid.expand(grid_axes(fv), fv.seeds, fv.log_dir, train_values(fv), fv.recorded)


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
    return plan, plan.runs(axes, train_values(fv), fv.log_dir)
