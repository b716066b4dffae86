"""Training throughput per x86 CPU family, against the PyTorch reference in the same run.

    python bench/cpu_families.py --data_dir=../shared/cifar10 --torch_python=~/torchenv/bin/python \
        --log_dir=docs/bench/families

One host stands in for several families by capping the instruction set: oneDNN (TensorFlow's and
PyTorch's) honours ONEDNN_MAX_CPU_ISA, PyTorch's own kernels ATEN_CPU_CAPABILITY, and the ceiling
is measured with OpenBLAS's AVX2 (Haswell) kernel. Per family it alternates
`bench/train_throughput.py` and the reference (`../shared/bench/torch_reference.py`) --repeats
times, so both see the same machine state, and keeps each output in --log_dir, with summary.json
and table.md (the table of docs/PERFORMANCE.md). The ratio is the lowest of ours over the highest
of theirs. Last line, machine-readable JSON.
"""

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).parent / "train_throughput.py"
TUTORIAL = "tutorial"
# name -> (environment of both processes, ceiling kernel, what it stands for)
FAMILIES = {
    "avx512": ({}, "native", "this host as it is (AVX-512; oneDNN on)"),
    "avx2": (
        {"ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2"},
        "avx2",
        "an AVX2-only host (emulated; oneDNN on, as this project sets it)",
    ),
    "avx2_onednn_off": (
        {"ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2", "TF_ENABLE_ONEDNN_OPTS": "0"},
        "avx2",
        "an AVX2-only host with TensorFlow's default there before this project set oneDNN on",
    ),
}


def _run(command, env, log_path):
    """Runs command with env added; keeps its stdout in log_path with this machine's paths out."""
    done = subprocess.run(
        command, env={**os.environ, **env}, capture_output=True, text=True, check=False
    )
    text = done.stdout.replace(str(Path.cwd()) + "/", "").replace(str(Path.home()), "~")
    log_path.write_text(f"$ {' '.join(_shown(c) for c in command)}  # env {env}\n{text}")
    if done.returncode:
        sys.exit(f"error: {command[1]} failed ({done.returncode}): {done.stderr[-500:]}")
    return text


def _shown(argument):
    return argument.replace(str(Path.cwd()) + "/", "").replace(str(Path.home()), "~")


def markdown(rows, log_dir):
    """The per-family table for docs/PERFORMANCE.md, each cell's logs linked (from docs/)."""
    lines = [
        "| family | stands for | ours, images/s | PyTorch reference, images/s | ratio | "
        "fraction of the ceiling | logs |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    link = Path(log_dir).relative_to("docs") if Path(log_dir).is_relative_to("docs") else log_dir
    for row in rows:
        family = row["family"]
        logs = ", ".join(
            f"[{i}]({link}/{family}_{i}_{kind}.log)"
            for i in range(len(row["ours_images_per_second"]))
            for kind in ("tf", "torch")
        )
        lines.append(
            f"| `{family}` | {row['stands_for']} | "
            f"{' / '.join(f'{v:,.0f}' for v in row['ours_images_per_second'])} | "
            f"{' / '.join(f'{v:,.0f}' for v in row['torch_images_per_second'])} | "
            f"{row['ratio_lowest_over_highest']}x | "
            f"{' / '.join(f'{f:.0%}' for f in row['fraction_of_ceiling'])} "
            f"(of {row['ceiling_images_per_second']:,.0f}) | {logs} |"
        )
    return "\n".join(lines) + "\n"


def main():
    # Over 60 lines: the arguments, then one measurement after another, read top to bottom.
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data_dir", default="../shared/cifar10")
    parser.add_argument("--torch_python", default=os.environ.get("TORCH_PYTHON", sys.executable))
    parser.add_argument("--torch_reference", default="../shared/bench/torch_reference.py")
    parser.add_argument("--families", default=",".join(FAMILIES), help="comma-separated")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--log_dir", default="docs/bench/families")
    parser.add_argument(
        "--table_only", action="store_true", help="rewrite table.md from --log_dir's summary.json"
    )
    args = parser.parse_args()
    log_dir = Path(args.log_dir)
    if args.table_only:
        rows = json.loads((log_dir / "summary.json").read_text())["families"]
        (log_dir / "table.md").write_text(markdown(rows, log_dir))
        print(markdown(rows, log_dir), end="")
        return
    unknown = set(args.families.split(",")) - set(FAMILIES)
    if unknown:
        sys.exit(f"error: unknown --families {sorted(unknown)}; known: {', '.join(FAMILIES)}")
    log_dir.mkdir(parents=True, exist_ok=True)
    torch_python = os.path.expanduser(args.torch_python)
    rows = []
    for family in args.families.split(","):
        env, ceiling_isa, meaning = FAMILIES[family]
        ours, theirs, fractions, onednn = [], [], [], set()
        for repeat in range(args.repeats):
            out = _run(
                [sys.executable, str(BENCH), f"--data_dir={args.data_dir}",
                 f"--steps={args.steps}", f"--ceiling_isa={ceiling_isa}"],
                env,
                log_dir / f"{family}_{repeat}_tf.log",
            )  # fmt: skip
            result = json.loads(out.strip().splitlines()[-1])
            ours.append(result["train_images_per_second"][TUTORIAL])
            fractions.append(result["fraction_of_ceiling"][TUTORIAL])
            onednn.add(result["host"]["tensorflow"]["onednn"])
            out = _run(
                [torch_python, args.torch_reference],
                env,
                log_dir / f"{family}_{repeat}_torch.log",
            )
            theirs.append(float(re.search(r"train_images_per_sec=([\d.]+)", out).group(1)))
        rows.append(
            {
                "family": family,
                "stands_for": meaning,
                "env": env,
                "tensorflow_onednn": sorted(onednn),
                "ours_images_per_second": ours,
                "torch_images_per_second": theirs,
                "ratio_lowest_over_highest": round(min(ours) / max(theirs), 2),
                "fraction_of_ceiling": fractions,
                "ceiling_images_per_second": result["ceiling_images_per_second"],
                "cpu": result["host"]["cpu"]["model"],
            }
        )
        row = rows[-1]
        print(
            f"{family}: ours {', '.join(f'{v:.0f}' for v in ours)} images/s, PyTorch "
            f"{', '.join(f'{v:.0f}' for v in theirs)}: {row['ratio_lowest_over_highest']}x; "
            f"{', '.join(f'{f:.0%}' for f in fractions)} of the {ceiling_isa} ceiling "
            f"({row['ceiling_images_per_second']:.0f} images/s)",
            flush=True,
        )
    summary = json.dumps({"families": rows})
    (log_dir / "summary.json").write_text(summary + "\n")
    (log_dir / "table.md").write_text(markdown(rows, log_dir))
    print(summary)


if __name__ == "__main__":
    main()
