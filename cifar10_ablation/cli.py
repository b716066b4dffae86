"""Every command-line flag, defined and read here: per command line, its groups of flags.

    console.run(main, cli.TRAIN, __doc__)  # an entry point: defines its flags, parses, main()
    config = cli.train_config()            # in main: the parsed training flags as a RunConfig

Each command line (train, eval, sweep) defines only its own flags, in the groups of the
README's flag tables, which is how `--help` lists them (console.py). Importing this module
defines nothing, so the library (which never reads flags) can be imported by any of them;
`train_config` turns the flags into the validated RunConfig that is passed down.
"""

import dataclasses
import functools

from absl import flags

from cifar10_ablation import config as config_lib
from cifar10_ablation import grid, switches

FLAGS = flags.FLAGS
DEFAULTS = config_lib.RunConfig()
DEFAULT_SWEEP_DIR = "tensorboard_logs/sweep"


class _Define:
    """define.<kind>(...) is flags.DEFINE_<kind>(..., flag_values=fv): a group's flags all go
    into one FlagValues (the global FLAGS, or a test's own)."""

    def __init__(self, fv):
        self.fv = fv

    def __getattr__(self, kind):
        return functools.partial(getattr(flags, f"DEFINE_{kind}"), flag_values=self.fv)


def _model(fv):
    define = _Define(fv)
    define.enum(
        "arch",
        DEFAULTS.arch,
        switches.ARCHS,
        "tutorial: the tutorial net; vgg, resnet20, linear: see nets.py. A switch an arch lacks "
        "must keep its default.",
    )
    define.boolean(
        "conv_relu", None, "ReLU after conv1/conv2, or every conv (default true); false = linear."
    )
    define.boolean(
        "fc_relu", None, "ReLU after local3/local4 (vgg: fc1/fc2) (default true); false = linear."
    )
    define.enum(
        "conv_activation",
        None,
        switches.ACTIVATIONS,
        "Activation after conv1/conv2 instead of --conv_relu (giving both is an error).",
    )
    define.enum(
        "fc_activation",
        None,
        switches.ACTIVATIONS,
        "Activation after local3/local4 instead of --fc_relu (giving both is an error).",
    )
    define.enum(
        "pool",
        DEFAULTS.pool,
        switches.POOLS,
        f"pool1/pool2: {switches.POOL_SIZE}x{switches.POOL_SIZE}, stride {switches.POOL_STRIDE}, "
        "SAME (vgg: every 2x2 pool; resnet20: the global pool).",
    )
    define.boolean(
        "lrn", DEFAULTS.lrn, "Keep the tutorial net's local response normalizations norm1/norm2."
    )
    pieces = "Linear pieces per unit of a 'maxout' activation."
    define.integer("maxout_pieces", DEFAULTS.maxout_pieces, pieces, lower_bound=2)


def _data(fv):
    define = _Define(fv)
    define.enum(
        "dataset", DEFAULTS.dataset, list(config_lib.DATASETS), "cifar10, or mnist (see mnist.py)."
    )
    define.string(
        "data_dir",
        DEFAULTS.data_dir,
        "Folder with cifar-10-binary.tar.gz or cifar-10-batches-bin/ (mnist: the IDX files, "
        "e.g. train-images-idx3-ubyte.gz); otherwise tensorflow-datasets' data dir (downloads "
        "the dataset when online).",
    )
    define.integer("batch_size", DEFAULTS.batch_size, "Training batch size.", lower_bound=1)
    define.integer(
        "validation_examples",
        DEFAULTS.validation_examples,
        "Training images held out, class-balanced and the same for every seed and config, and "
        "evaluated every --eval_every steps; the test set is then evaluated once, at the end. "
        "0: train on all (the tutorial's protocol).",
    )


def _by_schedule(name):
    """'tutorial X, fast Y': the value each schedule gives an unset flag (SCHEDULE_DEFAULTS)."""
    return ", ".join(f"{s} {v[name]:g}" for s, v in config_lib.SCHEDULE_DEFAULTS.items())


def _schedule(fv):
    define = _Define(fv)
    define.enum(
        "schedule",
        DEFAULTS.schedule,
        config_lib.SCHEDULES,
        f"tutorial: SGD, lr x{DEFAULTS.lr_decay_factor} every {DEFAULTS.epochs_per_decay:g} "
        "epochs. fast: SGD+Nesterov momentum, linear warm-up then cosine to 0 at --decay_steps.",
    )
    define.integer("max_steps", DEFAULTS.max_steps, "Train until this global step.", lower_bound=0)
    define.float(
        "learning_rate",
        None,
        f"Initial (tutorial) or peak (fast) rate; default: {_by_schedule('learning_rate')}.",
        lower_bound=0,
    )
    define.float("momentum", None, f"SGD momentum; default: {_by_schedule('momentum')}.")
    define.integer(
        "warmup_steps",
        None,
        f"Linear warm-up steps; default: {_by_schedule('warmup_steps')}.",
        lower_bound=0,
    )
    define.integer(
        "decay_steps",
        DEFAULTS.decay_steps,
        "fast: step where the cosine reaches 0; 0 = --max_steps of the first start.",
        lower_bound=0,
    )
    define.float("lr_decay_factor", DEFAULTS.lr_decay_factor, "tutorial: staircase factor.")
    define.float(
        "epochs_per_decay",
        DEFAULTS.epochs_per_decay,
        "tutorial: epochs between learning-rate decays.",
    )
    define.float(
        "ema_decay",
        DEFAULTS.ema_decay,
        "Largest decay of the averaged weights (warm-up min(d, (1+n)/(10+n))).",
    )
    define.integer(
        "seed", DEFAULTS.seed, "Seeds the weights, data order and distortions.", lower_bound=0
    )


