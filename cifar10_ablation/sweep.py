"""Runs an ablation grid and reports it: python -m cifar10_ablation.sweep

    python -m cifar10_ablation.sweep --flagfile=flags/quick.flags --data_dir=../shared/cifar10 \\
        --log_dir=tensorboard_logs/grid --seeds=3
    python -m cifar10_ablation.sweep --sweep=conv_activation=linear,relu,tanh --fc_relu=false \\
        --pool=avg --flagfile=flags/quick.flags --log_dir=tensorboard_logs/activations
    python -m cifar10_ablation.sweep --report_only --log_dir=tensorboard_logs/grid

The grid is the product of every `--sweep=FLAG=V1,V2,...` (default: conv_relu x fc_relu x pool,
8 configs) times `--seeds` seeds; every other training flag is the base of each run (grid.py).
Each (config, seed) trains in its own run directory under --log_dir, named by the swept values.
Finished runs are skipped and unfinished ones resume, so a sweep is restarted by running the same
command (`--recorded=CSV` also skips the runs a results CSV holds, e.g. one committed from a
machine since lost); SIGTERM or SIGINT stops the runs in flight with a checkpoint (exit status 75);
`--shard_index/--num_shards` split one grid between machines sharing the folder (runner.py).
`--parallel=N` trains N runs at once in processes, each on its own GPUs (`--runs_per_gpu` share
one); `--executor=ray` makes each run a Ray task (`--ray_address`, `--cpus_per_run`,
`--gpus_per_run`), retried when its worker dies (executors.py, ray_executor.py).
At the end (or with --report_only) report.py sums up every results.json under --log_dir
(results.csv, summary.json, results.md, results.png) and the table is printed.

`--select=FLAG=V1,V2,...` first trains every config at every value on a validation split
(--select_validation_examples held out, --select_max_steps steps, --select_seeds seeds, under
--log_dir/selection/), chooses per config the value with the best validation accuracy (never
the test accuracy), writes selection.md and selection.json, then trains the seeds at their
config's choice with the base flags (by default on every training image) (select.py).
"""

import sys
from pathlib import Path

from cifar10_ablation import cli, console, schedules
from cifar10_ablation.sweeps import grid, ray_executor, select
from cifar10_ablation.training.stopping import EXIT_INTERRUPTED


def main(argv):
    if len(argv) > 1:
        sys.exit(f"error: unexpected arguments: {' '.join(argv[1:])}")
    flags = cli.FLAGS
    runs, recorded, plan, trials = [], {}, None, []
    try:
        if flags.executor == "ray" and not flags.report_only:
            ray_executor.check_installed()
        if not flags.report_only:  # the whole grid is checked before TensorFlow loads
            runs = cli.grid_runs()
            plan, trials = cli.selection()
            recorded = _recorded(runs, plan)
    except ValueError as error:
        sys.exit(f"error: {error}")
    configs = [c for _, c in runs] + [c for _, c, _ in trials]
    for note in dict.fromkeys(filter(None, map(schedules.warmup_note, configs))):
        print(note, flush=True)
    console.load_tensorflow()
    # The library imports TensorFlow, so it is imported once TensorFlow has loaded quietly.

    from cifar10_ablation.reports import report
    from cifar10_ablation.sweeps import hparams, runner
    from cifar10_ablation.training import disk, stopping

    errors = []
    try:
        if plan:
            runs = _select(plan, trials, runs)
            recorded = _recorded(runs, plan)
        if runs:
            trained, skipped, errors = runner.run_sweep(
                runs, flags.log_dir, flags.shard_index, flags.num_shards, recorded=recorded,
                executor=_executor(),
            )  # fmt: skip
            print(f"trained {len(trained)}, already finished {len(skipped)}, failed {len(errors)}")
        if runs and recorded.keys() >= {name for name, _ in runs}:  # its folder may hold no run
            table = f"every run is recorded in {' '.join(flags.recorded)}: no report here\n"
        else:
            chosen = select.chosen_flag(flags.log_dir)
            table, positions = report.report(flags.log_dir, always=[chosen] if chosen else [])
            hparams.write_scale_positions(flags.log_dir, positions)
    except (ValueError, OSError, disk.DiskFull) as error:
        sys.exit(f"error: {error}")
    except stopping.Interrupted as stopped:
        print(stopped, file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
    print(table, end="", flush=True)
    for error in errors:  # the last lines, where `| tail` shows them
        print(f"failed: {error}", file=sys.stderr)
    if errors:
        sys.exit(1)


def _executor():
    """The executor of the sweep's runs its flags name (executors.py, ray_executor.py)."""
    from cifar10_ablation.sweeps import executors

    flags, verbose = cli.FLAGS, cli.FLAGS["verbosity"].present > 0
    if flags.executor == "ray":
        return ray_executor.RayExecutor(
            flags.ray_address or None, flags.cpus_per_run, flags.gpus_per_run,
            flags.ray_retries, verbose,
        )  # fmt: skip
    return executors.LocalExecutor(flags.parallel, flags.runs_per_gpu, verbose)


def _recorded(runs, plan):
    """{name: its row} of the runs --recorded CSVs hold (with --select, at the run's value of
    its flag): the grid's seeds, or --select's trials, whose rows the choice then reads."""
    fields = (plan.flag,) if plan else ()
    return {
        name: row
        for path in cli.FLAGS.recorded
        for name, row in grid.recorded_rows(runs, path, fields).items()
    }


def _select(plan, trials, runs):
    """Trains --select's trial runs, writes and prints the choice per config; returns the
    grid's runs at their config's choice. A trial that fails (diverges) takes its value out."""
    from cifar10_ablation.sweeps import runner

    flags = cli.FLAGS
    folder = Path(flags.log_dir) / select.SELECTION_DIRNAME
    runs_of_trials = [(name, config) for name, config, _ in trials]
    recorded = _recorded(runs_of_trials, plan)  # read there, not trained
    trained, skipped, failed = runner.run_sweep(
        runs_of_trials,
        folder,
        flags.shard_index,
        flags.num_shards,
        recorded=recorded,
        executor=_executor(),
    )
    print(
        f"selection: trained {len(trained)}, already finished {len(skipped)}, failed {len(failed)}"
    )
    for error in failed:
        print(f"selection run failed, its value is out: {error}", file=sys.stderr)
    failed_names = {error.split(":", 1)[0] for error in failed}
    choices = select.choose(plan, [t for t in trials if t[0] not in failed_names], recorded)
    print(select.write(flags.log_dir, plan, choices), end="", flush=True)
    return select.apply(plan, runs, choices, cli.grid_axes())


def run_main():
    console.run(main, cli.SWEEP, __doc__)


if __name__ == "__main__":
    run_main()
