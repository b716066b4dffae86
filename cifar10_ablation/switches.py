"""The ablation switches as one value: their names, allowed values, defaults, checks, run names.

    switches = Switches(conv_activation="linear", pool="avg")   # ValueError if a value is bad
    switches.check("resnet20")       # ValueError if that arch lacks a switch set here
    switches.as_flags("tutorial")    -> {"conv_relu": False, "pool": "avg"}, as a run is named
    run_name({"conv_relu": False, "pool": "avg"}, seed=0)  -> "conv_relu-false_pool-avg_seed0"

Plain Python without TensorFlow, so the command lines check their flags before TensorFlow loads.
RunConfig carries a Switches; models.build_model(switches, arch=...) builds from it.
"""

import dataclasses

ARCHS = ("tutorial", "vgg", "resnet20", "resnet56", "resnet18", "linear")
# Stages of conv blocks per ResNet: what --stage_activations sets one by one.
STAGES = {"resnet20": 3, "resnet56": 3, "resnet18": 4}
# Activations Keras knows by name that keep the shape and act elementwise.
KERAS_ACTIVATIONS = (
    "relu",
    "relu6",
    "leaky_relu",
    "elu",
    "selu",
    "celu",
    "gelu",
    "silu",
    "swish",
    "mish",
    "hard_silu",
    "tanh",
    "sigmoid",
    "hard_sigmoid",
    "softplus",
    "softsign",
)
LINEAR_ACTIVATIONS = ("linear", "none")
ACTIVATIONS = KERAS_ACTIVATIONS + LINEAR_ACTIVATIONS + ("abs", "maxout")
# The sweep's --preset=activation_scale (scale.py): both ends of the scale, then alternatives.
SCALE_ACTIVATIONS = (
    "linear",
    "relu",
    "leaky_relu",
    "elu",
    "tanh",
    "gelu",
    "silu",
    "softplus",
    "abs",
    "maxout",
)
POOLS = ("max", "avg")
# How a ResNet's stages after the first halve the resolution: the published strided convs, or a
# pooling window at the stage's start (what the tutorial net does between its conv layers).
DOWNSAMPLES = ("stride", "max", "avg")
# The tutorial net's pool1/pool2 windows (models/ builds them, training/diagnostics.py measures).
POOL_SIZE, POOL_STRIDE = 3, 2
DEFAULT_MAXOUT_PIECES = 2
# Per architecture, the switches it lacks and why (a lacked switch must keep its default).
_NO_LRN = "no LRN layers (batch norm instead)"
_NOT_RESNET = {
    "downsample": "no strided stages (only the ResNets have them)",
    "stage_activations": "no stages of residual blocks (only the ResNets have them)",
}
_RESNET = {"fc_activation": "no hidden fully connected layers", "lrn": _NO_LRN}
LACKS = {
    "tutorial": _NOT_RESNET,
    "vgg": {"lrn": _NO_LRN, **_NOT_RESNET},
    **{arch: _RESNET for arch in STAGES},
    "linear": {
        "conv_activation": "no conv layers",
        "fc_activation": "no hidden layers",
        "pool": "no pooling",
        "lrn": "no LRN layers",
        **_NOT_RESNET,
    },
}
# --stage_activations=linear+linear+linear+relu: "+" joins the stages (a sweep's values are
# separated by commas, and a run's folder is named by the value).
STAGE_SEPARATOR = "+"
# The two ways to set a layer group's activation: a bool (ReLU or linear) or a name.
GROUPS = ("conv", "fc")


def activation(group, relu, name):
    """The activation of `group` ("conv" or "fc") given its bool switch and its activation name,
    either of which may be None (unset); ValueError when both are set."""
    if relu is not None and name is not None:
        raise ValueError(f"give --{group}_relu or --{group}_activation, not both")
    if name is not None:
        return name
    return "linear" if relu is False else "relu"


