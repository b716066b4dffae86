"""BEYOND.md's Q2 on a GPU: each committed CIFAR-10 grid's training steps at the measured GPU rate.

A grid's images (its runs x max_steps x batch_size, from the flagfile it was run with) over the
images/s its all-ReLU net trained at on the lent GPU through Keras on JAX
(docs/bench/gpu_h200/results.jsonl, performance.gpu_rates). A net never measured there is
said to be not measured.
"""

from pathlib import Path

import performance

from cifar10_ablation.config import CROP_SIZE, DATASETS
from cifar10_ablation.reports import markdown, report

WHOLE = DATASETS["cifar10"]["image_size"]  # --augmentation=pad_crop's input

# CSV -> (net, the flagfile its runs were made with, the arch and input size whose GPU rate
# it trains at: 24x24 crops, or whole 32x32 images with --augmentation=pad_crop)
GRIDS = {
    "results_fast.csv": ("tutorial net, fast preset", "flags/fast.flags", ("tutorial", CROP_SIZE)),
    "beyond_vgg.csv": ("VGG-style net", "flags/vgg.flags", ("vgg", CROP_SIZE)),
    "beyond_resnet20.csv": (
        "ResNet-20 (24x24 crops)",
        "flags/resnet20.flags",
        ("resnet20", CROP_SIZE),
    ),
    "depth_resnet18.csv": ("ResNet-18", "flags/resnet18.flags", ("resnet18", WHOLE)),
    "depth_resnet20_pad_crop.csv": (
        "ResNet-20",
        "flags/resnet20_pad_crop.flags",
        ("resnet20", WHOLE),
    ),
    "depth_resnet56.csv": ("ResNet-56", "flags/resnet56.flags", ("resnet56", WHOLE)),
}


def _time(seconds):
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} minutes"


def fragments(src_dir, repo_dir):
    """{"gpu_table", "gpu_device"} ("" each without the GPU log or a grid)."""
    bench = Path(src_dir) / "bench"
    if not (bench / "gpu_h200" / "results.jsonl").exists():
        return {"gpu_table": "", "gpu_device": ""}
    rates, device = performance.gpu_rates(bench)
    rows = []
    for name, (net, flagfile, measured) in GRIDS.items():
        path = Path(src_dir) / name
        if not path.exists():
            continue
        runs = len(report.read_csv(path))
        images = performance.images_per_run(Path(repo_dir) / flagfile)
        rate = rates.get(measured)
        cells = (
            [f"{rate:,.0f}", _time(runs * images / rate)]
            if rate
            else ["not measured", "not measured"]
        )
        rows.append([net, str(runs), f"{images:,}", *cells])
    if not rows:
        return {"gpu_table": "", "gpu_device": ""}
    header = ["net", "runs in its grid", "images per run", "GPU images/s", "grid on the GPU"]
    return {"gpu_table": markdown.table(header, rows), "gpu_device": device}
