"""A sweep: a grid of runs trained in turn, in processes or on a Ray cluster, then reported.

- grid: `--sweep=FLAG=V1,V2,...` specs into one validated RunConfig per (config, seed)
- runner: training the grid's runs, each under its run directory's lock, resumed
- select: --select: a flag's value chosen per config on validation data before the seeds
- hparams: TensorBoard's HParams table of a sweep folder
"""
