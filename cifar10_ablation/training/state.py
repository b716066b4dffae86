"""What a run saves and restores: the model, its optimizer (step included) and averaged weights.

    state = TrainState(config, precision.build_model(config), checkpoint_dir)
    state.restore()          # newest checkpoint, or nothing on a fresh run
    state.save()             # atomic: TF writes to temporary files and renames them

Averaged weights are the tutorial's `tf.train.ExponentialMovingAverage(0.9999, global_step)`:
after update n (n = 1, 2, ...), average <- average - (1 - d) * (average - weight) with
d = min(ema_decay, (1 + n) / (10 + n)). Keras' optimizer EMA has no such warm-up.
"""

import re
import shutil
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from cifar10_ablation import schedules
from cifar10_ablation.training import disk


def averaging_decay(step, max_decay):
    """TF's ExponentialMovingAverage decay with num_updates=step: min(max, (1+n)/(10+n))."""
    step = tf.cast(step, tf.float32)
    return tf.minimum(tf.constant(max_decay, tf.float32), (1.0 + step) / (10.0 + step))


class AveragedWeights(tf.Module):
    """Exponential moving averages of variables, started at their current values."""

    def __init__(self, variables, max_decay):
        super().__init__(name="averaged_weights")
        self.max_decay = max_decay
        self.averages = [
            tf.Variable(v, trainable=False, name=v.name.replace("/", "_")) for v in variables
        ]

    @tf.autograph.experimental.do_not_convert  # plain ops: nothing for AutoGraph to rewrite
    def update(self, variables, step):
        decay = averaging_decay(step, self.max_decay)
        for average, variable in zip(self.averages, variables, strict=True):
            average.assign_sub((1.0 - decay) * (average - tf.convert_to_tensor(variable)))
        return decay

    def copy_to(self, variables):
        for average, variable in zip(self.averages, variables, strict=True):
            variable.assign(average)


def make_learning_rate(config):
    """The schedule named by config.schedule, as a Keras LearningRateSchedule of the step."""
    config = config.resolved()
    if config.schedule == "tutorial":
        # The tutorial's cifar10.py: lr * factor^floor(step / steps_per_decay).
        return keras.optimizers.schedules.ExponentialDecay(
            config.learning_rate, config.steps_per_decay, config.lr_decay_factor, staircase=True
        )
    # fast: linear warm-up from 0 to the peak, then cosine to 0 at decay_steps.
    warmup_steps = schedules.effective_warmup(config)
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0,
        decay_steps=config.decay_steps - warmup_steps,
        warmup_target=config.learning_rate,
        warmup_steps=warmup_steps,
    )


class CheckpointMismatch(ValueError):
    """A checkpoint that does not fit the model the config describes."""


