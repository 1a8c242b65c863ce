# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/hyla-companion/hyla/blob/main/notebooks/fig03_sraven_task.ipynb)
#
# # Fig. 3 — the symbolic Raven (sRAVEN) task
#
# **What the figure shows.** An sRAVEN problem is a 3×3 grid of panels; each panel is a tuple of K = 4
# integer features with values in {0..7}. Every feature follows one of 8 rules along each **row**
# (arithmetic mod 8); the model sees the 8 context panels and predicts all K features of the 9th.
# The task (latent) is the multiset of the K rules: C(8+4−1, 4) = **330** rule combinations, of which a
# seeded shuffle holds out 25 % (**82**) — the paper's "OOD" split (official name `ood`, ours
# `heldout_combos`); training uses the other **248**.
#
# * **A** — two sampled problems, each drawn **without** and **with** the column-wise feature
#   permutation (the same problem: same rules and values, only the storage order differs). Fill
#   colour = value, edge colour = which original feature a slot holds. With permutation, column c
#   stores its features in its own order π_c, so the model must first find which slots correspond
#   ("finding correspondences") before applying the rules.
# * **B** — the 8 rules with their definitions and one generated example row each.
# * **C** — the 330 rule combinations (sorted multisets a ≤ b ≤ c ≤ d drawn as (a, b) × (c, d)),
#   coloured by split (seed 0).
# * **D** — the measured fraction of ambiguous problems with the library's brute-force checker
#   (`hyla.tasks.raven.ambiguous`, every feature correspondence), beside the paper's "< 0.5 %".
#
# **What the paper reports** (App. B.2, via SPEC §C): fewer than 0.5 % of problems are ambiguous.
# That number matches the official checker's criterion (`all_features`: some correspondence under
# which **every** feature admits a rule with a different answer). We also show the looser logical
# criterion (`any_feature`: another correspondence + rule assignment explains the 8 context panels
# but changes **at least one** answer feature), which is far more frequent — a property of the
# generator as specified (SPEC §C.2), not a bug: e.g. difference rows with b ∈ {0, 4} also satisfy
# addition mod 8.
#
# **Presets.** No training; the presets only change how many problems the ambiguity estimate uses
# (smoke 128, quick 2 048, gpu 4 096, paper 8 192 per split).

# %% tags=["parameters"]
preset: str = "quick"  # scale: smoke | quick | gpu | paper
out_dir: str = ""  # folder for figures; empty means the repository figures folder (figures/smoke for preset smoke)
cache_dir: str = ""  # run cache; unused here since nothing is trained
steps: int = 0  # unused here since nothing is trained
num_seeds: int = 0  # unused here since nothing is trained

# %%
# Setup: validate the parameters before any compute (papermill only warns about unknown names).
import subprocess
import sys

if "google.colab" in sys.modules:  # on Colab: install hyla from GitHub, unless it is importable
    import importlib.util
    if importlib.util.find_spec("hyla") is None:
        # No --upgrade: pip then keeps every dependency already satisfied, so Colab's own jax stays.
        subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                        "hyla[notebooks] @ git+https://github.com/hyla-companion/hyla"], check=True)

from hyla import notebook, presets

params = notebook.check_parameters(notebook.capture_parameters(globals()), presets.notebook_schema())
FIGURE = "fig03_sraven_task"
config = presets.get(FIGURE, preset)
notebook.banner(preset, FIGURE)

import math

import jax
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from hyla import plotting
from hyla.provenance import Timer
from hyla.tasks.raven import RULES, SymbolicRaven, ambiguous, rule_grids

# %%
# Compute: sample problems, the split, and the ambiguity estimate (no training).
timer = Timer()
timer.__enter__()
K, F = 4, 8
task = SymbolicRaven(num_features=K, num_values=F, heldout_fraction=0.25, permute_features=True,
                     seed=config["split_seed"])
key = jax.random.key(3)
plain = task.sample(key, config["num_examples"], "train", permute=False)
perm = task.sample(key, config["num_examples"], "train", permute=True)  # same key: same problem
assert np.array_equal(np.asarray(plain.rules), np.asarray(perm.rules))

n_combos = math.comb(len(RULES) + K - 1, K)
train_set = {tuple(map(int, r)) for r in np.asarray(task.train)}
held_set = {tuple(map(int, r)) for r in np.asarray(task.heldout_combos)}
print(f"{n_combos} rule combinations: {len(train_set)} train, {len(held_set)} held out")

