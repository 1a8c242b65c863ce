"""Ext. 1: the initialisation rate γ (σ = fan_in^−γ) decides reasoning vs memorising (Zhang et al. 2024).

Row 1 (every tier), both anchor pairs (3,4) and (4,3) unseen: A held-out (4,3) accuracy vs γ, B during
training, C per seed (seen vs held-out). Rows 2-3 (gpu tier): D, E the Fig. 2 phase diagram (γ × depth),
F the attention types, G weight decay × γ (complexity control), H, I linear attention and HYLA.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from hyla import plotting
from hyla.figdata import FigureData
from hyla.figures import suptitle

SWEEP = {"panel": "init_rate_sweep", "method": "softmax"}
SEEN_FITTED = 0.9  # seen-pair accuracy below which a model has not fitted the training pairs (Fig. 2's shading)


def heatmap(ax, table, xs, ys, title, xlabel, ylabel, mask=None):
    """A [ys, xs] table of accuracies, each cell written out; ``*`` where ``mask`` (seen < 0.9)."""
    ax.imshow(table, origin="lower", aspect="auto", vmin=0, vmax=1, cmap="viridis")
    ax.grid(False)
    for (i, j), v in np.ndenumerate(table):
        star = "*" if mask is not None and mask[i, j] else ""
        ax.text(j, i, f"{v:.2f}{star}", ha="center", va="center", fontsize=6.5,
                color="w" if v < 0.6 else "k")
    ax.set_xticks(range(len(xs)), [str(v) for v in xs], fontsize=7)
    ax.set_yticks(range(len(ys)), [str(v) for v in ys], fontsize=7)
    ax.set_xlabel(xlabel), ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=8.5)


def grid(data: FigureData, metric: str, rows_key: str, rows, cols, **filters) -> np.ndarray:
    """Mean over seeds of ``metric`` on a [rows, γ] grid."""
    return np.array([[data.values(metric, init_rate=g, **{rows_key: r}, **filters).mean() for g in cols]
                     for r in rows])


def sweep_panels(axes, data: FigureData):
    gammas = data.unique("init_rate", "heldout_accuracy", **SWEEP)
    sigmas = [data.select("heldout_accuracy", init_rate=g, **SWEEP)[0]["init_std"] for g in gammas]
    emb = data.unique("width", "heldout_accuracy", **SWEEP)[0]
    per = {m: np.stack([data.values(m, init_rate=g, **SWEEP) for g in gammas])
           for m in ("heldout_accuracy", "heldout_symmetric_accuracy", "seen_accuracy")}
    soft = plotting.method_style("softmax")
    cmap = plt.get_cmap("viridis")
    colours = [cmap(i / max(1, len(gammas) - 1)) for i in range(len(gammas))]

    ax = axes[0]  # A: final accuracies vs γ
    x = np.arange(len(gammas))
    for metric, lab, ls, mk, c in (
            ("heldout_accuracy", "held-out (4,3), inferential x−10", "-", "o", soft.color),
            ("heldout_symmetric_accuracy", "held-out (4,3), symmetric x−6", ":", "v", "0.75"),
            ("seen_accuracy", "seen pairs, test items", "--", "s", "0.5")):
        mean, sem = plotting.mean_sem(per[metric], axis=1)
        ax.errorbar(x, mean, yerr=sem, marker=mk, linestyle=ls, capsize=3, label=lab, color=c)
    for i in range(per["heldout_accuracy"].shape[1]):
        ax.scatter(x, per["heldout_accuracy"][:, i], s=12, color=soft.color, alpha=0.35, zorder=3)
    ax.set_xticks(x, [f"γ {g}\nσ {s:.3f}" for g, s in zip(gammas, sigmas)], fontsize=7)
    ax.set_xlabel(f"init rate γ (σ = {emb}^−γ; larger γ = smaller init)")
    ax.set_ylabel("accuracy")
    ax.set_ylim(-0.03, 1.03)
    ax.set_title("A: both (3,4), (4,3) unseen — accuracy vs init", fontsize=9)
    ax.legend(fontsize=6.5, loc="center left")

    ax = axes[1]  # B: during training
    for g, s, c in zip(gammas, sigmas, colours):
        steps, v = data.curve("heldout_accuracy", init_rate=g, **SWEEP)
        mean, sem = plotting.mean_sem(v, axis=1)
        ax.plot(steps, mean, color=c, label=f"γ {g} (σ {s:.3f})")
        ax.fill_between(steps, mean - sem, mean + sem, color=c, alpha=0.2, linewidth=0)
        steps, v = data.curve("seen_accuracy", init_rate=g, **SWEEP)
        ax.plot(steps, np.nanmean(v, 1), color=c, linestyle="--", linewidth=0.8)
    ax.set_xlabel("training step")
    ax.set_ylabel("accuracy (solid: held-out (4,3); dashed: seen)")
    ax.set_title("B: held-out accuracy during training", fontsize=9)
    ax.legend(fontsize=6.5)

    ax = axes[2]  # C: per seed (memorising = seen 1, held-out 0)
    for i, (g, c) in enumerate(zip(gammas, colours)):
        ax.scatter(per["seen_accuracy"][i], per["heldout_accuracy"][i], color=c, s=30, label=f"γ {g}",
                   edgecolor="k", linewidth=0.3)
    ax.set_xlabel("seen-pair test accuracy")
    ax.set_ylabel("held-out (4,3) inferential accuracy")
    ax.set_xlim(-0.03, 1.03), ax.set_ylim(-0.03, 1.03)
    ax.axhline(0.5, color="0.8", linewidth=0.6), ax.axvline(SEEN_FITTED, color="0.8", linewidth=0.6)
    ax.set_title("C: per seed — reasons (top right), memorises (bottom right)", fontsize=8.5)
    ax.legend(fontsize=6.5)
    return emb


def gpu_panels(axes, data: FigureData):
    phase = {"panel": "phase_diagram"}
    mixers = [m for m in plotting.METHOD_STYLE if m in data.unique("method", "heldout_accuracy", **phase)]
    pg = data.unique("init_rate", "heldout_accuracy", **phase)
    depths = {m: data.unique("depth", "heldout_accuracy", method=m, **phase) for m in mixers}
    table = {(m, metric): grid(data, metric, "depth", depths[m], pg, method=m, **phase)
             for m in mixers for metric in ("heldout_accuracy", "heldout_symmetric_accuracy", "seen_accuracy")}
    star = f" (* seen < {SEEN_FITTED})"
    for ax, metric, title in ((axes[1, 0], "heldout_symmetric_accuracy", "D: softmax — (4,3) symmetric x−6"),
                              (axes[1, 1], "heldout_accuracy", "E: softmax — (4,3) inferential x−10")):
        heatmap(ax, table[("softmax", metric)], pg, depths["softmax"], title + star, "init rate γ", "depth",
                mask=table[("softmax", "seen_accuracy")] < SEEN_FITTED)

    ax = axes[1, 2]  # F: beyond both papers: attention types, mean over depths
    for m in mixers:
        st = plotting.method_style(m)
        ax.plot(pg, table[(m, "heldout_accuracy")].mean(0), marker=st.marker, color=st.color,
                label=f"{st.label}: x−10")
        ax.plot(pg, table[(m, "heldout_symmetric_accuracy")].mean(0), marker=st.marker, color=st.color,
                linestyle=":", label=f"{st.label}: x−6")
    ax.set_xlabel("init rate γ")
    ax.set_ylabel("(4,3) accuracy, mean over depths")
    ax.set_ylim(-0.03, 1.03)
    ax.set_title("F: beyond both papers — attention type (main variant)", fontsize=8.5)
    ax.legend(fontsize=6)

    wd = {"panel": "weight_decay"}
    if data.has("heldout_accuracy", **wd):  # G: the weight-decay axis of the complexity-control paper
        wg = data.unique("init_rate", "heldout_accuracy", **wd)
        ws = data.unique("weight_decay", "heldout_accuracy", **wd)
        heatmap(axes[2, 0], grid(data, "heldout_accuracy", "weight_decay", ws, wg, **wd), wg, ws,
                "G: both unseen — (4,3) inferential, weight decay × γ" + star, "init rate γ",
                "weight decay", mask=grid(data, "seen_accuracy", "weight_decay", ws, wg, **wd) < SEEN_FITTED)
    else:
        from hyla.figures import missing

        missing(axes[2, 0], "the weight-decay runs")
    for j, m in enumerate(m for m in mixers if m != "softmax"):  # H, I: the other mixers
        heatmap(axes[2, 1 + j], table[(m, "heldout_accuracy")], pg, depths[m],
                f"{'HI'[j]}: {plotting.method_style(m).label} — (4,3) inferential x−10" + star,
                "init rate γ", "depth", mask=table[(m, "seen_accuracy")] < SEEN_FITTED)
    for ax in axes[2]:
        if not ax.has_data() and not ax.images and not ax.texts:
            ax.axis("off")


def plot(data: FigureData):
    has_gpu = data.has("heldout_accuracy", panel="phase_diagram")
    fig, axes = plt.subplots(3 if has_gpu else 1, 3, figsize=(13, 11 if has_gpu else 4.2), squeeze=False)
    emb = sweep_panels(axes[0], data)
    if has_gpu:
        gpu_panels(axes, data)
    steps = max(r["step"] for r in data.select("heldout_accuracy", **SWEEP))
    note = ", pipeline check: numbers mean nothing" if data.preset == "smoke" else ""
    note += "" if has_gpu else "; phase diagram, weight decay, attention types: gpu tier"
    suptitle(fig, data, f"Ext. 1 init rate (Zhang et al. 2024), {steps} steps, D {emb}{note}", fontsize=8.5)
    fig.tight_layout()
    return fig
