"""The flags of a training run (train; sweep's base flags) and of eval, group by group.

Each function defines one group of the README's flag tables into a FlagValues `fv`.
"""

from absl import flags

from cifar10_ablation import config as config_lib
from cifar10_ablation import schedules, switches
from cifar10_ablation.cli.define import DEFAULTS, Define


def model(fv):
    define = Define(fv)
    define.enum(
        "arch",
        DEFAULTS.arch,
        switches.ARCHS,
        "tutorial: the tutorial net; vgg, resnet20, resnet56, resnet18, linear: see models/. A "
        "switch an arch lacks must keep its default.",
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
        DEFAULTS.switches.pool,
        switches.POOLS,
        f"pool1/pool2: {switches.POOL_SIZE}x{switches.POOL_SIZE}, stride {switches.POOL_STRIDE}, "
        "SAME (vgg: every 2x2 pool; the resnets: the global pool).",
    )
    define.enum(
        "downsample",
        DEFAULTS.switches.downsample,
        switches.DOWNSAMPLES,
        "The resnets' later stages halve the resolution by a stride-2 conv (the published nets) "
        f"or a {switches.POOL_SIZE}x{switches.POOL_SIZE}/{switches.POOL_STRIDE} max or average "
        "pool at the stage's start (convs and shortcut both pooled).",
    )
    define.string(
        "stage_activations",
        "",
        "The resnets' conv activation per stage, joined by '+' (the stem takes the first's), e.g. "
        "linear+linear+linear+relu: ReLUs in resnet18's last stage only. Empty: --conv_*.",
    )
    define.boolean(
        "lrn",
        DEFAULTS.switches.lrn,
        "Keep the tutorial net's local response normalizations norm1/norm2.",
    )
    pieces = "Linear pieces per unit of a 'maxout' activation."
    define.integer("maxout_pieces", DEFAULTS.switches.maxout_pieces, pieces, lower_bound=2)


def data(fv):
    define = Define(fv)
    define.enum(
        "dataset", DEFAULTS.dataset, list(config_lib.DATASETS), "cifar10, or mnist (see mnist.py)."
    )
    define.string(
        "data_dir",
        DEFAULTS.data_dir,
        "Folder with cifar-10-binary.tar.gz or cifar-10-batches-bin/ (mnist: the IDX files, "
        "e.g. train-images-idx3-ubyte.gz); otherwise tensorflow-datasets' data dir (downloads "
        "the dataset when online). Per dataset (a sweep of --dataset): "
        "cifar10:FOLDER,mnist:FOLDER.",
    )
    define.enum(
        "augmentation",
        DEFAULTS.augmentation,
        config_lib.AUGMENTATIONS,
        "tutorial: 24x24 crops, flips, brightness and contrast (test: central crop). pad_crop: the "
        "published ResNets': whole images, 4-pixel zero padding, random crop back and flip (test: "
        "the whole image).",
    )
    define.integer("batch_size", DEFAULTS.batch_size, "Training batch size.", lower_bound=1)
    define.integer(
        "validation_examples",
        DEFAULTS.validation_examples,
        "Training images held out, class-balanced and the same for every seed and config, and "
        "evaluated every --eval_every steps; the test set is then evaluated once, at the end. "
        "0: train on all (the tutorial's protocol).",
    )


def data_dirs(value):
    """--data_dir as {dataset: folder}: `cifar10:FOLDER,mnist:FOLDER` names a folder per
    dataset; any other value is one folder for every dataset ({None: value}). ValueError on an
    unknown or repeated dataset, or a part without its `dataset:`."""
    datasets = tuple(config_lib.DATASETS)
    if not value.startswith(tuple(f"{name}:" for name in datasets)):
        return {None: value}
    folders = {}
    for part in value.split(","):
        name, _, folder = part.partition(":")
        if name not in datasets or not folder:
            raise ValueError(
                f"--data_dir={value}: {part!r} is not DATASET:FOLDER (datasets: "
                f"{', '.join(datasets)}); give one folder, or one per dataset"
            )
        if name in folders:
            raise ValueError(f"--data_dir={value} names {name} twice")
        folders[name] = folder
    return folders


