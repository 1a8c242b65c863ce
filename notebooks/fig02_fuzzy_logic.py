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
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/hyla-companion/hyla/blob/main/notebooks/fig02_fuzzy_logic.ipynb)
#
# # Fig. 2 — compositional generalisation on fuzzy logic
#
# **What the figure shows.** Transformers learn fuzzy-logic functions in context: each sequence holds
# N examples (x, f(x)) of one function f = T_1 ∨ T_2 (two of the 16 conjunctive terms over 4
# variables, Zadeh min/max/1−x) and the model predicts f at the last input. A fraction of the
# term pairs is held out during training; the metric is R² on the **held-out combinations** of known
# terms (the paper's "OOD"; the official code calls this split `test`).
#
# * **Panel C** — held-out R² vs the number of in-context examples N for held-out fractions 30/50/70 %,
#   softmax vs linear attention vs HYLA, mean ± s.e. over seeds.
# * **Panel B** — a logistic-regression probe reads the constituent terms from the latent code of the
#   query token attending to itself (one H-vector per layer), fitted on training tasks, scored (F1) on
#   held-out combinations.
# * **Panel D** — t-SNE of those codes for held-out tasks, coloured by term.
#
# **What the paper reports** (Table A1, N = 32, 70 % held out, 50 000 steps, 3 seeds, R²×100):
# HYLA 81.1 ± 7.8, softmax 63.3 ± 2.3, linear 59.9 ± 5.2. All models improve with N, held-out R² falls as
# the held-out fraction grows, HYLA falls least; codes decode the terms of unseen tasks.
#
# **What this notebook can show at each preset.** `quick` (2-core CPU, ~4 min): the headline cell only
# (N = 32, 70 % held out), a reduced model (D 64, MLP 128, 8 heads with d_k = d_v = 2 as in the paper),
# batch 64, lr 1e-2, 1 000 steps (2 % of the paper's steps), 3 seeds. At that budget HYLA beating
# linear attention is the claim under test; softmax attention learns fastest early ([methods](../docs/methods.md#official-cpu-reference)) and may
# lead — the figure title says which ordering was measured. `gpu`: the full model and the N × fraction
# grid at 5 000 steps ([methods](../docs/methods.md#figures) suggests 10 000: measured, that would not fit in 10 minutes on one H100),
# the headline cell at 25 000. `paper`: the exact official grid (not run here).
#
# **GPU tier, measured** (2026-11-23, one H100, 8 min 45 s, `figures/data/fig02_fuzzy_logic.gpu.*`;
# its figure is the one in `figures/`). Headline cell after 25 000 steps: HYLA 0.91 ± 0.02 > softmax
# 0.74 ± 0.01 > linear 0.67 ± 0.03 (paper, 50 000 steps: 0.81 / 0.63 / 0.60). Grid (5 000 steps): every
# model improves with N at every fraction and HYLA is above linear in all 9 cells, as in the paper; from
# 30 % to 70 % held out at N = 64 softmax falls 0.88 → 0.80, linear 0.73 → 0.61 and HYLA 0.88 → 0.84,
# the least. Unlike the paper, softmax is ahead of HYLA at 30 % held out for N = 16 and 32 (0.58 vs 0.52,
# 0.79 vs 0.71), and HYLA's R² is not monotone in the fraction (at N = 16 and 32 its 30 % cell is
# below its 50 % cell). Panel B there shows only the random-input probe (F1 ≤ 0.006).
#
# **Our choice: lr 1e-2 at `quick`** (the official grid is {1e-3, 3e-3}; [methods](../docs/methods.md#official-cpu-reference) measured the
# official code at this cell with 3e-3). At 3e-3 our HYLA and linear attention cannot be told apart in
# 1 000 steps (below), so the quick learning rate was chosen by a rule fixed before the runs: among
# {3e-3, 6e-3, 1e-2}, the largest mean HYLA − linear held-out R² on tuning seeds 100-105 (disjoint from
# this notebook's seeds 0-2). Tuning seeds (`benchmarks/logic_quick_lr_sweep/`): +0.091 ± 0.072 /
# +0.202 ± 0.070 / +0.211 ± 0.083 (s.e.), HYLA ahead in 4/6, 6/6, 5/6, so 1e-2. Checked on fresh
# seeds 0-23 (seeds 0-2 are this notebook's runs; `benchmarks/logic_quick_seeds_lr1e-2_24.json`):
# HYLA 0.182 ± 0.034, linear 0.099 ± 0.023, HYLA − linear +0.083 ± 0.036, ahead in 14/24 (seeds 0-7
# alone: +0.040 ± 0.042, `benchmarks/logic_quick_seeds_lr1e-2.json`). That is HYLA above linear
# attention by 2.3 standard errors, smaller than on the tuning seeds (which favoured HYLA at every
# learning rate) and far below the paper's gap at 50 000 steps; with three seeds this notebook's own
# gap can fall within one standard error, and the title says so when it does.
#
# **Known disagreement at `quick` with lr 3e-3.** The official code, measured at this cell with
# lr 3e-3, put HYLA above linear attention in 3/3 seeds (held-out R² 0.24 vs 0.09; softmax 0.28;
# [methods](../docs/methods.md#official-cpu-reference)). Ours did not: `benchmarks/logic_quick_seeds.py --lr 3e-3` ran the cell for 24 seeds:
# HYLA 0.085 ± 0.017, linear 0.113 ± 0.017, HYLA − linear −0.028 ± 0.026 (s.e.), HYLA ahead in 10/24
# seeds (`benchmarks/logic_quick_seeds_24.json`; the first 8 seeds alone gave HYLA 0.045,
# `benchmarks/logic_quick_seeds.json`). What we found when looking for the cause (2026-11-23, with a
# Flax re-implementation that follows the official modules line by line; a diagnostic only, not
# shipped, since Flax is not a dependency): on this machine it gave HYLA 0.148 ± 0.047 over seeds 0-7
# (three seeds rose above 0.25, five stayed below 0.13) and linear 0.11 over seeds 0-2, the official
# numbers within noise. Our HYLA module trained from the Flax model's initial parameters rises like it,
# on the Flax batch stream (seed 2: 0.40 without attention dropout, Flax 0.35 with it) and on ours
# (seeds 0-3: 0.154 vs Flax 0.197); from our initial parameters on the Flax batch stream it stays low
# like ours (seeds 0-5: 0.063 vs ours 0.048). The two initialisations have the same per-array statistics
# (measured over 20 seeds), so the outcome follows the draw, not the code. The same holds within our
# code alone (`benchmarks/logic_init_vs_data.py`, 10 seeds, split kept): HYLA's held-out R² correlates
# +0.88 between runs that share the initial parameters but not the batches, and −0.21 between runs that
# share the batches but not the initial parameters. At 1 000 steps HYLA sits at the start of a sudden
# rise whose timing depends on the initial draw; the 3/3 of [methods](../docs/methods.md#official-cpu-reference) and the gap of our first 8 seeds
# are both within that spread (0.085 vs 0.148: 1.3 s.e.). No difference in the computation was found.
# Attention dropout is not the cause either (without it HYLA reaches 0.064 over seeds 0-7,
# `benchmarks/logic_quick_seeds_no_dropout.json`). Twice the steps (2 000, which would not fit the
# 5-minute budget) does not separate them either: HYLA 0.283 ± 0.035, linear 0.257 ± 0.030 over seeds
# 0-7, HYLA ahead in 4/8 (`benchmarks/logic_quick_seeds_2000_steps.json`). At the gpu tier (full model,
# 25 000 steps) HYLA passes linear from 5 000 steps on and ends far ahead (0.90 vs 0.68), as in the
# paper.
#
# Choices where the paper is silent ([methods](../docs/methods.md#latent-analyses), [open questions](../docs/methods.md#open-questions)): the probe is one L2 logistic regression per
# term on standardised codes, F1 averaged over terms; t-SNE (scikit-learn, PCA init) of the codes of all
# layers; panel D colours each held-out task by its lower-index term.
#
# **Which sequences the probe reads.** The paper does not say. With inputs drawn at random (solid
# lines in panel B) the code of the query attending to itself is dominated by the query's own input
# x_q, and the probe finds almost nothing: F1 ≤ 0.02 at every tier we ran (gpu: ≤ 0.006 in this notebook's run,
# ≤ 0.016 in figA2's). The official
# in-training probe reads sequences whose query input is FIXED ([methods](../docs/methods.md#latent-codes), `valid_fixed_query`), so
# that the code varies only with the task and the context; panel B draws that probe too (dashed).
# With the query fixed, layer 1 of linear attention and HYLA carries no task information at all
# (their score of the query with itself depends on the query token alone, tested in
# `tests/test_analysis.py`); softmax's normalisation over the context makes its layer-1 code vary.
# Quick tier (2026-11-23, the committed quick CSV): see the README's results table. The gpu figure in
# `figures/` was made before the dashed lines existed.

