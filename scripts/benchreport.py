# SPDX-License-Identifier: GPL-2.0
"""What the benchmark reports (scripts/*-report.py) share: their JSON and
PNG go into the run's directory and are copied to results/bench/."""
import json
import os
import shutil


def write_json(out, name, doc):
    """Writes DOC as OUT/NAME and as NAME in OUT's parent (results/bench)."""
    for d in (out, os.path.dirname(out)):
        with open(os.path.join(d, name), "w") as fh:
            json.dump(doc, fh, indent=1)


def pyplot():
    """matplotlib's pyplot (Agg), or None with a line saying why."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(no matplotlib: no plot)")
        return None
    return plt


def save_plot(fig, out, name):
    """Saves FIG as OUT/NAME, copies it to OUT's parent, says where."""
    png = os.path.join(out, name)
    fig.savefig(png, dpi=100)
    shutil.copy(png, os.path.join(os.path.dirname(out), name))
    print(f"plot: {png}")
