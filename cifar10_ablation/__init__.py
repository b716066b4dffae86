"""Ablate the non-linearities of TensorFlow's CIFAR-10 tutorial net.

The wings, each a subpackage whose __init__.py says what it holds:

- data: CIFAR-10 and MNIST read into one container (Splits); the input pipeline
- models: build_model(switches, arch=...): the tutorial net and the other nets, and layers.py,
  the one place a switch becomes a Keras layer
- training: one run end to end (run.train): the loop, state and checkpoints, the run directory
- sweeps: a grid of runs, trained and reported
- reports: what finished runs say (statistics, tables, plots), without TensorFlow

The rooms every wing shares:

- switches: the ablation switches as one value (Switches), their tables and the run names
- config, schedules: one run's validated, frozen description (RunConfig) and its config.json;
  the schedules' defaults
- cli, console: every flag, in its command's groups; parsing, --help, a quiet TensorFlow
- files, host, plots: files written whole; the machine; the one matplotlib set-up
- train, eval, sweep: the command lines (python -m cifar10_ablation.<name>)

Importing the package first, before TensorFlow, decides TensorFlow's oneDNN CPU kernels (below).
"""

import os
import platform

# TensorFlow turns its oneDNN CPU kernels on by default only on some Intel CPUs; on an AVX2 AMD
# host they measured 1.8-1.9x faster training (docs/PERFORMANCE.md). On for every x86 CPU unless
# the user set the variable (TF_ENABLE_ONEDNN_OPTS=0 turns them off). It only changes CPU
# kernels: a GPU's ops are untouched. TensorFlow reads it when it loads, hence here.
ONEDNN_VARIABLE = "TF_ENABLE_ONEDNN_OPTS"
if platform.machine().lower() in ("x86_64", "amd64", "x86", "i686"):
    os.environ.setdefault(ONEDNN_VARIABLE, "1")

# Fewer TensorFlow C++ log lines after start-up (its start-up lines are printed before this
# setting is read; the command lines hide those, console.load_tensorflow).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
