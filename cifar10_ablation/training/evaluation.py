"""Test-set evaluation: precision @ 1 with averaged and raw weights, confusion matrix, probes.

    evaluate_state(state, dataset)  # during training (loop.py), every --eval_every
    evaluate_run(run_dir)                # a saved run's checkpoint (the `eval` command line)

evaluate_run rebuilds the model from the run's saved config.json (never from flags), restores
the newest checkpoint (or a given one) and writes the accuracies to TensorBoard (`eval/...`)
and eval.json.
"""

import time
import weakref
from pathlib import Path

import numpy as np
import tensorflow as tf

from cifar10_ablation import config as config_lib
from cifar10_ablation import data, files
from cifar10_ablation.data import pipeline
from cifar10_ablation.training import diagnostics, distribute, precision, rundir, summaries
from cifar10_ablation.training import state as state_lib

EVAL_BATCH_SIZE = 500
PROBE_SIZE = 500  # test images the diagnostics are measured on


def predict_classes(model, dataset, jit_compile=False):
    """Predicted class per example of `dataset`, in order, and its labels: two int32 arrays."""
    classes = _compiled_classes(model, jit_compile)
    predictions, labels = [], []
    for images, batch_labels in dataset:
        predictions.append(classes(images).numpy())
        labels.append(batch_labels.numpy())
    return np.concatenate(predictions), np.concatenate(labels)


# One compiled function per model, dropped with the model (the function holds it weakly):
# tracing one anew per evaluation cost 0.5 s (tutorial net) to 1.4 s (ResNet-20) per model on
# 2 busy cores, twice per evaluation (averaged and raw weights).
_COMPILED = weakref.WeakKeyDictionary()


def _compiled_classes(model, jit_compile):
    functions = _COMPILED.setdefault(model, {})
    if jit_compile not in functions:
        model_ref = weakref.ref(model)

        @tf.function(jit_compile=jit_compile, reduce_retracing=True, autograph=False)
        def classes(images):
            logits = model_ref()(images, training=False)
            return tf.argmax(logits, axis=-1, output_type=tf.int32)

        functions[jit_compile] = classes
    return functions[jit_compile]


def accuracy(model, dataset, jit_compile=False):
    """Precision @ 1 over every example of `dataset` (the tutorial's eval metric)."""
    predictions, labels = predict_classes(model, dataset, jit_compile)
    return float(np.mean(predictions == labels))


def evaluate_state(state, dataset, class_names, jit_compile=False, split="test"):
    """`split`_accuracy with averaged and raw weights; the averaged weights' confusion matrix."""
    predictions, labels = predict_classes(state.averaged_model(), dataset, jit_compile)
    matrix = diagnostics.confusion_matrix(labels, predictions, len(class_names))
    return {
        f"{split}_accuracy": float(np.mean(predictions == labels)),
        f"{split}_accuracy_raw": accuracy(state.model, dataset, jit_compile),
        "confusion_matrix": matrix.tolist(),
        "per_class_accuracy": diagnostics.per_class_accuracy(matrix, class_names),
    }


def probe_images(dataset, augmentation="tutorial"):
    """The fixed batch diagnostics are measured on: the first images of the split evaluated
    during training (validation when held out, else test), as evaluated."""
    images = dataset.test_images if dataset.validation_images is None else dataset.validation_images
    return pipeline.eval_images(images[:PROBE_SIZE], augmentation)


def diagnose(state, images):
    """The diagnostics of the averaged weights on `images` (see diagnostics.py)."""
    return diagnostics.Probe(state.averaged_model(), images, state.config.arch).measure()


def evaluate_run(run_dir, checkpoint=None, data_dir=None):
    """Evaluates a run's newest (or given) checkpoint; writes TensorBoard scalars and eval.json.

    Raises ValueError (DataError, CheckpointMismatch) when the run, its checkpoint or the data
    cannot be used.
    """
    run_dir = Path(run_dir)
    distribute.grow_gpu_memory()
    config = config_lib.load_run_config(run_dir)
    if checkpoint is not None and not tf.io.gfile.exists(f"{checkpoint}.index"):
        raise ValueError(f"checkpoint {checkpoint} does not exist (no {checkpoint}.index)")
    dataset = data.load(config.dataset, data_dir or config.data_dir)
    model = precision.build_model(config)
    state = state_lib.TrainState(config, model, state_lib.checkpoint_dir(run_dir))
    if checkpoint is None:  # the newest that loads, as a resumed training would take
        checkpoint = rundir.newest_whole_checkpoint(
            state_lib.checkpoint_dir(run_dir), remedy="train the run again to evaluate it"
        )
    path = state.restore(checkpoint, for_training=False)
    if path is None:
        raise ValueError(f"{run_dir} has no checkpoint yet; train it first")
    test = pipeline.eval_dataset(
        dataset.test_images, dataset.test_labels, EVAL_BATCH_SIZE, config.augmentation
    )
    start = time.time()
    results = evaluate_state(state, test, dataset.class_names, precision.use_xla(config))
    results["diagnostics"] = diagnose(state, probe_images(dataset, config.augmentation))
    results.update(
        checkpoint=path,
        global_step=state.step,
        num_examples=len(dataset.test_labels),
        eval_seconds=round(time.time() - start, 2),
    )
    writer = tf.summary.create_file_writer(str(run_dir))
    summaries.write_evaluation(writer, state.step, results, "eval")
    files.write_json_atomic(run_dir / config_lib.EVAL_FILENAME, results)
    return results