def _run_output(fv):
    define = _Define(fv)
    define.string(
        "log_dir",
        None,
        "Run directory (TensorBoard, checkpoints, results.json); default "
        f"{config_lib.DEFAULT_LOG_ROOT}/<name from the switches>.",
    )
    define.boolean(
        "overwrite", False, "Delete any run already in --log_dir (finished or not); start over."
    )
    _every_flags(fv)


def _every_flags(fv):
    define = _Define(fv)
    every = {
        "checkpoint_every": "Steps between checkpoints.",
        "keep_checkpoints": "Checkpoints kept on disk (the newest).",
        "eval_every": "Steps between test-set evaluations (and one at the end).",
        "summary_every": "Steps between train scalars and progress lines.",
        "histogram_every": "Steps between weight/activation histograms and sparsity.",
    }
    for name, text in every.items():
        define.integer(name, getattr(DEFAULTS, name), text, lower_bound=1)


def _speed(fv):
    define = _Define(fv)
    define.integer(
        "steps_per_execution",
        DEFAULTS.steps_per_execution,
        "Training steps per call into the TF graph.",
        lower_bound=1,
    )
    switches_of_speed = {
        "jit_compile": "Compile train and eval steps with XLA; default: with a GPU only.",
        "mixed_precision": "Compute in float16 (GPU, with loss scaling) or bfloat16 (CPU); "
        "weights stay float32.",
        "deterministic": "TF op determinism: identical losses step by step for one --seed.",
    }
    for name, text in switches_of_speed.items():
        define.boolean(name, getattr(DEFAULTS, name), text)


def _devices(fv):
    define = _Define(fv)
    define.enum(
        "distribution",
        DEFAULTS.distribution,
        config_lib.DISTRIBUTIONS,
        "auto: all GPUs of this machine (mirrored) when it has several, else one device; "
        "mirrored; multi_worker: the machines in TF_CONFIG. --batch_size is per replica.",
    )


def _diagnostics(fv):
    define = _Define(fv)
    define.boolean(
        "diagnostics",
        DEFAULTS.diagnostics,
        "Pool-window sign fractions and dead units at --histogram_every, and at the end the "
        "confusion matrix and per-class accuracy.",
    )


def _sweep(fv):
    define = _Define(fv)
    define.multi_string(
        "sweep",
        None,
        "FLAG=V1,V2,...: a training flag and its values; repeat for a product. Default: "
        + " ".join(grid.DEFAULT_GRID),
    )
    define.integer("seeds", 1, "Seeds per config: --seed, --seed+1, ...", lower_bound=1)
    define.enum(
        "preset",
        None,
        ["activation_scale"],
        "activation_scale: sweep --conv_activation over --activations (with flags/"
        "activation_scale.flags: FC activations linear, average pooling) and report each one's "
        "position between linear (0) and relu (1).",
    )
    define.list(
        "activations", list(switches.SCALE_ACTIVATIONS), "The activation_scale preset's set."
    )
    define.integer("shard_index", 0, "This machine's share of the grid.", lower_bound=0)
    define.integer("num_shards", 1, "Machines splitting the grid.", lower_bound=1)
    define.integer("parallel", 1, "Trainings at once (separate processes when > 1).", lower_bound=1)
    flags.register_multi_flags_validator(
        ["shard_index", "num_shards"],
        lambda values: values["shard_index"] < values["num_shards"],
        message="--shard_index must be below --num_shards",
        flag_values=fv,
    )


def _sweep_output(fv):
    define = _Define(fv)
    define.string(
        "log_dir",
        DEFAULT_SWEEP_DIR,
        "The sweep's folder: one run directory per grid point and seed under it, and the "
        "report (with --report_only --log_dir=docs: the project's docs).",
    )
    define.boolean(
        "report_only", False, "Only report the finished runs under --log_dir; train nothing."
    )
    define.multi_string(
        "recorded", [], "A results CSV: its runs (name, switches, --max_steps) count as done."
    )
    _every_flags(fv)


def _eval(fv):
    define = _Define(fv)
    define.string("log_dir", None, "Run directory written by cifar10_ablation.train.")
    define.string("checkpoint", None, "Checkpoint prefix to evaluate; default: the newest.")
    define.string("data_dir", None, "Data directory; default: the one the run trained on.")
    flags.mark_flag_as_required("log_dir", flag_values=fv)


# Per command line, its flag groups in help order: (title, defines them). The README's tables.
_TRAINING = (
    ("model", _model),
    ("data", _data),
    ("schedule", _schedule),
    ("output", _run_output),
    ("speed", _speed),
    ("devices", _devices),
    ("diagnostics", _diagnostics),
)
TRAIN = _TRAINING
SWEEP = (("sweep", _sweep), *_TRAINING[:3], ("output", _sweep_output), *_TRAINING[4:])
EVAL = (("run", _eval),)
# Training flags a sweep does not vary: where runs live, what they read, the seed (--seeds).
NOT_SWEPT = ("log_dir", "data_dir", "seed")


def train_flag_names(flag_values=FLAGS):
    """The training flags defined, in definition order: RunConfig's fields and the groups' ReLU
    bools (what `train_config` reads and a sweep may vary)."""
    names = {field.name for field in dataclasses.fields(config_lib.RunConfig)}
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


def grid_runs(flag_values=FLAGS):
    """The sweep's [(run name, RunConfig)] from its parsed flags (grid.py), all validated."""
    fv = flag_values
    specs = grid.specs(fv.sweep, fv.preset, fv.activations)
    axes = grid.parse(specs, sweep_parsers(fv))
    return grid.expand(axes, fv.seeds, fv.log_dir, train_values(fv), fv.recorded)
