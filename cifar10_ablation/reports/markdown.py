"""The text of the reports and docs: Markdown tables, wrapped paragraphs, numbers as printed.

table(["config", "mean %"], [["relu", "83.1"], ...])  ->  "| config | mean % |\n|---|..."
wrap(text, bullet=True)   ->  a bullet wrapped at 100 columns, as the docs are written
percent(0.8312)           ->  "83.1"
"""

import textwrap

from cifar10_ablation.reports import stats


def table(header, rows):
    """A Markdown table, one line per row, no trailing newline; cells are written as given."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def wrap(text, bullet=False):
    """A Markdown paragraph (or bullet) wrapped at 100 columns, as the docs are written."""
    lead = "- " if bullet else ""
    return textwrap.fill(
        lead + text,
        100,
        subsequent_indent=" " * len(lead),
        break_long_words=False,
        break_on_hyphens=False,
    )


def percent(value, digits=1):
    return "" if value is None else f"{100 * value:.{digits}f}"


def signed_points(fraction, digits=1):
    """A difference of fractions in signed points, "+0.0" rather than "-0.0" when it rounds to 0."""
    return f"{round(100 * fraction, digits) + 0.0:+.{digits}f}"


def interval(low, high, digits=1):
    if low is None:
        return f"none: n < {stats.MIN_SEEDS}"
    return f"[{percent(low, digits)}, {percent(high, digits)}]"
