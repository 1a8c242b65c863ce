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
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/hyla-companion/hyla/blob/main/notebooks/fig04_sraven_scaling.ipynb)
#
# # Fig. 4 — sRAVEN: held-out-combination accuracy vs data and model size
#
# **What the figure shows.** Accuracy on **held-out rule combinations** (all K features of the missing
# panel right; the paper's "OOD", official `ood_acc`, ours `heldout_accuracy`) against the number of
# training problems, for softmax attention, linear attention and HYLA, and (paper preset) for depth
# {4, 8, 16} and width {1, 2, 4}. Per-feature accuracy (`heldout_feature_accuracy`) moves earlier in
# training and is shown beside it.
#
# **The data axis.** Every training step draws a fresh batch of problems, so the number of problems
# seen after `step` updates is `step × batch`; one run's evaluations along training give the whole
# data axis (gpu / quick / smoke presets). The paper instead trains separate runs for 10M / 20M / 40M
# problems (each with its own cosine schedule); the `paper` preset does the same.
#
# **What the paper reports** (Table A1, depth 4, width 1, 20M problems, 3 seeds, accuracy × 100):
# HYLA 69.1 ± 1.9, softmax 56.6 ± 1.1, linear 56.3 ± 1.1. All models reach ≈ 80 % at the largest data
# and model size; HYLA's advantage is largest for small data / small models (SPEC §F).
#
# **What each preset can show.** `paper`: the official grid (81 runs × 3 seeds; not run here).
# `gpu` (one H100, ~4 min): the paper's task and model at depth 4, width 1, 15 000 steps
# (1.9M problems, 10 % of the paper's 20M), 3 seeds — expect lower absolute accuracy than the paper,
# compare orderings. `quick` (2-core CPU, ~1.5 min): **a pipeline check**. The measured search
# `benchmarks/raven_cpu_search.py` (panel E; this notebook only reads its table) tried K = 2 tasks with
# F ∈ {4, 5, 8} values, with and without the column permutation, 600–3 000 steps, lr 3e-3, the
# 2-layer CPU model (D 64, 8 heads, d = 4), 25 % (and, config F, 75 %) of the rule pairs held out:
# in none of them did HYLA beat linear attention clearly across seeds (with 75 % held out HYLA led in
# some seeds while another stayed at chance), permuted tasks stayed far below the unpermuted ones (config C
# at chance; config E, F = 8: HYLA 0.080 and linear 0.087 against chance 0.016; softmax not run), and
# softmax attention learned fastest wherever anything was learned (the paper's HYLA advantage is a
# K = 4, 20M-problem effect). The quick tier therefore uses the most learnable searched
# task — K = 2, F = 4, **unpermuted** columns (with F = 4, progression +2 and −2 coincide) — with the
# CPU model, batch 32, 2 seeds, 600 steps, so that the curves leave chance and the downstream
# latent analyses have something to read; every title says "pipeline check". `smoke`: 24 steps.
#
# Choices where the paper is silent: the hyperparameters of the official sweep (lr {1e-3, 3e-4},
# wd {0.1, 0.3}, warmup {1000, 3000}) are fixed at lr 1e-3, wd 0.1, warmup 1000 (paper preset; the
# paper's selection protocol is unknown, SPEC §H.2); the CPU tier uses lr 3e-3.
#
# **GPU tier, measured** (2026-11-22): its 15 000-step runs took 4 min on one H100 (296–466 steps/s with 3 seeds vmapped); softmax led, HYLA and linear tied within the seed error. Figure: `figures/` (the gpu tier's PNG/PDF replace the quick tier's), data and provenance: `figures/data/*.gpu.*` (made with `python -m hyla.reproduce --engine script --preset gpu`); the README's "Results at a glance" puts them beside the paper.

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
FIGURE = "fig04_sraven_scaling"
config = presets.get(FIGURE, preset)
notebook.banner(preset, FIGURE)

import csv
import os

import matplotlib.pyplot as plt
import numpy as np

from hyla import paths, plotting, runs
from hyla.provenance import Timer

# %%
# Compute: one cached, resumable run per (method, depth, width, problem budget); seeds are vmapped.
timer = Timer()
timer.__enter__()
results = {}
for (method, depth, width, problems), spec in config["specs"].items():
    spec = presets.apply_overrides(spec, steps, num_seeds)
    budget = f" {problems / 1e6:g}M problems" if problems else ""
    results[(method, depth, width, problems)] = runs.load_or_train(
        spec, cache_dir, name=f"{method} depth={depth} width={width}{budget}")
print("load average (1/5/15 min):", os.getloadavg())

