"""The reports' one matplotlib set-up: a figure with one axis, laid out, saved as PNG, closed.

    with plots.figure("results.png", size=(6, 4), dpi=120) as axis:
        axis.bar(...)

Used by report.py and scale.py (plot files) and diagnostics.py (the confusion matrix image).
"""

import contextlib


@contextlib.contextmanager
def figure(target, size, dpi, **savefig):
    """Yields the axis of a new figure of `size` inches; on exit saves it to `target` (a path or
    a binary file) at `dpi` with savefig's other arguments, and closes it."""
    import matplotlib  # here: a second's import that training without plots never pays

    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt

    fig, axis = plt.subplots(figsize=size)
    try:
        yield axis
        fig.tight_layout()
        fig.savefig(target, dpi=dpi, **savefig)
    finally:
        plt.close(fig)
