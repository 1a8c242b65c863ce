"""Fig. A3: R² on training tasks, held-out combinations and unknown-term combinations, per step."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from hyla import plotting
from hyla.figdata import FigureData
from hyla.figures import suptitle

METRICS = ("train_r2", "heldout_r2", "unknown_terms_r2")
TITLES = {"train_r2": "A: training tasks (new inputs)",
          "heldout_r2": "B: held-out combinations of known terms",
          "unknown_terms_r2": "C: combinations of unknown terms"}


def plot(data: FigureData):
    methods = [m for m in plotting.METHOD_STYLE if m in data.unique("method", "heldout_r2")]
    fig, axes = plt.subplots(1, len(METRICS), figsize=(4.3 * len(METRICS), 3.8), sharey=True)
    lowest = []
    for ax, metric in zip(axes, METRICS):
        for method in methods:
            x, vals = data.curve(metric, method=method)
            mean, sem = plotting.mean_sem(vals, axis=1)
            plotting.band(ax, x, mean, sem, method)
            if len(x) > 1:  # the first evaluation (an untrained model, R² << 0) does not set the scale
                lowest.append(float(np.nanmin(vals[1:])))
        ax.axhline(0, color="k", lw=0.6, ls=":")
        ax.set_xlabel("training step")
        ax.set_title(TITLES[metric], fontsize=9)
    axes[0].set_ylabel("R² (mean over sequences)")
    axes[0].set_ylim(max(-1.0, min(lowest, default=-1.0) - 0.05), 1.0)
    axes[0].legend(fontsize=7, loc="lower right")
    steps = max(r["step"] for r in data.select("heldout_r2"))
    suptitle(fig, data, f"Fig. A3 fuzzy logic, {steps} steps, N 32, 70 % held out")
    fig.tight_layout()
    return fig
