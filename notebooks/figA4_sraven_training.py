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
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/hyla-companion/hyla/blob/main/notebooks/figA4_sraven_training.ipynb)
#
# # Fig. A4 — sRAVEN training curves
#
# **What the figure shows.** The training loss (mean cross-entropy over the K features of the missing
# panel, averaged over the training steps between two log points; `train_loss`) of softmax attention,
# linear attention and HYLA against the number of training problems seen (step × batch; fresh problems
# every step), for every model size of Fig. 4 at the largest problem budget; beside it, the held-out
# cross-entropy (`heldout_ce`) of the base model, which shows whether a lower training loss carries over
# to unseen rule combinations.
#
# **What the paper reports** (App., SPEC §F): training-loss curves per model and scale; no numbers.
#
# **Presets.** These are exactly the runs of Fig. 4 (same specs, same cache entries): nothing is trained
# here that Fig. 4 has not trained. `paper`: the 9 depth × width models at 40M problems; `gpu`: depth 4,
# width 1, 15 000 steps; `quick`: the CPU configuration of Fig. 4; `smoke`: 24 steps, pipeline only.
# The training loss is measured with attention dropout on (0.1, as in training), the held-out
# cross-entropy without.

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
FIGURE = "figA4_sraven_training"
config = presets.get(FIGURE, preset)
notebook.banner(preset, FIGURE)

import os

import matplotlib.pyplot as plt
import numpy as np

from hyla import plotting, runs
from hyla.provenance import Timer

# %%
# Compute: the Fig. 4 runs at the largest problem budget (from the cache when Fig. 4 has run).
timer = Timer()
timer.__enter__()
p_max = config["problems"][-1]
results = {}
for (method, depth, width, problems), spec in config["specs"].items():
    if problems != p_max:
        continue
    spec = presets.apply_overrides(spec, steps, num_seeds)
    results[(method, depth, width)] = runs.load_or_train(
        spec, cache_dir, name=f"{method} depth={depth} width={width}")
print("load average (1/5/15 min):", os.getloadavg())

# %%
# Save data: training loss and held-out cross-entropy histories, problems seen as a column.
rows = []
for (method, depth, width), res in results.items():
    batch = res.spec.train.batch_size
    for r in runs.tidy(res, method, ("train_loss", "heldout_ce", "train_ce"), depth=depth, width=width):
        r["problems_seen"] = r["step"] * batch
        rows.append(r)
timer.__exit__(None, None, None)

final_loss = {k: float(np.mean(runs.final_values(r, "train_loss"))) for k, r in results.items()}
for k, v in final_loss.items():
    print(f"final train loss {k}: {v:.4f}")

# %%
# Plot.
plotting.use_style()
sizes = [(d, w) for d in config["depths"] for w in config["widths"]]
n = len(sizes) + 1
ncol = min(n, 4)
nrow = -(-n // ncol)
fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.5 * nrow), squeeze=False)
axes = axes.ravel()
for ax, (d, w) in zip(axes, sizes):
    for method in config["methods"]:
        res = results[(method, d, w)]
        s, v = res.metric("train_loss")
        mean, sem = plotting.mean_sem(v, axis=1)
        plotting.band(ax, s * res.spec.train.batch_size, mean, sem, method)
    if ax.get_ylim()[1] > 3 * ax.get_ylim()[0] > 0:
        ax.set_yscale("log")
    ax.set_xlabel("training problems (= step × batch)")
    ax.set_ylabel("training loss (cross-entropy)")
    ax.set_title(f"depth {d}, width {w}", fontsize=9)
axes[0].legend(fontsize=7)
ax = axes[len(sizes)]
base = (config["base_depth"], 1)
for method in config["methods"]:
    res = results[(method, *base)]
    s, v = res.metric("heldout_ce")
    mean, sem = plotting.mean_sem(v, axis=1)
    plotting.band(ax, s * res.spec.train.batch_size, mean, sem, method)
if ax.get_ylim()[1] > 3 * ax.get_ylim()[0] > 0:
    ax.set_yscale("log")
ax.set_xlabel("training problems (= step × batch)")
ax.set_ylabel("held-out cross-entropy")
ax.set_title(f"held-out combinations, depth {base[0]}, width 1", fontsize=9)
for ax in axes[n:]:
    ax.axis("off")

res0 = results[(config["methods"][0], *base)]
K, F = res0.spec.task_args["num_features"], res0.spec.task_args["num_values"]
unperm = "" if res0.spec.task_args["permute_features"] else ", unpermuted"
steps_done = res0.spec.train.steps
pipeline = preset == "smoke" or (preset == "quick" and not config["quick_shows_effect"])
prefix = "pipeline check: effect needs the gpu preset — " if pipeline else ""
order = " < ".join(plotting.method_style(m).label for m in
                   sorted(config["methods"], key=lambda m: final_loss[(m, *base)]))
fig.suptitle(f"Fig. A4 sRAVEN training loss [{preset}, K={K}, F={F}{unperm}, {steps_done} steps]: {prefix}final "
             f"training loss {order} (depth {base[0]}, width 1)", fontsize=9)
fig.tight_layout()
paths = plotting.save_figure(
    fig, FIGURE, out_dir, preset, rows, wall_time_s=timer.elapsed,
    provenance_extra={"runs": {f"{m} d={d} w={w}": r.spec.key() for (m, d, w), r in results.items()},
                      "final_train_loss": {f"{m} d={d} w={w}": v for (m, d, w), v in final_loss.items()},
                      "pipeline_check": pipeline,
                      "overrides": {"steps": steps, "num_seeds": num_seeds}})
print({k: str(v) for k, v in paths.items()})