@dataclasses.dataclass(frozen=True)
class Switches:
    """One model's ablation switches, checked when made (ValueError naming the switch, its value
    and what is allowed). Whether an arch has them all is `check`'s question."""

    conv_activation: str = "relu"  # after every conv layer (ACTIVATIONS)
    fc_activation: str = "relu"  # after every hidden fully connected layer
    pool: str = "max"  # POOLS: the tutorial net's pool1/pool2, vgg's pools, resnet's global pool
    lrn: bool = True  # the tutorial net's norm1/norm2
    maxout_pieces: int = DEFAULT_MAXOUT_PIECES  # linear pieces per unit of a maxout activation
    downsample: str = "stride"  # DOWNSAMPLES: how a ResNet's later stages halve the resolution
    # A ResNet's conv activation per stage (the stem takes the first stage's); () = every stage
    # conv_activation. E.g. ("linear", "linear", "linear", "relu"): ReLUs in the last stage only.
    stage_activations: tuple = ()

    def __post_init__(self):
        stages = self.stage_activations  # "linear+relu+..." as a flag gives it, or a sequence
        stages = (
            [a for a in stages.split(STAGE_SEPARATOR) if a] if isinstance(stages, str) else stages
        )
        object.__setattr__(self, "stage_activations", tuple(stages))
        for group in GROUPS:
            value = getattr(self, f"{group}_activation")
            if value not in ACTIVATIONS:
                raise ValueError(
                    f"{group}_activation={value!r} is not a known activation; allowed: "
                    f"{', '.join(ACTIVATIONS)}"
                )
        if self.pool not in POOLS:
            raise ValueError(
                f"pool={self.pool!r} is not a known pooling; allowed: {', '.join(POOLS)}"
            )
        if not isinstance(self.lrn, bool):
            raise ValueError(f"lrn={self.lrn!r} must be True or False")
        pieces = self.maxout_pieces
        if isinstance(pieces, bool) or not isinstance(pieces, int) or pieces < 2:
            raise ValueError(f"maxout_pieces={pieces!r} must be an integer >= 2")
        if self.downsample not in DOWNSAMPLES:
            raise ValueError(
                f"downsample={self.downsample!r} is not known; allowed: {', '.join(DOWNSAMPLES)}"
            )
        unknown = [a for a in self.stage_activations if a not in ACTIVATIONS]
        if unknown:
            raise ValueError(
                f"stage_activations={value_name(self.stage_activations)}: {unknown[0]!r} is not a "
                f"known activation; allowed: {', '.join(ACTIVATIONS)}"
            )
        if self.stage_activations and self.conv_activation != "relu":
            raise ValueError(
                "give conv_activation or stage_activations, not both: stage_activations sets "
                "the conv activation of every stage"
            )

    def check(self, arch):
        """Raises ValueError when `arch` is unknown or lacks a switch set away from its default."""
        if arch not in ARCHS:
            raise ValueError(f"arch={arch!r} is not known; allowed: {', '.join(ARCHS)}")
        for name, why in LACKS[arch].items():
            if getattr(self, name) != SWITCH_DEFAULTS[name]:
                raise ValueError(
                    f"arch={arch} has {why}: {name}={getattr(self, name)!r} does not apply (leave "
                    f"it at its default {SWITCH_DEFAULTS[name]!r}); {arch}'s switches: "
                    f"{', '.join(present(arch)) or 'none'}"
                )
        if arch in STAGES and "maxout" in (self.conv_activation, *self.stage_activations):
            raise ValueError(
                f"arch={arch} cannot take a 'maxout' conv activation: it would change the widths "
                "the residual additions need"
            )
        if self.stage_activations and len(self.stage_activations) != STAGES[arch]:
            raise ValueError(
                f"stage_activations={value_name(self.stage_activations)} names "
                f"{len(self.stage_activations)} stages; arch={arch} has {STAGES[arch]}"
            )
        return self

    def stage_activation(self, stage):
        """The conv activation of a ResNet's stage (1, 2, ...; the stem is stage 1's)."""
        return self.stage_activations[stage - 1] if self.stage_activations else self.conv_activation

    def units(self, group, width):
        """The units a layer of `group` ("conv", "fc") needs so that `width` come out of its
        activation: a maxout activation takes maxout_pieces inputs per output."""
        maxout = getattr(self, f"{group}_activation") == "maxout"
        return width * self.maxout_pieces if maxout else width

    def as_flags(self, arch):
        """The flags that set `arch`'s switches to these values, shortest form: {flag: value}.

        Only the arch's switches, in run-name order: a ReLU or linear group as its bool flag
        (`conv_relu`), another activation by name (`conv_activation`); `lrn` only when off; no
        conv group beside `stage_activations`, which sets every stage's conv activation.
        """
        has, settings = present(arch), {}
        for group in GROUPS:
            name = getattr(self, f"{group}_activation")
            staged = group == "conv" and "stage_activations" in has and self.stage_activations
            if f"{group}_activation" in has and not staged:
                relu = relu_flag(name)
                settings.update(
                    {f"{group}_activation": name} if relu is None else {f"{group}_relu": relu}
                )
        settings.update({"pool": self.pool} if "pool" in has else {})
        settings.update({"lrn": self.lrn} if "lrn" in has and not self.lrn else {})
        if "downsample" in has and self.downsample != "stride":
            settings["downsample"] = self.downsample
        if "stage_activations" in has and self.stage_activations:
            settings["stage_activations"] = self.stage_activations
        return settings


# The switch fields, in order (config.json holds them flat beside the run's other fields), and
# the defaults of those an architecture may lack.
FIELDS = tuple(field.name for field in dataclasses.fields(Switches))
SWITCH_DEFAULTS = {name: getattr(Switches(), name) for name in FIELDS if name != "maxout_pieces"}


def present(arch):
    """The switches `arch` has, in run-name order."""
    return [name for name in SWITCH_DEFAULTS if name not in LACKS[arch]]


def relu_flag(activation):
    """The --conv_relu/--fc_relu value that sets `activation` (relu: True, linear: False), or None
    for an activation only --conv_activation/--fc_activation names."""
    return {"relu": True, "linear": False}.get(activation)


def value_name(value):
    """A flag value as a run name writes it: booleans lower case, a list of stages joined by "+",
    as on the command line."""
    if isinstance(value, list | tuple):
        return STAGE_SEPARATOR.join(map(value_name, value))
    return str(value).lower() if isinstance(value, bool) else str(value)


def run_name(settings, seed):
    """The run directory name: `<flag>-<value>` for each of `settings` in order, then `seed<N>`.

    The one naming scheme: a sweep names the flags it sweeps (so its run directories keep their
    names across versions), a lone run the flags of its switches (`as_flags`).
    """
    return "_".join([*name_tokens(settings), f"seed{seed}"])


def name_tokens(settings):
    """The `<flag>-<value>` parts of a run name, one per setting, in order."""
    return [f"{k}-{value_name(v)}" for k, v in settings.items()]
