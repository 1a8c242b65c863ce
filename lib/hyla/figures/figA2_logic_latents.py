"""Fig. A2: the latent code of held-out fuzzy-logic tasks (t-SNE by label, term probes, neighbour κ).

Reads the saved data only: the CSV rows ``probe_f1`` / ``probe_f1_fixed_query`` (per layer) and
``neighbour_kappa`` (per colouring), and the NPZ arrays ``tsne_<method>`` [n, 2] with their labels
``target_<method>``, ``function_<method>``, ``term_<method>`` for the methods shown as t-SNE.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from hyla import plotting
from hyla.figdata import FigureData
from hyla.figures import missing, suptitle

COLOURINGS = ("target", "function", "term")
KAPPA_LABEL = {"target": "target_quintile", "function": "function", "term": "term"}
CMAP = {"target": "viridis", "function": "hsv", "term": "tab20"}
PROBES = (("probe_f1", "-", "query input random"), ("probe_f1_fixed_query", "--", "query input fixed"))


def _kappa(data: FigureData, method: str, label: str) -> tuple[float, float]:
    return tuple(map(float, plotting.mean_sem(data.values("neighbour_kappa", method=method, label=label))))


def plot(data: FigureData):
    methods = [m for m in plotting.METHOD_STYLE if m in data.unique("method", "neighbour_kappa")]
    shown = list(data.extra.get("tsne_methods", ())) or ["hyla", "softmax"]
    term_rank = data.extra.get("shown_term_rank", 0)
    nrows = max(len(shown), 2)
    fig = plt.figure(figsize=(17, 4.2 * nrows))
    gs = fig.add_gridspec(nrows, 4, width_ratios=[1, 1, 1, 1.05], wspace=0.42, hspace=0.3)
    titles = {"target": "target label f(x_query)", "function": "function (held-out term pair)",
              "term": ("lower" if term_rank == 0 else "higher") + "-index term"}
    for row, method in enumerate(shown):
        label = plotting.method_style(method).label
        for col, name in enumerate(COLOURINGS):
            ax = fig.add_subplot(gs[row, col])
            k_mean, k_sem = _kappa(data, method, KAPPA_LABEL[name])
            ax.set_title(f"{label}: by {titles[name]}\nneighbour κ {k_mean:.2f} ± {k_sem:.2f}", fontsize=9)
            if f"tsne_{method}" not in data.arrays:
                missing(ax, f"the t-SNE embedding of {label}'s codes")
                continue
            emb, labels = data.arrays[f"tsne_{method}"], data.arrays[f"{name}_{method}"]
            sc = ax.scatter(emb[:, 0], emb[:, 1], c=labels, cmap=CMAP[name], s=3, linewidths=0)
            ax.set_xticks([]), ax.set_yticks([])
            if name == "function":
                ax.text(0.01, 0.01, f"{len(np.unique(labels))} functions", fontsize=7, transform=ax.transAxes)
            else:
                cb = fig.colorbar(sc, ax=ax, fraction=0.046, pad=0.02,
                                  label="f value" if name == "target" else "term index")
                if name == "term":
                    cb.set_ticks(np.unique(labels))

    ax = fig.add_subplot(gs[0, 3])  # term probe F1 per layer, query input random (solid) / fixed (dashed)
    layers = data.unique("layer", "probe_f1")
    for metric, ls, _ in PROBES:
        for method in methods:
            if not data.has(metric, method=method):
                continue
            vals = np.stack([data.values(metric, method=method, layer=lay) for lay in layers])  # [layers, seeds]
            mean, sem = plotting.mean_sem(vals, axis=1)
            plotting.band(ax, layers, mean, sem, method, linestyle=ls,
                          label=plotting.method_style(method).label if ls == "-" else "_")
    for metric, ls, name in PROBES:
        note = "" if data.has(metric) else " (not in this run's data)"
        ax.plot([], [], color="0.4", linestyle=ls, label=name + note)
    ax.set_xticks(layers)
    ax.set_xlabel("layer")
    ax.set_ylabel("term probe F1 (held-out tasks)")
    ax.set_title("term probes on the per-layer code", fontsize=9)
    ax.legend(fontsize=7)

    ax = fig.add_subplot(gs[1, 3])  # neighbour agreement per colouring
    width = 0.8 / max(len(methods), 1)
    for j, method in enumerate(methods):
        stats = [_kappa(data, method, KAPPA_LABEL[n]) for n in ("term", "function", "target")]
        st = plotting.method_style(method)
        ax.bar(np.arange(3) + j * width, [s[0] for s in stats], width, yerr=[s[1] for s in stats],
               color=st.color, label=st.label, capsize=2)
    ax.axhline(0, color="k", lw=0.6)
    ax.set_xticks(np.arange(3) + 0.4 - width / 2, ["term", "function", "target\n(quintile)"])
    k = data.extra.get("neighbours")
    ax.set_ylabel("neighbour agreement κ" + (f" (k = {k})" if k else ""))
    ax.set_title("clustering in the code space, held-out tasks", fontsize=9)
    ax.legend(fontsize=7)

    steps = max(r["step"] for r in data.select("neighbour_kappa"))
    task = data.extra.get("task")
    cell = f", N {task['seq_len']}, {task['heldout_fraction']:.0%} held out" if task else ""
    suptitle(fig, data, f"Fig. A2 latent codes of held-out fuzzy-logic tasks, {steps} steps{cell}", fontsize=10)
    return fig
