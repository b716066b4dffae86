"""The sweep's own flags: the grid, the executor of its runs, its folder."""

from absl import flags

from cifar10_ablation import switches
from cifar10_ablation.cli import training
from cifar10_ablation.cli.define import Define
from cifar10_ablation.sweeps import grid

DEFAULT_SWEEP_DIR = "tensorboard_logs/sweep"


def sweep(fv):
    define = Define(fv)
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
    _executor(fv)
    _select(fv)
    flags.register_multi_flags_validator(
        ["shard_index", "num_shards"],
        lambda values: values["shard_index"] < values["num_shards"],
        message="--shard_index must be below --num_shards",
        flag_values=fv,
    )


def _executor(fv):
    define = Define(fv)
    define.integer(
        "runs_per_gpu",
        1,
        "With GPUs, --parallel workers that share one (each worker sees its own GPUs).",
        lower_bound=1,
    )
    define.enum(
        "executor",
        "local",
        ["local", "ray"],
        "local: this machine (--parallel); ray: each run a Ray task (pip install -e '.[ray]').",
    )
    define.string(
        "ray_address",
        None,
        "--executor=ray: a running cluster (auto, or host:port); default: a Ray instance "
        "started for the sweep.",
    )
    define.float("cpus_per_run", 1.0, "--executor=ray: CPUs per run.", lower_bound=0.0)
    define.float(
        "gpus_per_run", 0.0, "--executor=ray: GPUs per run (0.25: four on a GPU).", lower_bound=0.0
    )
    define.integer(
        "ray_retries", 2, "--executor=ray: reruns of a run whose worker died.", lower_bound=0
    )


def _select(fv):
    define = Define(fv)
    define.string(
        "select",
        None,
        "FLAG=V1,V2,...: first train each config at each value on a validation split "
        "(--select_*), then its seeds at the value with the best validation accuracy.",
    )
    define.integer(
        "select_max_steps", 0, "Steps of each selection run; 0: --max_steps.", lower_bound=0
    )
    define.integer(
        "select_validation_examples",
        5000,
        "Training images the selection runs hold out and are chosen on.",
        lower_bound=1,
    )
    define.integer("select_seeds", 1, "Seeds per config and value to choose on.", lower_bound=1)


def sweep_output(fv):
    define = Define(fv)
    define.string(
        "log_dir",
        DEFAULT_SWEEP_DIR,
        "The sweep's folder: one run directory per grid point and seed under it, and the "
        "report; with --select also selection/ and the choice (selection.md, .json).",
    )
    define.boolean(
        "report_only", False, "Only report the finished runs under --log_dir; train nothing."
    )
    define.multi_string(
        "recorded",
        [],
        "A results CSV: its runs (name, switches, --max_steps) count as done; with --select, "
        "its selection runs too (their validation accuracy read from it).",
    )
    training.every_flags(fv)
