"""The two learning-rate schedules' defaults, and the warm-up a short horizon clips.

    tutorial: cifar10_train.py's plain SGD, lr x lr_decay_factor every epochs_per_decay epochs
    fast: SGD with Nesterov momentum, a linear warm-up, then a cosine to 0 at decay_steps

Plain Python: the command lines print warmup_note before TensorFlow loads; training/state.py
builds the Keras schedule.
"""

SCHEDULES = ("tutorial", "fast")
# Values a schedule uses for the flags left unset (None); the tutorial's are its own cifar10.py's.
SCHEDULE_DEFAULTS = {
    "tutorial": {"learning_rate": 0.1, "momentum": 0.0, "warmup_steps": 0},
    "fast": {"learning_rate": 0.05, "momentum": 0.9, "warmup_steps": 200},
}


def effective_warmup(config):
    """The fast schedule's warm-up steps (of a resolved config): warmup_steps, or a tenth of the
    horizon when warmup_steps is not below it, so that a preset's short try (quick.flags with
    --max_steps=100) runs; `warmup_note` says so."""
    if config.warmup_steps < config.decay_steps:
        return config.warmup_steps
    return config.decay_steps // 10


def warmup_note(config):
    """The line a command prints when effective_warmup clips the warm-up, else None."""
    config = config.resolved()
    if config.schedule != "fast" or config.warmup_steps < config.decay_steps:
        return None
    return (
        f"note: warmup_steps={config.warmup_steps} is not below the cosine's horizon of "
        f"{config.decay_steps} steps: warming up for {effective_warmup(config)} (a tenth of it)"
    )
