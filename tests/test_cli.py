"""The command lines: their own flags in --help, one-line errors, a quiet terminal, a clean
layering (importing the library defines no flags, modules import without cycles)."""

import ast
import importlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from absl import flags

import cifar10_ablation
from cifar10_ablation import cli, console
from cifar10_ablation import config as config_lib

PACKAGE = Path(__file__).resolve().parents[1] / "cifar10_ablation"
COMMANDS = {"train": cli.TRAIN, "eval": cli.EVAL, "sweep": cli.SWEEP}


def _run(module, *args, timeout=300):
    """stdout and stderr together, as a terminal shows them, and the exit status."""
    done = subprocess.run(
        [sys.executable, "-m", f"cifar10_ablation.{module}", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
    )
    return done.stdout, done.returncode


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("help_flag", ["--help", "--helpshort"])
def test_help_lists_the_commands_own_flags_in_the_readmes_groups(command, help_flag):
    text, status = _run(command, help_flag)
    assert status == 0, text
    listed = re.findall(r"^  --(?:\[no\])?(\w+):", text, re.M)
    defined = flags.FlagValues()
    console.define(COMMANDS[command], defined)
    absl_flags = {"verbosity", "alsologtostderr", "helpfull", "only_check_args", "flagfile"}
    assert set(listed) == set(defined) and not absl_flags & set(listed)
    heading, *groups = re.findall(r"^(\w+):$", text, re.M)
    assert heading == "flags" and groups == [title for title, _ in COMMANDS[command]]
    if command == "train":
        assert groups == ["model", "data", "schedule", "output", "speed", "devices", "diagnostics"]
        assert {"conv_relu", "pool", "data_dir"} <= set(listed)


@pytest.mark.parametrize(
    "command, args, message",
    [
        # train's bad inputs are one table: tests/test_reliability.py BAD_INPUTS
        ("eval", [], "error: flag --log_dir=None: Flag --log_dir must have a value"),
        ("sweep", ["--sweep=poool=max"], "error: --sweep='poool=max': 'poool' is not a training"),
    ],
)
def test_a_bad_flag_is_one_line_and_a_non_zero_exit(command, args, message):
    text, status = _run(command, *args)
    assert status != 0 and text.splitlines() == [text.strip()], text
    assert text.startswith(message), text


def test_errors_after_tensorflow_loads_are_one_line_too(cifar_dir, tmp_path):
    """TensorFlow's start-up lines (oneDNN, CUDA probing, absl::InitializeLog) stay hidden. (A
    missing or damaged data dir is found before TensorFlow loads; a run folder holding another
    config only after.)"""
    run = tmp_path / "r"
    run.mkdir()
    saved = config_lib.RunConfig.flat(data_dir=str(cifar_dir), log_dir=str(run), pool="max")
    (run / config_lib.CONFIG_FILENAME).write_text(json.dumps(saved.to_dict()))
    args = [f"--data_dir={cifar_dir}", f"--log_dir={run}", "--pool=avg"]
    text, status = _run("train", *args)
    assert status != 0 and len(text.strip().splitlines()) == 1, text
    assert text.startswith(f"error: {run} holds a run with another configuration"), text
    verbose, _ = _run("train", *args, "--verbosity=0")
    lines = verbose.strip().splitlines()  # --verbosity shows TensorFlow's lines before it
    assert len(lines) > 1 and "another configuration" in lines[-1], verbose


def test_a_missing_data_dir_is_one_line_before_tensorflow_loads(tmp_path):
    text, status = _run("train", f"--data_dir={tmp_path / 'none'}", "--verbosity=0")
    assert status != 0 and text.startswith(f"error: data_dir {tmp_path / 'none'} does not exist")
    assert len(text.strip().splitlines()) == 1, text  # even verbose: TensorFlow never loaded


def test_a_library_warning_on_the_way_to_an_error_stays_hidden(tmp_path):
    """tensorflow-datasets warns through absl while it looks for a prepared MNIST."""
    (tmp_path / "mnist" / "3.0.1").mkdir(parents=True)  # a folder TFDS warns about
    text, status = _run("train", "--dataset=mnist", f"--data_dir={tmp_path}")
    assert status != 0 and len(text.strip().splitlines()) == 1, text
    assert text.startswith(f"error: no MNIST in {tmp_path}"), text


def test_importing_the_library_defines_no_flags():
    ours = set()
    for groups in COMMANDS.values():
        defined = flags.FlagValues()
        console.define(groups, defined)
        ours |= set(defined)
    code = (
        f"ours = {sorted(set(ours) - {'log_dir'})!r}; from absl import flags; "
        "import cifar10_ablation.cli, "
        "cifar10_ablation.console, cifar10_ablation.training.run, cifar10_ablation.sweeps.runner, "
        "cifar10_ablation.training.evaluation, cifar10_ablation.reports.report, "
        "cifar10_ablation.train, cifar10_ablation.eval, cifar10_ablation.sweep; "
        "print(sorted(set(flags.FLAGS) & set(ours)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[-2] == "[]"  # (absl.logging defines a --log_dir of its own)


def _module_name(path):
    """A module's dotted name inside the package: "training.loop"; a wing's __init__: "models"."""
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py") if p != PACKAGE / "__init__.py"}
WINGS = ("data", "models", "training", "sweeps", "reports")


def _resolve(dotted):
    """The package module that an imported dotted name (cifar10_ablation.x.y) is, or None."""
    parts = dotted.split(".")
    if parts[0] != PACKAGE.name:
        return None
    for end in range(len(parts), 1, -1):
        name = ".".join(parts[1:end])
        if name in MODULES:
            return name
    return None


def _package_imports(path):
    """The package's modules `path` imports anywhere: at module level and inside functions."""
    imported = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        imported |= {m for m in map(_resolve, names) if m}
    return imported - {_module_name(path)}


def test_the_package_imports_without_cycles():
    graph = {name: _package_imports(path) for name, path in MODULES.items()}
    assert "models.layers" in graph["models.tutorial"] and "training.run" in graph["train"]
    done, visiting = set(), []

    def visit(module):
        assert module not in visiting, f"import cycle: {' -> '.join([*visiting, module])}"
        if module in done:
            return
        visiting.append(module)
        for other in sorted(graph[module]):
            visit(other)
        visiting.pop()
        done.add(module)

    for module in sorted(graph):
        visit(module)


# What a wing (or the shared rooms) must never import: the direction of the house.
NEVER = {
    "reports": {"data", "models", "training", "sweeps"},  # reports read files, no TensorFlow
    "models": {"data", "training", "sweeps", "reports"},
    "data": {"training", "sweeps", "reports"},
    "training": {"sweeps", "reports"},
    "sweeps": set(),
    "shared": set(WINGS),
    # the command lines' flags: the grid's specs (sweeps), a cheap look at the data folders
    # before TensorFlow loads (data)
    "cli": set(WINGS) - {"sweeps", "data"},
}


def test_the_wings_import_one_way():
    entry_points = {"train", "eval", "sweep"}
    broken = []
    for name, path in MODULES.items():
        top = name.split(".")[0]
        wing = top if top in WINGS or top == "cli" else "shared"
        if name in entry_points:
            continue
        for other in _package_imports(path):
            if other.split(".")[0] in NEVER[wing]:
                broken.append(f"{name} imports {other}")
    assert broken == []


def test_every_module_is_named_in_its_wing_s_docstring():
    for docstring, names in [
        (cifar10_ablation.__doc__, [n for n in MODULES if "." not in n]),
        *(
            (
                importlib.import_module(f"cifar10_ablation.{wing}").__doc__,
                [n.split(".")[1] for n in MODULES if n.startswith(f"{wing}.")],
            )
            for wing in WINGS
        ),
    ]:
        listed = {
            name.strip()
            for line in re.findall(r"^- ([\w, ]+):", docstring, re.M)
            for name in line.split(",")
        }
        assert sorted(listed) == sorted(names)


def test_importing_the_reports_wing_leaves_tensorflow_out():
    code = (
        "import sys; import cifar10_ablation.reports.report, cifar10_ablation.reports.scale, "
        "cifar10_ablation.reports.stats, cifar10_ablation.reports.markdown; "
        "print('tensorflow' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.stdout.strip() == "False", done.stderr[-2000:]


def test_no_module_is_over_300_lines():
    lines = {name: len(p.read_text().splitlines()) for name, p in MODULES.items()}
    assert {name: n for name, n in lines.items() if n > 310} == {}
