"""Runs the sweep command line with faked GPUs: TensorFlow sees as many as CUDA_VISIBLE_DEVICES
lists (FAKE_GPUS when unset), and each listing and memory-growth call is logged to FAKE_GPU_LOG
as "pid list CUDA_VISIBLE_DEVICES TF_NUM_INTRAOP_THREADS" and "pid growth CUDA_VISIBLE_DEVICES
device enable". A spawned pool worker imports this file as its main module,
so the fake holds in the workers too; TensorFlow's own devices are those of the machine."""

import os
import sys

import tensorflow as tf

_real_list = tf.config.list_physical_devices


def _log(*fields):
    with open(os.environ["FAKE_GPU_LOG"], "a") as log:
        log.write(" ".join(map(str, (os.getpid(), *fields))) + "\n")


def _list_physical_devices(device_type=None):
    if device_type != "GPU":
        return _real_list(device_type)
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    ids = visible.split(",") if visible else map(str, range(int(os.environ["FAKE_GPUS"])))
    _log("list", visible or "-", os.environ.get("TF_NUM_INTRAOP_THREADS", "-"))
    return [tf.config.PhysicalDevice(f"/physical_device:GPU:{i}", "GPU") for i in ids]


def _set_memory_growth(device, enable):
    _log("growth", os.environ.get("CUDA_VISIBLE_DEVICES", "-"), device.name, enable)


tf.config.list_physical_devices = _list_physical_devices
tf.config.experimental.set_memory_growth = _set_memory_growth

if __name__ == "__main__":
    from cifar10_ablation import sweep

    sys.argv[0] = "sweep"
    sweep.run_main()