amb_rows, amb = [], {}
n_amb = config["ambiguity_size"]
for split in ("train", "heldout_combos"):
    batch = task.sample(jax.random.key(1000 + config["ambiguity_seed"]), n_amb, split)
    panels = np.asarray(batch.panels)
    for criterion in ("all_features", "any_feature"):
        flags = ambiguous(panels, F, criterion)
        p = float(flags.mean())
        amb[(split, criterion)] = (p, math.sqrt(max(p * (1 - p), 1e-12) / n_amb))
        amb_rows.append(dict(method="sraven_task", seed=config["ambiguity_seed"], step=0,
                             metric="ambiguous_fraction", value=p, split=split, criterion=criterion,
                             num_problems=n_amb))
for (split, criterion), (p, se) in amb.items():
    print(f"ambiguous [{criterion:12s}] {split:15s}: {100 * p:.2f} % ± {100 * se:.2f} %")

# %%
# Save data: split sizes, held-out rule frequencies and ambiguity fractions (tidy rows).
rows = list(amb_rows)
for metric, value in (("num_combinations", n_combos), ("num_train_combinations", len(train_set)),
                      ("num_heldout_combinations", len(held_set))):
    rows.append(dict(method="sraven_task", seed=config["split_seed"], step=0, metric=metric,
                     value=value, split="", criterion="", num_problems=0))
for r, name in enumerate(RULES):
    count = sum(c.count(r) > 0 for c in held_set)
    rows.append(dict(method="sraven_task", seed=config["split_seed"], step=0,
                     metric=f"heldout_combinations_with_{name}", value=count, split="heldout_combos",
                     criterion="", num_problems=0))
timer.__exit__(None, None, None)

# %%
# Plot.
plotting.use_style()
value_cmap = plt.get_cmap("viridis", F)
feature_colors = ["#D55E00", "#0072B2", "#009E73", "#CC79A7"]


def draw_problem(ax, b, i, title, permuted):
    """3×3 grid of K-slot panels of problem i of batch b; the 9th panel is the query."""
    panels, permutation = np.asarray(b.panels[i]), np.asarray(b.permutation[i])
    w = 0.9 / K
    for r in range(3):
        for c in range(3):
            x0, y0 = c, 2 - r
            ax.add_patch(Rectangle((x0 + 0.02, y0 + 0.02), 0.96, 0.96, fill=False, lw=0.8,
                                   ec="0.6"))
            for s in range(K):
                feat = permutation[c, s]
                xs = x0 + 0.05 + s * w
                query = (r, c) == (2, 2)
                v = panels[r, c, s]
                ax.add_patch(Rectangle((xs, y0 + 0.3), w * 0.9, 0.4,
                                       fc="white" if query else value_cmap(v),
                                       ec=feature_colors[feat], lw=2.0, hatch="//" if query else None))
                ax.text(xs + w * 0.45, y0 + 0.5, "?" if query else str(v), ha="center",
                        va="center", fontsize=8, color="black" if query or v > 4 else "white")
                if query:
                    ax.text(xs + w * 0.45, y0 + 0.12, str(v), ha="center", va="center",
                            fontsize=6, color="0.5")
    if permuted:
        for c in range(3):
            ax.text(c + 0.5, -0.08, "π=" + "".join(str(int(f)) for f in permutation[c]),
                    ha="center", va="top", fontsize=7)
    ax.set_xlim(0, 3), ax.set_ylim(-0.25, 3)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title, fontsize=8)


fig = plt.figure(figsize=(14, 8.6))
gs = fig.add_gridspec(2, 4, height_ratios=[1, 1.0], hspace=0.18, wspace=0.25)
n_show = min(2, config["num_examples"])
for i in range(n_show):
    rules = np.asarray(plain.rules[i])
    names = [f"f{k}: {RULES[r]}" for k, r in enumerate(rules)]
    rule_txt = ", ".join(names[:2]) + "\n" + ", ".join(names[2:])
    draw_problem(fig.add_subplot(gs[0, 2 * i]), plain, i,
                 f"A{i + 1}: unpermuted\n{rule_txt}", False)
    draw_problem(fig.add_subplot(gs[0, 2 * i + 1]), perm, i,
                 f"A{i + 1}: same problem, columns permuted\n(edge colour = original feature)", True)

