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
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/hyla-companion/hyla/blob/main/notebooks/figA8_sraven_codes.ipynb)
#
# # Fig. A8 — sRAVEN: attention-score samples per rule and their similarities
#
# The raw latent codes behind Fig. 5 ([methods](../docs/methods.md#latent-codes)): for a query slot of
# the missing panel, its attention scores (after the mixer's normalisation) towards the same slot in the
# two visible bottom-row panels, for every head, in the last layer. They are read on **unpermuted**
# problems of the training and held-out rule combinations, so that every rule appears, each slot
# labelled with its own rule ([methods](../docs/methods.md#sraven-rules)). Top row: HYLA's mean code of
# each rule (heads × the two keys). Bottom: individual HYLA sample codes grouped by rule, the cosine
# similarity between them (centred; blocks on the diagonal mean that codes of one rule are alike), and
# the cosine similarity of the per-rule mean codes for softmax attention, linear attention and HYLA.
#
# **The paper** (Fig. A8, qualitative): samples of attention scores per rule; related rules (addition
# and difference) share codes.
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

FIGURE = "figA8_sraven_codes"
config = notebook.setup(FIGURE, globals())

import os

import numpy as np

from hyla import analysis, claims, figdata, figures, runs
from hyla.provenance import Timer
from hyla.tasks.raven import RULES

# %% [markdown]
# ## Compute
# The models are the Fig. 4 runs (shared cache entries, no extra training).

# %%
timer = Timer()
timer.__enter__()
results = notebook.train(config["specs"], cache_dir, steps, num_seeds)
print("load average (1/5/15 min):", os.getloadavg())

# %% [markdown]
# Last-layer codes of every query slot on unpermuted problems of both splits (seed 0 of each method).
# The official callback kept only the last slot, whose rule is the largest rule index of the problem;
# here every slot is labelled with its own rule ([methods](../docs/methods.md#latent-codes)).

# %%


def slot_codes(res, n, split="heldout_combos", chunk=1024):
    """([n*K, H, 2] last-layer codes, [n*K] rules) of seed 0 on unpermuted problems."""
    K = res.spec.task_args["num_features"]
    model, task = res.model_for_seed(0), res.task_for_seed(0)
    batch = task.sample(runs.analysis_key(res.spec.seeds[0], split), n, split, permute=False)
    codes = np.concatenate([analysis.raven_slot_codes(analysis.forward_codes(model, batch.x[j:j + chunk]), K)
                            for j in range(0, n, chunk)])  # [n, L, K, H, 2]
    last = codes[:, -1]  # [n, K, H, 2]
    return last.reshape(-1, *last.shape[2:]), np.asarray(batch.rules).reshape(-1)


codes, labels, cos_means = {}, {}, {}
for m, res in results.items():  # both splits, so that every rule appears
    parts = [slot_codes(res, config["latent_size"], split) for split in ("train", "heldout_combos")]
    codes[m] = np.concatenate([c for c, _ in parts])
    labels[m] = np.concatenate([r for _, r in parts])
    flat = codes[m].reshape(len(codes[m]), -1)
    cos_means[m] = analysis.class_mean_cosine(flat - flat.mean(0), labels[m], len(RULES))

hy, hy_rules = codes["hyla"], labels["hyla"]
H = hy.shape[1]
mean_codes = np.stack([hy[hy_rules == r].mean(0) if np.any(hy_rules == r) else np.full(hy.shape[1:], np.nan)
                       for r in range(len(RULES))])  # [8, H, 2]
rng = np.random.default_rng(0)
n_per = config["samples_per_rule"]
sample_idx = np.concatenate([rng.choice(np.flatnonzero(hy_rules == r), size=min(n_per, np.sum(hy_rules == r)),
                                        replace=False) for r in range(len(RULES)) if np.any(hy_rules == r)])
samples = hy[sample_idx].reshape(len(sample_idx), -1)  # [n, H*2], columns head-major (h0k1, h0k2, ...)
sample_rules = hy_rules[sample_idx]
centred = samples - hy.reshape(len(hy), -1).mean(0)
unit = centred / (np.linalg.norm(centred, axis=1, keepdims=True) + 1e-12)
sample_cos = unit @ unit.T

