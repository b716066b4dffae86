"""Ablate the non-linearities of TensorFlow's CIFAR-10 tutorial net.

One job per module, lower layers first (a module imports only those above it in this list):

- switches: every ablation switch's names, allowed values, checks and the run-name scheme
- stats, markdown, plots, host, stopping, runlock, files: intervals; the one Markdown table
  writer and matplotlib set-up; the machine; SIGTERM/SIGINT stop requests; a lock per run
  directory; files written whole or not at all, JSON read back
- config: a run's validated, frozen description (RunConfig) and config.json
- model, nets, archs: the tutorial net; the other architectures; every --arch by name, built
  from the switches (the one model factory)
- cifar10, mnist, inputs: CIFAR-10 and MNIST read from disk or tensorflow-datasets; --dataset's
  images in, the tutorial's distorted batches out
- state: weights, optimizer, averaged weights, checkpoints
- distribute, rundir: tf.distribute strategies; the run directory's rules and results.json
- diagnostics, summaries, evaluation: pool windows and dead units; TensorBoard histograms;
  test accuracy and the confusion matrix
- steps, loop, trainer: the compiled steps; the training loop; one run from config to results
- grid, scale, sweeper, report, findings, beyond, docs: a sweep's grid; the activation scale;
  training a sweep's runs; its report; what the docs claim; other nets and datasets
  (docs/BEYOND.md); the docs regenerated
- cli, console: every flag, in its command's groups; parsing, --help, a quiet TensorFlow
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
