"""oneDNN is decided before TensorFlow loads, by the package; the host is described as it is."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cifar10_ablation import host

REPO = Path(__file__).resolve().parents[1]
ENTRY_POINTS = ("cifar10_ablation.train", "cifar10_ablation.eval", "cifar10_ablation.sweep")
X86 = os.uname().machine in ("x86_64", "amd64")


def _imported(module, env_value, load_tensorflow=False):
    """[TF_ENABLE_ONEDNN_OPTS, whether TensorFlow is loaded] after `import module` in a fresh
    process; with `load_tensorflow`, [TF_ENABLE_ONEDNN_OPTS, whether its oneDNN kernels are on]
    once TensorFlow has loaded there (TensorFlow's own answer, ~10 s a process)."""
    env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    if env_value is not None:
        env["TF_ENABLE_ONEDNN_OPTS"] = env_value
    loaded = (
        "from tensorflow.python.util import _pywrap_util_port as p; on = p.IsMklEnabled()"
        if load_tensorflow
        else "on = 'tensorflow' in sys.modules"
    )
    done = subprocess.run(
        [sys.executable, "-c", f"import os, sys, {module}; {loaded}; "
         "print(os.environ.get('TF_ENABLE_ONEDNN_OPTS'), on)"],
        env=env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return done.stdout.split()[-2:]


@pytest.mark.skipif(not X86, reason="oneDNN is set for x86 CPUs only")
@pytest.mark.parametrize("module", ENTRY_POINTS)
def test_entry_points_turn_onednn_on_before_tensorflow_loads(module):
    assert _imported(module, None) == ["1", "False"]  # set, and no TensorFlow loaded yet


@pytest.mark.skipif(not X86, reason="oneDNN is set for x86 CPUs only")
def test_tensorflow_loads_with_the_onednn_kernels_on():
    assert _imported("cifar10_ablation.train", None, load_tensorflow=True) == ["1", "True"]


@pytest.mark.parametrize("value", ["0", "1"])
def test_a_value_the_user_set_is_left_alone(value):
    assert _imported("cifar10_ablation.train", value) == [value, "False"]


def test_tensorflow_honours_the_user_s_value():
    assert _imported("cifar10_ablation.train", "0", load_tensorflow=True) == ["0", "False"]


def _first_import(script):
    """The first module `script` imports that is not in the standard library, or None."""
    for node in ast.parse(script.read_text()).body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = (
                [node.module] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            )
            if any(n and n.split(".")[0] not in sys.stdlib_module_names for n in names):
                return names[0]
    return None


@pytest.mark.parametrize("script", sorted((REPO / "bench").glob("*.py")))
def test_bench_scripts_import_the_package_before_tensorflow(script):
    """A script that imports TensorFlow (directly or through a module) before the package would
    run with TensorFlow's own oneDNN default. A script of the standard library alone
    (cpu_families.py) runs other bench scripts as processes: those are checked instead."""
    first = _first_import(script)
    if first is not None:
        assert first == "cifar10_ablation", f"{script.name} imports {first} first"
        return
    strings = {
        n.value for n in ast.walk(ast.parse(script.read_text())) if isinstance(n, ast.Constant)
    }
    launched = [REPO / "bench" / s for s in strings if isinstance(s, str) and s.endswith(".py")]
    launched = [path for path in launched if path.exists()]
    assert launched, f"{script.name} imports no package and launches no bench script"
    for path in launched:
        assert _first_import(path) == "cifar10_ablation", f"{script.name} runs {path.name}"


def test_cpu_and_peak_memory_are_described():
    cpu = host.cpu()
    assert cpu["cores"] == os.cpu_count() and set(cpu["isa"]) == set(host.ISA_FLAGS)
    if Path("/proc/cpuinfo").exists():
        flags = Path("/proc/cpuinfo").read_text()
        assert cpu["isa"]["avx2"] == (" avx2" in flags)
    before = host.peak_memory_mb()
    block = bytearray(200 * 2**20)  # touched: resident
    assert host.peak_memory_mb() >= before
    assert host.peak_memory_mb() >= 200
    del block
    if host.reset_peak_memory():
        assert host.peak_memory_mb() < before + 150


def test_the_cpu_label_names_the_model_and_its_widest_vector_unit():
    def described(**isa):
        return {"cpu": {"model": "AMD EPYC", "isa": {flag: False for flag in host.ISA_FLAGS} | isa}}

    assert host.cpu_label(described(avx2=True, avx512f=True)) == "AMD EPYC AVX-512"
    assert host.cpu_label(described(avx2=True)) == "AMD EPYC AVX2"
    assert host.cpu_label(described()) == "AMD EPYC no AVX2"
    intel = {"cpu": {"model": "Intel(R) Xeon(R) Processor", "isa": {"avx512f": True}}}
    assert host.cpu_label(intel) == "Intel Xeon AVX-512"
    assert host.cpu_label(None) is None  # a results.json from before the host was recorded
