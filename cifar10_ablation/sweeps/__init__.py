"""A sweep: a grid of runs trained in turn, in processes or on a Ray cluster, then reported.

- grid: `--sweep=FLAG=V1,V2,...` specs into one validated RunConfig per (config, seed)
- runner: training the grid's runs, each under its run directory's lock, resumed
- executors: where the runs train: here in turn, or in worker processes placed on the GPUs
- ray_executor: --executor=ray: each run a Ray task, retried when its worker dies
- select: --select: a flag's value chosen per config on validation data before the seeds
- hparams: TensorBoard's HParams table of a sweep folder
"""