# %% tags=["parameters"]
preset: str = "quick"  # scale: smoke | quick | gpu | paper
out_dir: str = ""  # folder for figures; empty means the repository figures folder (figures/smoke for preset smoke)
cache_dir: str = ""  # run cache; empty means HYLA_CACHE or the repository .cache/runs
steps: int = 0  # training steps per run; 0 keeps the preset value
num_seeds: int = 0  # seeds per run (vmapped on a GPU); 0 keeps the preset value

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
FIGURE = "fig02_fuzzy_logic"
config = presets.get(FIGURE, preset)
notebook.banner(preset, FIGURE)

import matplotlib.pyplot as plt
import numpy as np

from hyla import analysis, plotting, runs
from hyla.provenance import Timer

# %%
# Compute: one cached, resumable run per (method, N, held-out fraction); seeds are vmapped.
timer = Timer()
timer.__enter__()
results = {}
for (method, n, frac), spec in config["specs"].items():
    spec = presets.apply_overrides(spec, steps, num_seeds)
    results[(method, n, frac)] = runs.load_or_train(
        spec, cache_dir, name=f"{method} N={n} held-out={frac:.0%}")

# %%
# Latent codes of the headline runs: the query token attending to itself, per layer.
n_star, f_star = config["headline"]["num_examples"], config["headline"]["heldout_fraction"]
probe_rows, codes_for_tsne = [], {}
for method in config["methods"]:
    res = results[(method, n_star, f_star)]
    for i, seed in enumerate(res.spec.seeds):
        model, task = res.model_for_seed(i), res.task_for_seed(i)
        keys = {split: runs.analysis_key(seed, split) for split in ("train", "heldout_combos")}
        train, heldout = (analysis.logic_split_codes(model, task, keys[s], config["latent_size"], s)
                          for s in ("train", "heldout_combos"))  # codes [B, L, H], terms, batch
        cte, bte = heldout[0], heldout[2]
        # random inputs, and the query input fixed (docs/methods.md#latent-codes's data for the official probe)
        probes = {"probe_f1": analysis.term_probe_per_layer(train, heldout),
                  "probe_f1_fixed_query": analysis.logic_term_probe(
                      model, task, keys, config["latent_size"], "fixed_query")}
        probe_rows += [dict(method=method, num_examples=n_star, heldout_fraction=f_star, layer=layer + 1,
                            seed=seed, step=res.spec.train.steps, metric=metric, value=f1)
                       for metric, f1s in probes.items() for layer, f1 in enumerate(f1s)]
        if method == config["latent_method"] and i == 0:
            codes_for_tsne = dict(x=cte.reshape(len(cte), -1), terms=np.asarray(bte.terms))
