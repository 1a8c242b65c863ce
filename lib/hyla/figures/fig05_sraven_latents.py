"""Fig. 5: sRAVEN latent codes of HYLA (t-SNE, per-rule similarity, rule decoding) and two ablations.

The t-SNE panels read the notebook's arrays (``tsne_final``, ``tsne_early``, ``tsne_rules``,
``tsne_target``, ``distinct_codes``); every other panel reads the tidy CSV.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from hyla import plotting
from hyla.figdata import FigureData
from hyla.figures import missing, suptitle

LATENT = "hyla"  # the model whose codes panels A, B and E show
LETTERS = "ABCDEFGH"
COS = "rule_mean_code_cosine"


def _rules(data: FigureData) -> list[str]:
    """The rules in the task's order (as the notebook wrote the similarity rows)."""
    return list(dict.fromkeys(r["rule_a"] for r in data.select(COS)))


def _methods(data: FigureData, run: str) -> list[str]:
    return list(dict.fromkeys(r["method"] for r in data.select("heldout_accuracy", run=run)))


def _tsne(fig, axes, data: FigureData, rules: list[str], num_layers: int) -> None:
    """A / B: t-SNE of the final-layer and first-layer codes (seed 0, held-out combos), by rule and value."""
    names = (f"final layer {num_layers}", "layer 1")
    if "tsne_final" not in data.arrays:
        for col, name in enumerate(names):
            for ax, by in zip(axes[2 * col:2 * col + 2], ("rule", "target value")):
                missing(ax, f"t-SNE of the {name} codes")
                ax.set_title(f"{'AB'[col]}: t-SNE, {name}, by {by}", fontsize=9)
        return
    a = data.arrays
    of_rule, target = a["tsne_rules"], a["tsne_target"]
    distinct = {names[0]: int(a["distinct_codes"][1]), names[1]: int(a["distinct_codes"][0])}
    for col, (emb, name) in enumerate(((a["tsne_final"], names[0]), (a["tsne_early"], names[1]))):
        ax = axes[2 * col]
        for r, rule in enumerate(rules):
            sel = of_rule == r
            ax.scatter(emb[sel, 0], emb[sel, 1], s=5, color=plt.get_cmap("tab10")(r), label=f"{LETTERS[r]} {rule}")
        ax.set_title(f"{'AB'[col]}: t-SNE, {name}, by rule\n({len(of_rule)} slots, {distinct[name]} distinct codes)",
                     fontsize=9)
        if col == 0:
            ax.legend(fontsize=6, markerscale=2.5, loc="best", ncol=1)
        ax = axes[2 * col + 1]
        sc = ax.scatter(emb[:, 0], emb[:, 1], s=5, c=target, cmap="viridis", vmin=0,
                        vmax=data.extra["task"]["num_values"] - 1)
        ax.set_title(f"{'AB'[col]}: t-SNE, {name}, by target value", fontsize=9)
        fig.colorbar(sc, ax=ax, label="target value")
    for ax in axes:
        ax.set_xticks([]), ax.set_yticks([])


def _similarity(fig, ax, data: FigureData, rules: list[str], num_layers: int) -> None:
    """E: cosine similarity of the centred per-rule mean final-layer codes (HYLA, first seed)."""
    seed = min(data.unique("seed", COS, method=LATENT))
    cos = np.array([[data.values(COS, method=LATENT, seed=seed, rule_a=a, rule_b=b)[0] for b in rules]
                    for a in rules])
    im = ax.imshow(cos, cmap="RdBu_r", vmin=-1, vmax=1)
    ax.grid(False)
    ax.set_xticks(range(len(rules)), list(LETTERS[:len(rules)]))
    ax.set_yticks(range(len(rules)), [f"{LETTERS[r]} {n}" for r, n in enumerate(rules)], fontsize=7)
    fig.colorbar(im, ax=ax, label="cosine")
    add, diff = rules.index("addition"), rules.index("difference")
    ax.set_title(f"E: centred per-rule mean codes, HYLA L{num_layers}\ncos(F addition, G difference) = "
                 f"{cos[add, diff]:.2f}", fontsize=9)