def data_dir_of(folders, dataset):
    """The folder of `dataset` in data_dirs' {dataset: folder}; ValueError when it has none."""
    if None in folders:
        return folders[None]
    if dataset not in folders:
        given = ",".join(f"{name}:{folder}" for name, folder in folders.items())
        raise ValueError(
            f"--data_dir={given} names no folder for dataset={dataset}: add {dataset}:<its folder>"
        )
    return folders[dataset]


def by_schedule(name):
    """'tutorial X, fast Y': the value each schedule gives an unset flag (SCHEDULE_DEFAULTS)."""
    return ", ".join(f"{s} {v[name]:g}" for s, v in schedules.SCHEDULE_DEFAULTS.items())


def schedule(fv):
    define = Define(fv)
    define.enum(
        "schedule",
        DEFAULTS.schedule,
        schedules.SCHEDULES,
        f"tutorial: SGD, lr x{DEFAULTS.lr_decay_factor} every {DEFAULTS.epochs_per_decay:g} "
        "epochs. fast: SGD+Nesterov momentum, linear warm-up then cosine to 0 at --decay_steps.",
    )
    define.integer("max_steps", DEFAULTS.max_steps, "Train until this global step.", lower_bound=0)
    define.float(
        "learning_rate",
        None,
        f"Initial (tutorial) or peak (fast) rate; default: {by_schedule('learning_rate')}.",
        lower_bound=0,
    )
    define.float("momentum", None, f"SGD momentum; default: {by_schedule('momentum')}.")
    define.integer(
        "warmup_steps",
        None,
        f"Linear warm-up steps; default: {by_schedule('warmup_steps')}.",
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


def run_output(fv):
    define = Define(fv)
    define.string(
        "log_dir",
        None,
        "Run directory (TensorBoard, checkpoints, results.json); default "
        f"{config_lib.DEFAULT_LOG_ROOT}/<name from the switches>.",
    )
    define.boolean(
        "overwrite", False, "Delete any run already in --log_dir (finished or not); start over."
    )
    every_flags(fv)


def every_flags(fv):
    define = Define(fv)
    every = {
        "checkpoint_every": "Steps between checkpoints.",
        "keep_checkpoints": "Checkpoints kept on disk (the newest).",
        "eval_every": "Steps between test-set evaluations (and one at the end).",
        "summary_every": "Steps between train scalars and progress lines.",
        "histogram_every": "Steps between weight/activation histograms and sparsity.",
    }
    for name, text in every.items():
        define.integer(name, getattr(DEFAULTS, name), text, lower_bound=1)


def speed(fv):
    define = Define(fv)
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


def devices(fv):
    define = Define(fv)
    define.enum(
        "distribution",
        DEFAULTS.distribution,
        config_lib.DISTRIBUTIONS,
        "auto: all GPUs of this machine (mirrored) when it has several, else one device; "
        "mirrored; multi_worker: the machines in TF_CONFIG. --batch_size is per replica.",
    )


def diagnostics(fv):
    define = Define(fv)
    define.boolean(
        "diagnostics",
        DEFAULTS.diagnostics,
        "Pool-window sign fractions and dead units at --histogram_every, and at the end the "
        "confusion matrix and per-class accuracy.",
    )


def eval(fv):
    define = Define(fv)
    define.string("log_dir", None, "Run directory written by cifar10_ablation.train.")
    define.string("checkpoint", None, "Checkpoint prefix to evaluate; default: the newest.")
    define.string("data_dir", None, "Data directory; default: the one the run trained on.")
    flags.mark_flag_as_required("log_dir", flag_values=fv)
