"""The training flags, defined once and read once (`config_from_flags`) into a RunConfig.

Imported by the `train` and `sweep` entry points; library code never reads flags.
"""

import dataclasses
import types
from pathlib import Path

from absl import flags, logging

from cifar10_ablation import config as config_lib
from cifar10_ablation import model, nets

DEFAULTS = config_lib.RunConfig()
DEFAULT_LOG_ROOT = "tensorboard_logs"

# Model switches.
flags.DEFINE_enum(
    "arch",
    DEFAULTS.arch,
    nets.ARCHS,
    "tutorial: the tutorial net; vgg, resnet20, linear: see nets.py. A switch an arch lacks "
    "must keep its default.",
)
flags.DEFINE_boolean(
    "conv_relu", None, "ReLU after conv1/conv2, or every conv (default true); false = linear."
)
flags.DEFINE_boolean(
    "fc_relu", None, "ReLU after local3/local4 (vgg: fc1/fc2) (default true); false = linear."
)
flags.DEFINE_enum(
    "conv_activation",
    None,
    model.ACTIVATIONS,
    "Activation after conv1/conv2 instead of --conv_relu.",
)
flags.DEFINE_enum(
    "fc_activation", None, model.ACTIVATIONS, "Activation after local3/local4 instead of --fc_relu."
)
flags.DEFINE_enum(
    "pool",
    DEFAULTS.pool,
    model.POOLS,
    "pool1/pool2: 3x3, stride 2, SAME (vgg: every 2x2 pool; resnet20: the global pool).",
)
flags.DEFINE_boolean(
    "lrn", DEFAULTS.lrn, "Keep the tutorial net's local response normalizations norm1/norm2."
)
flags.DEFINE_integer(
    "maxout_pieces",
    DEFAULTS.maxout_pieces,
    "Linear pieces per unit of a 'maxout' activation.",
    lower_bound=2,
)
# Data.
flags.DEFINE_enum(
    "dataset", DEFAULTS.dataset, list(config_lib.DATASETS), "cifar10, or mnist (see mnist.py)."
)
flags.DEFINE_string(
    "data_dir",
    DEFAULTS.data_dir,
    "Folder with cifar-10-binary.tar.gz or cifar-10-batches-bin/ (mnist: the IDX files, "
    "e.g. train-images-idx3-ubyte.gz); otherwise tensorflow-datasets' data dir (downloads "
    "the dataset when online).",
)
flags.DEFINE_integer("batch_size", DEFAULTS.batch_size, "Training batch size.", lower_bound=1)
# Schedule.
flags.DEFINE_enum(
    "schedule",
    DEFAULTS.schedule,
    config_lib.SCHEDULES,
    "tutorial: SGD, lr 0.1 x0.1 every 350 epochs. fast: SGD+Nesterov momentum, "
    "linear warm-up then cosine to 0 at --decay_steps.",
)
flags.DEFINE_integer(
    "max_steps", DEFAULTS.max_steps, "Train until this global step.", lower_bound=0
)
flags.DEFINE_float(
    "learning_rate",
    None,
    "Initial (tutorial) or peak (fast) learning rate; default: tutorial 0.1, fast 0.05.",
    lower_bound=0,
)
flags.DEFINE_float("momentum", None, "SGD momentum; default: tutorial 0, fast 0.9 (Nesterov).")
flags.DEFINE_integer(
    "warmup_steps", None, "fast: linear warm-up steps (default 200).", lower_bound=0
)
flags.DEFINE_integer(
    "decay_steps",
    DEFAULTS.decay_steps,
    "fast: step where the cosine reaches 0; 0 = --max_steps of the first start.",
    lower_bound=0,
)
flags.DEFINE_float("lr_decay_factor", DEFAULTS.lr_decay_factor, "tutorial: staircase factor.")
flags.DEFINE_float(
    "epochs_per_decay", DEFAULTS.epochs_per_decay, "tutorial: epochs between learning-rate decays."
)
flags.DEFINE_float(
    "ema_decay",
    DEFAULTS.ema_decay,
    "Largest decay of the averaged weights (warm-up min(d, (1+n)/(10+n))).",
)
flags.DEFINE_integer(
    "seed", DEFAULTS.seed, "Seeds the weights, data order and distortions.", lower_bound=0
)
# Run control. absl.logging defines a --log_dir for its own log files, unused unless asked for;
# ours names the run directory (absl would then write its files there too).
if "log_dir" in flags.FLAGS:
    delattr(flags.FLAGS, "log_dir")
