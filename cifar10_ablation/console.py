"""How the command lines start: their flags, grouped help, one-line flag errors, a quiet TF.

    run(main, cli.TRAIN, __doc__)  # defines the command's flag groups (cli.py), parses argv
                                   # (--help/--helpshort list the groups; a flag error is one
                                   # line `error: ...`, exit status 1), calls main(argv)
    load_tensorflow()              # in main: TensorFlow loads with its start-up lines hidden

absl's own --help lists the flags defined by the main module (none of ours: cli.py defines
them) and --helpfull adds ~200 absl and TensorFlow flags; ours lists the command's flags in the
README's groups (--helpfull is absl's, unchanged). TensorFlow's C++ prints its oneDNN, CUDA
probing ("Could not find cuda drivers", "failed call to cuInit") and "All log messages before
absl::InitializeLog()" lines before TF_CPP_MIN_LOG_LEVEL is read, so they can only be kept
off the terminal at the file descriptor: stderr goes to a temporary file while TensorFlow
loads and probes its devices, and is replayed when --verbosity was given or loading failed.
"""

import contextlib
import os
import sys
import tempfile

from absl import app, flags, logging

FLAGS = flags.FLAGS
HELP_FLAGS = (("help", "?"), ("helpshort", None))


class _GroupedHelp(flags.BooleanFlag):
    """--help/--helpshort: the command's docstring and its flags in their groups, exit 0."""

    def __init__(self, name, short_name, text):
        super().__init__(name, False, "show this command's flags", short_name=short_name)
        self.text = text

    def parse(self, argument):
        super().parse(argument)
        if self.value:
            sys.stdout.write(self.text)
            sys.exit(0)


def _flag_lines(flag):
    name = f"--[no]{flag.name}" if flag.boolean else f"--{flag.name}"
    notes = [f"(default: {flag.default_as_str})"] if flag.default_as_str else []
    if flag.parser.syntactic_help and not flag.boolean:
        notes.append(f"({flag.parser.syntactic_help})")
    text = f"{name}: {flag.help}" + "".join(f"\n{note}" for note in notes)
    return flags.text_wrap(text, indent="    ", firstline_indent="  ")


def help_text(layout, doc):
    """The docstring, then each group's flags as absl writes a flag, then where the rest is."""
    lines = [doc.rstrip(), "", "flags:"]
    for title, names in layout:
        lines += ["", f"{title}:", *(_flag_lines(FLAGS[name]) for name in names)]
    lines += [
        "",
        "--flagfile=FILE reads flags from a file (flags/); --verbosity=0 shows TensorFlow's own "
        "log lines; --helpfull lists absl's and TensorFlow's flags too.",
    ]
    return "\n".join(lines) + "\n"


def define(groups, flag_values=FLAGS):
    """Defines the flags of `groups` (in a fresh FlagValues, say, for a test); returns
    [(group title, [flag names])] for --help."""
    if "log_dir" in flag_values:  # absl.logging's log-file folder, unused; ours names the run
        delattr(flag_values, "log_dir")
    layout = []
    for title, define_group in groups:
        before = set(flag_values)
        define_group(flag_values)
        layout.append((title, [name for name in flag_values if name not in before]))
    return layout


def run(main, groups, doc):
    """Defines `groups`' flags (cli.py), parses the command line (`parse`), runs main(argv)."""
    layout = define(groups)
    app.run(main, flags_parser=lambda argv: parse(argv, layout, doc))


def parse(argv, layout, doc):
    """Parses argv into FLAGS (an app.run flags_parser); a bad flag exits with one line."""
    text = help_text(layout, doc)
    for name, short_name in HELP_FLAGS:
        for absl_name in filter(None, (name, short_name)):  # absl's (app.define_help_flags)
            delattr(FLAGS, absl_name)
        flags.DEFINE_flag(_GroupedHelp(name, short_name, text))
    try:
        return FLAGS(argv)
    except flags.Error as error:
        sys.exit("error: " + " ".join(str(error).split()))


@contextlib.contextmanager
def _stderr_captured(replay):
    """Sends file descriptor 2 to a temporary file; writes what it caught back on exit when
    `replay` or on an exception."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        failed = True
        try:
            yield
            failed = False
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            if replay or failed:
                capture.seek(0)
                os.write(2, capture.read())


def load_tensorflow(verbose=None):
    """Imports TensorFlow and Keras and lets TensorFlow look for GPUs with their start-up lines
    off the terminal, and later absl INFO and WARNING logs (which drown the progress lines and
    the one-line errors) too, unless `verbose` (default: --verbosity was given). Called in main,
    and first in a sweep's worker processes, before the library (which imports TensorFlow)."""
    if verbose is None:
        verbose = FLAGS["verbosity"].present > 0
    with _stderr_captured(verbose):
        import keras  # noqa: F401 - loaded here so that its start-up lines are caught too
        import tensorflow as tf

        tf.config.list_physical_devices("GPU")  # where a machine without a GPU reports cuInit
    if not verbose:  # our messages are print()s; absl's warnings come from TF and TFDS
        logging.set_verbosity(logging.ERROR)
