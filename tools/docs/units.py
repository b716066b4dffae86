"""Fills activation_units and max_pool_windows into committed results CSVs whose runs predate them.

    python tools/docs/units.py docs/beyond_vgg.csv --flagfile=flags/vgg.flags
    python tools/docs/units.py docs/results_fast.csv

Both are functions of the run's net alone (models.activation_units and max_pool_windows of the
built model: arch, switches, input channels and size), so building each config's model once
gives the figure the run would have recorded; rows that have them keep theirs. A CSV's constant
settings that are not columns (a beyond CSV's --arch or --dataset) come from the flagfile its
runs were made with. The CSV is rewritten in place (atomically), the two columns where
report.py puts them.
"""

import argparse
import csv
import io
import sys
from pathlib import Path

import flagfiles

from cifar10_ablation import config as config_lib
from cifar10_ablation import files, models, switches
from cifar10_ablation.reports import report

COLUMNS = ("activation_units", "max_pool_windows")
# The settings a net is built from beside the switches, where a CSV has them as columns.
NET_SETTINGS = ("arch", "dataset", "augmentation")


def config_of(row, base):
    """The RunConfig of a CSV row: the row's switch and net columns over `base` (the RunConfig
    of the flagfile its runs were made with; the defaults without one)."""
    values = {
        name: _typed(name, row[name])
        for name in (*switches.FIELDS, *NET_SETTINGS)
        if row.get(name) not in (None, "")
    }
    return (base or config_lib.RunConfig()).replace(**values)


def _typed(name, text):
    """A CSV cell as RunConfig holds the field."""
    default = getattr(config_lib.RunConfig().switches, name, None)
    if isinstance(default, bool):
        return text == "true"
    if isinstance(default, int):
        return int(text)
    return text


def units_of(config, cache):
    """(activation_units, max_pool_windows) of the config's net, built once per net."""
    key = (config.switches, config.arch, config.channels, config.image_size)
    if key not in cache:
        model = models.build_model(config.switches, config.arch, config.channels, config.image_size)
        cache[key] = (models.activation_units(model), models.max_pool_windows(model))
    return cache[key]


def fill(path, base=None):
    """Rewrites the CSV with both columns filled; returns how many rows were filled."""
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        header, rows = list(reader.fieldnames), list(reader)
    for column in COLUMNS:
        if column not in header:  # where report.py writes it: before the run's times
            header.insert(header.index("train_seconds_total"), column)
    cache, filled = {}, 0
    for row in rows:
        if all(row.get(c) not in (None, "") for c in COLUMNS):
            continue
        found = units_of(config_of(row, base), cache)
        row.update(zip(COLUMNS, (str(v) for v in found), strict=True))
        filled += 1
    text = io.StringIO()
    writer = csv.DictWriter(text, header, lineterminator=_line_end(path))
    writer.writeheader()
    writer.writerows(rows)
    files.write_text_atomic(path, text.getvalue())
    report.read_csv(path)  # still a results CSV
    return filled


def _line_end(path):
    return "\r\n" if b"\r\n" in Path(path).read_bytes()[:4096] else "\n"


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", nargs="+")
    parser.add_argument("--flagfile", help="the flagfile the CSV's runs were made with")
    args = parser.parse_args(argv)
    try:
        base = flagfiles.config(args.flagfile) if args.flagfile else None
    except ValueError as error:  # flagfiles.config names the file
        sys.exit(f"error: {error}")
    for path in args.csv:
        try:
            print(f"{path}: {fill(path, base)} rows filled")
        except (OSError, ValueError, KeyError) as error:
            sys.exit(f"error: {path}: {error}")


if __name__ == "__main__":
    main(sys.argv[1:])
