"""Runs the training CLI as in an environment without JAX (TensorFlow's TF-Lite module imports
JAX when it is installed, ~140 MB more resident): python docs/bench/memory/without_jax.py FLAGS"""

import runpy
import sys

sys.modules["jax"] = None  # import jax now fails, as where it is not installed
sys.argv = ["cifar10_ablation.train", *sys.argv[1:]]
runpy.run_module("cifar10_ablation.train", run_name="__main__")
