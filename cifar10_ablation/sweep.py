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
`--shard_index/--num_shards` split one grid between machines sharing the folder (sweeper.py).
At the end (or with --report_only) report.py sums up every results.json under --log_dir
(results.csv, summary.json, results.md, results.png) and the table is printed.
`--report_only --log_dir=docs` instead regenerates the project's docs from the CSVs committed
there (docs.py).
"""

import sys

from cifar10_ablation import cli, console, grid
from cifar10_ablation import config as config_lib
from cifar10_ablation.stopping import EXIT_INTERRUPTED


def main(argv):
    if len(argv) > 1:
        sys.exit(f"error: unexpected arguments: {' '.join(argv[1:])}")
    flags = cli.FLAGS
    runs, recorded = [], set()
    try:
        if not flags.report_only:  # the whole grid is checked before TensorFlow loads
            runs = cli.grid_runs()
            recorded = {n for path in flags.recorded for n in grid.recorded(runs, path)}
    except ValueError as error:
        sys.exit(f"error: {error}")
    for note in dict.fromkeys(filter(None, (config_lib.warmup_note(c) for _, c in runs))):
        print(note, flush=True)
    console.load_tensorflow()
    # The library imports TensorFlow, so it is imported once TensorFlow has loaded quietly.
    from cifar10_ablation import docs, report, rundir, stopping, sweeper

    errors = []
    try:
        if runs:
            trained, skipped, errors = sweeper.run_sweep(
                runs, flags.log_dir, flags.shard_index, flags.num_shards, flags.parallel, recorded
            )
            print(f"trained {len(trained)}, already finished {len(skipped)}, failed {len(errors)}")
            for error in errors:
                print(f"failed: {error}", file=sys.stderr)
        if flags.report_only and docs.is_docs_dir(flags.log_dir):
            table = docs.write_docs(flags.log_dir)
        elif runs and recorded >= {name for name, _ in runs}:  # its folder may hold no run
            table = f"every run is recorded in {' '.join(flags.recorded)}: no report here\n"
        else:
            table = report.report(flags.log_dir)
    except (ValueError, OSError, rundir.DiskFull) as error:
        sys.exit(f"error: {error}")
    except stopping.Interrupted as stopped:
        print(stopped, file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
    print(table, end="")
    if errors:
        sys.exit(1)


def run_main():
    console.run(main, cli.SWEEP, __doc__)


if __name__ == "__main__":
    run_main()