# %%
# Save data: tidy rows with the number of problems seen (step × batch) as a column.
rows = []
for (method, depth, width, problems), res in results.items():
    batch = res.spec.train.batch_size
    for r in runs.tidy(res, method, depth=depth, width=width,
                       problem_budget=problems or res.spec.train.steps * batch):
        r["problems_seen"] = r["step"] * batch
        rows.append(r)

# The CPU-tier search (benchmarks/raven_cpu_search.py): read, not re-run.
search_path = paths.figures_dir() / config["search_csv"]
search = []
if search_path.exists():
    with open(search_path) as f:
        search = list(csv.DictReader(f))
print(f"CPU search table: {len(search)} rows from {search_path}" if search
      else f"CPU search table not found at {search_path}")
timer.__exit__(None, None, None)

base_d, base_w = config["base_depth"], 1
base_p = config["base_problems"]
methods = config["methods"]


def curve(method, metric, depth=base_d, width=base_w):
    """(problems, values [n, seeds]) for the data axis at one depth / width."""
    if config["problems"] == (None,):
        res = results[(method, depth, width, None)]
        s, v = res.metric(metric)
        return s * res.spec.train.batch_size, v
    xs = np.array(config["problems"], dtype=float)
    return xs, np.stack([runs.final_values(results[(method, depth, width, p)], metric)
                         for p in config["problems"]])


def final(method, metric="heldout_accuracy", depth=base_d, width=base_w):
    return runs.final_values(results[(method, depth, width, base_p)], metric)


means = {m: float(np.mean(final(m))) for m in methods}
feat_means = {m: float(np.mean(final(m, "heldout_feature_accuracy"))) for m in methods}
run0 = results[(methods[0], base_d, base_w, base_p)]
task_args = run0.spec.task_args
K, F = task_args["num_features"], task_args["num_values"]
unperm = "" if task_args["permute_features"] else ", unpermuted"
chance, chance_feat = F ** -K, 1 / F
print("final held-out accuracy (mean over seeds):", {m: round(v, 3) for m, v in means.items()},
      "| per feature:", {m: round(v, 3) for m, v in feat_means.items()},
      f"| chance {chance:.3f} / {chance_feat:.3f}")

# %%
# Plot.
plotting.use_style()
fig = plt.figure(figsize=(15, 5.2 + 0.22 * max(len(search), 2)))
gs = fig.add_gridspec(2, 4, height_ratios=[1, 0.25 + 0.06 * max(len(search), 2)], hspace=0.35,
                      wspace=0.32)
for j, (metric, label, ch) in enumerate((("heldout_accuracy", "held-out accuracy (all features)", chance),
                                         ("heldout_feature_accuracy", "held-out per-feature accuracy",
                                          chance_feat))):
    ax = fig.add_subplot(gs[0, j])
    for method in methods:
        x, v = curve(method, metric)
        mean, sem = plotting.mean_sem(v, axis=1)
        plotting.band(ax, x, mean, sem, method)
    ax.axhline(ch, color="0.5", ls=":", lw=1, label="chance")
    ax.set_xlabel("training problems (= step × batch)" if config["problems"] == (None,)
                  else "training problems (one run per budget)")
    ax.set_ylabel(label)
    ax.set_title(f"{'AB'[j]}: depth {base_d}, width {base_w}", fontsize=9)
    if j == 0:
        ax.legend(fontsize=7)

for j, (axis_name, values) in enumerate((("depth", config["depths"]), ("width", config["widths"]))):
    ax = fig.add_subplot(gs[0, 2 + j])
    if len(values) > 1:
        for method in methods:
            v = np.stack([final(method, depth=x, width=base_w) if axis_name == "depth"
                          else final(method, depth=base_d, width=x) for x in values])
            mean, sem = plotting.mean_sem(v, axis=1)
            plotting.band(ax, values, mean, sem, method)
        ax.set_xticks(values)
        ax.set_xlabel(axis_name)
        ax.set_ylabel("held-out accuracy")
        ax.set_title(f"{'CD'[j]}: accuracy vs {axis_name} ({(base_p or 0) / 1e6:g}M problems)",
                     fontsize=9)
    elif j == 0:  # no depth axis at this preset: the final values per seed instead
        for i, method in enumerate(methods):
            for k, metric in enumerate(("heldout_accuracy", "heldout_feature_accuracy")):
                v = final(method, metric)
                st = plotting.method_style(method)
                ax.scatter(np.full(len(v), k + (i - 1) * 0.2), v, color=st.color, marker=st.marker,
                           s=25, label=st.label if k == 0 else None)
        ax.set_xticks([0, 1], ["all features", "per feature"])
        ax.set_xlim(-0.5, 1.5)
        ax.set_ylabel("final held-out accuracy (one dot per seed)")
        ax.set_title(f"C: per seed (depth / width axes: paper preset)", fontsize=9)
    else:  # no width axis at this preset: accuracy on the training combinations instead
        for method in methods:
            x, v = curve(method, "train_accuracy")
            mean, sem = plotting.mean_sem(v, axis=1)
            plotting.band(ax, x, mean, sem, method)
        ax.axhline(chance, color="0.5", ls=":", lw=1)
        ax.set_xlabel("training problems (= step × batch)")
        ax.set_ylabel("training-combination accuracy (all features)")
        ax.set_title("D: in-distribution accuracy (fresh problems)", fontsize=9)

