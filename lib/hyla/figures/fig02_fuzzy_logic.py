"""Fig. 2: fuzzy logic, held-out R² against N and the held-out fraction (C), term probes (B), t-SNE (D)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from hyla import plotting
from hyla.figdata import FigureData
from hyla.figures import missing, suptitle

LINESTYLES = ("-", "--", ":")
SHORT = {"softmax": "softmax", "linear": "linear", "hyla": "HYLA"}


def _headline(data: FigureData) -> tuple[int, float]:
    """(N, held-out fraction) of the headline cell: the cell the probes read."""
    row = data.select("probe_f1")[0]
    return row["num_examples"], row["heldout_fraction"]


def _panel_c(ax, data: FigureData, methods, headline) -> None:
    """Held-out R² against N per held-out fraction; a headline cell trained longer is drawn apart."""
    ns, fracs = data.unique("num_examples", "heldout_r2"), data.unique("heldout_fraction", "heldout_r2")
    steps = {(n, f): max(r["step"] for r in data.select("heldout_r2", num_examples=n, heldout_fraction=f))
             for n in ns for f in fracs if data.has("heldout_r2", num_examples=n, heldout_fraction=f)}
    grid_steps = sorted({s for cell, s in steps.items() if cell != headline})
    apart = len(ns) > 1 and grid_steps != [steps[headline]]
    for method in methods:
        style = plotting.method_style(method)
        for j, frac in enumerate(fracs):
            cells = [n for n in ns if (n, frac) in steps and not (apart and (n, frac) == headline)]
            vals = np.stack([data.values("heldout_r2", method=method, num_examples=n, heldout_fraction=frac)
                             for n in cells])  # [N, seeds]
            mean, sem = plotting.mean_sem(vals, axis=1)
            label = style.label if j == 0 else "_"
            if len(ns) == 1:  # one cell: points with s.e. error bars, seeds as small dots
                ax.errorbar(cells, mean, yerr=sem, color=style.color, marker=style.marker, capsize=4,
                            label=label, linestyle="none")
                ax.scatter(np.repeat(cells, vals.shape[1]), vals.ravel(), color=style.color, s=8, alpha=0.5)
            else:
                plotting.band(ax, cells, mean, sem, method, label=label, linestyle=LINESTYLES[j % 3])
        if apart:
            mean, sem = plotting.mean_sem(data.values("heldout_r2", method=method, num_examples=headline[0],
                                                      heldout_fraction=headline[1]))
            ax.errorbar([headline[0]], [mean], yerr=[sem], color=style.color, marker="*", markersize=11,
                        capsize=3, linestyle="none")
    if len(ns) > 1:  # which line style is which held-out fraction
        for j, frac in enumerate(fracs):
            ax.plot([], [], color="0.4", linestyle=LINESTYLES[j % 3], label=f"{frac:.0%} held out")
    if apart:
        ax.plot([], [], color="0.4", marker="*", markersize=9, linestyle="none",
                label=f"N={headline[0]}, {headline[1]:.0%}: {steps[headline]} steps")
    ax.set_xticks(ns)
    ax.set_xlabel("in-context examples N")
    ax.set_ylabel("held-out-combination R²")
    ax.set_title(f"C: held-out {', '.join(f'{f:.0%}' for f in fracs)}"
                 + (f"; grid {', '.join(map(str, grid_steps))} steps" if apart else ""), fontsize=9)
    ax.legend(fontsize=7)


def _panel_b(ax, data: FigureData, methods) -> None:
    """Term-probe F1 per layer: solid with the query input random, dashed with it fixed."""
    layers = data.unique("layer", "probe_f1")
    kinds = [(m, ls) for m, ls in (("probe_f1", "-"), ("probe_f1_fixed_query", "--")) if data.has(m)]
    for metric, ls in kinds:
        for method in methods:
            vals = np.stack([data.values(metric, method=method, layer=l) for l in layers])  # [layers, seeds]
            mean, sem = plotting.mean_sem(vals, axis=1)
            plotting.band(ax, layers, mean, sem, method, linestyle=ls,
                          label=plotting.method_style(method).label if ls == "-" else "_")
    for metric, ls in kinds:
        ax.plot([], [], color="0.4", linestyle=ls,
                label={"-": "query input random", "--": "query input fixed"}[ls])
    if not data.has("probe_f1_fixed_query"):
        ax.text(0.5, 0.5, "not in this run's data:\nthe probe with the query input fixed", ha="center",
                va="center", transform=ax.transAxes, fontsize=8, color="0.35")
    ax.legend(fontsize=7)
    ax.set_xticks(layers)
    ax.set_xlabel("layer")
    ax.set_ylabel("term probe F1 (held-out tasks)")
    ax.set_title("B: terms decoded from the latent code", fontsize=9)


def _panel_d(fig, ax, data: FigureData) -> None:
    """t-SNE of the latent method's codes of held-out tasks, coloured by the lower-index term."""
    label = plotting.method_style(data.extra.get("latent_method", "hyla")).label
    ax.set_title(f"D: t-SNE of {label} codes (held-out tasks)", fontsize=9)
    if "tsne" not in data.arrays:
        missing(ax, f"t-SNE of the {label} codes")
        return
    emb = data.arrays["tsne"]
    sc = ax.scatter(emb[:, 0], emb[:, 1], c=data.arrays["tsne_terms"].min(axis=1), cmap="tab20", s=4)
    ax.set_xticks([]), ax.set_yticks([])
    fig.colorbar(sc, ax=ax, label="lower-index term")


def plot(data: FigureData):
    methods = [m for m in plotting.METHOD_STYLE if m in data.unique("method", "heldout_r2")]
    headline = _headline(data)
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    _panel_c(axes[0], data, methods, headline)
    _panel_b(axes[1], data, methods)
    _panel_d(fig, axes[2], data)
    cell = dict(num_examples=headline[0], heldout_fraction=headline[1])
    means = {m: float(np.mean(data.values("heldout_r2", method=m, **cell))) for m in methods}
    steps = max(r["step"] for r in data.select("heldout_r2", **cell))
    suptitle(fig, data, f"Fig. 2 fuzzy logic, N {headline[0]}, {headline[1]:.0%} held out, {steps} steps: "
             "held-out R² " + ", ".join(f"{SHORT.get(m, m)} {means[m]:.2f}" for m in methods), fontsize=8)
    fig.tight_layout()
    return fig
