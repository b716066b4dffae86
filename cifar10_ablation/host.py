"""The machine a run or benchmark ran on, and its peak memory: recorded in results.json and logs.

Throughput depends on the CPU's vector units and on whether TensorFlow's oneDNN kernels ran
(see cifar10_ablation/__init__.py), so a figure without them cannot be compared or reproduced.
"""

import os
import platform
import re
import resource
from pathlib import Path

# /proc/cpuinfo flags that decide which kernels oneDNN (and PyTorch's ATen) dispatch to.
ISA_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16")
_STATUS = Path("/proc/self/status")


def cpu():
    """{"model", "isa": {flag: bool}, "cores", "usable_cores"} of this machine's CPU."""
    model, flags = platform.processor() or platform.machine(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                model = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
                break
    except OSError:  # not Linux: the ISA stays unknown
        pass
    return {
        "model": model,
        "isa": {flag: flag in flags for flag in ISA_FLAGS},
        "cores": os.cpu_count(),
        "usable_cores": usable_cores(),
    }


def usable_cores():
    """The cores this process may run on (its CPU affinity); None where the OS keeps none."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None


def tensorflow_build():
    """TensorFlow's version and build, whether its oneDNN kernels are on in this process, and
    the intra-op threads the environment gave it (a --parallel CPU worker's share of the cores,
    which sets a run's pace; None: TensorFlow's default, every core)."""
    import tensorflow as tf
    from tensorflow.python.util import _pywrap_util_port  # TF's own answer; no public API

    build = tf.sysconfig.get_build_info()
    return {
        "version": tf.__version__,
        "cuda_build": bool(build.get("is_cuda_build")),
        "onednn": bool(_pywrap_util_port.IsMklEnabled()),
        "onednn_max_cpu_isa": os.environ.get("ONEDNN_MAX_CPU_ISA"),
        "intra_op_threads": os.environ.get("TF_NUM_INTRAOP_THREADS"),
        "gpus": len(tf.config.list_physical_devices("GPU")),
    }


def describe():
    """cpu() and tensorflow_build() together, as results.json and the benchmarks record them."""
    return {"cpu": cpu(), "tensorflow": tensorflow_build()}


def cpu_label(described):
    """ "AMD EPYC AVX-512": a describe()'s CPU model (without trademarks and the words Processor
    and CPU) and widest vector unit, the two that set a run's pace here (run times compare only
    under one label); None if not described."""
    if not described:
        return None
    isa = described["cpu"]["isa"]
    widest = "AVX-512" if isa.get("avx512f") else "AVX2" if isa.get("avx2") else "no AVX2"
    model = re.sub(r"\((R|TM|tm)\)|\b(Processor|CPU)\b", "", described["cpu"]["model"])
    return f"{' '.join(model.split())} {widest}"


def reset_peak_memory():
    """Starts a new peak for peak_memory_mb (Linux: /proc/self/clear_refs); False if unsupported."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_memory_mb():
    """Peak resident memory of this process, in MB, since the start or reset_peak_memory()."""
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # Linux: KiB