emb = analysis.embed_2d(codes_for_tsne["x"], seed=0)

# %%
# Save data: one tidy row per method × setting × seed × step × metric.
rows = []
for (method, n, frac), res in results.items():
    rows += runs.tidy(res, method, num_examples=n, heldout_fraction=frac)
rows += probe_rows
for r in rows:
    r.setdefault("layer", "")
timer.__exit__(None, None, None)


def final(method, n, frac, metric="heldout_r2"):
    return runs.final_values(results[(method, n, frac)], metric)


head = {m: final(m, n_star, f_star) for m in config["methods"]}
means = {m: float(np.mean(v)) for m, v in head.items()}
order = " > ".join(plotting.method_style(m).label for m in sorted(means, key=means.get, reverse=True))
print("held-out R² at the headline cell (mean over seeds):",
      {m: round(v, 3) for m, v in means.items()}, "| ordering:", order)

# %%
# Plot.
plotting.use_style()
fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
ax = axes[0]  # panel C
fracs, ns = config["heldout_fractions"], config["num_examples"]
steps_of = {cell: res.spec.train.steps for cell, res in results.items()}
steps_done = steps_of[("hyla", n_star, f_star)]
grid_steps = sorted({s for (m, n, f), s in steps_of.items() if (n, f) != (n_star, f_star)})
# at `gpu` the headline cell trains longer than the rest of the grid: drawn apart (star), not on a line
headline_apart = len(ns) > 1 and grid_steps != [steps_done]
linestyles = ["-", "--", ":"]
for method in config["methods"]:
    style = plotting.method_style(method)
    for j, frac in enumerate(fracs):
        cells = [n for n in ns if not (headline_apart and (n, frac) == (n_star, f_star))]
        vals = np.stack([final(method, n, frac) for n in cells])  # [N, seeds]
        mean, sem = plotting.mean_sem(vals, axis=1)
        label = style.label if j == 0 else "_"
        if len(ns) == 1:  # one cell: points with s.e. error bars, seeds as small dots
            ax.errorbar(cells, mean, yerr=sem, color=style.color, marker=style.marker, capsize=4,
                        label=label, linestyle="none")
            ax.scatter(np.repeat(cells, vals.shape[1]), vals.ravel(), color=style.color, s=8,
                       alpha=0.5)
        else:
            plotting.band(ax, cells, mean, sem, method, label=label, linestyle=linestyles[j % 3])
    if headline_apart:
        mean, sem = plotting.mean_sem(head[method])
        ax.errorbar([n_star], [mean], yerr=[sem], color=style.color, marker="*", markersize=11,
                    capsize=3, linestyle="none")
