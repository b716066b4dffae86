"""What a run reports: its TensorBoard summaries and its progress lines.

    summaries = RunSummaries(run_dir, chief=True)
    summaries.train_scalars(step, values)          # train/loss, train/accuracy, ...
    summaries.histograms(step, model, probe, ...)  # weights, activations, sparsity, diagnostics
    write_evaluation(writer, step, results, "test", with_matrix=True)

Off the chief (multi-worker) the writer is a no-op. `histogram` writes what
`tf.summary.histogram` writes (the same 30 buckets, edges and plugin metadata, so the Histograms
and Distributions dashboards read it unchanged), but counts the buckets with NumPy's
`bincount`: TensorBoard 2.21 counts them through a [values, buckets] float64 one-hot,
which for conv1's activations on the 500-image probe batch (18.4M values) is 4.4 GB and took a
500-step training run's peak resident memory to 6.9 GB. Ours buckets a million values at a
time, so its float64 temporaries stay near 8 MB.
"""

import sys

import numpy as np
import tensorflow as tf
from tensorboard.plugins.histogram import metadata as histogram_metadata

from cifar10_ablation.training import diagnostics

BUCKET_COUNT = 30  # tf.summary.histogram's default
CHUNK = 1 << 20  # values bucketed at once
NUM_SUMMARY_IMAGES = 6  # of the run's first distorted batch, shown once


def histogram_buckets(data, bucket_count=BUCKET_COUNT):
    """float64 [bucket_count, 3] rows of (left edge, right edge, count), as TensorBoard's.

    Equal-width buckets from min to max, the max in the last one; all values equal: every edge
    is that value and the last bucket holds them all; no values: all zeros. In NumPy: TF's eager
    ops spent ~50 ms a histogram in dispatch alone, ~0.7 s per summary of the tutorial net's 14
    on 2 cores (measured), however small the tensors.
    """
    data = np.asarray(tf.convert_to_tensor(data)).reshape(-1)  # a variable: its (primary) value
    if data.size == 0:
        return np.zeros((bucket_count, 3))
    low, high = float(data.min()), float(data.max())
    if high == low:
        counts = np.zeros(bucket_count)
        counts[-1] = data.size
        edges = np.full(bucket_count, high)
        return np.stack([edges, edges, counts], axis=1)
    width = (high - low) / bucket_count
    counts = np.zeros(bucket_count)
    for start in range(0, data.size, CHUNK):  # float64 temporaries of CHUNK values at a time
        chunk = data[start : start + CHUNK].astype(np.float64)
        indices = np.minimum(np.floor((chunk - low) / width).astype(np.int64), bucket_count - 1)
        counts += np.bincount(indices, minlength=bucket_count)
    edges = np.concatenate([np.linspace(low, high, bucket_count + 1)[:-1], [high]])
    return np.stack([edges[:-1], edges[1:], counts], axis=1)


def histogram(name, data, step=None):
    """Writes `data`'s histogram under `name` to the default writer, as tf.summary.histogram."""
    return tf.summary.write(
        tag=name,
        tensor=histogram_buckets(data),
        step=step,
        metadata=histogram_metadata.create_summary_metadata(display_name=None, description=None),
    )


def write_evaluation(writer, step, results, prefix, with_matrix=True, split="test"):
    """`split`'s accuracies under `prefix` (and per-class accuracy, the confusion matrix,
    diagnostics) to TensorBoard."""
    with writer.as_default(step=step):
        tf.summary.scalar(f"{prefix}/accuracy", results[f"{split}_accuracy"])
        tf.summary.scalar(f"{prefix}/accuracy_raw", results[f"{split}_accuracy_raw"])
        if with_matrix:
            for name, value in results["per_class_accuracy"].items():
                tf.summary.scalar(f"{prefix}/class_accuracy/{name}", value)
            title = f"step {step}: accuracy {results[f'{split}_accuracy']:.4f} (averaged weights)"
            image = diagnostics.confusion_image(
                np.array(results["confusion_matrix"]), title, list(results["per_class_accuracy"])
            )
            tf.summary.image(f"{prefix}/confusion_matrix", image)
        for tag, value in results.get("diagnostics", {}).items():
            tf.summary.scalar(f"{prefix}_averaged/{tag}", value)
    writer.flush()


