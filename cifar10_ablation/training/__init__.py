"""One run end to end: python -m cifar10_ablation.train calls run.train(config).

- run: train(): the run directory, strategy and state set up, the loop run, results.json
- loop, steps: the training loop (steps, evaluation, checkpoint, stop); the compiled steps
- state, precision: model, optimizer, averaged weights and checkpoints; float32 or mixed, XLA
- rundir, runlock, disk: the run directory's rules, its lock, writes that find no space
- stopping, distribute: SIGTERM/SIGINT between steps; tf.distribute strategies
- summaries, diagnostics, evaluation: TensorBoard and progress lines; pool windows and dead
  units; accuracy
"""
