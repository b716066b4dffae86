"""The RunConfig a flagfile gives `train`: absl reads the file, the flags' defaults fill the rest,
the CLI validates it, as when a user starts a run from it (no global flag state is touched)."""

from absl import flags

from cifar10_ablation import cli, console


def config(path):
    """The flagfile's RunConfig; ValueError naming the file when absl or the CLI refuses it."""
    flag_values = flags.FlagValues()
    console.define(cli.TRAIN, flag_values)
    try:
        flag_values(["flagfiles", f"--flagfile={path}"])
        return cli.train_config(flag_values)
    except (flags.Error, ValueError) as error:
        raise ValueError(f"{path}: {error}") from None
