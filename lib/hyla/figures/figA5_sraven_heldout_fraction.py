"""Fig. A5: sRAVEN accuracy against the fraction of rule combinations held out from training."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from hyla import plotting
from hyla.figdata import FigureData
from hyla.figures import suptitle

# (metric, y label, chance as a function of K and F)
PANELS = (("heldout_accuracy", "held-out accuracy (all features)", lambda K, F: F ** -K),
          ("heldout_feature_accuracy", "held-out per-feature accuracy", lambda K, F: 1 / F),
          ("train_accuracy", "training-combination accuracy", lambda K, F: F ** -K))


def final(data: FigureData, metric: str, method: str) -> np.ndarray:
    """Per-seed final values [fractions, seeds] of ``metric`` for ``method``."""
    return np.stack([data.values(metric, method=method, heldout_fraction=f)
                     for f in data.unique("heldout_fraction", metric, method=method)])


def plot(data: FigureData):
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.9))
    task = data.extra.get("task")
    for ax, (metric, label, chance) in zip(axes, PANELS):
        for m in dict.fromkeys(r["method"] for r in data.rows):  # in the order they ran
            fracs = data.unique("heldout_fraction", metric, method=m)
            plotting.band(ax, fracs, *plotting.mean_sem(final(data, metric, m), axis=1), m)
        if task:
            ax.axhline(chance(task["num_features"], task["num_values"]), color="0.5", ls=":", lw=1,
                       label="chance")
        else:
            ax.text(0.98, 0.02, "chance level: not in this run's data", transform=ax.transAxes,
                    ha="right", va="bottom", fontsize=7, color="0.35")
        fracs = data.unique("heldout_fraction", metric)
        ax.set_xticks(fracs, [f"{f:.0%}" for f in fracs])
        ax.set_xlabel("held-out fraction of rule combinations")
        ax.set_ylabel(label)
    axes[0].legend(fontsize=7)
    steps = max(r["step"] for r in data.select("heldout_accuracy"))
    suptitle(fig, data, f"Fig. A5 sRAVEN held-out accuracy vs held-out fraction, "
             f"{plotting.sraven_setting(task)}{steps} steps")
    fig.tight_layout()
    return fig
