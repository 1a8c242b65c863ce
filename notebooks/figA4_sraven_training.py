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
# The training loss (cross-entropy over the K features of the missing panel, averaged over the steps
# between two log points) of softmax attention, linear attention and HYLA against the number of
# training problems seen (step × batch; fresh problems every step), for every model size of Fig. 4 at
# its largest problem budget ([methods](../docs/methods.md#sraven)); beside it, the held-out
# cross-entropy of the base model, which shows whether a lower training loss carries over to unseen
# rule combinations ([methods](../docs/methods.md#sraven-splits)).
#
# **The paper** (Appendix, Fig. A4): training-loss curves per model and scale; it states no numbers.
#
# These are exactly the runs of Fig. 4 (same specs, same cache entries): nothing is trained here that
# Fig. 4 has not trained. At `quick` this notebook is a pipeline check: the sRAVEN effects need the
# paper's data budget.

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

FIGURE = "figA4_sraven_training"
config = notebook.setup(FIGURE, globals())

import os

import numpy as np

from hyla import claims, figdata, figures, plotting, runs
from hyla.provenance import Timer

# %% [markdown]
# ## Compute
# The Fig. 4 runs at the largest problem budget, from the cache when Fig. 4 has run. The training loss
# is measured with attention dropout on, as in training; the held-out and training-combination
# cross-entropies (`heldout_ce`, `train_ce`) without.

# %%
timer = Timer()
timer.__enter__()
p_max = config["problems"][-1]
results = notebook.train({k[:3]: s for k, s in config["specs"].items() if k[3] == p_max}, cache_dir,
                         steps, num_seeds, name=lambda key, spec: "{} depth={} width={}".format(*key))
print("load average (1/5/15 min):", os.getloadavg())

# %%
# Save data: training loss and cross-entropy histories, problems seen as a column.
rows = []
for (method, depth, width), res in results.items():
    batch = res.spec.train.batch_size
    for r in runs.tidy(res, method, ("train_loss", "heldout_ce", "train_ce"), depth=depth, width=width):
        r["problems_seen"] = r["step"] * batch
        rows.append(r)
timer.__exit__(None, None, None)

final_loss = {k: float(np.mean(runs.final_values(r, "train_loss"))) for k, r in results.items()}
task = next(iter(results.values())).spec.task_args
figdata.save(FIGURE, out_dir, preset, rows, wall_time_s=timer.elapsed,
             provenance_extra={"runs": {f"{m} d={d} w={w}": r.spec.key() for (m, d, w), r in results.items()},
                               "final_train_loss": {f"{m} d={d} w={w}": v for (m, d, w), v in final_loss.items()},
                               "pipeline_check": preset == "smoke" or (
                                   preset == "quick" and not config["quick_shows_effect"]),
                               "task": {k: task[k] for k in ("num_features", "num_values", "permute_features")},
                               "batch_size": next(iter(results.values())).spec.train.batch_size,
                               "overrides": {"steps": steps, "num_seeds": num_seeds}})

# %% [markdown]
# ## Results
# From the saved data only (`figures/data/figA4_sraven_training.<preset>.csv`): the paper states no
# quantitative claim for this figure; below, per model, the last logged training loss and the final
# held-out and training-combination cross-entropies (mean ± s.e. over seeds).

# %%
data = figdata.load(FIGURE, preset, out_dir)
print(claims.report(claims.evaluate(data)))
print()
print(f"{'model':28s} {'training loss':>16s} {'held-out CE':>16s} {'training CE':>16s}")
for d in data.unique("depth", "train_loss"):
    for w in data.unique("width", "train_loss", depth=d):
        for m in data.unique("method"):
            cells = ["{:.3f} ± {:.3f}".format(*plotting.mean_sem(data.values(k, method=m, depth=d, width=w)))
                     if data.has(k, method=m, depth=d, width=w) else "—"
                     for k in ("train_loss", "heldout_ce", "train_ce")]
            print(f"{m + f' depth {d}, width {w}':28s}", " ".join(f"{c:>16s}" for c in cells))

# %%
fig, paths = figures.render(FIGURE, data, out_dir)  # hyla/figures/figA4_sraven_training.py

# %% [markdown]
# ## Choices and deviations
# * Presets: `paper` the 9 depth × width models of Fig. 4 at 40M problems; `gpu` depth 4, width 1,
#   15 000 steps (one H100); `quick` the CPU configuration of Fig. 4 (depth 2); `smoke` 24 steps,
#   pipeline only.
# * The training loss is the mean over the steps between two log points, with dropout on, so it lies
#   above the training-combination cross-entropy of the same step; the x-axis counts problems, not steps.
# * The committed `gpu` data predates the saved task settings (K, F), so its title omits them.
