"""Trains the tutorial net with its non-linearities switched: python -m cifar10_ablation.train

    python -m cifar10_ablation.train --conv_relu=false --pool=avg --data_dir=../shared/cifar10
    python -m cifar10_ablation.train --flagfile=flags/quick.flags --data_dir=../shared/cifar10
    python -m cifar10_ablation.train --flagfile=flags/resnet20.flags --conv_relu=false \
        --data_dir=../shared/cifar10
    python -m cifar10_ablation.train --flagfile=flags/mnist.flags --data_dir=../shared/mnist

The tutorial schedule (default, 100K steps) is the published run: ~83-86% test accuracy with
averaged weights. Everything goes to --log_dir: TensorBoard events, checkpoints, config.json and,
at the end, results.json. Started again with the same --log_dir, a run continues from its newest
checkpoint that loads (the data stream resumes exactly: it is a function of seed and step).
SIGTERM or SIGINT stops it after the step in flight with a checkpoint saved and exit status 75.
"""

import contextlib
import dataclasses
import errno
import json
import os
import platform
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from absl import app, flags

from cifar10_ablation import cli, data, diagnostics, distribute, host, summaries
from cifar10_ablation import config as config_lib
from cifar10_ablation import eval as eval_lib
from cifar10_ablation import state as state_lib

RESULTS_FILENAME = "results.json"
NUM_SUMMARY_IMAGES = 6
# Stopped by SIGTERM/SIGINT with a checkpoint saved: sysexits' EX_TEMPFAIL ("try again later"),
# which a batch script can answer by requeueing the same command.
EXIT_INTERRUPTED = 75
DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)


class RunDirError(ValueError):
    """The run directory cannot be used as asked: other config, not writable, past max_steps."""


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


class Interrupted(Exception):
    """Training stopped on SIGTERM or SIGINT after the step in flight, its checkpoint saved."""


class DiskFull(RuntimeError):
    """A checkpoint, event file or results.json found no space; older checkpoints are intact."""


class StopRequest:
    """Notes SIGTERM (schedulers, spot machines) and SIGINT (Ctrl-C) while installed, so that the
    trainer stops between steps with a checkpoint instead of dying mid-step."""

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self):
        self.signal_name = None

    @property
    def requested(self):
        return self.signal_name is not None

    def _note(self, signum, frame):
        self.signal_name = signal.Signals(signum).name

    def install(self):
        """From now on the signals only set the request (Python handles them in the main thread
        only; elsewhere this does nothing)."""
        if threading.current_thread() is threading.main_thread():
            for signum in self.SIGNALS:
                signal.signal(signum, self._note)

    @contextlib.contextmanager
    def installed(self):
        previous = {signum: signal.getsignal(signum) for signum in self.SIGNALS}
        self.install()
        try:
            yield self
        finally:
            if threading.current_thread() is threading.main_thread():
                for signum, handler in previous.items():
                    signal.signal(signum, handler)


def is_disk_full(error):
    """Whether `error` is a write that found no space (Python's OSError, or TF's file errors,
    which carry the system's message)."""
    if isinstance(error, OSError):
        return error.errno in DISK_FULL_ERRNOS
    return isinstance(error, tf.errors.OpError) and any(
        os.strerror(code) in str(error) for code in DISK_FULL_ERRNOS
    )


def _size(num_bytes):
    return f"{num_bytes / 1e6:.1f} MB" if num_bytes >= 1e5 else f"{num_bytes / 1e3:.0f} kB"


def disk_full_error(path, needed, checkpoint_dir):
    """DiskFull naming `path`, the space `needed` (a phrase) and where a restart continues."""
    free_on = Path(path)
    while not free_on.exists():
        free_on = free_on.parent
    state = tf.train.get_checkpoint_state(str(checkpoint_dir))
    latest = Path(state.model_checkpoint_path).name if state else None
    return DiskFull(
        f"no space left on device writing {path} ({_size(shutil.disk_usage(free_on).free)} free "
        f"there; {needed}); free space and run the same command to continue from "
        f"{latest or 'the start'}"
    )


