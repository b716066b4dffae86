"""Ablate the non-linearities of TensorFlow's CIFAR-10 tutorial net.

Stages, one module each: `model` (the net and its switches), `data` (CIFAR-10 in, distorted
batches out), `config` (the validated description of one run), `state` (weights, optimizer,
averaged weights, checkpoints), `diagnostics` (pool windows, dead units, confusion matrix),
`summaries` (TensorBoard histograms), `distribute` (tf.distribute strategies), `scale` (the
activation scale), `host` (the machine a run ran on), and the command-line jobs `cli` (flags),
`train`, `eval` and `sweep`.

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

# Fewer TensorFlow C++ log lines around our one-line errors (its very first start-up lines are
# printed before this setting is read).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
