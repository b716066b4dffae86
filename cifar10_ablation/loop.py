"""The training loop of one run: compiled steps, summaries, evaluation, checkpoints.

    outcome = Trainer(config, state, dataset, run_dir).run()  # to config.max_steps

trainer.train sets a run up (run directory, strategy, state) and runs this loop; a stop request
(stopping.py) ends it after the step in flight with a checkpoint saved.
"""

import os
import sys
import time
from pathlib import Path

import numpy as np
import tensorflow as tf

from cifar10_ablation import config as config_lib
from cifar10_ablation import diagnostics, distribute, evaluation, inputs, rundir, steps, summaries
from cifar10_ablation import state as state_lib
from cifar10_ablation.stopping import EXIT_INTERRUPTED, Interrupted, StopRequest

NUM_SUMMARY_IMAGES = 6


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


class _Progress:
    """A status line per summary: step, loss, accuracy, lr, images/s, ETA (redrawn on a tty).

    Not keras.utils.Progbar: it writes ANSI colour codes into non-tty logs too and averages the
    values over its own updates, while docs/logs/ and the tests read these `step N/M  loss` lines.
    """

    def __init__(self, max_steps):
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


class _Timer:
    """Training seconds and steps, for images per second."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.seconds, self.steps = 0.0, 0

    def add(self, seconds, steps):
        self.seconds += seconds
        self.steps += steps

    def images_per_second(self, batch_size):
        return self.steps * batch_size / self.seconds if self.seconds else None


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
        self.test = inputs.eval_dataset(
            dataset.test_images, dataset.test_labels, evaluation.EVAL_BATCH_SIZE
        )
        # Evaluated every eval_every steps: the validation split when one is held out (the
        # test set then only at the end), else the test set.
        self.validation = None
        if dataset.validation_labels is not None:
            self.validation = inputs.eval_dataset(
                dataset.validation_images, dataset.validation_labels, evaluation.EVAL_BATCH_SIZE
            )
        self.iterator = iter(
            distribute.distribute_batches(
                self.strategy,
                inputs.train_dataset(
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
                inputs.train_dataset(
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
        self.probe_images = evaluation.probe_images(dataset)
        self.probe = diagnostics.Probe(state.model, self.probe_images, config.arch)
        # [loss sum, cross-entropy sum, correct, examples] since the last summary; first bad step.
        self.sums = tf.Variable(tf.zeros(4, tf.float64), trainable=False)
        self.bad_step = tf.Variable(-1, dtype=tf.int64, trainable=False)
        self.train_steps = steps.compile_train_steps(
            state,
            self.strategy,
            config.global_batch_size,
            config_lib.use_xla(config),
            self.sums,
            self.bad_step,
        )
        no_writer = tf.summary.create_noop_writer
        self.writer = tf.summary.create_file_writer(str(run_dir)) if chief else no_writer()

    def run(self):
        """Trains to max_steps; returns the run's outcome. Raises Interrupted on a stop request,
        DiskFull when a write finds no space, TrainingDiverged on a NaN loss."""
        try:
            return self._run()
        except (OSError, tf.errors.OpError) as error:
            if not rundir.is_disk_full(error):
                raise
            events = sorted(self.run_dir.glob("events.out.tfevents.*"), key=os.path.getmtime)
            raise rundir.disk_full_error(
                events[-1] if events else self.run_dir,
                f"~{rundir.size_text(self._checkpoint_bytes())} needed for its next checkpoint",
                self.state.manager.directory,
            ) from None

    def _run(self):
        config, state = self.config, self.state
        progress = _Progress(config.max_steps)
        if state.step == 0 and self.chief:
            self._write_histograms(0)
        window, total = _Timer(), _Timer()  # since the last progress line; this invocation
        evaluated_at = None
        while state.step < config.max_steps and not self.stop.requested:
            num_steps = min(config.steps_per_execution, self._next_event(state.step) - state.step)
            seconds = self._train_steps(num_steps)
            window.add(seconds, num_steps)
            total.add(seconds, num_steps)
            step = state.step
            if self.stop.requested and step < config.max_steps:
                break  # saved below; summaries and evaluation would delay the stop
            if self._after_steps(step, window, progress):
                evaluated_at = step
        if state.step < config.max_steps:  # stop requested
            saved = self._save_unless_saved() if total.steps else None
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
            "train_images_per_second": total.images_per_second(config.global_batch_size),
            "steps_this_invocation": total.steps,
            **self.last_eval,
        }

    def _next_event(self, step):
        """The next step with a summary, histograms, evaluation or checkpoint (or the end)."""
        config = self.config
        events = (
            config.summary_every,
            config.histogram_every,
            config.eval_every,
            config.checkpoint_every,
        )
        return min(config.max_steps, *((step // every + 1) * every for every in events))

    def _train_steps(self, num_steps):
        """Runs num_steps steps in one compiled call; returns its seconds.

        Stops at a non-finite loss as keras.callbacks.TerminateOnNaN would, but checked inside
        the compiled loop (this loop is not Model.fit, whose callbacks run between batches).
        """
        started = time.perf_counter()
        self.train_steps(self.iterator, tf.constant(num_steps))
        bad_step = int(self.bad_step.numpy())
        seconds = time.perf_counter() - started
        if bad_step >= 0:
            raise TrainingDiverged(
                f"loss became NaN or infinite at step {bad_step}; stopped. Last good "
                f"checkpoint: {self.state.manager.latest_checkpoint or 'none'} (lower "
                "--learning_rate?)"
            )
        self.state.train_seconds.assign_add(seconds)
        return seconds

    def _after_steps(self, step, window, progress):
        """Summaries, histograms, evaluation and checkpoint due at `step`; True if evaluated."""
        config = self.config
        last = step == config.max_steps
        if step % config.summary_every == 0 or last:
            images_per_second = window.images_per_second(config.global_batch_size)
            values = self._write_train_scalars(step, images_per_second)
            progress.update(step, values, window.steps / window.seconds)
            window.reset()
        if step % config.histogram_every == 0 and self.chief:
            self._write_histograms(step)
        evaluated = (step % config.eval_every == 0 or last) and self.chief
        if evaluated:
            self._evaluate(step)
        if step % config.checkpoint_every == 0 or last:
            self._save()
            self.writer.flush()
        return evaluated

    def _checkpoint_bytes(self):
        variables = self.state.checkpoint_variables()
        return sum(int(np.prod(v.shape)) * tf.as_dtype(v.dtype).size for v in variables)

    def _save(self):
        """Saves a checkpoint; on a full disk removes its partial files and raises DiskFull."""
        try:
            return self.state.save()
        except (OSError, tf.errors.OpError) as error:
            if not rundir.is_disk_full(error):
                raise
            directory = self.state.manager.directory
            prefix = Path(directory) / f"ckpt-{self.state.step}"
            state_lib.remove_unrecorded(prefix)
            raise rundir.disk_full_error(
                prefix, f"~{rundir.size_text(self._checkpoint_bytes())} needed for it", directory
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
        """The evaluation split's accuracies; at the end also the test set's, once."""
        final = step == self.config.max_steps
        splits = (
            [("test", self.test)] if self.validation is None else [("validation", self.validation)]
        )
        if final and self.validation is not None:
            splits.append(("test", self.test))
        self.last_eval = {}
        for split, dataset in splits:
            self.last_eval.update(
                evaluation.evaluate_state(
                    self.state, dataset, config_lib.use_xla(self.config), self.class_names, split
                )
            )
            evaluation.write_summaries(
                self.writer, step, self.last_eval, split, with_matrix=final, split=split
            )
            newline = "\n" if sys.stdout.isatty() else ""  # end the redrawn progress line
            print(
                f"{newline}step {step}: {split} accuracy {self.last_eval[f'{split}_accuracy']:.4f} "
                f"(averaged), {self.last_eval[f'{split}_accuracy_raw']:.4f} (raw)",
                flush=True,
            )
        if final and self.config.diagnostics:
            self.last_eval["diagnostics"] = evaluation.diagnose(self.state, self.probe_images)
            with self.writer.as_default(step=step):
                for tag, value in self.last_eval["diagnostics"].items():
                    tf.summary.scalar(f"{splits[0][0]}_averaged/{tag}", value)