if len(ns) > 1:  # which line style is which held-out fraction
    for j, frac in enumerate(fracs):
        ax.plot([], [], color="0.4", linestyle=linestyles[j % 3], label=f"{frac:.0%} held out")
if headline_apart:
    ax.plot([], [], color="0.4", marker="*", markersize=9, linestyle="none",
            label=f"N={n_star}, {f_star:.0%}: {steps_done} steps")
ax.set_xticks(ns)
ax.set_xlabel("in-context examples N")
ax.set_ylabel("held-out-combination R²")
ax.set_title(f"C: held-out {', '.join(f'{f:.0%}' for f in fracs)}"
             + (f"; grid {', '.join(map(str, grid_steps))} steps" if headline_apart else ""))
ax.legend(fontsize=7)

ax = axes[1]  # panel B: solid = random query input, dashed = query input fixed
layers = sorted({r["layer"] for r in probe_rows})
for metric, ls in (("probe_f1", "-"), ("probe_f1_fixed_query", "--")):
    for method in config["methods"]:
        vals = np.array([[r["value"] for r in probe_rows if r["method"] == method
                          and r["layer"] == l and r["metric"] == metric] for l in layers])
        mean, sem = plotting.mean_sem(vals, axis=1)
        plotting.band(ax, layers, mean, sem, method, linestyle=ls,
                      label=plotting.method_style(method).label if ls == "-" else "_")
for metric, ls in (("query input random", "-"), ("query input fixed", "--")):
    ax.plot([], [], color="0.4", linestyle=ls, label=metric)
ax.legend(fontsize=7)
ax.set_xticks(layers)
ax.set_xlabel("layer")
ax.set_ylabel("term probe F1 (held-out tasks)")
ax.set_title("B: terms decoded from the latent code")

ax = axes[2]  # panel D
first_term = codes_for_tsne["terms"].min(axis=1)
sc = ax.scatter(emb[:, 0], emb[:, 1], c=first_term, cmap="tab20", s=4)
ax.set_xticks([]), ax.set_yticks([])
ax.set_title(f"D: t-SNE of {plotting.method_style(config['latent_method']).label} codes (held-out tasks)")
fig.colorbar(sc, ax=ax, label="lower-index term")



def compare(a, b):
    """'>' / '<' when the gap exceeds the combined s.e. over seeds, else '≈'."""
    gap = means[a] - means[b]
    se = float(np.hypot(plotting.mean_sem(head[a])[1], plotting.mean_sem(head[b])[1]))
    return ">" if gap > se else "<" if gap < -se else "≈"


# the measured ordering at the headline cell, neighbours compared against their s.e.
ranked = sorted(means, key=means.get, reverse=True)
short = {"softmax": "softmax", "linear": "linear", "hyla": "HYLA"}
verdict = short[ranked[0]] + "".join(f" {compare(a, b)} {short[b]}" for a, b in zip(ranked, ranked[1:]))
hyla_vs_linear, gap = compare("hyla", "linear"), means["hyla"] - means["linear"]
if hyla_vs_linear == "≈":
    verdict += f" (HYLA − linear {gap:+.2f}, within s.e.)"
elif hyla_vs_linear == "<":
    verdict += " (HYLA below linear)"
fig.suptitle(f"Fig. 2 fuzzy logic [{preset}]: N={n_star}, {f_star:.0%} held out, {steps_done} steps, "
             f"R² " + ", ".join(f"{short[m]} {means[m]:.2f}" for m in ranked) + f" — {verdict}."
             "\nPaper (50 000 steps): HYLA 0.81 > softmax 0.63 ≈ linear 0.60", fontsize=9)
fig.tight_layout()
paths = plotting.save_figure(
    fig, FIGURE, out_dir, preset, rows, wall_time_s=timer.elapsed,
    provenance_extra={"runs": {f"{m} N={n} f={f}": r.spec.key() for (m, n, f), r in results.items()},
                      "train_wall_time_s": {f"{m} N={n} f={f}": round(r.wall_time_s, 1)
                                            for (m, n, f), r in results.items()},
                      "headline_heldout_r2": means,
                      "paper": "held-out R² at N=32, 70% held out: HYLA 0.81, softmax 0.63, linear 0.60",
                      "summary": "held-out R² at N=32, 70% held out: " + ", ".join(
                          f"{plotting.method_style(m).label} {means[m]:.2f} ± "
                          f"{plotting.mean_sem(head[m])[1]:.2f}" for m in config["methods"]),
                      "overrides": {"steps": steps, "num_seeds": num_seeds}})
print({k: str(v) for k, v in paths.items()})
