"""Brings the long runs' results into the repo: CSVs, trimmed logs, regenerated docs, README.

    python tools/docs/collect.py          # the runs under $RUNS, default ~/runs

Run from the repo root after a run of docs/logs/queue.sh finishes (or any time: unfinished runs
are simply not in the CSVs yet). Per sweep folder below, the sweep's report
(reports/report.py) writes its results.csv (one row per results.json), whose rows join the
committed CSV in docs/ (a row of the same run replaced), so the rows of a machine since lost
stay (and the queue's sweeps skip them: --recorded). Its queue log is trimmed to the lines a
reader needs (start/stop, every 5,000th and the last step line, evaluations, errors) with
$HOME written as ~, into the committed log that starts with the same line, or a new one per
machine (run-<start>.log).
Then the docs are regenerated from the CSVs and the README's generated summary is replaced by
docs/README_SUMMARY.md. Refuses to write a committed file that would hold a path of this machine.
"""

import csv
import datetime
import functools
import io
import os
import re
import sys
from pathlib import Path

import build_docs
import curves
import experiments
import readme
import units

from cifar10_ablation import config as config_lib
from cifar10_ablation import switches as switches_lib
from cifar10_ablation.reports import report
from cifar10_ablation.sweeps import select

RUNS = Path(os.environ.get("RUNS", Path.home() / "runs"))
# sweep folder under RUNS -> (CSV in docs/, queue log under RUNS, folder of its trimmed logs
# in docs/logs/); the rows of each run replace that run's committed row (merge_rows, by "run")
SWEEPS = {
    "tutorial": ("results_tutorial.csv", "tutorial.log", "tutorial"),
    "fast": ("results_fast.csv", "fast.log", "fast"),
    "fast_tuning": ("tuning_fast.csv", "fast_tuning.log", "fast_tuning"),
    # the first fast preset (batch 128, peak rate 0.05), which missed the tutorial net
    "fast_batch128": ("tuning_fast_batch128.csv", "fast_batch128.log", "fast_batch128"),
    # the other nets and datasets (docs/logs/beyond/run.sh), the bigger nets (docs/logs/depth/)
    **{
        f"{e.script}/{name}": (e.csv, f"{e.script}.log", e.script)
        for name, e in experiments.EXPERIMENTS.items()
    },
    # a learning rate per config (docs/logs/lr/run.sh): the trials chosen on, the seeds at the
    # choice, the tutorial net's rates at full length
    "lr/selection": ("selection_fast.csv", "lr.log", "lr"),
    "lr": ("results_fast_lr.csv", "lr.log", "lr"),
    "lr/full_length": ("selection_fast_full_length.csv", "lr.log", "lr"),
    "lr/batch": ("selection_fast_batch.csv", "lr.log", "lr"),
    # the 83.4%: the tutorial schedule to 200K steps (docs/logs/long/run.sh)
    "long": ("results_long.csv", "long.log", "long"),
}
# Sweep folders whose rows replace every committed row of the configs they ran (merge_rows, by
# config), logs as in SWEEPS: maxout joins the activation scale (its log is
# beyond's, above); the quick preset's max-pool pair with FC ReLUs joins the finding pair's
# older quick runs.
MERGED = {
    "beyond/activation_scale_maxout": ("activation_scale_quick.csv", None, None),
    "quick": ("results_quick.csv", "quick.log", "quick"),
}
# Sweeps of the tutorial net whose first runs were trained before results.json recorded
# activation_units: their rows get the counts from the built net (units.fill).
FILL_UNITS = ("lr/selection", "lr", "lr/full_length")
STEP_EVERY = 5000
_STEP = re.compile(r"^step +(\d+)/(\d+) ")
_NOISE = ("I0000 ", "W0000 ", "E0000 ", "WARNING: All log messages")
_MACHINE_PATH = re.compile(r"/(work|root|tmp|home)/")
_STAGE_START = "== start stage "
_SWEEP_START = re.compile(r"^sweep .+: \d+ runs, ")
# a sweep's last line; a selection sweep's starts "selection: "
_TRAINED = re.compile(r"^(?:selection: )?trained (\d+), already finished \d+, failed (\d+)$")
_STARTED = re.compile(r"^== start (?:stage \S+ )?(\w{3} \w{3} +\d+ [\d:]+ UTC \d{4})")


