"""The training loop of one run: steps, evaluation, checkpoint, stop.

    outcome = Trainer(config, state, dataset, run_dir).run()  # to config.max_steps

run.train sets a run up (run directory, strategy, state) and runs this loop. Each pass trains
up to the next step where something is due (a summary, histograms, an evaluation, a
checkpoint, the end) in one compiled call, then does what is due; a stop request
(stopping.py) ends it after the step in flight with a checkpoint saved.
"""

import os
import time
from pathlib import Path

import tensorflow as tf

from cifar10_ablation.data import pipeline
from cifar10_ablation.training import (
    diagnostics,
    disk,
    distribute,
    evaluation,
    precision,
    steps,
    summaries,
)
from cifar10_ablation.training import state as state_lib
from cifar10_ablation.training.stopping import EXIT_INTERRUPTED, Interrupted, StopRequest

# Images of the training set the run's first distorted batch (shown in TensorBoard) is drawn
# from: any, so the stream of a few thousand is cheap to start.
FIRST_BATCH_POOL = 4096


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


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
    """The training loop of one run over `dataset` (data.Splits).

    Under a tf.distribute strategy every replica trains on its share of each global batch;
    only the chief evaluates and writes (summaries, checkpoints, results). Evaluation every
    eval_every steps is on the validation split when one is held out (the test set then only
    at the end), else on the test set.
    """

    def __init__(self, config, state, dataset, run_dir, strategy=None, chief=True, stop=None):
        self.config = config
        self.state = state
        self.run_dir = run_dir
        self.stop = stop or StopRequest()
        self.strategy = strategy or tf.distribute.get_strategy()
        self.chief = chief
        self.last_eval = {}
        self.class_names = dataset.class_names
        self.splits = [("test", dataset.test_images, dataset.test_labels)]
        if dataset.validation_labels is not None:
            self.splits.insert(0, ("validation", *dataset.validation))
        augmentation = config.augmentation
        self.eval_data = {
            name: pipeline.eval_dataset(images, labels, evaluation.EVAL_BATCH_SIZE, augmentation)
            for name, images, labels in self.splits
        }
        train = pipeline.train_dataset(
            *dataset.train,
            config.global_batch_size,
            config.seed,
            state.step,
            *dataset.distortions,
            augmentation,
        )
        self.iterator = iter(distribute.distribute_batches(self.strategy, train))
        first = pipeline.train_dataset(
            dataset.train_images[:FIRST_BATCH_POOL],
            dataset.train_labels[:FIRST_BATCH_POOL],
            config.batch_size,
            config.seed,
            0,
            *dataset.distortions,
            augmentation,
        )
        self.input_images, _ = next(iter(first))
        self.probe_images = evaluation.probe_images(dataset, augmentation)
        self.probe = diagnostics.Probe(state.model, self.probe_images, config.arch)
        # [loss sum, cross-entropy sum, correct, examples] since the last summary; first bad step.
        self.sums = tf.Variable(tf.zeros(4, tf.float64), trainable=False)
        self.bad_step = tf.Variable(-1, dtype=tf.int64, trainable=False)
        self.train_steps = steps.compile_train_steps(
            state,
            self.strategy,
            config.global_batch_size,
            precision.use_xla(config),
            self.sums,
            self.bad_step,
        )
        self.summaries = summaries.RunSummaries(run_dir, chief)

    def run(self):
        """Trains to max_steps; returns the run's outcome. Raises Interrupted on a stop request,
        DiskFull when a write finds no space, TrainingDiverged on a NaN loss."""
        try:
            return self._run()
        except (OSError, tf.errors.OpError) as error:
            if not disk.is_disk_full(error):
                raise
            events = sorted(self.run_dir.glob("events.out.tfevents.*"), key=os.path.getmtime)
            raise disk.disk_full_error(
                events[-1] if events else self.run_dir,
                f"~{disk.size_text(self.state.checkpoint_bytes())} needed for its next checkpoint",
                self.state.manager.directory,
            ) from None

    def _run(self):
        config, state = self.config, self.state
        progress = summaries.Progress(config.max_steps, self.run_dir.name)
        if state.step == 0 and self.chief:
            self._histograms(0)
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
            last = step == config.max_steps
            if step % config.summary_every == 0 or last:
                progress.update(
                    step, self._train_scalars(step, window), window.steps / window.seconds
                )
                window.reset()
            if step % config.histogram_every == 0 and self.chief:
                self._histograms(step)
            if (step % config.eval_every == 0 or last) and self.chief:
                self._evaluate(step, progress)
                evaluated_at = step
            if step % config.checkpoint_every == 0 or last:
                state.save()
                self.summaries.flush()
        if state.step < config.max_steps:  # stop requested
            saved = state.save_unless_saved() if total.steps else None
            self.summaries.flush()
            raise Interrupted(
                f"{self.run_dir}: stopped by {self.stop.signal_name} at step {state.step} of "
                f"{config.max_steps}"
                + (f", checkpoint {Path(saved).name} saved" if saved else "")
                + f"; run the same command to continue (exit status {EXIT_INTERRUPTED})"
            )
        if evaluated_at != state.step and self.chief:
            self._evaluate(state.step, progress)
        state.save_unless_saved()
        self.summaries.flush()
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

    def _train_scalars(self, step, window):
        """The training values since the last summary (then reset), written and returned."""
        loss_sum, cross_entropy_sum, correct, examples = self.sums.numpy()
        self.sums.assign(tf.zeros(4, tf.float64))
        values = {
            "loss": loss_sum / examples,
            "cross_entropy": cross_entropy_sum / examples,
            "accuracy": correct / examples,
            "learning_rate": float(self.state.optimizer.learning_rate.numpy()),
            "images_per_second": window.images_per_second(self.config.global_batch_size),
            "averaging_decay": float(state_lib.averaging_decay(step, self.config.ema_decay)),
        }
        self.summaries.train_scalars(step, values)
        return values

    def _histograms(self, step):
        first_batch = self.input_images if step == 0 else None
        self.summaries.histograms(
            step, self.state.model, self.probe, self.config.diagnostics, first_batch
        )

    def _evaluate(self, step, progress):
        """The evaluated split's accuracies; at the end also the test set's, once, and the
        diagnostics of the averaged weights."""
        final = step == self.config.max_steps
        names = [name for name, *_ in self.splits]
        self.last_eval = {}
        for name in names if final else names[:1]:
            self.last_eval.update(
                evaluation.evaluate_state(
                    self.state,
                    self.eval_data[name],
                    self.class_names,
                    precision.use_xla(self.config),
                    name,
                )
            )
            self.summaries.evaluation(step, self.last_eval, name, final)
            progress.evaluated(step, name, self.last_eval)
        if final and self.config.diagnostics:
            measured = evaluation.diagnose(self.state, self.probe_images)
            self.last_eval["diagnostics"] = measured
            with self.summaries.writer.as_default(step=step):
                for tag, value in measured.items():
                    tf.summary.scalar(f"{names[0]}_averaged/{tag}", value)