def resolve_run_config(config, overwrite=False):
    """The config to train config.log_dir with: a new run's, or the continued run's.

    An existing run is continued only when its saved identity matches (RunDirError otherwise,
    unless `overwrite`, which deletes it); it keeps its saved identity and takes this
    invocation's run-control fields. Writes nothing (see write_run_config).
    """
    run_dir = Path(config.log_dir)
    config_path = run_dir / config_lib.CONFIG_FILENAME
    if overwrite and run_dir.exists():
        shutil.rmtree(run_dir)
    if config_path.exists():
        saved = config_lib.load_run_config(run_dir)
        differences = config_lib.identity_differences(saved, config)
        if differences:
            raise RunDirError(
                f"{run_dir} holds a run with another configuration "
                f"({'; '.join(differences)}); use another --log_dir, or --overwrite "
                "to delete it"
            )
        control = {name: getattr(config, name) for name in config_lib.RUN_CONTROL_FIELDS}
        config = config_lib.RunConfig.from_dict({**saved.to_dict(), **control})
    elif state_lib.checkpoint_dir(run_dir).exists():
        raise RunDirError(
            f"{run_dir} has checkpoints but no {config_lib.CONFIG_FILENAME}; use "
            "another --log_dir, or --overwrite to delete it"
        )
    return config.resolved()


def write_run_config(config):
    """Creates the run directory and writes config.json (atomically)."""
    run_dir = Path(config.log_dir)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        config_lib.write_json_atomic(run_dir / config_lib.CONFIG_FILENAME, config.to_dict())
    except OSError as error:
        raise RunDirError(f"cannot write to --log_dir={run_dir}: {error.strerror}") from None


def resume_checkpoint(checkpoint_dir):
    """The newest checkpoint of checkpoint_dir that reads whole, None on a fresh run.

    Newer ones that do not (truncated, zero-filled, missing files) are skipped with a line each,
    and overwritten when training reaches their step again; RunDirError if none loads.
    """
    skipped = []
    for path in state_lib.recorded_checkpoints(checkpoint_dir):
        damage = state_lib.checkpoint_damage(path)
        if damage is None:
            for bad, why in skipped:
                print(
                    f"warning: skipped checkpoint {bad}: it does not load ({why}); continuing "
                    f"from {Path(path).name}",
                    file=sys.stderr,
                    flush=True,
                )
            return path
        skipped.append((path, damage))
    if skipped:
        raise RunDirError(
            f"no checkpoint in {checkpoint_dir} loads ("
            + "; ".join(f"{Path(p).name}: {why}" for p, why in skipped)
            + "); move the run directory away, or pass --overwrite to start it over"
        )
    return None


def set_op_determinism(enabled):
    """TF op determinism on or off for this process (a sweep may mix both kinds of run)."""
    if enabled:
        tf.config.experimental.enable_op_determinism()
    else:  # TF has no public switch-off
        from tensorflow.python.framework import config as tf_framework_config

        tf_framework_config.disable_op_determinism()


def library_versions():
    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
    }


class _Progress:
    """A status line per summary: step, loss, accuracy, lr, images/s, ETA (redrawn on a tty)."""

    def __init__(self, start_step, max_steps):
        self.max_steps = max_steps
        self.width = len(str(max_steps))
        self.interactive = sys.stdout.isatty()

    def update(self, step, values, steps_per_second):
        eta = int((self.max_steps - step) / max(steps_per_second, 1e-9))
        line = (
            f"step {step:>{self.width}}/{self.max_steps}  loss {values['loss']:.4f}  "
            f"accuracy {values['accuracy']:.4f}  lr {values['learning_rate']:.4g}  "
            f"{values['images_per_second']:.0f} images/s  "
            f"ETA {eta // 3600:d}:{eta // 60 % 60:02d}:{eta % 60:02d}"
        )
        print(
            f"\r{line}" if self.interactive else line,
            end="" if self.interactive else "\n",
            flush=True,
        )