flags.DEFINE_string(
    "log_dir",
    None,
    "Run directory (TensorBoard, checkpoints, results.json); default "
    "tensorboard_logs/<name from the switches>.",
)
flags.DEFINE_boolean(
    "overwrite", False, "Delete an existing run in --log_dir whose config differs, and start over."
)
flags.DEFINE_integer(
    "checkpoint_every", DEFAULTS.checkpoint_every, "Steps between checkpoints.", lower_bound=1
)
flags.DEFINE_integer(
    "keep_checkpoints",
    DEFAULTS.keep_checkpoints,
    "Checkpoints kept on disk (the newest).",
    lower_bound=1,
)
flags.DEFINE_integer(
    "eval_every",
    DEFAULTS.eval_every,
    "Steps between test-set evaluations (and one at the end).",
    lower_bound=1,
)
flags.DEFINE_integer(
    "summary_every",
    DEFAULTS.summary_every,
    "Steps between train scalars and progress-bar updates.",
    lower_bound=1,
)
flags.DEFINE_integer(
    "histogram_every",
    DEFAULTS.histogram_every,
    "Steps between weight/activation histograms and sparsity.",
    lower_bound=1,
)
flags.DEFINE_integer(
    "steps_per_execution",
    DEFAULTS.steps_per_execution,
    "Training steps per call into the TF graph.",
    lower_bound=1,
)
flags.DEFINE_boolean(
    "jit_compile",
    DEFAULTS.jit_compile,
    "Compile train and eval steps with XLA; default: with a GPU only.",
)
flags.DEFINE_boolean(
    "deterministic",
    DEFAULTS.deterministic,
    "TF op determinism: identical losses step by step for one --seed.",
)

flags.DEFINE_boolean(
    "mixed_precision",
    DEFAULTS.mixed_precision,
    "Compute in float16 (GPU, with loss scaling) or bfloat16 (CPU); weights stay float32.",
)
flags.DEFINE_enum(
    "distribution",
    DEFAULTS.distribution,
    config_lib.DISTRIBUTIONS,
    "auto: all GPUs of this machine (mirrored) when it has several, else one device; mirrored; "
    "multi_worker: the machines in TF_CONFIG. --batch_size is per replica (see README).",
)
flags.DEFINE_boolean(
    "diagnostics",
    DEFAULTS.diagnostics,
    "Pool-window sign fractions and dead units at --histogram_every, and at the end the "
    "confusion matrix and per-class accuracy.",
)


@flags.multi_flags_validator(
    ["conv_relu", "conv_activation"], message="give --conv_relu or --conv_activation, not both"
)
def _one_conv_switch(values):
    return values["conv_relu"] is None or values["conv_activation"] is None


@flags.multi_flags_validator(
    ["fc_relu", "fc_activation"], message="give --fc_relu or --fc_activation, not both"
)
def _one_fc_switch(values):
    return values["fc_relu"] is None or values["fc_activation"] is None


def quiet_info_logs():
    """TF's per-checkpoint INFO lines drown the progress lines, unless --verbosity asks."""
    if not flags.FLAGS["verbosity"].present:
        logging.set_verbosity(logging.WARNING)


def _activation(group, relu, activation):
    if relu is not None and activation is not None:
        raise ValueError(f"give --{group}_relu or --{group}_activation, not both")
    if activation is not None:
        return activation
    return "linear" if relu is False else "relu"


def train_flag_names():
    """The names of the flags defined here: what `config_from_flags` reads and a sweep may vary."""
    return sorted(flag.name for flag in flags.FLAGS.get_flags_for_module(__name__))


def flag_values(overrides=None):
    """The parsed training flags as a plain namespace, with `overrides` (name -> value) applied.

    Overriding one of a group's two switches (`conv_relu`/`conv_activation`) clears the other.
    """
    values = {name: flags.FLAGS[name].value for name in train_flag_names()}
    for name, value in (overrides or {}).items():
        for group in ("conv", "fc"):
            pair = (f"{group}_relu", f"{group}_activation")
            if name in pair:
                values[pair[1 - pair.index(name)]] = None
        values[name] = value
    return types.SimpleNamespace(**values)


def config_from_flags(values=None):
    """The RunConfig the parsed flags (or a `flag_values` namespace) describe, validated.

    Raises ValueError naming the flag and what is allowed.
    """
    f = values or flags.FLAGS
    fields = {
        field.name: getattr(f, field.name)
        for field in dataclasses.fields(config_lib.RunConfig)
        if field.name not in ("conv_activation", "fc_activation", "log_dir", "replicas")
    }
    config = config_lib.RunConfig(
        conv_activation=_activation("conv", f.conv_relu, f.conv_activation),
        fc_activation=_activation("fc", f.fc_relu, f.fc_activation),
        log_dir=f.log_dir or "",
        **fields,
    )
    config_lib.validate(config)
    if not config.log_dir:
        log_dir = str(Path(DEFAULT_LOG_ROOT) / config.run_name())
        config = dataclasses.replace(config, log_dir=log_dir)
    return config
