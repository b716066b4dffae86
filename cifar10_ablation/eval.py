"""Evaluates a run's checkpoint on all 10,000 test images: python -m cifar10_ablation.eval

    RUN=tensorboard_logs/conv_relu-false_fc_relu-false_pool-avg_schedule-fast_seed0
    python -m cifar10_ablation.eval --log_dir=$RUN

Rebuilds the model from the run's saved config.json (never from flags), restores the newest
checkpoint (or --checkpoint), and prints precision @ 1 with the averaged weights (what the
tutorial reports) and the raw weights. Writes both to TensorBoard (`eval/...`) and eval.json.
"""

import sys

from cifar10_ablation import cli, console, data
from cifar10_ablation import config as config_lib


def main(argv):
    if len(argv) > 1:
        sys.exit(f"error: unexpected arguments: {' '.join(argv[1:])}")
    flags = cli.FLAGS
    try:  # before TensorFlow loads (~5-10 s): a wrong --log_dir or data dir is one line at once
        config = config_lib.load_run_config(flags.log_dir)
        data.check(config.dataset, flags.data_dir or config.data_dir)
    except ValueError as error:  # DataError too
        sys.exit(f"error: {error}")
    console.load_tensorflow()
    # The library imports TensorFlow, so it is imported once TensorFlow has loaded quietly.
    from cifar10_ablation.training import evaluation

    try:
        results = evaluation.evaluate_run(flags.log_dir, flags.checkpoint, flags.data_dir)
    except (ValueError, OSError) as error:
        sys.exit(f"error: {error}")
    print(
        f"step {results['global_step']}: precision @ 1 = {results['test_accuracy']:.4f} "
        f"(averaged weights), {results['test_accuracy_raw']:.4f} (raw weights)"
    )


def run_main():
    console.run(main, cli.EVAL, __doc__)


if __name__ == "__main__":
    run_main()
