"""One run, described: a frozen, validated RunConfig, saved as `config.json` in its run directory.

Flag values become a RunConfig once (`from_flag_values`): the command line's (cli.py) and each
grid point's (grid.py, the base flags with the swept ones replaced). Both go through `validate`,
and library code only ever sees the config.

A run directory is continued when its saved config has the same *identity* (everything that
changes what is trained); run-control fields (`RUN_CONTROL_FIELDS`) may differ between
invocations, e.g. a higher `max_steps` continues a finished run.
"""

import dataclasses
import json
from pathlib import Path

from cifar10_ablation import schedules
from cifar10_ablation import switches as switches_lib

# Per --dataset: training images (the tutorial schedule counts epochs in them) and image channels
# (the model's input depth), known before any data is read (eval rebuilds a model from config).
DATASETS = {
    "cifar10": {"train_examples": 50_000, "channels": 3, "image_size": 32},
    "mnist": {"train_examples": 60_000, "channels": 1, "image_size": 28},
}
# The training input: the tutorial's 24x24 crops with its distortions, or the published ResNets'
# whole images, zero-padded by 4 pixels, randomly cropped back and flipped (data/pipeline.py).
AUGMENTATIONS = ("tutorial", "pad_crop")
CROP_SIZE = 24  # the tutorial's crops: the nets' input under --augmentation=tutorial
DISTRIBUTIONS = ("auto", "none", "mirrored", "multi_worker")
RUN_CONTROL_FIELDS = frozenset(
    {
        "max_steps",
        "data_dir",
        "log_dir",
        "checkpoint_every",
        "keep_checkpoints",
        "eval_every",
        "summary_every",
        "histogram_every",
        "steps_per_execution",
        "jit_compile",
        "deterministic",
        "diagnostics",
        "distribution",
    }
)
# A run directory's files: its config (written at the start), its results (at the end) and
# what `eval` measured.
CONFIG_FILENAME = "config.json"
RESULTS_FILENAME = "results.json"
EVAL_FILENAME = "eval.json"
# A sweep folder's plan (sweeps/runner.py): its runs and the fields its whole grid varies.
SWEEP_FILENAME = "sweep.json"
# A lone run's directory when --log_dir is not given: DEFAULT_LOG_ROOT/<run_name()>.
DEFAULT_LOG_ROOT = "tensorboard_logs"
# The one line for a --log_dir that cannot be written (train, a run's config, a sweep): path, why.
UNWRITABLE_LOG_DIR = "cannot write to --log_dir={}: {}"


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """Everything one training run depends on. Field docs are the flags' help texts (cli.py)."""

    # The model: its arch and switches (models.build_model's arguments); config.json holds the
    # switches flat beside the other fields. Runs saved before `arch` and `dataset` existed lack
    # them in config.json and load with these defaults: the tutorial net on CIFAR-10.
    arch: str = "tutorial"
    switches: switches_lib.Switches = switches_lib.Switches()
    # Data.
    dataset: str = "cifar10"
    augmentation: str = "tutorial"  # AUGMENTATIONS
    data_dir: str = "~/tensorflow_datasets"
    batch_size: int = 128
    # Training images held out as the validation split (inputs.split_validation): evaluated
    # every eval_every steps instead of the test set, which is then evaluated once, at the end.
    validation_examples: int = 0
    # Schedule; None means the schedule's default (schedules.SCHEDULE_DEFAULTS).
    schedule: str = "tutorial"
    max_steps: int = 100_000
    learning_rate: float | None = None
    momentum: float | None = None
    warmup_steps: int | None = None
    decay_steps: int = 0  # fast: cosine horizon, 0 = max_steps when the run starts
    lr_decay_factor: float = 0.1  # tutorial: staircase factor...
    epochs_per_decay: float = 350.0  # ...every this many epochs
    ema_decay: float = 0.9999
    seed: int = 0
    # Run control.
    log_dir: str = ""
    checkpoint_every: int = 1000
    keep_checkpoints: int = 5
    eval_every: int = 5000
    summary_every: int = 100
    histogram_every: int = 1000
    steps_per_execution: int = 25
    jit_compile: bool | None = None  # None: XLA with a GPU only (slower on CPU, measured)
    deterministic: bool = False
    diagnostics: bool = True
    mixed_precision: bool = False
    distribution: str = "auto"  # DISTRIBUTIONS
    # Set by train from the strategy (None until then); --batch_size is per replica.
    replicas: int | None = None

    def resolved(self):
        """Fills schedule defaults and the cosine horizon; the form saved with a run."""
        defaults = {
            k: v
            for k, v in schedules.SCHEDULE_DEFAULTS[self.schedule].items()
            if getattr(self, k) is None
        }
        config = dataclasses.replace(self, **defaults)
        if config.schedule == "fast" and config.decay_steps == 0:
            config = dataclasses.replace(config, decay_steps=config.max_steps)
        return config

    @property
    def global_batch_size(self):
        """Images per step over all replicas: batch_size each (the tutorial's towers)."""
        return self.batch_size * (self.replicas or 1)

    @property
    def steps_per_decay(self):
        """The tutorial schedule's steps between decays: its cifar10.py's
        int(examples / batch * epochs_per_decay), in the images trained on."""
        return int(self.trained_examples / self.global_batch_size * self.epochs_per_decay)

    @property
    def train_examples(self):
        return DATASETS[self.dataset]["train_examples"]

    @property
    def trained_examples(self):
        """The training images a run trains on: the split's less the validation hold-out."""
        return self.train_examples - self.validation_examples

    @property
    def channels(self):
        return DATASETS[self.dataset]["channels"]

    @property
    def image_size(self):
        """The nets' input side: the tutorial's crops, or the dataset's whole images."""
        return (
            CROP_SIZE if self.augmentation == "tutorial" else DATASETS[self.dataset]["image_size"]
        )

    def run_name(self):
        """The run directory name (switches.run_name), so TensorBoard's run list reads: the arch
        and dataset unless they are the defaults, the arch's switches as flags, the schedule."""
        settings = {"arch": self.arch} if self.arch != RunConfig.arch else {}
        settings.update({"dataset": self.dataset} if self.dataset != RunConfig.dataset else {})
        if self.augmentation != RunConfig.augmentation:
            settings["augmentation"] = self.augmentation
        settings.update(self.switches.as_flags(self.arch))
        return switches_lib.run_name({**settings, "schedule": self.schedule}, self.seed)

    def to_dict(self):
        """The flat form config.json holds: the switches beside the other fields (FIELDS)."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        switch_values = dataclasses.asdict(values.pop("switches"))
        switch_values = {
            k: list(v) if isinstance(v, tuple) else v for k, v in switch_values.items()
        }
        return {**switch_values, **values}

    @classmethod
    def from_dict(cls, values):
        """The config of a flat dict (to_dict's); missing fields take their defaults."""
        unknown = sorted(set(values) - set(FIELDS))
        if unknown:
            raise ValueError(f"unknown config fields {', '.join(unknown)}")
        switch_values = {k: v for k, v in values.items() if k in switches_lib.FIELDS}
        others = {k: v for k, v in values.items() if k not in switches_lib.FIELDS}
        return cls(switches=switches_lib.Switches(**switch_values), **others)

    @classmethod
    def flat(cls, **values):
        """The config of flat fields, as config.json and the flags name them."""
        return cls.from_dict(values)

    def replace(self, **values):
        """This config with some flat fields (switches among them) set anew."""
        return RunConfig.from_dict({**self.to_dict(), **values})


# Every field as config.json and the flags name it: the switches, then the rest.
FIELDS = (
    *switches_lib.FIELDS,
    *(f.name for f in dataclasses.fields(RunConfig) if f.name != "switches"),
)


def validate(config):
    """Raises ValueError naming the field, its value and what is allowed; returns the config."""
    config.switches.check(config.arch)
    _check_known("dataset", config.dataset, DATASETS)
    _check_known("augmentation", config.augmentation, AUGMENTATIONS)
    _check_known("schedule", config.schedule, schedules.SCHEDULES)
    _check_counts(config)
    if config.validation_examples >= config.train_examples:
        raise ValueError(
            f"validation_examples={config.validation_examples} must be below the "
            f"{config.train_examples:,} training images of {config.dataset} (0: none held out)"
        )
    _check_known("distribution", config.distribution, DISTRIBUTIONS)
    _check_ranges(config)
    # Fields fine alone that do not go together:
    if config.deterministic and config.jit_compile:
        raise ValueError(
            "deterministic=True with jit_compile=True: XLA has no deterministic max-pool "
            "gradient; leave jit_compile unset or false"
        )
    resolved = config.resolved()
    if resolved.schedule == "fast" and resolved.decay_steps == 0:
        raise ValueError(
            f"warmup_steps={resolved.warmup_steps} must be below decay_steps=0 (the fast "
            "schedule's horizon: --decay_steps, else --max_steps, which must then be > 0)"
        )
    if resolved.schedule == "tutorial" and resolved.steps_per_decay < 1:
        raise ValueError(
            f"epochs_per_decay={config.epochs_per_decay!r} is less than one step of "
            f"{resolved.global_batch_size} images: the tutorial schedule decays every "
            f"int(train images / batch * epochs_per_decay) steps, which must be >= 1"
        )
    return config


def _check_known(name, value, allowed):
    if value not in allowed:
        raise ValueError(f"{name}={value!r} is not known; allowed: {', '.join(allowed)}")


def _check_counts(config):
    positive = (
        "batch_size",
        "checkpoint_every",
        "keep_checkpoints",
        "eval_every",
        "summary_every",
        "histogram_every",
        "steps_per_execution",
    )
    for names, least, what in (
        (positive, 1, "a positive integer"),
        (("max_steps", "seed", "decay_steps", "validation_examples"), 0, "an integer >= 0"),
    ):
        for name in names:
            value = getattr(config, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ValueError(f"{name}={value!r} must be {what}")


def _check_ranges(config):
    """Each number in its range; None (unset: the schedule's or the strategy's) passes."""
    if config.replicas is not None and (isinstance(config.replicas, bool) or config.replicas < 1):
        raise ValueError(f"replicas={config.replicas!r} must be a positive integer")
    if config.learning_rate is not None and not config.learning_rate > 0:
        raise ValueError(f"learning_rate={config.learning_rate!r} must be > 0")
    if config.momentum is not None and not 0 <= config.momentum < 1:
        raise ValueError(f"momentum={config.momentum!r} must be in [0, 1)")
    if config.warmup_steps is not None and config.warmup_steps < 0:
        raise ValueError(f"warmup_steps={config.warmup_steps!r} must be >= 0")
    if not 0 <= config.ema_decay < 1:
        raise ValueError(f"ema_decay={config.ema_decay!r} must be in [0, 1)")
    if not 0 < config.lr_decay_factor <= 1 or not config.epochs_per_decay > 0:
        raise ValueError("lr_decay_factor must be in (0, 1] and epochs_per_decay > 0")


def from_flag_values(values):
    """The RunConfig the training flags' values ({flag name: value}) describe, validated.

    A group's bool and activation flags (`conv_relu`, `conv_activation`) become its activation
    (switches_lib.activation); an empty `log_dir` becomes DEFAULT_LOG_ROOT/<run_name()>. Raises
    ValueError naming the flag and what is allowed.
    """
    derived = {f"{group}_activation" for group in switches_lib.GROUPS} | {"log_dir", "replicas"}
    fields = {name: values[name] for name in FIELDS if name not in derived}
    activations = {
        f"{group}_activation": switches_lib.activation(
            group, values[f"{group}_relu"], values[f"{group}_activation"]
        )
        for group in switches_lib.GROUPS
    }
    flat = {**fields, **activations, "log_dir": values["log_dir"] or ""}
    config = validate(RunConfig.from_dict(flat))
    if not config.log_dir:
        config = dataclasses.replace(
            config, log_dir=str(Path(DEFAULT_LOG_ROOT) / config.run_name())
        )
    return config


def varying_fields(configs):
    """Config fields (other than seed and run control) whose value differs between configs."""
    dicts = [c.to_dict() for c in configs]
    skip = RUN_CONTROL_FIELDS | {"seed"}
    names = list(dicts[0]) if dicts else []
    return [n for n in names if n not in skip and len({json.dumps(d[n]) for d in dicts}) > 1]


def load_run_config(run_dir):
    """The config saved in a run directory; ValueError when there is none or it is unreadable."""
    path = Path(run_dir) / CONFIG_FILENAME
    try:
        return RunConfig.from_dict(json.loads(path.read_text()))
    except FileNotFoundError:
        raise ValueError(f"{run_dir} is not a run directory: it has no {CONFIG_FILENAME}") from None
    except (json.JSONDecodeError, TypeError, ValueError) as error:
        raise ValueError(f"{path} is unreadable: {error}") from None
