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
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/hyla-companion/hyla/blob/main/notebooks/figA5_sraven_heldout_fraction.ipynb)
#
# # Fig. A5 — sRAVEN: accuracy vs the fraction of held-out rule combinations
#
# **What the figure shows.** The fraction of rule combinations held out from training (official
# `frac_ood`, default 0.25) is varied; for each fraction we train softmax / linear attention / HYLA and
# measure accuracy on the held-out combinations (all features, `heldout_accuracy`; and per feature,
# `heldout_feature_accuracy`) and on the training combinations (`train_accuracy`, fresh problems).
# Fewer training combinations make compositional generalisation harder.
#
# **What the paper reports** (App., SPEC §F, PAPER-2): held-out accuracy falls as the held-out fraction
# grows (0.1 … 0.9); no numbers are available to us. The official repository has no sweep for it.
#
# **What each preset can show.** `paper`: fractions {0.1, 0.25, 0.5, 0.75, 0.9} × 3 models at the
# 20M-problem schedule (the 0.25 runs are the Fig. 4 runs). `gpu`: K = 4, fractions
# {0.1, 0.25, 0.5, 0.9}, linear attention vs HYLA, 6 000 steps each (the 0.25 runs are shared with
# Table A1's gpu column); softmax is left out to stay within ~10 minutes. `quick`: the CPU configuration
# of Fig. 4 (K and F of its search) at fractions {0.25, 0.75}, linear attention vs HYLA (the 0.25 runs
# are Fig. 4's). `smoke`: HYLA only, pipeline check. Each fraction is its own run: the split table
# changes shape, so fractions cannot be vmapped like seeds. With K = 2 there are 36 combinations, so
# 0.75 leaves only 9 for training.
#
# **Reading short runs.** The paper's trend is for (nearly) converged models. In short runs the models
# are still learning, and a training distribution with fewer rule combinations is learned sooner, so
# at a small budget held-out accuracy can *rise* with the held-out fraction; the third panel
# (training-combination accuracy) shows how far each run has learned its own training tasks.

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
FIGURE = "figA5_sraven_heldout_fraction"
config = presets.get(FIGURE, preset)
notebook.banner(preset, FIGURE)

import math
import os

import matplotlib.pyplot as plt
import numpy as np

from hyla import plotting, runs
from hyla.provenance import Timer

# %%
# Compute: one cached, resumable run per (method, held-out fraction); seeds are vmapped.
timer = Timer()
timer.__enter__()
results = {}
for (method, frac), spec in config["specs"].items():
    spec = presets.apply_overrides(spec, steps, num_seeds)
    results[(method, frac)] = runs.load_or_train(spec, cache_dir, name=f"{method} held-out={frac:.0%}")
print("load average (1/5/15 min):", os.getloadavg())

# %%
# Save data: every run's history with the held-out fraction and split sizes as columns.
rows = []
for (method, frac), res in results.items():
    ta = res.spec.task_args
    n = math.comb(8 + ta["num_features"] - 1, ta["num_features"])
    rows += runs.tidy(res, method, ("heldout_accuracy", "heldout_feature_accuracy", "train_accuracy"),
                      heldout_fraction=frac, num_heldout_combinations=int(n * frac),
                      num_train_combinations=n - int(n * frac))
timer.__exit__(None, None, None)

fracs, methods = config["fractions"], config["methods"]
final = {k: runs.final_values(r, "heldout_accuracy") for k, r in results.items()}
for m in methods:
    print(m, {f: round(float(np.mean(final[(m, f)])), 3) for f in fracs})

# %%
# Plot.
plotting.use_style()
fig, axes = plt.subplots(1, 3, figsize=(13, 3.9))
res0 = next(iter(results.values()))
K, F = res0.spec.task_args["num_features"], res0.spec.task_args["num_values"]
unperm = "" if res0.spec.task_args["permute_features"] else ", unpermuted"
for ax, (metric, label, chance) in zip(axes, (
        ("heldout_accuracy", "held-out accuracy (all features)", F ** -K),
        ("heldout_feature_accuracy", "held-out per-feature accuracy", 1 / F),
        ("train_accuracy", "training-combination accuracy", F ** -K))):
    for m in methods:
        v = np.stack([runs.final_values(results[(m, f)], metric) for f in fracs])
        mean, sem = plotting.mean_sem(v, axis=1)
        plotting.band(ax, fracs, mean, sem, m)
    ax.axhline(chance, color="0.5", ls=":", lw=1, label="chance")
    ax.set_xticks(fracs, [f"{f:.0%}" for f in fracs])
    ax.set_xlabel("held-out fraction of rule combinations")
    ax.set_ylabel(label)
axes[0].legend(fontsize=7)

steps_done = res0.spec.train.steps
pipeline = preset == "smoke" or (preset == "quick" and not config["quick_shows_effect"])
prefix = "pipeline check: effect needs the gpu preset — " if pipeline else ""
trend = []
for m in methods:
    a, b = float(np.mean(final[(m, fracs[0])])), float(np.mean(final[(m, fracs[-1])]))
    trend.append(f"{plotting.method_style(m).label} {a:.3f}→{b:.3f}")
fig.suptitle(f"Fig. A5 sRAVEN [{preset}, K={K}, F={F}{unperm}, {steps_done} steps]: {prefix}held-out accuracy "
             f"from {fracs[0]:.0%} to {fracs[-1]:.0%} held out: {', '.join(trend)} "
             f"(paper: falls with the fraction)", fontsize=9)
fig.tight_layout()
paths = plotting.save_figure(
    fig, FIGURE, out_dir, preset, rows, wall_time_s=timer.elapsed,
    provenance_extra={"runs": {f"{m} f={f}": r.spec.key() for (m, f), r in results.items()},
                      "train_wall_time_s": {f"{m} f={f}": round(r.wall_time_s, 1)
                                            for (m, f), r in results.items()},
                      "pipeline_check": pipeline, "loadavg": os.getloadavg(),
                      "overrides": {"steps": steps, "num_seeds": num_seeds}})
print({k: str(v) for k, v in paths.items()})