class RunSummaries:
    """A run's TensorBoard writer (a no-op off the chief) and what the training loop writes."""

    def __init__(self, run_dir, chief=True):
        self.run_dir = run_dir
        no_writer = tf.summary.create_noop_writer
        self.writer = tf.summary.create_file_writer(str(run_dir)) if chief else no_writer()

    def train_scalars(self, step, values):
        """train/<name> for each of `values` ({name: number})."""
        with self.writer.as_default(step=step):
            for name, value in values.items():
                tf.summary.scalar(f"train/{name}", value)

    def histograms(self, step, model, probe, measure_diagnostics, input_images=None):
        """Weights; activations, sparsity (the tutorial's zero fraction) and, if
        `measure_diagnostics`, the pool-window and dead-unit diagnostics on the probe's fixed
        batch; `input_images` (the run's first distorted batch), when given, as images."""
        outputs = probe.outputs()
        with self.writer.as_default(step=step):
            for variable in model.trainable_variables:
                histogram(f"weights/{variable.path}", variable)
            for name in probe.activation_layers:
                histogram(f"{name}/activations", outputs[name])
                tf.summary.scalar(f"{name}/sparsity", tf.math.zero_fraction(outputs[name]))
            if measure_diagnostics:
                for tag, value in probe.measure(outputs).items():
                    tf.summary.scalar(tag, value)
            if input_images is not None:
                images = input_images[:NUM_SUMMARY_IMAGES]
                low = tf.reduce_min(images, axis=[1, 2, 3], keepdims=True)
                high = tf.reduce_max(images, axis=[1, 2, 3], keepdims=True)
                tf.summary.image(
                    "input/distorted", (images - low) / (high - low), max_outputs=NUM_SUMMARY_IMAGES
                )

    def evaluation(self, step, results, split, final):
        write_evaluation(self.writer, step, results, split, with_matrix=final, split=split)

    def flush(self):
        self.writer.flush()


class Progress:
    """A status line per summary: step, loss, accuracy, lr, images/s, ETA (redrawn on a tty).

    In a log (not a tty) each line ends with the run's `name`, so that the lines of runs trained
    at once into one log (a sweep's --parallel workers, sweeps side by side) stay apart.
    Not keras.utils.Progbar: it writes ANSI colour codes into non-tty logs too and averages the
    values over its own updates, while docs/logs/ and the tests read these `step N/M  loss` lines.
    """

    def __init__(self, max_steps, name=""):
        self.max_steps = max_steps
        self.width = len(str(max_steps))
        self.interactive = sys.stdout.isatty()
        self.suffix = f"  {name}" if name and not self.interactive else ""

    def update(self, step, values, steps_per_second):
        eta = int((self.max_steps - step) / max(steps_per_second, 1e-9))
        line = (
            f"step {step:>{self.width}}/{self.max_steps}  loss {values['loss']:.4f}  "
            f"accuracy {values['accuracy']:.4f}  lr {values['learning_rate']:.4g}  "
            f"{values['images_per_second']:.0f} images/s  "
            f"ETA {eta // 3600:d}:{eta // 60 % 60:02d}:{eta % 60:02d}"
        )
        print(
            f"\r{line}" if self.interactive else line + self.suffix,
            end="" if self.interactive else "\n",
            flush=True,
        )

    def evaluated(self, step, split, results):
        """The evaluation's line (ending a redrawn progress line first)."""
        newline = "\n" if self.interactive else ""
        print(
            f"{newline}step {step}: {split} accuracy {results[f'{split}_accuracy']:.4f} "
            f"(averaged), {results[f'{split}_accuracy_raw']:.4f} (raw){self.suffix}",
            flush=True,
        )
