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
# The fraction of rule combinations held out from training (the official `frac_ood`, 25 % by default;
# [methods](../docs/methods.md#sraven-splits)) is varied; for each fraction we train linear attention
# and HYLA (and softmax attention at `paper`) and measure accuracy on the held-out combinations (all
# features right, and per feature) and on fresh problems of the training combinations. Fewer training
# combinations make compositional generalisation harder.
#
# **The paper** (Appendix, Fig. A5): held-out accuracy falls as the held-out fraction grows (from
# 10 % to 90 %); it states no numbers, and the official repository has no sweep for it.
#
# At `quick` this notebook is a pipeline check: the sRAVEN effects need the paper's data budget.

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

from hyla import notebook

FIGURE = "figA5_sraven_heldout_fraction"
config = notebook.setup(FIGURE, globals())

import math
import os

from hyla import claims, figdata, figures, plotting, runs
from hyla.provenance import Timer

# %% [markdown]
# ## Compute
# One cached, resumable run per (method, held-out fraction), seeds vmapped; the 25 % runs are those of
# Fig. 4 (`paper`, `quick`) or of Table A1 (`gpu`). Each fraction is its own run: the split table
# changes shape, so fractions cannot be vmapped like seeds.

# %%
timer = Timer()
timer.__enter__()
results = notebook.train(config["specs"], cache_dir, steps, num_seeds,
                         name=lambda key, spec: "{} held-out={:.0%}".format(*key))
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
task = next(iter(results.values())).spec.task_args
figdata.save(FIGURE, out_dir, preset, rows, wall_time_s=timer.elapsed,
             provenance_extra={**runs.provenance(results, lambda k: "{} f={}".format(*k)),
                               "pipeline_check": preset == "smoke" or (
                                   preset == "quick" and not config["quick_shows_effect"]),
                               "task": {k: task[k] for k in ("num_features", "num_values", "permute_features")},
                               "loadavg": os.getloadavg(),
                               "overrides": {"steps": steps, "num_seeds": num_seeds}})

# %% [markdown]
# ## Results
# From the saved data only (`figures/data/figA5_sraven_heldout_fraction.<preset>.csv`): the paper's
# claim beside ours, then per method and held-out fraction the final accuracies (mean ± s.e. over
# seeds) and the number of training combinations.

# %%
data = figdata.load(FIGURE, preset, out_dir)
print(claims.report(claims.evaluate(data)))
print()
METRICS = ("heldout_accuracy", "heldout_feature_accuracy", "train_accuracy")
print(f"{'method':8s} {'held out':>8s} {'train combos':>12s}", " ".join(f"{k:>24s}" for k in METRICS))
for m in data.unique("method"):
    for f in data.unique("heldout_fraction", method=m):
        n_train = data.select("heldout_accuracy", method=m, heldout_fraction=f)[0]["num_train_combinations"]
        print(f"{m:8s} {f:>8.0%} {n_train:>12d}", " ".join(
            "{:>24s}".format("{:.3f} ± {:.3f}".format(*plotting.mean_sem(
                data.values(k, method=m, heldout_fraction=f)))) for k in METRICS))

# %%
fig, paths = figures.render(FIGURE, data, out_dir)  # hyla/figures/figA5_sraven_heldout_fraction.py

# %% [markdown]
# ## Choices and deviations
# * Presets: `paper` fractions 10, 25, 50, 75 and 90 % × 3 models at the 20M-problem schedule; `gpu`
#   K = 4, fractions 10, 25, 50 and 90 %, linear attention vs HYLA, 6 000 steps each (softmax is left out
#   to stay within ~10 minutes); `quick` the CPU configuration of Fig. 4 at 25 and 75 %, linear
#   attention vs HYLA; `smoke` HYLA only, pipeline only. With K = 2 there are 36 combinations, so 75 %
#   leaves only 9 for training.
# * The paper's trend is for (nearly) converged models. In short runs the models are still learning,
#   and a training distribution with fewer rule combinations is learned sooner, so at a small budget
#   held-out accuracy can rise with the held-out fraction; the third panel (training-combination
#   accuracy) shows how far each run has learned its own training tasks.
# * The committed `quick` data predates the saved task settings (K, F), so its title omits them and its
#   panels say that the chance level is not in the data.