def _drop_idle_stages(lines):
    """lines without the stage blocks of a queue restart that found every run finished (every
    sweep of the block ended with trained 0 and failed 0): they repeat the report, nothing new."""
    blocks = [[]]  # blocks[0]: the lines before the first stage
    for line in lines:
        if line.startswith(_STAGE_START):
            blocks.append([])
        blocks[-1].append(line)
    kept = blocks[0]
    for block in blocks[1:]:
        sweeps = sum(1 for line in block if _SWEEP_START.match(line))
        counts = [m.groups() for m in map(_TRAINED.match, block) if m]
        if len(counts) != sweeps or set(counts) != {("0", "0")}:  # a stopped sweep has no count
            kept.extend(block)
    return kept


def trim(text):
    """The log a reader needs: no TensorFlow start-up lines, every STEP_EVERY-th step line, a
    Python traceback as its last line (the error; its frames name this machine's paths), no
    stage block of a restart that had nothing left to train."""
    kept, in_traceback = [], False
    for line in text.splitlines():
        if line.startswith("Traceback (most recent call last):"):
            in_traceback = True
            continue
        if in_traceback and line[:1].isspace():
            continue
        in_traceback = False
        step = _STEP.match(line)
        every_nth = step and (int(step.group(1)) % STEP_EVERY == 0 or step[1] == step[2])
        if line.startswith(_NOISE) or (step and not every_nth):
            continue
        kept.append(line.replace(str(Path.home()), "~"))
    return "\n".join(_drop_idle_stages(kept)) + "\n"


def _checked_write(path, text):
    if _MACHINE_PATH.search(text):
        line = next(x for x in text.splitlines() if _MACHINE_PATH.search(x))
        sys.exit(f"collect: {path} would hold a path of this machine: {line.strip()}")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")  # renamed into place: never half-written
    partial.write_text(text)
    partial.replace(path)


def _report(folder, always=()):
    """The folder's results.csv as its sweep's report writes it (a --select sweep's chosen flag
    in every row; the axes of its whole grid from the first finished run on), with the config
    columns `always` too (the committed CSV's: its rows and the new ones name the same)."""
    chosen = select.chosen_flag(folder)
    rows = report.collect(folder, [*always, *([chosen] if chosen else [])])
    report.write_csv(folder / "results.csv", rows)


def merge_rows(folder, csv_path, key="config"):
    """csv_path with the rows of the sweep in folder: by key "config", every committed row of a
    config (switch values) the sweep finished is replaced by the sweep's rows (a later sweep
    adds configs to a committed CSV); by key "run", only the row of the same run is."""
    if not any(folder.glob("*/results.json")):
        return
    old = csv_path.read_text().splitlines() if csv_path.exists() else []
    _report(folder, [c for c in next(csv.reader(old[:1]), []) if c in config_lib.FIELDS])
    new = (folder / "results.csv").read_text().splitlines()
    old = old or new[:1]
    if new[0] != old[0]:
        old, new = _union_columns(old, new, csv_path)
    header = next(csv.reader([old[0]]))
    names = [n for n in switches_lib.SWITCH_DEFAULTS if n in header] if key == "config" else [key]
    columns = [header.index(name) for name in names]

    def key_of(line):
        row = next(csv.reader([line]))
        return tuple(row[i] for i in columns)

    replaced = {key_of(line) for line in new[1:]}
    kept = [line for line in old[1:] if key_of(line) not in replaced]
    _checked_write(csv_path, "\n".join([old[0], *kept, *new[1:]]) + "\n")
    print(f"collect: {folder} -> {csv_path} ({len(new) - 1} rows, {len(kept)} kept)")


