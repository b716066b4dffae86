"""BEYOND.md's Q2 on a GPU: each committed CIFAR-10 grid's training steps at the measured GPU rate.

A grid's images (its runs x max_steps x batch_size, from the flagfile it was run with) over the
images/s its all-ReLU net trained at on the lent GPU through Keras on JAX
(docs/bench/gpu_h200/results.jsonl, performance.gpu_rates). A net never measured there is
said to be not measured.
"""

from pathlib import Path

import experiments
import performance

from cifar10_ablation.reports import markdown, report


def _time(seconds):
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} minutes"


def fragments(src_dir, repo_dir):
    """{"gpu_table", "gpu_device"} ("" each without the GPU log or a grid)."""
    bench = Path(src_dir) / "bench"
    if not (bench / "gpu_h200" / "results.jsonl").exists():
        return {"gpu_table": "", "gpu_device": ""}
    rates, device = performance.gpu_rates(bench)
    rows = []
    for experiment in experiments.with_activations():
        path = Path(src_dir) / experiment.csv
        if not path.exists():
            continue
        runs = len(report.read_csv(path))
        images = performance.images_per_run(Path(repo_dir) / experiment.flagfile)
        rate = rates.get((experiment.arch, experiment.image_size))  # at the grid's input size
        cells = (
            [f"{rate:,.0f}", _time(runs * images / rate)]
            if rate
            else ["not measured", "not measured"]
        )
        rows.append([experiment.net, str(runs), f"{images:,}", *cells])
    if not rows:
        return {"gpu_table": "", "gpu_device": ""}
    header = ["net", "runs in its grid", "images per run", "GPU images/s", "grid on the GPU"]
    return {"gpu_table": markdown.table(header, rows), "gpu_device": device}