# within-rule vs between-rule similarity of the samples (a summary for the CSV)
same = sample_rules[:, None] == sample_rules[None, :]
off = ~np.eye(len(sample_rules), dtype=bool)
within, between = float(sample_cos[same & off].mean()), float(sample_cos[~same].mean())

# %%
# Save data: per-rule mean codes (HYLA), per-rule mean cosine matrices (all methods), the summary.
steps_done = results["hyla"].spec.train.steps
rows = []
for r in range(len(RULES)):
    for h in range(H):
        for k in range(2):
            rows.append(dict(method="hyla", seed=0, step=steps_done, metric="mean_code",
                             value=float(mean_codes[r, h, k]), rule_a=RULES[r], rule_b="", head=h,
                             key=("panel 7", "panel 8")[k]))
for m, cos in cos_means.items():
    for a in range(len(RULES)):
        for b in range(len(RULES)):
            rows.append(dict(method=m, seed=0, step=results[m].spec.train.steps,
                             metric="rule_mean_code_cosine", value=float(cos[a, b]), rule_a=RULES[a],
                             rule_b=RULES[b], head="", key=""))
for name, v in (("sample_cosine_within_rule", within), ("sample_cosine_between_rules", between)):
    rows.append(dict(method="hyla", seed=0, step=steps_done, metric=name, value=v, rule_a="",
                     rule_b="", head="", key=""))
timer.__exit__(None, None, None)
print(f"HYLA sample cosine: within rule {within:.3f}, between rules {between:.3f}")

task = results["hyla"].spec.task_args
figdata.save(FIGURE, out_dir, preset, rows, wall_time_s=timer.elapsed,
             arrays={"samples": samples, "sample_rules": sample_rules, "sample_cosine": sample_cos},
             provenance_extra={"runs": {m: r.spec.key() for m, r in results.items()},
                               "within_rule_cosine": within, "between_rule_cosine": between,
                               "task": {k: task[k] for k in ("num_features", "num_values", "permute_features")},
                               "hyla_heldout_accuracy": float(np.mean(runs.final_values(results["hyla"],
                                                                                        "heldout_accuracy"))),
                               "samples_per_rule": n_per, "loadavg": os.getloadavg(),
                               "overrides": {"steps": steps, "num_seeds": num_seeds}})

# %% [markdown]
# ## Results
# From the saved data only (`figures/data/figA8_sraven_codes.<preset>.csv` and `.npz`): the paper's
# claim beside ours, HYLA's held-out accuracy, and the cosine of the addition and difference mean codes
# for every method.

# %%
data = figdata.load(FIGURE, preset, out_dir)
print(claims.report(claims.evaluate(data)))
task = data.extra["task"]
print(f"\nHYLA held-out accuracy {data.extra['hyla_heldout_accuracy']:.3f} "
      f"(chance {task['num_values'] ** -task['num_features']:.3f})")
for m in data.unique("method", "rule_mean_code_cosine"):
    cos = data.values("rule_mean_code_cosine", method=m, rule_a="addition", rule_b="difference")[0]
    print(f"{m:8s} cos(addition, difference) of the rule mean codes {cos:+.2f}")

# %%
fig, paths = figures.render(FIGURE, data, out_dir)  # hyla/figures/figA8_sraven_codes.py

# %% [markdown]
# ## Choices and deviations
# * Presets: the models are the Fig. 4 runs: `gpu` (K = 4, depth 4, 15 000 steps), `paper` (20M
#   problems), `quick` (the CPU configuration of Fig. 4, where structure is expected only where the
#   held-out accuracy is well above chance) and `smoke` (pipeline).
# * With the quick tier's F = 4 values, progression +2 and progression −2 generate identical rows
#   (+2 ≡ −2 mod 4), so rules C and E cannot be told apart there.
# * Codes are centred (the mean code over all slots removed) before any cosine, so that a code shared
#   by every rule does not make all rules look alike.
# * Samples: a fixed number per rule drawn with a fixed seed from seed 0's codes; the cosine matrices
#   of the rule means use all slots.