class TrainState:
    """Model, optimizer and averaged weights of one run, and their checkpoints."""

    def __init__(self, config, model, checkpoint_dir, max_to_keep=None):
        config = config.resolved()
        self.config = config
        self.model = model
        momentum = config.momentum
        optimizer = keras.optimizers.SGD(
            make_learning_rate(config), momentum=momentum, nesterov=momentum > 0
        )
        float16 = any(layer.dtype_policy.name == "mixed_float16" for layer in model.layers)
        if float16:  # float16 gradients need loss scaling
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
        self.optimizer = optimizer
        self.optimizer.build(self.model.trainable_variables)
        self.averages = AveragedWeights(self.model.trainable_variables, config.ema_decay)
        # Seconds spent training over all invocations, for results.json.
        self.train_seconds = tf.Variable(0.0, dtype=tf.float64, trainable=False)
        self.checkpoint = tf.train.Checkpoint(
            model=self.model,
            optimizer=self.optimizer,
            averages=self.averages,
            train_seconds=self.train_seconds,
        )
        self.manager = tf.train.CheckpointManager(
            self.checkpoint,
            str(checkpoint_dir),
            max_to_keep=max_to_keep or config.keep_checkpoints,
            checkpoint_name="ckpt",
        )

    @property
    def step(self):
        return int(self.optimizer.iterations.numpy())

    def restore(self, path=None, *, for_training=True):
        """Loads `path` or the newest checkpoint; returns its path, or None if there is none."""
        path = path or self.manager.latest_checkpoint
        if path is None:
            return None
        try:
            status = self.checkpoint.restore(path)
            if for_training:
                status.assert_existing_objects_matched()
            else:
                status.expect_partial()
        except (ValueError, AssertionError, tf.errors.OpError) as error:
            reason = str(error).strip().splitlines()[0][:200]
            raise CheckpointMismatch(
                f"checkpoint {path} does not match the model of this run's config: {reason}"
            ) from None
        return path

    def checkpoint_variables(self):
        """Everything a checkpoint restores: weights, optimizer state, averages, step."""
        return [*self.model.weights, *self.optimizer.variables, *self.averages.averages]

    def save(self):
        """Saves a checkpoint of this step; returns its path. On a full disk, removes what the
        failed save left and raises DiskFull (disk.py)."""
        try:
            return self._write_checkpoint()
        except (OSError, tf.errors.OpError) as error:
            if not disk.is_disk_full(error):
                raise
            prefix = Path(self.manager.directory) / f"ckpt-{self.step}"
            remove_unrecorded(prefix)
            needed = f"~{disk.size_text(self.checkpoint_bytes())} needed for it"
            raise disk.disk_full_error(prefix, needed, self.manager.directory) from None

    def save_unless_saved(self):
        """The checkpoint of this step: saved now unless the newest one is already of it."""
        latest = self.manager.latest_checkpoint
        if latest is None or not latest.endswith(f"-{self.step}"):
            latest = self.save()
        return latest

    def _write_checkpoint(self):
        return self.manager.save(checkpoint_number=self.step)

    def checkpoint_bytes(self):
        """The size of one checkpoint's tensors."""
        variables = self.checkpoint_variables()
        return sum(int(np.prod(v.shape)) * tf.as_dtype(v.dtype).size for v in variables)

    def averaged_model(self):
        """A separate model carrying the averaged weights (the training model is untouched).

        Non-trainable weights (batch norm's moving statistics, already averages themselves) are
        the training model's.
        """
        if not hasattr(self, "_averaged_model"):
            self._averaged_model = keras.models.clone_model(self.model)
        self.averages.copy_to(self._averaged_model.trainable_variables)
        for average, variable in zip(
            self._averaged_model.non_trainable_variables,
            self.model.non_trainable_variables,
            strict=True,
        ):
            average.assign(variable)
        return self._averaged_model


def checkpoint_dir(run_dir):
    return Path(run_dir) / "checkpoints"


def recorded_checkpoints(directory):
    """The checkpoint prefixes of `directory`, newest first: those its `checkpoint` file records
    or, when that file is missing or unreadable, every ckpt-N with an index file."""
    state = tf.train.get_checkpoint_state(str(directory))
    if state is not None:
        return list(reversed(state.all_model_checkpoint_paths))
    steps = [
        int(match[1])
        for path in Path(directory).glob("ckpt-*.index")
        if (match := re.fullmatch(r"ckpt-(\d+)\.index", path.name))
    ]
    return [str(Path(directory) / f"ckpt-{step}") for step in sorted(steps, reverse=True)]


def checkpoint_damage(path):
    """Why the checkpoint `path` cannot be read whole (a missing, truncated or zero-filled file),
    or None: TF reads every tensor and checks its checksum."""
    try:
        reader = tf.train.load_checkpoint(path)
        for name in reader.get_variable_to_shape_map():
            reader.get_tensor(name)
    except Exception as error:  # noqa: BLE001 - whatever TF cannot read makes it unusable
        return (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
    return None


def remove_unrecorded(prefix):
    """Deletes what a failed save of checkpoint `prefix` left, unless the `checkpoint` file
    records it: TF's temporary folder and files, and a data file without its index."""
    prefix = Path(prefix)
    state = tf.train.get_checkpoint_state(str(prefix.parent))
    if state and prefix.name in {Path(p).name for p in state.all_model_checkpoint_paths}:
        return
    shutil.rmtree(prefix.parent / f"{prefix.name}_temp", ignore_errors=True)
    for path in [*prefix.parent.glob(f"{prefix.name}.*"), *prefix.parent.glob("checkpoint.tmp*")]:
        path.unlink(missing_ok=True)
