"""The ablation switches in one place: their names, allowed values, defaults, checks, run names.

    activation("conv", relu, activation)  -> the activation a --conv_relu/--conv_activation pair
                                             means (giving both is an error)
    validate(arch, conv_activation, fc_activation, pool, lrn, maxout_pieces)
    run_name({"conv_relu": True, "pool": "avg"}, seed=0)  -> "conv_relu-true_pool-avg_seed0"

Plain Python without TensorFlow, so the command lines check their flags before TensorFlow
loads; cli.py (the flags), config.py (a run), model.py and archs.py (the layers) and the bench
scripts all read the switches from here.
"""

ARCHS = ("tutorial", "vgg", "resnet20", "linear")
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
# The tutorial net's pool1/pool2 windows (model.py builds them, diagnostics.py measures them).
POOL_SIZE, POOL_STRIDE = 3, 2
DEFAULT_MAXOUT_PIECES = 2
# Each switch's default: what a switch an architecture lacks must be (RunConfig's defaults).
SWITCH_DEFAULTS = {"conv_activation": "relu", "fc_activation": "relu", "pool": "max", "lrn": True}
# Per architecture, the switches it lacks and why.
_NO_LRN = "no LRN layers (batch norm instead)"
LACKS = {
    "tutorial": {},
    "vgg": {"lrn": _NO_LRN},
    "resnet20": {"fc_activation": "no hidden fully connected layers", "lrn": _NO_LRN},
    "linear": {
        "conv_activation": "no conv layers",
        "fc_activation": "no hidden layers",
        "pool": "no pooling",
        "lrn": "no LRN layers",
    },
}
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


def switches(arch):
    """The switches `arch` has, in run-name order."""
    return [name for name in SWITCH_DEFAULTS if name not in LACKS[arch]]


def validate(arch, conv_activation, fc_activation, pool, lrn, maxout_pieces):
    """Raises ValueError naming the switch, its value and what is allowed."""
    if arch not in ARCHS:
        raise ValueError(f"arch={arch!r} is not known; allowed: {', '.join(ARCHS)}")
    for group, value in (("conv_activation", conv_activation), ("fc_activation", fc_activation)):
        if value not in ACTIVATIONS:
            raise ValueError(
                f"{group}={value!r} is not a known activation; allowed: {', '.join(ACTIVATIONS)}"
            )
    if pool not in POOLS:
        raise ValueError(f"pool={pool!r} is not a known pooling; allowed: {', '.join(POOLS)}")
    if not isinstance(lrn, bool):
        raise ValueError(f"lrn={lrn!r} must be True or False")
    if isinstance(maxout_pieces, bool) or not isinstance(maxout_pieces, int) or maxout_pieces < 2:
        raise ValueError(f"maxout_pieces={maxout_pieces!r} must be an integer >= 2")
    values = {"conv_activation": conv_activation, "fc_activation": fc_activation}
    values.update(pool=pool, lrn=lrn)
    for name, why in LACKS[arch].items():
        if values[name] != SWITCH_DEFAULTS[name]:
            raise ValueError(
                f"arch={arch} has {why}: {name}={values[name]!r} does not apply (leave it at "
                f"its default {SWITCH_DEFAULTS[name]!r}); {arch}'s switches: "
                f"{', '.join(switches(arch)) or 'none'}"
            )
    if arch == "resnet20" and conv_activation == "maxout":
        raise ValueError(
            "arch=resnet20 cannot take conv_activation='maxout': it would change the widths "
            "the residual additions need"
        )


def value_name(value):
    """A flag value as a run name writes it: booleans lower case, as on the command line."""
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


def as_flags(arch, conv_activation, fc_activation, pool, lrn):
    """The flags that set `arch`'s switches to these values, shortest form: {flag: value}.

    Only the arch's switches, in run-name order: a ReLU or linear group as its bool flag
    (`conv_relu`), another activation by name (`conv_activation`); `lrn` only when off.
    """
    present, settings = switches(arch), {}
    for group, name in zip(GROUPS, (conv_activation, fc_activation), strict=True):
        if f"{group}_activation" in present:
            relu = {"relu": True, "linear": False}.get(name)
            settings.update(
                {f"{group}_activation": name} if relu is None else {f"{group}_relu": relu}
            )
    settings.update({"pool": pool} if "pool" in present else {})
    settings.update({"lrn": lrn} if "lrn" in present and not lrn else {})
    return settings
