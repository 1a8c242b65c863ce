"""Fig. 1 / A1: the latent code of a trained HYLA, the value networks it generates, the module-vs-explicit
errors, and Algorithms 1 and 2 side by side."""

from __future__ import annotations

import difflib
import inspect

import matplotlib.pyplot as plt
import numpy as np

from hyla import hypernetwork as hn
from hyla import plotting
from hyla.figdata import FigureData
from hyla.figures import missing, suptitle

ERRORS = ("identity_max_abs_error", "hyla_mlp_max_abs_error")
GENERATED = ("w1", "w2", "pair_code", "keys", "query", "pair_layer")


def aligned_source(f_left, f_right) -> list[tuple[str, str, bool]]:
    """Lines of two functions aligned by difflib; True where the two sides differ."""
    left, right = (inspect.getsource(f).rstrip().splitlines() for f in (f_left, f_right))
    out = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, left, right).get_opcodes():
        for t in range(max(i2 - i1, j2 - j1)):
            a = left[i1 + t] if i1 + t < i2 else ""
            b = right[j1 + t] if j1 + t < j2 else ""
            out.append((a, b, tag != "equal"))
    return out


def _history(data: FigureData) -> tuple[int, float]:
    """(training steps, mean held-out R² at the last step) of the trained run."""
    steps = max(r["step"] for r in data.select("heldout_r2", check="training history"))
    return steps, float(np.mean(data.values("heldout_r2", check="training history")))


def _panel_a(fig, spec, data: FigureData) -> None:
    """All H heatmaps a[h, q, k] of every layer, on one held-out sequence."""
    if "latent_code" not in data.arrays:
        missing(fig.add_subplot(spec), "the latent codes a[h, q, k] of the shown sequence")
        return
    codes = data.arrays["latent_code"]  # [L, H, T, T]
    L, H, T = codes.shape[:3]
    steps, r2 = _history(data)
    grid = spec.subgridspec(L, H + 1, wspace=0.12, hspace=0.18, width_ratios=[1] * H + [0.08])
    vmax = np.abs(codes).max()
    for layer in range(L):
        for head in range(H):
            ax = fig.add_subplot(grid[layer, head])
            im = ax.imshow(codes[layer, head], cmap="RdBu_r", vmin=-vmax, vmax=vmax)
            ax.set_xticks([]), ax.set_yticks([])
            if layer == 0:
                ax.set_title(f"head {head + 1}", fontsize=8)
            if head == 0:
                ax.set_ylabel(f"layer {layer + 1}\nquery q", fontsize=8)
            if layer == L - 1:
                ax.set_xlabel("key k", fontsize=8)
            if layer == 0 and head == 0:
                ax.text(0, 1.25, f"A: latent codes a[h, q, k] of one held-out sequence (trained HYLA, fuzzy "
                        f"logic N={T}, {steps} steps, held-out R² of the run {r2:.2f}); the code of a "
                        "pair (q, k) is one column through the heads",
                        transform=ax.transAxes, fontsize=9, fontweight="bold")
    fig.colorbar(im, cax=fig.add_subplot(grid[:, H]), label="a[h, q, k]")


