"""Fig. 3: the sRAVEN task: example problems, the rules, the split of rule combinations, ambiguity.

Arrays (NPZ): ``plain_panels`` / ``perm_panels`` [n, 3, 3, K] and ``plain_permutation`` /
``perm_permutation`` [n, 3, K] (the same problems without and with the column permutation),
``plain_rules`` [n, K], ``rule_examples`` [rules, 3, 3] and ``heldout_combos`` [n_held, K].
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.patches import Rectangle

from hyla.figdata import FigureData
from hyla.figures import missing, suptitle

FEATURE_COLORS = ["#D55E00", "#0072B2", "#009E73", "#CC79A7"]
LETTERS = "ABCDEFGH"
DEFINITIONS = {
    "constant": "(a, a, a)",
    "progression+1": "(s, s+1, s+2)",
    "progression+2": "(s, s+2, s+4)",
    "progression-1": "(s, s-1, s-2)",
    "progression-2": "(s, s-2, s-4)",
    "addition": "(a, b, a+b)",
    "difference": "(a, b, a-b)",
    "distribute_three": "row = permutation of 3 values",
}


def _count(data: FigureData, metric: str) -> int:
    return int(data.values(metric)[0])


def draw_problem(ax, panels, permutation, num_values: int, title: str, permuted: bool) -> None:
    """3×3 grid of K-slot panels (fill = value, edge = original feature); the 9th panel is the query."""
    K = panels.shape[-1]
    cmap, w = plt.get_cmap("viridis", num_values), 0.9 / K
    for r in range(3):
        for c in range(3):
            x0, y0 = c, 2 - r
            ax.add_patch(Rectangle((x0 + 0.02, y0 + 0.02), 0.96, 0.96, fill=False, lw=0.8, ec="0.6"))
            query = (r, c) == (2, 2)
            for s in range(K):
                xs, v = x0 + 0.05 + s * w, panels[r, c, s]
                ax.add_patch(Rectangle((xs, y0 + 0.3), w * 0.9, 0.4, fc="white" if query else cmap(v),
                                       ec=FEATURE_COLORS[permutation[c, s]], lw=2.0, hatch="//" if query else None))
                ax.text(xs + w * 0.45, y0 + 0.5, "?" if query else str(v), ha="center", va="center",
                        fontsize=8, color="black" if query or v > 4 else "white")
                if query:
                    ax.text(xs + w * 0.45, y0 + 0.12, str(v), ha="center", va="center", fontsize=6, color="0.5")
    if permuted:
        for c in range(3):
            ax.text(c + 0.5, -0.08, "π=" + "".join(str(int(f)) for f in permutation[c]), ha="center",
                    va="top", fontsize=7)
    ax.set_xlim(0, 3), ax.set_ylim(-0.25, 3)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title, fontsize=8)


def _problems(fig, gs, data: FigureData, rules: list[str], num_values: int) -> None:
    """A: two sampled problems, each without and with the column-wise feature permutation."""
    a = data.arrays
    if "plain_panels" not in a:
        missing(fig.add_subplot(gs[0, :]), "A: the example problems")
        return
    for i in range(min(2, len(a["plain_panels"]))):
        names = [f"f{k}: {rules[r]}" for k, r in enumerate(a["plain_rules"][i])]
        rule_txt = ", ".join(names[:2]) + "\n" + ", ".join(names[2:])
        draw_problem(fig.add_subplot(gs[0, 2 * i]), a["plain_panels"][i], a["plain_permutation"][i],
                     num_values, f"A{i + 1}: unpermuted\n{rule_txt}", False)
        draw_problem(fig.add_subplot(gs[0, 2 * i + 1]), a["perm_panels"][i], a["perm_permutation"][i],
                     num_values, f"A{i + 1}: same problem, columns permuted\n(edge colour = original feature)", True)


def _rules_table(ax, data: FigureData, rules: list[str]) -> None:
    """B: the rules, their definitions and one generated example grid each."""
    ax.axis("off")
    title = f"B: the {len(rules)} rules (each feature follows one rule along every row; paper letters A-H)"
    if "rule_examples" not in data.arrays:
        missing(ax, "B: the example grid of each rule")
        ax.set_title(title, fontsize=9)
        return
    examples = data.arrays["rule_examples"]
    cells = [[str(r), LETTERS[r], name, DEFINITIONS[name],
              "  ".join(str(tuple(int(v) for v in row)) for row in examples[r])] for r, name in enumerate(rules)]
    table = ax.table(cellText=cells, colLabels=["idx", "paper", "rule", "row (mod 8)", "example grid (3 rows)"],
                     loc="center", cellLoc="left", colWidths=[0.05, 0.07, 0.19, 0.33, 0.36])
    table.auto_set_font_size(False)
    table.set_fontsize(7)
    table.scale(1, 1.55)
    ax.set_title(title, fontsize=9)


def _split(ax, data: FigureData, num_rules: int) -> None:
    """C: the rule combinations a ≤ b ≤ c ≤ d as (a, b) × (c, d), coloured by split."""
    n, n_train, n_held = (_count(data, m) for m in ("num_combinations", "num_train_combinations",
                                                    "num_heldout_combinations"))
    seed = data.select("num_combinations")[0]["seed"]
    ax.set_title(f"C: {n} combinations a≤b≤c≤d\n{n_train} train (blue), {n_held} held out (red), seed {seed}",
                 fontsize=8)
    if "heldout_combos" not in data.arrays:
        missing(ax, "the held-out combinations")
        return
    held = {tuple(map(int, c)) for c in data.arrays["heldout_combos"]}
    pairs = [(a, b) for a in range(num_rules) for b in range(a, num_rules)]
    mat = np.full((len(pairs), len(pairs)), np.nan)
    for i, (a, b) in enumerate(pairs):
        for j, (c, d) in enumerate(pairs):
            if b <= c:
                mat[i, j] = 1.0 if (a, b, c, d) in held else 0.0
    ax.imshow(mat, cmap=ListedColormap(["#56B4E9", "#D55E00"]), vmin=0, vmax=1, interpolation="nearest")
    ax.grid(False)
    ticks = [i for i, (a, b) in enumerate(pairs) if a == b]
    labels = [f"{pairs[t][0]}{pairs[t][0]}" for t in ticks]
    ax.set_xticks(ticks, labels, fontsize=6)
    ax.set_yticks(ticks, labels, fontsize=6)
    ax.set_xlabel("rules (c, d)")
    ax.set_ylabel("rules (a, b)")


def _ambiguity(fig, cell, data: FigureData) -> None:
    """D: the measured fraction of ambiguous problems per split, one scale per criterion."""
    sub = cell.subgridspec(1, 2, wspace=0.45)
    for j, (criterion, color, top) in enumerate((("all_features", "#0072B2", 1.0), ("any_feature", "#E69F00", None))):
        ax = fig.add_subplot(sub[0, j])
        vals, errs = [], []
        for split in ("train", "heldout_combos"):
            (row,) = data.select("ambiguous_fraction", split=split, criterion=criterion)
            p, n = row["value"], row["num_problems"]
            vals.append(100 * p), errs.append(100 * np.sqrt(max(p * (1 - p), 1e-12) / n))
        ax.bar([0, 1], vals, yerr=errs, color=color, capsize=3)
        ax.set_ylim(0, top if top else 1.3 * max(max(vals), 1e-3))
        for i, v in enumerate(vals):
            ax.text(i, ax.get_ylim()[1] * 0.02 + v, f"{v:.2f}%", ha="center", fontsize=7)
        if criterion == "all_features":
            ax.axhline(0.5, color="k", ls="--", lw=1)
            ax.text(0.5, 0.53, "paper: < 0.5 %", ha="center", va="bottom", fontsize=7)
            ax.set_ylabel("ambiguous problems (%)")
        ax.set_xticks([0, 1], ["train", "held-out"], fontsize=7)
        ax.set_title(f"{criterion}" + (" (official)" if j == 0 else " (logical)"), fontsize=8)
        if j == 0:
            ax.text(1.3, 1.12, f"D: ambiguity, {n} problems per split", transform=ax.transAxes, ha="center",
                    fontsize=9)


def plot(data: FigureData):
    prefix = "heldout_combinations_with_"
    rules = [r["metric"].removeprefix(prefix) for r in data.select() if r["metric"].startswith(prefix)]
    task = data.extra.get("task")  # saved with the arrays
    fig = plt.figure(figsize=(14, 8.6))
    gs = fig.add_gridspec(2, 4, height_ratios=[1, 1.0], hspace=0.18, wspace=0.25)
    _problems(fig, gs, data, rules, task["num_values"] if task else 0)
    _rules_table(fig.add_subplot(gs[1, 0:2]), data, rules)
    _split(fig.add_subplot(gs[1, 2]), data, len(rules))
    _ambiguity(fig, gs[1, 3], data)
    setting = f", K={task['num_features']} features, F={task['num_values']} values" if task else ""
    suptitle(fig, data, f"Fig. 3 sRAVEN task{setting}", limit=3)
    return fig