ax = fig.add_subplot(gs[1, 0:2])  # panel B: the rules
ax.axis("off")
defs = {
    "constant": "(a, a, a)",
    "progression+1": "(s, s+1, s+2)",
    "progression+2": "(s, s+2, s+4)",
    "progression-1": "(s, s-1, s-2)",
    "progression-2": "(s, s-2, s-4)",
    "addition": "(a, b, a+b)",
    "difference": "(a, b, a-b)",
    "distribute_three": "row = permutation of 3 values",
}
examples = np.asarray(rule_grids(jax.random.key(7), (), F))  # [8 rules, 3 rows, 3 cols]
cell_text = [[str(r), "ABCDEFGH"[r], name, defs[name], "  ".join(str(tuple(int(v) for v in row))
                                                                 for row in examples[r])]
             for r, name in enumerate(RULES)]
table = ax.table(cellText=cell_text, colLabels=["idx", "paper", "rule", "row (mod 8)", "example grid (3 rows)"],
                 loc="center", cellLoc="left", colWidths=[0.05, 0.07, 0.19, 0.33, 0.36])
table.auto_set_font_size(False)
table.set_fontsize(7)
table.scale(1, 1.55)
ax.set_title("B: the 8 rules (each feature follows one rule along every row; paper letters A-H)",
             fontsize=9)

ax = fig.add_subplot(gs[1, 2])  # panel C: split matrix
pairs = [(a, b) for a in range(8) for b in range(a, 8)]
mat = np.full((len(pairs), len(pairs)), np.nan)
for i, (a, b) in enumerate(pairs):
    for j, (c, d) in enumerate(pairs):
        if b <= c:
            mat[i, j] = 1.0 if (a, b, c, d) in held_set else 0.0
cmap = plt.matplotlib.colors.ListedColormap(["#56B4E9", "#D55E00"])
ax.imshow(mat, cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
ax.grid(False)
ticks = [i for i, (a, b) in enumerate(pairs) if a == b]
ax.set_xticks(ticks, [f"{a}{a}" for a, _ in (pairs[t] for t in ticks)], fontsize=6)
ax.set_yticks(ticks, [f"{a}{a}" for a, _ in (pairs[t] for t in ticks)], fontsize=6)
ax.set_xlabel("rules (c, d)")
ax.set_ylabel("rules (a, b)")
ax.set_title(f"C: {n_combos} combinations a≤b≤c≤d\n{len(train_set)} train (blue), "
             f"{len(held_set)} held out (red), seed {config['split_seed']}", fontsize=8)

sub = gs[1, 3].subgridspec(1, 2, wspace=0.45)  # panel D: ambiguity, one scale per criterion
for j, (criterion, color, top) in enumerate((("all_features", "#0072B2", 1.0),
                                              ("any_feature", "#E69F00", None))):
    ax = fig.add_subplot(sub[0, j])
    vals, errs = [], []
    for split in ("train", "heldout_combos"):
        p, se = amb[(split, criterion)]
        vals.append(100 * p), errs.append(100 * se)
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
        ax.text(1.3, 1.12, f"D: ambiguity, {n_amb} problems per split", transform=ax.transAxes,
                ha="center", fontsize=9)

p_off = 100 * amb[("train", "all_features")][0]
fig.suptitle(f"Fig. 3 sRAVEN task [{preset}]: K={K} features, F={F} values, {n_combos} rule combinations "
             f"({len(train_set)}/{len(held_set)}); measured ambiguous (official criterion) "
             f"{p_off:.2f} % of training problems vs paper < 0.5 %", fontsize=9)
paths = plotting.save_figure(
    fig, FIGURE, out_dir, preset, rows, wall_time_s=timer.elapsed,
    provenance_extra={"ambiguity": {f"{s} {c}": v for (s, c), v in amb.items()},
                      "num_combinations": n_combos, "num_train": len(train_set),
                      "num_heldout": len(held_set), "trained": False,
                      "summary": f"{n_combos} rule combinations, {len(train_set)} / {len(held_set)} split; "
                                 f"ambiguous (official criterion): {p_off:.2f} % of training, "
                                 f"{100 * amb[('heldout_combos', 'all_features')][0]:.2f} % of held-out "
                                 f"problems ({n_amb} each)"})
print({k: str(v) for k, v in paths.items()})