def _union_columns(old, new, csv_path):
    """Both CSVs' lines under one header: the committed one's columns, then any new ones; a
    cell a row never had stays empty (not recorded). A switch column the committed CSV lacks
    is its default in the committed rows (a report writes every switch a run sets away from
    it); any other config column it lacks is refused: its value in those rows is not known.
    (The new rows have every config column of the committed CSV: merge_rows asks for them.)"""
    old_rows = list(csv.DictReader(old))
    new_rows = list(csv.DictReader(new))
    old_head, new_head = next(csv.reader([old[0]])), next(csv.reader([new[0]]))
    added = [c for c in new_head if c not in old_head]
    head = old_head + added
    defaults = {
        name: switches_lib.value_name(value)
        for name, value in switches_lib.SWITCH_DEFAULTS.items()
        if name in added
    }
    old_rows = [{**row, **defaults} for row in old_rows]
    unknown = [c for c in added if c in config_lib.FIELDS and c not in defaults]
    if unknown and old_rows:
        sys.exit(f"collect: results.csv adds the config columns {unknown} to {csv_path}")

    def lines(rows):
        text = io.StringIO()
        writer = csv.DictWriter(text, head, restval="", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return text.getvalue().splitlines()

    return lines(old_rows), lines(new_rows)


def write_curves(folder, csv_path):
    """docs/curves_<name>.csv beside a sweep's CSV: each finished run's compact curve."""
    rows = curves.sweep_curves(folder)
    if rows:
        path = csv_path.with_name(curves.csv_name(csv_path))
        curves.merge_csv(path, rows)
        print(f"collect: {folder} -> {path} ({len(rows)} evaluations)")


@functools.cache
def _log_segments(trimmed_folder):
    """curves.log_segments of a folder's trimmed logs, oldest first; read once per collect, as
    several sweeps share a folder (beyond/, lr/)."""
    texts = sorted((path.read_text() for path in trimmed_folder.glob("run*.log")), key=_log_order)
    return curves.log_segments(texts)


def write_log_curves(folder, csv_path, trimmed_folder):
    """The curves of the CSV's runs that its curves CSV lacks, read from the committed trimmed
    logs (curves.log_curve): a run trained on a machine since laid anew left no events here.
    Says which runs no committed log holds. Called before this collect trims its queue logs
    into the folder, so the cached segments are the committed ones."""
    if not csv_path.exists() or not trimmed_folder.is_dir():
        return
    path = csv_path.with_name(curves.csv_name(csv_path))
    have = {row["run"] for row in curves.read_csv(path)} if path.exists() else set()
    with open(csv_path, newline="") as f:
        wanted = [row for row in csv.DictReader(f) if row["run"] not in have]
    segments, rows, unlogged = _log_segments(trimmed_folder), [], []
    for row in wanted:
        found = curves.log_curve(
            segments, folder, row["run"], int(row["global_step"]), float(row["test_accuracy"])
        )
        rows += [{"run": row["run"], **point} for point in found or ()]
        unlogged += [] if found else [row["run"]]
    if rows:
        curves.merge_csv(path, rows)
        print(f"collect: {trimmed_folder} -> {path} ({len(rows)} evaluations, from the logs)")
    if unlogged:
        print(f"collect: no committed log holds the whole of {folder}/{', '.join(unlogged)}")


def _log_order(text):
    """A trimmed log's place among its folder's: when it started; first, one written before the
    queue (fast_batch128/'s starts with its sweep's line)."""
    return _log_started(text) if _STARTED.match(text) else datetime.datetime.min


def _log_started(text):
    """When a trimmed log's first stage started (its first line): the logs' order."""
    started = _STARTED.match(text)
    if not started:
        sys.exit(f"collect: a queue log should start with '== start ...': {text[:60]!r}")
    return datetime.datetime.strptime(started[1], "%a %b %d %H:%M:%S UTC %Y")


def trimmed_log_path(folder, trimmed):
    """Where a queue log's trimmed text goes in folder: the committed log that starts with the
    same line (this log, collected before), else run-<its start, UTC>.log: a machine laid anew
    writes a new log beside those of the machines before it."""
    first = trimmed.split("\n", 1)[0]
    for path in sorted(folder.glob("run*.log")):
        if path.read_text().split("\n", 1)[0] == first:
            return path
    return folder / f"run-{_log_started(first):%Y%m%d-%H%M}.log"


def _copy_log(log_name, trimmed_folder):
    """The queue log RUNS/log_name, trimmed, into its own file in trimmed_folder
    (trimmed_log_path), when it holds more than restarts that had nothing to train."""
    text = trim((RUNS / log_name).read_text()) if (RUNS / log_name).exists() else ""
    if text.strip():  # not only restarts that found every run finished or recorded
        path = trimmed_log_path(trimmed_folder, text)
        _checked_write(path, text)
        print(f"collect: {RUNS / log_name} -> {path}")


def main():
    docs = Path("docs")
    logs = {}  # queue log -> its trimmed logs' folder, each trimmed once (sweeps share logs)
    for sweeps, key in ((SWEEPS, "run"), (MERGED, "config")):
        for name, (csv_name, log_name, trimmed_folder) in sweeps.items():
            merge_rows(RUNS / name, docs / csv_name, key)
            if name in FILL_UNITS and (docs / csv_name).exists():
                units.fill(docs / csv_name)
            write_curves(RUNS / name, docs / csv_name)
            if log_name:
                logs[log_name] = docs / "logs" / trimmed_folder
                write_log_curves(name, docs / csv_name, docs / "logs" / trimmed_folder)
    for log_name, folder in logs.items():
        _copy_log(log_name, folder)
    print(build_docs.write_docs(docs), end="")
    readme_path = Path("README.md")
    summary = (docs / "README_SUMMARY.md").read_text()
    readme_path.write_text(readme.replace_block(readme_path.read_text(), summary))
    print("collect: README.md summary updated; now run tests/test_docs.py and commit")


if __name__ == "__main__":
    main()