def _panels_bcd(fig, specs, data: FigureData) -> None:
    """The code of a few (q, k) pairs (B) and the two layers of the value networks it generates (C, D)."""
    if any(k not in data.arrays for k in GENERATED):
        for spec, what in zip(specs, ("the codes of the shown (q, k) pairs", "the generated layer 1",
                                      "the generated layer 2")):
            missing(fig.add_subplot(spec), what)
        return
    pair_code, keys = data.arrays["pair_code"], [int(k) for k in data.arrays["keys"]]  # [H, K], [K]
    q, layer = int(data.arrays["query"]), int(data.arrays["pair_layer"])
    w1, w2 = data.arrays["w1"], data.arrays["w2"]  # [K, dv, D], [K, D, dv]
    H = pair_code.shape[0]
    ax = fig.add_subplot(specs[0])
    width = 0.8 / len(keys)
    for j, k in enumerate(keys):
        ax.bar(np.arange(H) + j * width, pair_code[:, j], width, label=f"(q={q}, k={k})")
    ax.axhline(0, color="k", lw=0.6)
    ax.set_xticks(np.arange(H) + 0.4 - width / 2, [str(i + 1) for i in range(H)])
    ax.set_xlabel("head h")
    ax.set_ylabel(f"code a[h, q, k], layer {layer}")
    ax.set_title(f"B: code of {len(keys)} (q, k) pairs, layer {layer}", fontsize=9)
    ax.legend(fontsize=6, loc="best")
    dv, D = w1.shape[1], w1.shape[2]
    titles = (r"C: generated layer 1, $W^{(1)}_{q,k}=\sum_h a_{h,q,k} W^V_h$",
              r"D: generated layer 2, $(W^{(2)}_{q,k})^\top=(\sum_h a_{h,q,k} W^O_h)^\top$")
    for spec, mat, title in zip(specs[1:], (w1, np.swapaxes(w2, 1, 2)), titles):
        ax = fig.add_subplot(spec)
        stacked = mat.reshape(len(keys) * dv, D)
        lim = np.abs(stacked).max()
        ax.imshow(stacked, cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto", interpolation="nearest")
        for j in range(1, len(keys)):
            ax.axhline(j * dv - 0.5, color="k", lw=0.8)
        ax.set_yticks([j * dv + (dv - 1) / 2 for j in range(len(keys))],
                      [f"(q={q}, k={k})" for k in keys], fontsize=7)
        ax.set_xlabel(f"model dimension (D = {D}); {dv} rows per pair")
        ax.set_title(title, fontsize=9)


def _panel_e(ax, data: FigureData) -> None:
    """Largest |module - explicit| of every mixer (random modules) and of each trained layer."""
    labels, vals, colors = [], [], []
    for r in data.rows:
        if r["metric"] in ERRORS:
            style = plotting.method_style(r["method"])
            trained = r["check"] == "trained model"
            labels.append(style.label + (f" (trained, layer {r['layer']})" if trained else ""))
            vals.append(max(r["value"], 1e-12))
            colors.append(style.color)
    ax.barh(np.arange(len(vals)), vals, color=colors)
    ax.set_xscale("log")
    ax.set_yticks(np.arange(len(vals)), labels, fontsize=6)
    ax.invert_yaxis()
    ax.set_xlabel("max |module − explicit|")
    ax.set_title("E: module (float32) vs explicit\nper-(q, k) networks (float64)", fontsize=9)


def _algorithms(fig, spec) -> None:
    """Fig. A1: the library's Algorithms 1 and 2, the lines that differ highlighted."""
    grid = spec.subgridspec(1, 2, wspace=0.02)
    lines = aligned_source(hn.multihead_attention, hn.hyla)
    for side, title in enumerate(("Algorithm 1: multi-head softmax attention",
                                  "Algorithm 2: hypernetwork linear attention (HYLA)")):
        ax = fig.add_subplot(grid[side])
        ax.axis("off")
        ax.set_title(f"Fig. A1 — {title}", fontsize=9, loc="left")
        for i, (a, b, differs) in enumerate(lines):
            text = (a, b)[side]
            ax.text(0.0, 1 - (i + 0.5) / len(lines), text or " ", family="monospace", fontsize=6.3,
                    va="center", transform=ax.transAxes,
                    bbox=dict(facecolor="#FFE08A" if differs and text else "none", edgecolor="none", pad=0.6))


def plot(data: FigureData):
    codes = data.arrays.get("latent_code")
    L = codes.shape[0] if codes is not None else 1
    height = 2.1 * L + 7.6
    fig = plt.figure(figsize=(15, height))
    outer = fig.add_gridspec(3, 1, height_ratios=[2.1 * L, 3.0, 2.6], hspace=0.32,
                             left=0.06, right=0.98, top=1 - 1.3 / height, bottom=0.02)
    _panel_a(fig, outer[0], data)
    mid = outer[1].subgridspec(1, 4, width_ratios=[1.1, 1.35, 1.35, 1.0], wspace=0.62)
    _panels_bcd(fig, [mid[0], mid[1], mid[2]], data)
    _panel_e(fig.add_subplot(mid[3]), data)
    _algorithms(fig, outer[2])
    scale = max(r["value"] for r in data.select("output_max_abs", check="trained model"))
    suptitle(fig, data, "Fig. 1 / A1: attention as a hypernetwork; module (float32) vs explicit "
             f"per-(q, k) value networks (float64), trained HYLA output scale {scale:.0f}",
             limit=3, y=1 - 0.12 / height, wrap=True)
    return fig
