"""Fig. A4: sRAVEN training loss per model size, and the base model's held-out cross-entropy."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from hyla import plotting
from hyla.figdata import FigureData
from hyla.figures import suptitle


def _problems(data: FigureData, metric: str, **filters):
    """(training problems seen [n], values [n, seeds]) of ``metric``: steps times the batch size."""
    steps, values = data.curve(metric, **filters)
    row = data.select(metric, **filters)[0]
    return steps * (row["problems_seen"] // row["step"]), values


def _curves(ax, data: FigureData, metric: str, **filters) -> None:
    for method in dict.fromkeys(r["method"] for r in data.rows):  # in the order they ran
        x, v = _problems(data, metric, method=method, **filters)
        plotting.band(ax, x, *plotting.mean_sem(v, axis=1), method)
    if ax.get_ylim()[1] > 3 * ax.get_ylim()[0] > 0:
        ax.set_yscale("log")
    ax.set_xlabel("training problems (= step × batch)")


def final_loss(data: FigureData, method: str, depth, width) -> float:
    """Mean over seeds of the last logged training loss of one model."""
    return float(np.mean(data.values("train_loss", method=method, depth=depth, width=width)))


def plot(data: FigureData):
    depths, widths = data.unique("depth", "train_loss"), data.unique("width", "train_loss")
    sizes = [(d, w) for d in depths for w in widths if data.has("train_loss", depth=d, width=w)]
    n = len(sizes) + 1
    ncol = min(n, 4)
    nrow = -(-n // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.5 * nrow), squeeze=False)
    axes = axes.ravel()
    for ax, (d, w) in zip(axes, sizes):
        _curves(ax, data, "train_loss", depth=d, width=w)
        ax.set_ylabel("training loss (cross-entropy)")
        ax.set_title(f"depth {d}, width {w}", fontsize=9)
    axes[0].legend(fontsize=7)
    base = (depths[0], widths[0])  # the base model: the smallest of the grid
    ax = axes[len(sizes)]
    _curves(ax, data, "heldout_ce", depth=base[0], width=base[1])
    ax.set_ylabel("held-out cross-entropy")
    ax.set_title(f"held-out combinations, depth {base[0]}, width {base[1]}", fontsize=9)
    for ax in axes[n:]:
        ax.axis("off")

    steps = max(r["step"] for r in data.select("train_loss"))
    pipeline = "pipeline check; " if data.extra.get("pipeline_check", data.preset == "smoke") else ""
    losses = ", ".join(f"{plotting.method_style(m).label} {final_loss(data, m, *base):.3f}"
                       for m in dict.fromkeys(r["method"] for r in data.rows))
    suptitle(fig, data, f"Fig. A4 sRAVEN training loss, {plotting.sraven_setting(data.extra.get('task'))}"
             f"{steps} steps\n{pipeline}final training loss (depth {base[0]}, width {base[1]}): {losses}")
    fig.tight_layout()
    return fig
