"""Figs. A6 / A7: latent codes of a shallow and a deeper HYLA (t-SNE) and rule decoding per layer."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from hyla import plotting
from hyla.figdata import FigureData
from hyla.figures import missing, suptitle

LETTERS = "ABCDEFGH"


def _decoding(data: FigureData, depth) -> np.ndarray:
    """Rule-decoding accuracy [layers, seeds] of the HYLA model of ``depth``."""
    layers = data.unique("layer", "decoding_accuracy", depth=depth)
    return np.stack([data.values("decoding_accuracy", depth=depth, layer=l) for l in layers])


def _embeddings(fig, axes, data: FigureData, depth, num_layers: int) -> None:
    """Layer-1 codes by target value and last-layer codes by rule (t-SNE of seed 0's held-out codes)."""
    task, rules = data.extra.get("task"), data.extra.get("rules")
    if f"first_{depth}" not in data.arrays:
        for ax, what in zip(axes, ("layer 1", f"layer {num_layers}")):
            missing(ax, f"t-SNE of the depth-{depth} {what} codes")
        return
    first, last = data.arrays[f"first_{depth}"], data.arrays[f"last_{depth}"]
    of_rule, target = data.arrays[f"rules_{depth}"], data.arrays[f"y_{depth}"]
    sc = axes[0].scatter(first[:, 0], first[:, 1], s=5, c=target, cmap="viridis", vmin=0,
                         vmax=task["num_values"] - 1)
    fig.colorbar(sc, ax=axes[0], label="target value")
    for r in np.unique(of_rule):
        sel = of_rule == r
        axes[1].scatter(last[sel, 0], last[sel, 1], s=5, color=plt.get_cmap("tab10")(r),
                        label=f"{LETTERS[r]} {rules[r]}")
    for ax in axes:
        ax.set_xticks([]), ax.set_yticks([])


def plot(data: FigureData):
    depths = list(dict.fromkeys(r["depth"] for r in data.select("decoding_accuracy")))
    fig, axes = plt.subplots(len(depths), 3, figsize=(14, 4.0 * len(depths)), squeeze=False)
    decoding = {d: _decoding(data, d) for d in depths}
    for row, d in enumerate(depths):
        _embeddings(fig, axes[row, :2], data, d, len(decoding[d]))
        axes[row, 0].set_title(f"depth {d}: layer 1 codes by target value", fontsize=9)
        axes[row, 1].set_title(f"depth {d}: layer {len(decoding[d])} codes by rule", fontsize=9)
    if "rules" in data.extra and f"first_{depths[0]}" in data.arrays:
        axes[0, 1].legend(fontsize=6, markerscale=2.5, loc="best")
    gs = axes[0, 2].get_gridspec()
    for ax in axes[:, 2]:
        ax.remove()
    ax = fig.add_subplot(gs[:, 2])
    for j, d in enumerate(depths):
        L = len(decoding[d])
        mean, sem = plotting.mean_sem(decoding[d], axis=1)
        plotting.band(ax, np.arange(1, L + 1) / L, mean, sem, "hyla", label=f"HYLA depth {d}",
                      linestyle=["-", "--", ":"][j % 3])
    chance = 1 / len(data.extra.get("rules", LETTERS))
    ax.axhline(chance, color="0.5", ls=":", lw=1, label="chance")
    ax.set_xlabel("relative depth of the layer (layer / depth)")
    ax.set_ylabel("rule decoding accuracy (held-out combos)")
    ax.set_title("rule decoded from the code, per layer", fontsize=9)
    ax.legend(fontsize=7)

    task = data.extra.get("task")
    setting = plotting.sraven_setting(task)
    steps = max(r["step"] for r in data.select("decoding_accuracy"))
    per_depth = "; ".join(
        f"depth {d}: held-out accuracy {np.mean(data.values('heldout_accuracy', depth=d)):.3f}, last-layer "
        f"rule decoding {np.mean(decoding[d][-1]):.2f}" for d in depths)
    suptitle(fig, data, f"Fig. A6/A7 sRAVEN HYLA codes vs depth, {setting}{steps} steps\n"
             f"{per_depth} (chance {chance:.3f})")
    fig.tight_layout()
    return fig
