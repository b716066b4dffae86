"""The one Markdown table writer of the reports and docs.

table(["config", "mean %"], [["relu", "83.1"], ...])  ->  "| config | mean % |\n|---|---|\n..."
"""


def table(header, rows):
    """A Markdown table, one line per row, no trailing newline; cells are written as given."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)
