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
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/hyla-companion/hyla/blob/main/notebooks/figA6_sraven_depth_latents.ipynb)
#
# # Fig. A6 / A7 — sRAVEN latent codes of a shallow and a deeper HYLA model
#
# The latent codes of Fig. 5 ([methods](../docs/methods.md#latent-codes)) for two HYLA models that
# differ only in depth: each query slot's attention scores towards the same slot in the two visible
# bottom-row panels, one (H × 2) code per layer, read on **unpermuted** problems and labelled with the
# slot's own rule. For each model: t-SNE of the first-layer codes coloured by the target value and of
# the last-layer codes coloured by rule, and the rule-decoding accuracy of every layer (multinomial
# logistic regression fitted on training combinations, scored on held-out combinations;
# [methods](../docs/methods.md#latent-analyses)) against the relative depth of the layer.
#
# **The paper** (Figs. A6 / A7, qualitative): the codes of depth-4 and depth-16 models; structure by
# rule emerges in the later layers.
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

FIGURE = "figA6_sraven_depth_latents"
config = notebook.setup(FIGURE, globals())

import os

import numpy as np

from hyla import analysis, claims, figdata, figures, plotting, runs
from hyla.provenance import Timer
from hyla.tasks.raven import RULES

# %% [markdown]
# ## Compute
# The shallow HYLA run (shared with Fig. 4) and one deeper HYLA run.

# %%
timer = Timer()
timer.__enter__()
results = notebook.train(config["specs"], cache_dir, steps, num_seeds, name=lambda d, spec: f"hyla depth={d}")
print("load average (1/5/15 min):", os.getloadavg())

# %% [markdown]
# Latent codes on unpermuted problems, every slot labelled with its own rule; the rule is decoded from
# each layer's codes of every seed, and the t-SNE uses a fixed random subset of seed 0's held-out codes.

# %%
SPLITS = ("train", "heldout_combos")


def slot_codes(res, i, split, n, chunk=1024):
    """([n*K, L, H*2] codes, [n*K] rules, [n*K] targets) of seed i on unpermuted problems."""
    K = res.spec.task_args["num_features"]
    model, task = res.model_for_seed(i), res.task_for_seed(i)
    batch = task.sample(runs.analysis_key(res.spec.seeds[i], split), n, split, permute=False)
    codes = np.concatenate([analysis.raven_slot_codes(analysis.forward_codes(model, batch.x[j:j + chunk]), K)
                            for j in range(0, n, chunk)])  # [n, L, K, H, 2]
    n_, L = codes.shape[:2]
    return (np.moveaxis(codes, 2, 1).reshape(n_ * K, L, -1), np.asarray(batch.rules).reshape(-1),
            np.asarray(batch.y).reshape(-1))


decode_rows, shown = [], {}
rng = np.random.default_rng(0)
for depth, res in results.items():
    for i, seed in enumerate(res.spec.seeds):
        (xtr, rtr, _), (xte, rte, yte) = (slot_codes(res, i, s, config["latent_size"]) for s in SPLITS)
        L = xtr.shape[1]
        for layer in range(L):
            decode_rows.append(dict(method="hyla", seed=seed, step=res.spec.train.steps,
                                    metric="decoding_accuracy", depth=depth, layer=layer + 1,
                                    value=analysis.decode_accuracy(xtr[:, layer], rtr, xte[:, layer], rte)))
        if i == 0:
            pick = rng.choice(len(rte), size=min(config["tsne_size"], len(rte)), replace=False)
            shown[depth] = dict(first=analysis.embed_2d(xte[pick, 0], seed=0),
                                last=analysis.embed_2d(xte[pick, -1], seed=0),
                                rules=rte[pick], y=yte[pick], L=L)

# %%
# Save data: accuracies of both runs and the per-layer decoding accuracy.
rows = []
for depth, res in results.items():
    rows += [dict(r, layer="") for r in runs.tidy(
        res, "hyla", ("heldout_accuracy", "heldout_feature_accuracy"), depth=depth)]
rows += decode_rows
timer.__exit__(None, None, None)
task = results[next(iter(results))].spec.task_args
arrays = {f"{k}_{d}": v[k] for d, v in shown.items() for k in ("first", "last", "rules", "y")}
figdata.save(FIGURE, out_dir, preset, rows, arrays=arrays, wall_time_s=timer.elapsed,
             provenance_extra={**runs.provenance(results, "depth {}".format),
                               "task": {k: task[k] for k in ("num_features", "num_values", "permute_features")},
                               "rules": list(RULES), "loadavg": os.getloadavg(),
                               "overrides": {"steps": steps, "num_seeds": num_seeds}})

# %% [markdown]
# ## Results
# From the saved data only (`figures/data/figA6_sraven_depth_latents.<preset>.csv` and `.npz`): the
# paper's claim beside ours, then per depth the held-out accuracy and the rule-decoding accuracy of
# every layer (mean ± s.e. over seeds).

# %%
data = figdata.load(FIGURE, preset, out_dir)
print(claims.report(claims.evaluate(data)))
print()
for d in data.unique("depth", "decoding_accuracy"):
    print(f"depth {d}: held-out accuracy {np.mean(data.values('heldout_accuracy', depth=d)):.3f}; "
          "rule decoding per layer", "  ".join(
              "{:.3f} ± {:.3f}".format(*plotting.mean_sem(data.values("decoding_accuracy", depth=d, layer=l)))
              for l in data.unique("layer", "decoding_accuracy", depth=d)))

# %%
fig, paths = figures.render(FIGURE, data, out_dir)  # hyla/figures/figA6_sraven_depth_latents.py

# %% [markdown]
# ## Choices and deviations
# * Depths per preset: `paper` compares depth 4 with 16 (the Fig. 4 grid runs at 20M problems); `gpu`
#   depth 4 (the Fig. 4 run) with 8 (one extra HYLA run with the same 15 000-step schedule; depth 16 is
#   too slow for the budget); `quick` the CPU configuration of Fig. 4 at depth 2 (its HYLA run) with 4
#   (one extra run); `smoke` depth 1 with 2, pipeline only.
# * Every slot is labelled with its own rule, where the official callback kept only the last slot,
#   whose rule is the largest rule index of the problem ([methods](../docs/methods.md#latent-codes)).
# * Chance for rule decoding is one in eight rules; the t-SNE panels show one seed, the decoding curve
#   all seeds.
