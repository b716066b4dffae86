"""The command lines: their own flags in --help, one-line errors, a quiet terminal, a clean
layering (importing the library defines no flags, modules import without cycles)."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest
from absl import flags

import cifar10_ablation
from cifar10_ablation import cli, console

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
        ("train", ["--pool=median"], "error: flag --pool=median: value should be one of <max|avg>"),
        ("train", ["--learning_rate=0"], "error: learning_rate=0.0 must be > 0"),
        ("train", ["--conv_relu=false", "--conv_activation=tanh"], "error: give --conv_relu or"),
        ("eval", [], "error: flag --log_dir=None: Flag --log_dir must have a value"),
        ("sweep", ["--sweep=poool=max"], "error: --sweep='poool=max': 'poool' is not a training"),
    ],
)
def test_a_bad_flag_is_one_line_and_a_non_zero_exit(command, args, message):
    text, status = _run(command, *args)
    assert status != 0 and text.splitlines() == [text.strip()], text
    assert text.startswith(message), text


def test_errors_after_tensorflow_loads_are_one_line_too(tmp_path):
    """TensorFlow's start-up lines (oneDNN, CUDA probing, absl::InitializeLog) stay hidden."""
    text, status = _run("train", f"--data_dir={tmp_path / 'none'}", f"--log_dir={tmp_path / 'r'}")
    assert status != 0 and len(text.strip().splitlines()) == 1, text
    assert text.startswith(f"error: data_dir {tmp_path / 'none'} does not exist"), text
    verbose, _ = _run("train", f"--data_dir={tmp_path / 'none'}", "--verbosity=0")
    lines = verbose.strip().splitlines()  # --verbosity shows TensorFlow's lines before it
    assert len(lines) > 1 and "does not exist" in lines[-1], verbose


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
        "cifar10_ablation.console, cifar10_ablation.trainer, cifar10_ablation.sweeper, "
        "cifar10_ablation.evaluation, cifar10_ablation.report, cifar10_ablation.docs, "
        "cifar10_ablation.train, cifar10_ablation.eval, cifar10_ablation.sweep; "
        "print(sorted(set(flags.FLAGS) & set(ours)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[-2] == "[]"  # (absl.logging defines a --log_dir of its own)


def _package_imports(path):
    """The package's modules `path` imports anywhere: at module level and inside functions."""
    imported = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):  # relative ones (`from . import x`) too
            module = ".".join(filter(None, [PACKAGE.name if node.level else "", node.module]))
            names = [f"{module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if (
                parts[0] == PACKAGE.name
                and len(parts) > 1
                and (PACKAGE / f"{parts[1]}.py").exists()
            ):
                imported.add(parts[1])
    return imported - {path.stem}


def test_the_package_imports_without_cycles():
    graph = {path.stem: _package_imports(path) for path in PACKAGE.glob("*.py")}
    assert "model" in graph["nets"] and "trainer" in graph["train"]  # also inside run_main
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


def test_the_package_docstring_maps_every_module_above_those_importing_it():
    order = [
        name.strip()
        for line in re.findall(r"^- ([\w, ]+):", cifar10_ablation.__doc__, re.M)
        for name in line.split(",")
    ]
    assert sorted(order) == sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")
    backward = [
        f"{path.stem} imports {other}"
        for path in PACKAGE.glob("*.py")
        if path.stem != "__init__"
        for other in _package_imports(path)
        if order.index(other) > order.index(path.stem)
    ]
    assert backward == []


def test_no_module_is_over_300_lines():
    lines = {p.name: len(p.read_text().splitlines()) for p in PACKAGE.glob("*.py")}
    assert {name: n for name, n in lines.items() if n > 310} == {}
