"""define.<kind>(...) is flags.DEFINE_<kind>(..., flag_values=fv), and the defaults flags show."""

import functools

from absl import flags

from cifar10_ablation import config as config_lib

DEFAULTS = config_lib.RunConfig()


class Define:
    """define.<kind>(...) is flags.DEFINE_<kind>(..., flag_values=fv): a group's flags all go
    into one FlagValues (the global FLAGS, or a test's own)."""

    def __init__(self, fv):
        self.fv = fv

    def __getattr__(self, kind):
        return functools.partial(getattr(flags, f"DEFINE_{kind}"), flag_values=self.fv)