class Trainer:
    """The training loop of one run: compiled steps, summaries, evaluation, checkpoints.

    Under a tf.distribute strategy every replica trains on its share of each global batch;
    only the chief evaluates and writes (summaries, checkpoints, results).
    """

    def __init__(self, config, state, dataset, run_dir, strategy=None, chief=True, stop=None):
        self.config = config
        self.state = state
        self.run_dir = run_dir
        self.stop = stop or StopRequest()
        self.strategy = strategy or tf.distribute.get_strategy()
        self.chief = chief
        self.last_eval = {}
        self.test = data.eval_dataset(
            dataset.test_images, dataset.test_labels, eval_lib.EVAL_BATCH_SIZE
        )
        self.iterator = iter(
            distribute.distribute_batches(
                self.strategy,
                data.train_dataset(
                    dataset.train_images,
                    dataset.train_labels,
                    config.global_batch_size,
                    config.seed,
                    state.step,
                    dataset.flips,
                    dataset.colors,
                ),
            )
        )
        # The run's first distorted batch, shown as images; a fixed test batch for activations.
        self.input_images, _ = next(
            iter(
                data.train_dataset(
                    dataset.train_images[:4096],
                    dataset.train_labels[:4096],
                    config.batch_size,
                    config.seed,
                    flips=dataset.flips,
                    colors=dataset.colors,
                )
            )
        )
        self.class_names = dataset.class_names
        self.probe_images = eval_lib.probe_images(dataset)
        self.probe = diagnostics.Probe(state.model, self.probe_images, config.arch)
        # [loss sum, cross-entropy sum, correct, examples] since the last summary; first bad step.
        self.sums = tf.Variable(tf.zeros(4, tf.float64), trainable=False)
        self.bad_step = tf.Variable(-1, dtype=tf.int64, trainable=False)
        self.train_steps = self._compile_train_steps()
        no_writer = tf.summary.create_noop_writer
        self.writer = tf.summary.create_file_writer(str(run_dir)) if chief else no_writer()

    def _compile_train_steps(self):
        model, optimizer, averages = self.state.model, self.state.optimizer, self.state.averages
        strategy, replicas = self.strategy, self.strategy.num_replicas_in_sync
        variables = model.trainable_variables
        global_batch = self.config.global_batch_size
        loss_scaling = isinstance(optimizer, keras.optimizers.LossScaleOptimizer)

        @tf.function(jit_compile=config_lib.use_xla(self.config))
        def gradients_and_sums(images, labels):
            """One replica's gradients of the global batch's mean loss (the optimizer sums the
            replicas'), and its [loss, cross-entropy, correct, examples] sums."""
            with tf.GradientTape() as tape:
                logits = model(images, training=True)
                per_example = tf.nn.sparse_softmax_cross_entropy_with_logits(
                    labels, tf.cast(logits, tf.float32)
                )
                cross_entropy = tf.reduce_sum(per_example) / global_batch
                weight_decay = tf.add_n(model.losses) if model.losses else tf.constant(0.0)
                loss = cross_entropy + weight_decay / replicas
                if loss_scaling:  # float16: gradients of the scaled loss, unscaled when applied
                    loss = optimizer.scale_loss(loss)
            gradients = tape.gradient(loss, variables)
            examples = tf.cast(tf.shape(labels)[0], tf.float32)
            predictions = tf.argmax(logits, -1, output_type=labels.dtype)
            correct = tf.reduce_sum(tf.cast(tf.equal(predictions, labels), tf.float32))
            ce_sum = tf.reduce_sum(per_example)
            sums = tf.stack([ce_sum + examples * weight_decay, ce_sum, correct, examples])
            return gradients, sums

        def train_step(images, labels):
            gradients, sums = gradients_and_sums(images, labels)
            optimizer.apply_gradients(zip(gradients, variables, strict=False))
            return sums

        @tf.function
        def train_steps(iterator, num_steps):
            for _ in tf.range(num_steps):
                images, labels = next(iterator)
                sums = strategy.reduce(
                    tf.distribute.ReduceOp.SUM,
                    strategy.run(train_step, args=(images, labels)),
                    axis=None,
                )
                averages.update(variables, optimizer.iterations)
                self.sums.assign_add(tf.cast(sums, tf.float64))
                if not tf.math.is_finite(sums[0]) and self.bad_step < 0:
                    self.bad_step.assign(optimizer.iterations)

        return train_steps

    def run(self):
        """Trains to max_steps; returns the run's outcome. Raises Interrupted on a stop request,
        DiskFull when a write finds no space, TrainingDiverged on a NaN loss."""
        try:
            return self._run()
        except (OSError, tf.errors.OpError) as error:
            if not is_disk_full(error):
                raise
            events = sorted(self.run_dir.glob("events.out.tfevents.*"), key=os.path.getmtime)
            raise disk_full_error(
                events[-1] if events else self.run_dir,
                f"~{_size(self._checkpoint_bytes())} needed for its next checkpoint",
                self.state.manager.directory,
            ) from None

    def _run(self):
        config, state = self.config, self.state
        start_step = state.step
        progress = _Progress(start_step, config.max_steps)
        if start_step == 0 and self.chief:
            self._write_histograms(0)
        window_seconds, window_steps = 0.0, 0
        trained_seconds, trained_steps = 0.0, 0
        evaluated_at = None
        while state.step < config.max_steps and not self.stop.requested:
            step = state.step
            stop = min(
                config.max_steps,
                *(
                    (step // every + 1) * every
                    for every in (
                        config.summary_every,
                        config.histogram_every,
                        config.eval_every,
                        config.checkpoint_every,
                    )
                ),
            )
            num_steps = min(config.steps_per_execution, stop - step)
            started = time.perf_counter()
            self.train_steps(self.iterator, tf.constant(num_steps))
            bad_step = int(self.bad_step.numpy())
            seconds = time.perf_counter() - started
            if bad_step >= 0:
                raise TrainingDiverged(
                    f"loss became NaN or infinite at step {bad_step}; stopped. Last good "
                    f"checkpoint: {state.manager.latest_checkpoint or 'none'} (lower "
                    "--learning_rate?)"
                )
            state.train_seconds.assign_add(seconds)
            window_seconds += seconds
            window_steps += num_steps
            trained_seconds += seconds
            trained_steps += num_steps
            step = state.step
            if self.stop.requested and step < config.max_steps:
                break  # saved below; summaries and evaluation would delay the stop
            if step % config.summary_every == 0 or step == config.max_steps:
                images_per_second = window_steps * config.global_batch_size / window_seconds
                values = self._write_train_scalars(step, images_per_second)
                progress.update(step, values, window_steps / window_seconds)
                window_seconds, window_steps = 0.0, 0
            if step % config.histogram_every == 0 and self.chief:
                self._write_histograms(step)
            if (step % config.eval_every == 0 or step == config.max_steps) and self.chief:
                self._evaluate(step)
                evaluated_at = step
            if step % config.checkpoint_every == 0 or step == config.max_steps:
                self._save()
                self.writer.flush()
        if state.step < config.max_steps:  # stop requested
            saved = self._save_unless_saved() if trained_steps else None
            self.writer.flush()
            raise Interrupted(
                f"{self.run_dir}: stopped by {self.stop.signal_name} at step {state.step} of "
                f"{config.max_steps}"
                + (f", checkpoint {Path(saved).name} saved" if saved else "")
                + f"; run the same command to continue (exit status {EXIT_INTERRUPTED})"
            )
        if evaluated_at != state.step and self.chief:
            self._evaluate(state.step)
        self._save_unless_saved()
        self.writer.flush()
        return {
            "train_images_per_second": (
                trained_steps * config.global_batch_size / trained_seconds
                if trained_seconds
                else None
            ),
            "steps_this_invocation": trained_steps,
            **self.last_eval,
        }

    def _checkpoint_bytes(self):
        variables = self.state.checkpoint_variables()
        return sum(int(np.prod(v.shape)) * tf.as_dtype(v.dtype).size for v in variables)

    def _save(self):
        """Saves a checkpoint; on a full disk removes its partial files and raises DiskFull."""
        try:
            return self.state.save()
        except (OSError, tf.errors.OpError) as error:
            if not is_disk_full(error):
                raise
            directory = self.state.manager.directory
            prefix = Path(directory) / f"ckpt-{self.state.step}"
            state_lib.remove_unrecorded(prefix)
            raise disk_full_error(
                prefix, f"~{_size(self._checkpoint_bytes())} needed for it", directory
            ) from None

    def _save_unless_saved(self):
        latest = self.state.manager.latest_checkpoint
        if latest is None or not latest.endswith(f"-{self.state.step}"):
            latest = self._save()
        return latest

    def _write_train_scalars(self, step, images_per_second):
        loss_sum, cross_entropy_sum, correct, examples = self.sums.numpy()
        self.sums.assign(tf.zeros(4, tf.float64))
        learning_rate = float(self.state.optimizer.learning_rate.numpy())
        values = {
            "loss": loss_sum / examples,
            "cross_entropy": cross_entropy_sum / examples,
            "accuracy": correct / examples,
            "learning_rate": learning_rate,
            "images_per_second": images_per_second,
            "averaging_decay": float(state_lib.averaging_decay(step, self.config.ema_decay)),
        }
        with self.writer.as_default(step=step):
            for name, value in values.items():
                tf.summary.scalar(f"train/{name}", value)
        return values

    def _write_histograms(self, step):
        """Weights; activations, sparsity (the tutorial's zero fraction) and, unless disabled, the
        pool-window and dead-unit diagnostics on the fixed test batch; the distorted inputs."""
        outputs = self.probe.outputs()
        with self.writer.as_default(step=step):
            for variable in self.state.model.trainable_variables:
                summaries.histogram(f"weights/{variable.path}", variable)
            for name in self.probe.activation_layers:
                summaries.histogram(f"{name}/activations", outputs[name])
                tf.summary.scalar(f"{name}/sparsity", tf.math.zero_fraction(outputs[name]))
            if self.config.diagnostics:
                for tag, value in self.probe.measure(outputs).items():
                    tf.summary.scalar(tag, value)
            if step == 0:
                images = self.input_images[:NUM_SUMMARY_IMAGES]
                low = tf.reduce_min(images, axis=[1, 2, 3], keepdims=True)
                high = tf.reduce_max(images, axis=[1, 2, 3], keepdims=True)
                tf.summary.image(
                    "input/distorted", (images - low) / (high - low), max_outputs=NUM_SUMMARY_IMAGES
                )

    def _evaluate(self, step):
        self.last_eval = eval_lib.evaluate_state(
            self.state, self.test, config_lib.use_xla(self.config), self.class_names
        )
        final = step == self.config.max_steps
        if final and self.config.diagnostics:
            self.last_eval["diagnostics"] = eval_lib.diagnose(self.state, self.probe_images)
        eval_lib.write_summaries(self.writer, step, self.last_eval, "test", with_matrix=final)
        newline = "\n" if sys.stdout.isatty() else ""  # end the redrawn progress line
        print(
            f"{newline}step {step}: test accuracy {self.last_eval['test_accuracy']:.4f} "
            f"(averaged), {self.last_eval['test_accuracy_raw']:.4f} (raw)",
            flush=True,
        )


def train(config, overwrite=False, stop=None):
    """Trains (or continues) the run `config` describes to config.max_steps; returns results.

    Raises DataError, RunDirError, CheckpointMismatch or ValueError before writing anything
    when the data, the run directory or the config is unusable; TrainingDiverged on NaN loss;
    DiskFull when a write finds no space. SIGTERM and SIGINT (or `stop`, a StopRequest the
    caller installed) stop it after the step in flight, with a checkpoint: Interrupted.
    """
    started = time.time()
    host.reset_peak_memory()  # each run of a sweep gets its own peak
    config = config_lib.validate(config)
    strategy = distribute.strategy_for(config.distribution)  # before TF sets up its devices
    if stop is None and not distribute.is_multi_worker(strategy):
        with StopRequest().installed() as stop:
            return _train(config, overwrite, strategy, stop, started)
    # Multi-worker workers save together, so none can stop alone: killed, they resume as before.
    return _train(config, overwrite, strategy, stop or StopRequest(), started)


def _train(config, overwrite, strategy, stop, started):
    chief = distribute.is_chief(strategy)
    dataset = data.load_dataset(config.dataset, config.data_dir)
    config = resolve_run_config(config, overwrite and chief)
    run_dir = Path(config.log_dir)
    config = _with_replicas(config, strategy.num_replicas_in_sync, run_dir)
    set_op_determinism(config.deterministic)
    keras.utils.set_random_seed(config.seed)
    # Other workers save where they collide with nothing (all workers must take part in a save).
    save_dir = state_lib.checkpoint_dir(run_dir) if chief else Path(tempfile.mkdtemp())
    try:
        with strategy.scope():
            state = state_lib.TrainState(config, save_dir)
        # Raises CheckpointMismatch before anything is written.
        state.restore(resume_checkpoint(state_lib.checkpoint_dir(run_dir)))
        return _train_state(config, state, dataset, strategy, chief, started, stop)
    finally:
        if not chief:
            shutil.rmtree(save_dir, ignore_errors=True)


def _with_replicas(config, replicas, run_dir):
    """The config with this strategy's replica count, refused if the run was begun with another."""
    if config.replicas not in (None, replicas):
        raise distribute.DistributionError(
            f"{run_dir} was trained with {config.replicas} replica(s) of batch "
            f"{config.batch_size}; this invocation has {replicas}: continue it with the same "
            "--distribution and devices, or use another --log_dir"
        )
    return dataclasses.replace(config, replicas=replicas)


def _train_state(config, state, dataset, strategy, chief, started, stop):
    run_dir = Path(config.log_dir)
    results_path = run_dir / RESULTS_FILENAME
    if state.step > config.max_steps:
        raise RunDirError(
            f"{run_dir} is at step {state.step}, past --max_steps="
            f"{config.max_steps}; pass --max_steps>={state.step}"
        )
    if state.step == config.max_steps and results_path.exists():
        results = config_lib.load_json(results_path)
        if results.get("global_step") == state.step:
            print(
                f"{run_dir} is finished at step {state.step}: test accuracy "
                f"{results['test_accuracy']:.4f} (averaged), "
                f"{results['test_accuracy_raw']:.4f} (raw)"
            )
            return results
    if chief:
        write_run_config(config)
    replicas = "" if config.replicas == 1 else f" on {config.replicas} replicas"
    print(
        f"{run_dir}: training {config.run_name()} from step {state.step} to {config.max_steps} "
        f"on {dataset.source}{replicas}",
        flush=True,
    )
    try:
        outcome = Trainer(config, state, dataset, run_dir, strategy, chief, stop).run()
    except tf.errors.OpError as error:
        if not distribute.is_multi_worker(strategy):
            raise
        reason = str(error).strip().splitlines()[0][:300]
        raise distribute.DistributionError(
            f"a worker failed or stopped answering near step {state.step} ({reason}); start "
            "all workers again to continue from the last checkpoint"
        ) from None
    if not chief:
        return {"global_step": state.step, **outcome}
    results = {
        "config": config.to_dict(),
        "global_step": state.step,
        **outcome,
        "num_test_examples": int(len(dataset.test_labels)),
        "wall_seconds": round(time.time() - started, 2),
        "train_seconds_total": round(float(state.train_seconds.numpy()), 2),
        "data_source": dataset.source,
        "versions": library_versions(),
        "host": host.describe(),
        "peak_resident_mb": host.peak_memory_mb(),
    }
    try:
        config_lib.write_json_atomic(results_path, results)
    except OSError as error:
        if not is_disk_full(error):
            raise
        needed = f"~{_size(len(json.dumps(results, indent=2)))} needed for it"
        raise disk_full_error(results_path, needed, state.manager.directory) from None
    return results


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    cli.quiet_info_logs()
    try:
        train(cli.config_from_flags(), overwrite=flags.FLAGS.overwrite)
    except (ValueError, TrainingDiverged, DiskFull) as error:
        sys.exit(f"error: {error}")
    except Interrupted as stopped:
        print(stopped, file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)


def run_main():
    app.run(main)


if __name__ == "__main__":
    run_main()
