"""Ablate the non-linearities of TensorFlow's CIFAR-10 tutorial net.

Stages, one module each: `model` (the net and its switches), `data` (CIFAR-10 in, distorted
batches out), `config` (the validated description of one run), `train` and `eval` (the
command-line jobs).
"""

import os

# Fewer TensorFlow C++ log lines around our one-line errors (its very first start-up lines are
# printed before this setting is read).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
