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
# **What the figure shows.** The raw latent codes behind Fig. 5: for a query slot of the missing panel,
# its attention scores (after the mixer's normalisation) towards the same slot in the two visible
# bottom-row panels, for every head, in the last layer — read on **unpermuted** problems from
# training and held-out rule combinations (so every rule appears), each slot labelled with its own
# rule (the official callback kept only
# the last slot, whose rule is the maximum rule index of the problem; SPEC §E.1).
#
# * **Top row** — the mean code of each rule (heads × the two keys), HYLA.
# * **Bottom left** — individual sample codes, grouped by rule (each row one slot of one problem;
#   columns = head × key).
# * **Bottom middle** — cosine similarity between those samples (centred codes), grouped by rule:
#   blocks on the diagonal mean that codes of the same rule are alike.
# * **Bottom right** — cosine similarity of the per-rule mean codes (centred) for softmax attention,
#   linear attention and HYLA.
#
# **What the paper reports** (Fig. A8, PAPER-2): samples of attention scores per rule; related rules
# (addition / difference) share codes. No numbers.
#
# **Presets.** The models are the Fig. 4 runs (shared cache entries): `gpu` (K = 4, depth 4,
# 15 000 steps), `paper` (20M problems), `quick` (the CPU configuration of Fig. 4; structure is only
# expected where held-out accuracy is well above chance — the title says so), `smoke` (pipeline).
# With the quick tier's F = 4 values, progression +2 and progression −2 generate identical rows
# (+2 ≡ −2 mod 4), so rules C and E cannot be told apart there.

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
FIGURE = "figA8_sraven_codes"
config = presets.get(FIGURE, preset)
notebook.banner(preset, FIGURE)

import os

import matplotlib.pyplot as plt
import numpy as np

from hyla import analysis, plotting, runs
from hyla.provenance import Timer
from hyla.tasks.raven import RULES, rule_index

ADD, DIFF = rule_index("addition"), rule_index("difference")  # the pair the paper compares

# %%
# Compute: the Fig. 4 runs (from the cache when Fig. 4 has run).
timer = Timer()
timer.__enter__()
results = {m: runs.load_or_train(presets.apply_overrides(s, steps, num_seeds), cache_dir, name=m)
           for m, s in config["specs"].items()}
print("load average (1/5/15 min):", os.getloadavg())

# %%
# Last-layer codes of every query slot on unpermuted problems of both splits (seed 0 of each method).


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

# within-rule vs between-rule similarity of the samples (a summary for the title and the CSV)
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

# %%
# Plot.
plotting.use_style()
fig = plt.figure(figsize=(16, 8.5))
gs = fig.add_gridspec(2, 1, height_ratios=[0.8, 1.2], hspace=0.35)
top = gs[0].subgridspec(1, 8, wspace=0.15)
vmax = np.nanmax(np.abs(mean_codes))
for r in range(len(RULES)):
    ax = fig.add_subplot(top[0, r])
    ax.imshow(mean_codes[r], cmap="RdBu_r", vmin=-vmax, vmax=vmax, aspect="auto")
    ax.grid(False)
    ax.set_xticks([0, 1], ["p7", "p8"], fontsize=7)
    ax.set_yticks(range(0, H, max(1, H // 4)))
    if r == 0:
        ax.set_ylabel("head")
    ax.set_title(f"{'ABCDEFGH'[r]} {RULES[r]}", fontsize=8)
    if not np.any(hy_rules == r):
        ax.text(0.5, 0.5, "no samples", transform=ax.transAxes, ha="center", fontsize=7)
bottom = gs[1].subgridspec(1, 2 + len(cos_means), wspace=0.35, width_ratios=[1.2, 1.2] + [0.8] * len(cos_means))
ax = fig.add_subplot(bottom[0, 0])
ax.imshow(samples, cmap="RdBu_r", aspect="auto", vmin=-np.abs(samples).max(), vmax=np.abs(samples).max(),
          interpolation="nearest")
ax.grid(False)
bounds = np.flatnonzero(np.diff(sample_rules)) + 0.5
for b in bounds:
    ax.axhline(b, color="k", lw=0.6)
mids = [np.mean(np.flatnonzero(sample_rules == r)) for r in np.unique(sample_rules)]
ax.set_yticks(mids, ["ABCDEFGH"[r] for r in np.unique(sample_rules)])
ax.set_xlabel("head × key (p7, p8)")
ax.set_title(f"HYLA sample codes ({n_per} per rule)", fontsize=9)
ax = fig.add_subplot(bottom[0, 1])
ax.imshow(sample_cos, cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
ax.grid(False)
for b in bounds:
    ax.axhline(b, color="k", lw=0.5), ax.axvline(b, color="k", lw=0.5)
ax.set_xticks(mids, ["ABCDEFGH"[r] for r in np.unique(sample_rules)])
ax.set_yticks(mids, ["ABCDEFGH"[r] for r in np.unique(sample_rules)])
ax.set_title(f"sample cosine (centred): within {within:.2f}, between {between:.2f}", fontsize=9)
for j, (m, cos) in enumerate(cos_means.items()):
    ax = fig.add_subplot(bottom[0, 2 + j])
    im = ax.imshow(cos, cmap="RdBu_r", vmin=-1, vmax=1)
    ax.grid(False)
    ax.set_xticks(range(8), list("ABCDEFGH"), fontsize=7)
    ax.set_yticks(range(8), list("ABCDEFGH"), fontsize=7)
    ax.set_title(f"{plotting.method_style(m).label}\nrule-mean cosine, cos(F,G) {cos[ADD, DIFF]:.2f}", fontsize=8)
fig.colorbar(im, ax=ax, fraction=0.046)

K, F = results["hyla"].spec.task_args["num_features"], results["hyla"].spec.task_args["num_values"]
unperm = "" if results["hyla"].spec.task_args["permute_features"] else ", unpermuted"
acc = float(np.mean(runs.final_values(results["hyla"], "heldout_accuracy")))
pipeline = preset == "smoke" or (preset == "quick" and not config["quick_shows_effect"])
prefix = "pipeline check: effect needs the gpu preset — " if pipeline else ""
fig.suptitle(f"Fig. A8 sRAVEN last-layer codes per rule [{preset}, K={K}, F={F}{unperm}, {steps_done} steps]: {prefix}"
             f"HYLA held-out accuracy {acc:.3f} (chance {F ** -K:.3f});\nsample codes of the same rule "
             f"cosine {within:.2f} vs different rules {between:.2f}; cos(addition, difference) of rule "
             f"means {cos_means['hyla'][ADD, DIFF]:.2f}", fontsize=9)
paths = plotting.save_figure(
    fig, FIGURE, out_dir, preset, rows, wall_time_s=timer.elapsed,
    provenance_extra={"runs": {m: r.spec.key() for m, r in results.items()},
                      "within_rule_cosine": within, "between_rule_cosine": between,
                      "summary": f"HYLA held-out accuracy {acc:.3f} (chance {F ** -K:.3f}); sample-code cosine "
                                 f"within rule {within:.2f} vs between rules {between:.2f}; "
                                 f"cos(addition, difference) of rule means {cos_means['hyla'][ADD, DIFF]:.2f}",
                      "pipeline_check": pipeline, "loadavg": os.getloadavg(),
                      "overrides": {"steps": steps, "num_seeds": num_seeds}})
print({k: str(v) for k, v in paths.items()})
