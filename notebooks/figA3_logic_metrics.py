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
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/hyla-companion/hyla/blob/main/notebooks/figA3_logic_metrics.ipynb)
#
# # Fig. A3 — fuzzy logic: training, held-out and unknown-term R² during training
#
# **What the figure shows.** For the fuzzy-logic runs of the Table A1 cell (N = 32 in-context examples,
# 70 % of the known-term pairs held out), R² against the training step for softmax attention, linear
# attention and HYLA (mean ± s.e. over seeds), on three evaluation sets drawn fresh from:
#
# * **training tasks** (`train_r2`: the term pairs seen in training, new inputs — the paper's
#   in-distribution / training R²);
# * **held-out combinations** of known terms (`heldout_r2`: the paper's "OOD", Fig. 2 and Table A1);
# * **combinations of unknown terms** (`unknown_terms_r2`: pairs of the 4 terms never used in training;
#   the official code's `ood` split — the negative control).
#
# R² is the official metric: the mean over sequences of 1 − (ŷ − y)² / (variance of that sequence's
# targets), so it can be far below 0 when a few sequences have nearly constant targets.
#
# **What the paper reports** (Fig. A3, qualitative): differences between the models are small on
# training tasks; no model solves combinations of unknown terms (R² ≲ 0).
#
# **Presets.** The runs are the cached headline runs shared with Fig. 2 (no extra training at any tier).
# `smoke`: 24-step toys, softmax and HYLA only (pipeline check). `quick`: the D 64 model, 1 000 steps
# (2 % of the paper's), 3 seeds — SPEC §I measured unknown-term R² between −0.4 and 0.2 at this budget.
# `gpu`: the full model, 25 000 steps.
#
# Choices where the paper is silent: evaluation sets of `eval_size` sequences per split (2 048 at quick,
# 16 000 in the paper) evaluated after the first step, every `eval_every` steps and at the end; the
# y-axis is clipped at −1 so that the first evaluation (R² of an untrained model, ≪ 0) does not hide the
# rest — the CSV holds every value.
#
# **GPU tier, measured** (2026-11-22): its three 25 000-step runs took 2.5 min on one H100. Figure: `figures/` (the gpu tier's PNG/PDF replace the quick tier's), data and provenance: `figures/data/*.gpu.*` (made with `python -m hyla.reproduce --engine script --preset gpu`); the README's "Results at a glance" puts them beside the paper.

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

if "google.colab" in sys.modules:  # on Colab: install hyla, keeping Colab's own jax
    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "hyla[notebooks] @ git+https://github.com/hyla-companion/hyla"], check=True)

from hyla import notebook, presets

params = notebook.check_parameters(notebook.capture_parameters(globals()), presets.notebook_schema())
FIGURE = "figA3_logic_metrics"
config = presets.get(FIGURE, preset)
notebook.banner(preset, FIGURE)

import matplotlib.pyplot as plt
import numpy as np

from hyla import plotting, runs
from hyla.provenance import Timer

# %%
# Compute: the cached headline runs (N 32, 70 % held out) of every method; seeds are vmapped.
timer = Timer()
timer.__enter__()
results = {}
for method, spec in config["specs"].items():
    spec = presets.apply_overrides(spec, steps, num_seeds)
    n, frac = spec.task_args["seq_len"], spec.task_args["heldout_fraction"]
    results[method] = runs.load_or_train(spec, cache_dir, name=f"{method} N={n} held-out={frac:.0%}")

# %%
# Save data: every evaluated metric of every run, tidy.
metrics = config["metrics"]
rows = []
for method, res in results.items():
    rows += runs.tidy(res, method, num_examples=res.spec.task_args["seq_len"],
                      heldout_fraction=res.spec.task_args["heldout_fraction"])
timer.__exit__(None, None, None)

final = {m: {k: plotting.mean_sem(runs.final_values(r, k)) for k in metrics} for m, r in results.items()}
for m in results:
    print(f"{plotting.method_style(m).label:20s}",
          " ".join(f"{k} {float(final[m][k][0]):+.3f}±{float(final[m][k][1]):.3f}" for k in metrics))
unknown_final = {m: float(final[m]["unknown_terms_r2"][0]) for m in results}
unknown_max_any = max(float(np.nanmax(r.metric("unknown_terms_r2")[1])) for r in results.values())
unknown_max_mean = max(float(np.nanmax(np.nanmean(r.metric("unknown_terms_r2")[1], axis=1)))
                       for r in results.values())
heldout_final = {m: float(final[m]["heldout_r2"][0]) for m in results}

# %%
# Plot.
plotting.use_style()
titles = {"train_r2": "A: training tasks (new inputs)",
          "heldout_r2": "B: held-out combinations of known terms",
          "unknown_terms_r2": "C: combinations of unknown terms"}
fig, axes = plt.subplots(1, len(metrics), figsize=(4.3 * len(metrics), 3.8), sharey=True)
for ax, metric in zip(axes, metrics):
    for method, res in results.items():
        x, vals = res.metric(metric)
        mean, sem = plotting.mean_sem(vals, axis=1)
        plotting.band(ax, x, mean, sem, method)
    ax.axhline(0, color="k", lw=0.6, ls=":")
    ax.set_xlabel("training step")
    ax.set_title(titles[metric], fontsize=9)
axes[0].set_ylabel("R² (mean over sequences)")
lo = min(float(np.nanmin(r.metric(m)[1][1:])) if len(r.metric(m)[0]) > 1 else -1.0
         for r in results.values() for m in metrics)
axes[0].set_ylim(max(-1.0, lo - 0.05), 1.0)
axes[0].legend(fontsize=7, loc="lower right")

steps_done = results["hyla"].spec.train.steps
stayed = ("stayed ≤ 0 at every evaluation" if unknown_max_mean <= 0
          else f"reached {unknown_max_mean:+.2f}") + f" (highest single seed {unknown_max_any:+.2f})"
spread = {k: max(float(final[m][k][0]) for m in results) - min(float(final[m][k][0]) for m in results)
          for k in ("train_r2", "heldout_r2")}
check = "pipeline check, effects need the quick or gpu preset — " if preset == "smoke" else ""
fig.suptitle(
    f"Fig. A3 fuzzy logic [{preset}, {steps_done} steps, N={results['hyla'].spec.task_args['seq_len']}, "
    f"{results['hyla'].spec.task_args['heldout_fraction']:.0%} held out]: {check}mean unknown-term R² {stayed}; "
    "final: " + ", ".join(f"{plotting.method_style(m).label} {v:+.2f}"
                                          for m, v in unknown_final.items()) + "\n"
    f"spread between models at the end: training tasks {spread['train_r2']:.2f}, held-out combinations "
    f"{spread['heldout_r2']:.2f}. Paper (50k steps): in-distribution differences small, unknown-term R² ≲ 0",
    fontsize=9)
fig.tight_layout()
paths = plotting.save_figure(
    fig, FIGURE, out_dir, preset, rows, wall_time_s=timer.elapsed,
    provenance_extra={"runs": {m: r.spec.key() for m, r in results.items()},
                      "train_wall_time_s": {m: round(r.wall_time_s, 1) for m, r in results.items()},
                      "final_mean": {m: {k: float(v[0]) for k, v in final[m].items()} for m in results},
                      "overrides": {"steps": steps, "num_seeds": num_seeds}})
print({k: str(v) for k, v in paths.items()})