ax = fig.add_subplot(gs[1, :])  # E: the CPU search table
ax.axis("off")
if search:
    head = ["config", "method", "K", "F", "permuted", "held out", "batch", "lr", "steps", "seeds",
            "held-out acc", "per-feature acc", "chance", "CPU s", "wall s (load)"]
    body = [[r["config"], r["method"], r["num_features"], r["num_values"], r["permute_features"],
             f"{float(r['heldout_fraction']):.0%}", r["batch_size"], r["lr"], r["steps"], r["num_seeds"],
             f"{float(r['heldout_accuracy']):.3f} ± {float(r['heldout_accuracy_sem']):.3f}",
             f"{float(r['heldout_feature_accuracy']):.3f} ± {float(r['heldout_feature_accuracy_sem']):.3f}",
             f"{float(r['chance_accuracy']):.3f}", f"{float(r['cpu_time_s']):.0f}",
             f"{float(r['wall_time_s']):.0f} ({float(r['loadavg_after']):.1f})"] for r in search]
    t = ax.table(cellText=body, colLabels=head, loc="upper center", cellLoc="center")
    t.auto_set_font_size(False)
    t.set_fontsize(7)
    t.scale(1, 1.2)
    ax.set_title("E: measured CPU-tier search (benchmarks/raven_cpu_search.py; 2 layers, D 64, 8 heads, "
                 "d = 4; mean ± s.e. over seeds; process CPU time, and wall time on a shared 2-core CPU "
                 "with the 1-min load in brackets)", fontsize=8)
else:
    ax.text(0.5, 0.5, "E: CPU search table not found (run benchmarks/raven_cpu_search.py)",
            ha="center", va="center")

steps_done = run0.spec.train.steps
pipeline = preset == "smoke" or (preset == "quick" and not config["quick_shows_effect"])
# HYLA vs linear: the difference of seed means against its standard error (independent runs);
# with one seed the s.e. is undefined and no difference is claimed
(m_hyla, se_hyla), (m_lin, se_lin) = (plotting.mean_sem(final(m)) for m in ("hyla", "linear"))
diff, diff_se = float(m_hyla - m_lin), float(np.hypot(se_hyla, se_lin))
if len(final("hyla")) > 1 and diff > 2 * diff_se:
    verdict = f"HYLA > linear by {diff:.3f} ± {diff_se:.3f}"
else:
    verdict = f"HYLA − linear {diff:+.3f} ± {diff_se:.3f}: no clear difference (paper: HYLA > linear)"
measured = ", ".join(f"{plotting.method_style(m).label} {means[m]:.3f}" for m in methods)
prefix = "pipeline check: effect needs the gpu preset — " if pipeline else ""
fig.suptitle(f"Fig. 4 sRAVEN [{preset}, K={K}, F={F}{unperm}, {steps_done} steps]: {prefix}{verdict}\n"
             f"held-out accuracy {measured} (chance {chance:.3f}); "
             f"paper (K=4, 20M problems): HYLA 0.691, softmax 0.566, linear 0.563", fontsize=9)
paths_out = plotting.save_figure(
    fig, FIGURE, out_dir, preset, rows, wall_time_s=timer.elapsed,
    provenance_extra={"runs": {f"{m} d={d} w={w} p={p}": r.spec.key() for (m, d, w, p), r in results.items()},
                      "train_wall_time_s": {f"{m} d={d} w={w} p={p}": round(r.wall_time_s, 1)
                                            for (m, d, w, p), r in results.items()},
                      "final_heldout_accuracy": means, "final_heldout_feature_accuracy": feat_means,
                      "pipeline_check": pipeline, "search_csv": str(search_path) if search else None,
                      "loadavg": os.getloadavg(),
                      "overrides": {"steps": steps, "num_seeds": num_seeds}})
print({k: str(v) for k, v in paths_out.items()})