def _decoding(ax, data: FigureData) -> None:
    """F: rule-decoding accuracy per layer (fitted on training combos, scored on held-out combos)."""
    layers = data.unique("layer", "decoding_accuracy")
    for m in _methods(data, "base"):
        v = np.stack([data.values("decoding_accuracy", method=m, layer=l) for l in layers])
        plotting.band(ax, layers, *plotting.mean_sem(v, axis=1), m)
    ax.axhline(1 / 8, color="0.5", ls=":", lw=1, label="chance")
    ax.set_xticks(layers)
    ax.set_xlabel("layer")
    ax.set_ylabel("rule decoding accuracy (held-out combos)")
    ax.set_title("F: rule decoded from the code (fit: train combos)", fontsize=9)
    ax.legend(fontsize=7)


def _heads(ax, data: FigureData, chance: float | None) -> None:
    """C: held-out accuracy with the preset's number of heads and with one (total qk / v dims kept)."""
    methods = _methods(data, "heads")
    hs = sorted(data.unique("num_heads", "heldout_accuracy", run="heads"), reverse=True)
    for i, m in enumerate(methods):
        for j, h in enumerate(hs):
            mean, sem = plotting.mean_sem(data.values("heldout_accuracy", method=m, run="heads", num_heads=h))
            ax.bar(i * (len(hs) + 1) + j, mean, yerr=sem, color=plotting.method_style(m).color,
                   alpha=1.0 if j == 0 else 0.45, capsize=3)
            ax.text(i * (len(hs) + 1) + j, 0, f"{h}\nhead{'s' if h > 1 else ''}", ha="center", va="bottom",
                    fontsize=7)
    if chance is not None:
        ax.axhline(chance, color="0.5", ls=":", lw=1)
    ax.set_xticks([i * (len(hs) + 1) + (len(hs) - 1) / 2 for i in range(len(methods))],
                  [plotting.method_style(m).label for m in methods], fontsize=8)
    ax.set_ylabel("held-out accuracy")
    steps = max(r["step"] for r in data.select("heldout_accuracy", run="heads"))
    ax.set_title(f"C: one head vs many (total qk/v dims kept, {steps} steps)", fontsize=9)


def _num_features(ax, data: FigureData, num_values: int | None) -> None:
    """D: held-out accuracy against the number of features K."""
    kvals = data.unique("num_features", "heldout_accuracy", run="num_features")
    for m in _methods(data, "num_features"):
        v = np.stack([data.values("heldout_accuracy", method=m, run="num_features", num_features=k)
                      for k in kvals])
        plotting.band(ax, kvals, *plotting.mean_sem(v, axis=1), m)
    if num_values is not None:
        ax.plot(kvals, [num_values ** -k for k in kvals], color="0.5", ls=":", lw=1, label="chance")
    ax.set_xticks(kvals)
    ax.set_xlabel("number of features K")
    ax.set_ylabel("held-out accuracy")
    steps = max(r["step"] for r in data.select("heldout_accuracy", run="num_features"))
    ax.set_title(f"D: accuracy vs number of features ({steps} steps)", fontsize=9)
    ax.legend(fontsize=7)


def plot(data: FigureData):
    rules = _rules(data)
    num_layers = max(data.unique("layer", "decoding_accuracy"))
    task = data.extra.get("task")
    num_values = task["num_values"] if task else None
    chance = num_values ** -task["num_features"] if task else None
    fig, axes = plt.subplots(2, 4, figsize=(17, 8.2))
    _tsne(fig, axes[0], data, rules, num_layers)
    _similarity(fig, axes[1, 0], data, rules, num_layers)
    _decoding(axes[1, 1], data)
    _heads(axes[1, 2], data, chance)
    _num_features(axes[1, 3], data, num_values)

    steps = max(r["step"] for r in data.select("heldout_accuracy", run="base"))
    check = "pipeline check, " if data.extra.get("pipeline_check") else ""
    hyla = float(np.mean(data.values("heldout_accuracy", method=LATENT, run="base")))
    chance_text = f" (chance {chance:.3g})" if chance is not None else ""
    suptitle(fig, data, f"Fig. 5 sRAVEN latent codes, {check}{plotting.sraven_setting(task)}{steps} steps; "
             f"HYLA held-out accuracy {hyla:.3f}{chance_text}; codes: every query slot of unpermuted problems",
             fontsize=8)
    fig.tight_layout()
    return fig
