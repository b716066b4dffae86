"""The two learning-rate schedules' defaults, the warm-up a short horizon clips, and the logging
intervals a short run scales down so that it still draws a curve.

    tutorial: cifar10_train.py's plain SGD, lr x lr_decay_factor every epochs_per_decay epochs
    fast: SGD with Nesterov momentum, a linear warm-up, then a cosine to 0 at decay_steps

Plain Python: the command lines print warmup_note before TensorFlow loads; training/state.py
builds the Keras schedule.
"""

# A short run logs at least this many train-scalar points and evaluations (the end counts): an
# interval not chosen for the run (left unset, or longer than the run, e.g. a preset's with a
# shorter --max_steps) is scaled down for it (short_run_intervals; short_run_note says so). Runs
# under SHORTEST_CURVE steps (smoke runs, tests) keep their intervals: they draw no curve.
SHORT_RUN_MINIMUMS = {"summary_every": 10, "eval_every": 3}
SHORTEST_CURVE = 50
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


def short_run_intervals(config, chosen=()):
    """{summary_every, eval_every: a shorter interval} for a run of SHORTEST_CURVE steps or more
    that would log fewer train-scalar points or evaluations than SHORT_RUN_MINIMUMS (its last
    step logs and evaluates too): only an interval not `chosen` (the names the command line set)
    or longer than the run. The command lines apply it (cli/), where flags become a config."""
    steps, scaled = config.max_steps, {}
    if steps < SHORTEST_CURVE:
        return scaled
    for name, least in SHORT_RUN_MINIMUMS.items():
        every = getattr(config, name)
        if (name not in chosen or every > steps) and 0 < every and -(-steps // every) < least:
            scaled[name] = -(-steps // least)  # ceil: the last point falls on the last step
    return scaled


def short_run_note(config, chosen=()):
    """The line a command prints when short_run_intervals scales a run's intervals, else None."""
    scaled = short_run_intervals(config, chosen)
    if not scaled:
        return None
    steps = config.max_steps
    was = ", ".join(f"{name}={getattr(config, name)}" for name in scaled)
    now = ", ".join(f"{name}={every}" for name, every in scaled.items())
    points = -(-steps // config.summary_every), -(-steps // config.eval_every)
    return (
        f"note: {steps} steps at {was} would log {points[0]} summary point(s) and "
        f"{points[1]} evaluation(s): {now} for this run (at least "
        f"{' and '.join(map(str, SHORT_RUN_MINIMUMS.values()))}; config.json records it)"
    )
