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
# **What the figure shows.** The latent codes of Fig. 5 (each query slot's attention scores towards
# the same slot in the two visible bottom-row panels, one (H × 2) code per layer, read on
# **unpermuted** problems and labelled with the slot's own rule — not only the last slot as the
# official callback did, SPEC §E.1) for two HYLA models that differ only in depth. For each model:
# t-SNE of the first-layer codes coloured by the target value and of the last-layer codes coloured by
# rule, and the rule-decoding accuracy of every layer (multinomial logistic regression fitted on
# training combinations, scored on held-out combinations; `decoding_accuracy`) plotted against the
# relative depth of the layer.
#
# **What the paper reports** (Figs. A6 / A7, PAPER-2): the codes of depth-4 and depth-16 models;
# structure by rule emerges in the later layers. No numbers.
#
# **What each preset can show.** `paper`: depth 4 vs 16 (the Fig. 4 grid runs at 20M problems).
# `gpu`: depth 4 (the Fig. 4 run) vs depth 8 (one extra HYLA run with the same 15 000-step schedule;
# depth 16 is too slow for the budget). `quick`: the CPU configuration of Fig. 4 at depth 2 (its HYLA
# run) vs depth 4 (one extra run). `smoke`: depth 2 vs 3, pipeline only.

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
FIGURE = "figA6_sraven_depth_latents"
config = presets.get(FIGURE, preset)
notebook.banner(preset, FIGURE)

import os

import matplotlib.pyplot as plt
import numpy as np

from hyla import analysis, plotting, runs
from hyla.provenance import Timer
from hyla.tasks.raven import RULES

# %%
# Compute: the shallow HYLA run (shared with Fig. 4) and one deeper HYLA run.
timer = Timer()
timer.__enter__()
results = {d: runs.load_or_train(presets.apply_overrides(s, steps, num_seeds), cache_dir,
                                 name=f"hyla depth={d}")
           for d, s in config["specs"].items()}
print("load average (1/5/15 min):", os.getloadavg())

# %%
# Latent codes on unpermuted problems, every slot with its own rule; decoding per layer.
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
acc = {d: float(np.mean(runs.final_values(r, "heldout_accuracy"))) for d, r in results.items()}
dec = {d: [float(np.mean([r["value"] for r in decode_rows if r["depth"] == d and r["layer"] == l]))
           for l in range(1, shown[d]["L"] + 1)] for d in results}
print("held-out accuracy:", acc, "| decoding per layer:", {d: [round(v, 3) for v in x] for d, x in dec.items()})

# %%
# Plot.
plotting.use_style()
depths = list(results)
fig, axes = plt.subplots(len(depths), 3, figsize=(14, 4.0 * len(depths)), squeeze=False)
res0 = results[depths[0]]
F = res0.spec.task_args["num_values"]
K = res0.spec.task_args["num_features"]
unperm = "" if res0.spec.task_args["permute_features"] else ", unpermuted"
for row, d in enumerate(depths):
    s = shown[d]
    ax = axes[row, 0]
    sc = ax.scatter(s["first"][:, 0], s["first"][:, 1], s=5, c=s["y"], cmap="viridis", vmin=0, vmax=F - 1)
    fig.colorbar(sc, ax=ax, label="target value")
    ax.set_title(f"depth {d}: layer 1 codes by target value", fontsize=9)
    ax = axes[row, 1]
    for r, name in enumerate(RULES):
        sel = s["rules"] == r
        ax.scatter(s["last"][sel, 0], s["last"][sel, 1], s=5, color=plt.get_cmap("tab10")(r),
                   label=f"{'ABCDEFGH'[r]} {name}")
    ax.set_title(f"depth {d}: layer {s['L']} codes by rule", fontsize=9)
    if row == 0:
        ax.legend(fontsize=6, markerscale=2.5, loc="best")
    for ax in axes[row, :2]:
        ax.set_xticks([]), ax.set_yticks([])
gs = axes[0, 2].get_gridspec()
for ax in axes[:, 2]:
    ax.remove()
ax = fig.add_subplot(gs[:, 2])
for j, d in enumerate(depths):
    L = shown[d]["L"]
    v = np.array([[r["value"] for r in decode_rows if r["depth"] == d and r["layer"] == l]
                  for l in range(1, L + 1)])
    mean, sem = plotting.mean_sem(v, axis=1)
    plotting.band(ax, np.arange(1, L + 1) / L, mean, sem, "hyla", label=f"HYLA depth {d}",
                  linestyle=["-", "--", ":"][j % 3])
ax.axhline(1 / 8, color="0.5", ls=":", lw=1, label="chance")
ax.set_xlabel("relative depth of the layer (layer / depth)")
ax.set_ylabel("rule decoding accuracy (held-out combos)")
ax.set_title("rule decoded from the code, per layer", fontsize=9)
ax.legend(fontsize=7)

steps_done = res0.spec.train.steps
pipeline = preset == "smoke" or (preset == "quick" and not config["quick_shows_effect"])
prefix = "pipeline check: effect needs the gpu preset — " if pipeline else ""
fig.suptitle(f"Fig. A6/A7 sRAVEN HYLA codes vs depth [{preset}, K={K}, F={F}{unperm}, {steps_done} steps]: {prefix}\n"
             + "; ".join(f"depth {d}: held-out accuracy {acc[d]:.3f}, last-layer rule decoding "
                         f"{dec[d][-1]:.2f}" for d in depths) + " (chance 0.125)", fontsize=9)
fig.tight_layout()
paths = plotting.save_figure(
    fig, FIGURE, out_dir, preset, rows, wall_time_s=timer.elapsed,
    provenance_extra={"runs": {f"depth {d}": r.spec.key() for d, r in results.items()},
                      "train_wall_time_s": {f"depth {d}": round(r.wall_time_s, 1) for d, r in results.items()},
                      "heldout_accuracy": acc, "decoding_accuracy_per_layer": dec,
                      "pipeline_check": pipeline, "loadavg": os.getloadavg(),
                      "overrides": {"steps": steps, "num_seeds": num_seeds}})
print({k: str(v) for k, v in paths.items()})
