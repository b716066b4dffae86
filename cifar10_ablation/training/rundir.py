"""The run directory's rules: which run it holds, what may continue it, and its results file.

    config = resolve_run_config(config, overwrite)  # continue the saved run, or refuse
    write_run_config(config)                         # config.json, before training writes
    checkpoint = newest_whole_checkpoint(checkpoint_dir)   # the newest one that loads
    write_results(config, results, checkpoint_dir)   # results.json, at the end

A run directory (--log_dir) is continued when its saved config.json has the same identity
(config.identity_differences), with the same number of replicas; a finished run is one whose
results.json is at its max_steps. Every write that finds no space raises DiskFull naming what
was being written and where a restart continues.
"""

import dataclasses
import json
import shutil
import sys
from pathlib import Path

from cifar10_ablation import config as config_lib
from cifar10_ablation import files
from cifar10_ablation.training import disk, distribute, runlock
from cifar10_ablation.training import state as state_lib

RESUME_REMEDY = "move the run directory away, or pass --overwrite to start it over"


class RunDirError(ValueError):
    """The run directory cannot be used as asked: other config, not writable, past max_steps."""


def _delete_run(run_dir):
    """Deletes what run_dir holds but its lock (runlock.py), which the process training it owns."""
    for path in run_dir.iterdir():
        if path.name == runlock.LOCK_FILENAME:
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()


def identity_differences(saved, requested):
    """Fields, other than run control, in which `requested` differs from a run's `saved` config.

    Fields left to their automatic value in `requested` (None, decay_steps=0) take the saved one.
    """
    differences = []
    new_values, old_values = requested.to_dict(), saved.to_dict()
    for name in config_lib.FIELDS:
        if name in config_lib.RUN_CONTROL_FIELDS:
            continue
        new, old = new_values[name], old_values[name]
        automatic = new is None or (name == "decay_steps" and new == 0)
        if not automatic and new != old:
            differences.append(f"{name}: saved {old!r}, requested {new!r}")
    return differences


def resolve_run_config(config, overwrite=False):
    """The config to train config.log_dir with: a new run's, or the continued run's.

    An existing run is continued only when its saved identity matches (RunDirError otherwise,
    unless `overwrite`, which deletes it); it keeps its saved identity and takes this
    invocation's run-control fields. Writes nothing (see write_run_config).
    """
    run_dir = Path(config.log_dir)
    config_path = run_dir / config_lib.CONFIG_FILENAME
    if overwrite and run_dir.exists():
        _delete_run(run_dir)
    if config_path.exists():
        saved = config_lib.load_run_config(run_dir)
        differences = identity_differences(saved, config)
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


def with_replicas(config, replicas):
    """The config with this strategy's replica count, refused if the run was begun with another."""
    if config.replicas not in (None, replicas):
        raise distribute.DistributionError(
            f"{Path(config.log_dir)} was trained with {config.replicas} replica(s) of batch "
            f"{config.batch_size}; this invocation has {replicas}: continue it with the same "
            "--distribution and devices, or use another --log_dir"
        )
    return dataclasses.replace(config, replicas=replicas)


def write_run_config(config):
    """Creates the run directory and writes config.json (atomically)."""
    run_dir = Path(config.log_dir)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        files.write_json_atomic(run_dir / config_lib.CONFIG_FILENAME, config.to_dict())
    except OSError as error:
        raise RunDirError(config_lib.UNWRITABLE_LOG_DIR.format(run_dir, error.strerror)) from None


def newest_whole_checkpoint(checkpoint_dir, remedy=RESUME_REMEDY):
    """The newest checkpoint of checkpoint_dir that reads whole, None on a fresh run.

    Newer ones that do not (truncated, zero-filled, missing files) are skipped with a line each
    (training overwrites them when it reaches their step again); RunDirError ending in `remedy`
    if none loads. Evaluation uses it too: neither ever falls back silently.
    """
    skipped = []
    for path in state_lib.recorded_checkpoints(checkpoint_dir):
        damage = state_lib.checkpoint_damage(path)
        if damage is None:
            for bad, why in skipped:
                print(
                    f"warning: skipped checkpoint {bad}: it does not load ({why}); using "
                    f"{Path(path).name}",
                    file=sys.stderr,
                    flush=True,
                )
            return path
        skipped.append((path, damage))
    if skipped:
        raise RunDirError(
            f"no checkpoint in {checkpoint_dir} loads ("
            + "; ".join(f"{Path(p).name}: {why}" for p, why in skipped)
            + f"); {remedy}"
        )
    return None


def check_step(config, step):
    """RunDirError when the run's checkpoint is past config.max_steps."""
    if step > config.max_steps:
        raise RunDirError(
            f"{Path(config.log_dir)} is at step {step}, past --max_steps={config.max_steps}; pass "
            f"--max_steps>={step}"
        )


def finished_results(config, step=None):
    """The run's results.json when it is finished at config.max_steps (its checkpoint at `step`,
    when given, is there too), else None."""
    path = Path(config.log_dir) / config_lib.RESULTS_FILENAME
    if step not in (None, config.max_steps) or not path.exists():
        return None
    results = files.load_json(path)
    return results if results.get("global_step") == config.max_steps else None


def write_results(config, results, checkpoint_dir):
    """results.json, atomically; DiskFull when there is no space for it."""
    path = Path(config.log_dir) / config_lib.RESULTS_FILENAME
    try:
        files.write_json_atomic(path, results)
    except OSError as error:
        if not disk.is_disk_full(error):
            raise
        needed = f"~{disk.size_text(len(json.dumps(results, indent=2)))} needed for it"
        raise disk.disk_full_error(path, needed, checkpoint_dir) from None
