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
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/hyla-companion/hyla/blob/main/notebooks/ext01_init_rate.ipynb)
#
# # Extension 1 — does the initialisation scale decide reasoning vs memorising?
#
# **Related work, not the HYLA paper.** Zhang, Lin, Wang, Zhang, Xu, *Initialization is Critical to
# Whether Transformers Fit Composite Functions by Reasoning or Memorizing* (NeurIPS 2024, arXiv
# 2405.05409 v5) and the follow-up *Complexity Control Facilitates Reasoning-Based Compositional
# Generalization in Transformers* (arXiv 2501.08537).
#
# **Task (anchor composite functions).** Nine tokens from {20..99}, except one adjacent pair of
# *anchors* from {1, 2, 3, 4}; anchor a is a shift s(a) ∈ {+5, +1, −2, −8}, and the target read at the
# last position is key item + s(a1) + s(a2), the key item being the token just before the pair.
# The pair (3, 4) is overridden to x − 6 (instead of the composed x − 10). Key items are split by
# position (item mod 9 ≠ position in training). The unseen pair (4, 3) can be answered by
# *composing* the single-anchor shifts (the **inferential** target x − 10) or by copying the mirrored
# seen pair (the **symmetric** target x − 6).
#
# **Model.** The paper's: one attention head, post-LN blocks, learned absolute positions, causal
# mask, a vocabulary head; every kernel and the embedding drawn with standard deviation
# σ = fan_in^−γ, γ the *initialisation rate* (γ = 0.5 is the usual LeCun scale; larger γ = smaller
# initialisation). Plots show σ (at fan-in D) next to γ: the phase boundary is set by σ, and
# σ = D^−γ depends on the width.
#
# **What the papers report.** Fig. 2 (d = 400, phase diagram over γ × depth): large initialisation
# (small γ) fits the unseen pair (4, 3) *symmetrically* (x − 6, "memorising"), small initialisation
# (large γ) *inferentially* (x − 10, "reasoning"); representative models: 2 layers at γ 0.5
# symmetric, γ 0.8 inferential. The follow-up: with both (3, 4) and (4, 3) unseen, small
# initialisation and/or large weight decay give the inferential solution. RELATED.md's CPU pilot
# (D 64, both pairs unseen, 6 000 steps, one seed each): held-out inferential accuracy 0.89–0.94 at
# σ ≈ 0.008 (γ 1.15) vs 0.10 at standard initialisation, seen pairs 1.0 for both.
#
# **What each preset can show.** `quick` (2-core CPU, ~3 min): the both-unseen variant, the pilot's
# reduced model with a narrower MLP (2 layers, D 64, d_k = d_v = 32, MLP 128), a fixed pool of 30 000
# training sequences, batch 64, lr 2e-3, weight decay 0.01, 3 000 steps (half the pilot's 6 000),
# γ ∈ {0.3, 0.5, 1.15} (σ 0.29 / 0.125 / 0.008), 2 seeds: held-out accuracy on (4, 3) against the
# inferential target vs γ and σ. Small initialisation fits slowly: a seed that has not fitted the
# seen pairs within the budget is shown as such (panel C), not as "memorising". `gpu` (one H100; 28 runs of 4 000 steps,
# estimated ≈ 10–12 min, not run here — no GPU was available): width 400 (d_ff 1200, d_k = d_v =
# 200), batch 512, lr 5e-4, the Fig. 2 phase diagram (main variant, symmetric and inferential
# accuracy on (4, 3), γ ∈ {0.3, 0.5, 0.7, 0.9} × depth {2, 3, 4}), the weight-decay axis of the
# follow-up (γ × wd ∈ {0.01, 1}, both unseen) and — beyond both papers — the same γ sweep at depth 2
# with linear attention and HYLA in place of softmax: does the attention type move the boundary?
# Whether 4 000 steps suffice at width 400 is untested. `paper`: the stated grids (not run here).
#
# **Choices where the papers are silent or where this library differs.** The key-item modulus is
# the public code's (9 = sequence length; the paper text says n − 2). Held-out accuracy uses key
# items from the training range (as the follow-up's headline metric); `heldout_test_accuracy` in
# the CSV uses test-range items. The optimiser is the library's (AdamW, warmup then cosine to 0.1 lr,
# no gradient clipping; the papers clip at 1). Fan-in is each kernel's own input dimension (the
# public code uses d_model for every part). LayerNorm scales start at 1, biases at 0, and the
# learned position table keeps the standard scale D^−1/2 at every γ (the papers scale every
# parameter). With one head, HYLA's RMSHead reduces each score to its sign (the norm over a single
# head), so the HYLA column is a degenerate single-head HYLA.

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
FIGURE = "ext01_init_rate"
config = presets.get(FIGURE, preset)
notebook.banner(preset, FIGURE)

import matplotlib.pyplot as plt
import numpy as np

from hyla import plotting, runs
from hyla.provenance import Timer
from hyla.tasks.anchor import init_std

# %%
# Compute: one cached run per setting (the init rate is part of the model, so settings are separate
# runs; seeds are vmapped). Runs shared between panels are trained once.
timer = Timer()
timer.__enter__()
trained = {}


def run(spec, name):
    spec = presets.apply_overrides(spec, steps, num_seeds)
    if spec.key() not in trained:
        trained[spec.key()] = runs.load_or_train(spec, cache_dir, name=name)
    return trained[spec.key()]


sweep = {g: run(s, f"softmax γ={g} both unseen") for g, s in config["sweep"].items()}
phase = {k: run(s, f"{k[0]} depth {k[1]} γ={k[2]}") for k, s in config["phase"].items()}
wd = {k: run(s, f"γ={k[0]} wd={k[1]} both unseen") for k, s in config["wd"].items()}

# %%
# Save data: tidy rows with gamma, sigma = D^-gamma, depth, mixer, weight decay, variant.
rows = []


def add(res, panel, mixer, gamma):
    m = res.spec.model
    variant = "both_unseen" if len(res.spec.task_args["unseen_pairs"]) == 2 else "main"
    rows.extend(runs.tidy(res, mixer, panel=panel, variant=variant, init_rate=gamma,
                          init_std=init_std(m.emb_dim, gamma), depth=m.num_layers,
                          width=m.emb_dim, weight_decay=res.spec.train.weight_decay))


for g, res in sweep.items():
    add(res, "init_rate_sweep", "softmax", g)
for (mixer, d, g), res in phase.items():
    add(res, "phase_diagram", mixer, g)
for (g, w), res in wd.items():
    add(res, "weight_decay", "softmax", g)
timer.__exit__(None, None, None)

gammas = list(sweep)
emb = next(iter(sweep.values())).spec.model.emb_dim
sigmas = [init_std(emb, g) for g in gammas]
held = np.stack([runs.final_values(sweep[g], "heldout_accuracy") for g in gammas])  # [G, seeds]
held_sym = np.stack([runs.final_values(sweep[g], "heldout_symmetric_accuracy") for g in gammas])
seen = np.stack([runs.final_values(sweep[g], "seen_accuracy") for g in gammas])
train_acc = np.stack([runs.final_values(sweep[g], "train_accuracy") for g in gammas])
g_std = 0.5 if 0.5 in sweep else min(gammas, key=lambda g: abs(g - 0.5))
g_small = max(gammas)
gap = float(held[gammas.index(g_small)].mean() - held[gammas.index(g_std)].mean())
for g, s, h, se in zip(gammas, sigmas, held, seen):
    print(f"γ={g:<5} σ={s:.4f}  held-out (4,3) inferential acc per seed {np.round(h, 3)}"
          f"  seen-pair test acc {np.round(se, 3)}")
print(f"gap small (γ {g_small}, σ {init_std(emb, g_small):.4f}) − standard (γ {g_std}): {gap:+.3f}")

# %%
# Plot.
plotting.use_style()
gpu_panels = bool(phase) or bool(wd)
fig, axes = plt.subplots(3 if gpu_panels else 1, 3, figsize=(13, 11 if gpu_panels else 3.8),
                         squeeze=False)
SOFT = plotting.method_style("softmax")

ax = axes[0, 0]  # A: held-out accuracy vs gamma
x = np.arange(len(gammas))
for vals, lab, ls, mk in ((held, "held-out (4,3), inferential x−10", "-", "o"),
                          (held_sym, "held-out (4,3), symmetric x−6", ":", "v"),
                          (seen, "seen pairs, test items", "--", "s")):
    mean, sem = plotting.mean_sem(vals, axis=1)
    ax.errorbar(x, mean, yerr=sem, marker=mk, linestyle=ls, capsize=3, label=lab,
                color=SOFT.color if mk == "o" else ("0.5" if mk == "s" else "0.75"))
    if mk == "o":
        for i in range(vals.shape[1]):
            ax.scatter(x, vals[:, i], s=12, color=SOFT.color, alpha=0.35, zorder=3)
ax.set_xticks(x, [f"γ {g}\nσ {s:.3f}" for g, s in zip(gammas, sigmas)], fontsize=7)
ax.set_xlabel(f"init rate γ (σ = {emb}^−γ; larger γ = smaller init)")
ax.set_ylabel("accuracy")
ax.set_ylim(-0.03, 1.03)
ax.set_title("A: both (3,4), (4,3) unseen — accuracy vs init", fontsize=9)
ax.legend(fontsize=6.5, loc="center left")

ax = axes[0, 1]  # B: held-out accuracy during training, per gamma
cmap = plt.get_cmap("viridis")
for i, g in enumerate(gammas):
    s, v = sweep[g].metric("heldout_accuracy")
    mean, sem = plotting.mean_sem(v, axis=1)
    c = cmap(i / max(1, len(gammas) - 1))
    ax.plot(s, mean, color=c, label=f"γ {g} (σ {sigmas[i]:.3f})")
    ax.fill_between(s, mean - sem, mean + sem, color=c, alpha=0.2, linewidth=0)
    s2, v2 = sweep[g].metric("seen_accuracy")
    ax.plot(s2, np.nanmean(v2, 1), color=c, linestyle="--", linewidth=0.8)
ax.set_xlabel("training step")
ax.set_ylabel("accuracy (solid: held-out (4,3); dashed: seen)")
ax.set_title("B: held-out accuracy during training", fontsize=9)
ax.legend(fontsize=6.5)

ax = axes[0, 2]  # C: train / seen / held-out per seed at the end (memorising = seen 1, held-out 0)
for i, g in enumerate(gammas):
    c = cmap(i / max(1, len(gammas) - 1))
    ax.scatter(seen[i], held[i], color=c, s=30, label=f"γ {g}", edgecolor="k", linewidth=0.3)
ax.set_xlabel("seen-pair test accuracy")
ax.set_ylabel("held-out (4,3) inferential accuracy")
ax.set_xlim(-0.03, 1.03), ax.set_ylim(-0.03, 1.03)
ax.axhline(0.5, color="0.8", linewidth=0.6), ax.axvline(0.9, color="0.8", linewidth=0.6)
ax.set_title("C: per seed — reasons (top right), memorises (bottom right)", fontsize=8.5)
ax.legend(fontsize=6.5)


def heatmap(ax, table, xs, ys, title, xlabel, ylabel, mask=None):
    im = ax.imshow(table, origin="lower", aspect="auto", vmin=0, vmax=1, cmap="viridis")
    ax.grid(False)
    for (i, j), v in np.ndenumerate(table):
        shade = mask is not None and mask[i, j]
        ax.text(j, i, f"{v:.2f}" + ("*" if shade else ""), ha="center", va="center", fontsize=6.5,
                color="w" if v < 0.6 else "k")
    ax.set_xticks(range(len(xs)), [str(v) for v in xs], fontsize=7)
    ax.set_yticks(range(len(ys)), [str(v) for v in ys], fontsize=7)
    ax.set_xlabel(xlabel), ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=8.5)
    return im


phase_summary = {}
if gpu_panels:
    mixers = sorted({k[0] for k in phase}, key=["softmax", "linear", "hyla"].index)
    pg = sorted({k[2] for k in phase})
    for mixer in mixers:
        depths = sorted({k[1] for k in phase if k[0] == mixer})
        for metric in ("heldout_symmetric_accuracy", "heldout_accuracy"):
            t = np.array([[np.mean(runs.final_values(phase[(mixer, d, g)], metric)) for g in pg]
                          for d in depths])
            phase_summary[(mixer, metric)] = (depths, t)
        phase_summary[(mixer, "seen")] = (depths, np.array(
            [[np.mean(runs.final_values(phase[(mixer, d, g)], "seen_accuracy")) for g in pg]
             for d in depths]))
    panels = [("softmax", "heldout_symmetric_accuracy", "D: softmax — (4,3) symmetric x−6"),
              ("softmax", "heldout_accuracy", "E: softmax — (4,3) inferential x−10")]
    for j, (mixer, metric, title) in enumerate(panels):
        depths, t = phase_summary[(mixer, metric)]
        heatmap(axes[1, j], t, pg, depths, title + " (* seen < 0.9)", "init rate γ", "depth",
                mask=phase_summary[(mixer, "seen")][1] < 0.9)
    ax = axes[1, 2]  # F: extension — attention types, inferential accuracy vs gamma (main variant)
    for mixer in mixers:
        depths, t = phase_summary[(mixer, "heldout_accuracy")]
        _, ts = phase_summary[(mixer, "heldout_symmetric_accuracy")]
        st = plotting.method_style(mixer)
        ax.plot(pg, t.mean(0), marker=st.marker, color=st.color, label=f"{st.label}: x−10")
        ax.plot(pg, ts.mean(0), marker=st.marker, color=st.color, linestyle=":",
                label=f"{st.label}: x−6")
    ax.set_xlabel("init rate γ")
    ax.set_ylabel("(4,3) accuracy, mean over depths")
    ax.set_ylim(-0.03, 1.03)
    ax.set_title("F: beyond both papers — attention type (main variant)", fontsize=8.5)
    ax.legend(fontsize=6)
    if wd:  # G: the weight-decay axis of the complexity-control paper
        wg = sorted({k[0] for k in wd})
        ws = sorted({k[1] for k in wd})
        t = np.array([[np.mean(runs.final_values(wd[(g, w)], "heldout_accuracy")) for g in wg]
                      for w in ws])
        ts = np.array([[np.mean(runs.final_values(wd[(g, w)], "seen_accuracy")) for g in wg]
                       for w in ws])
        heatmap(axes[2, 0], t, wg, ws, "G: both unseen — (4,3) inferential, weight decay × γ "
                "(* seen < 0.9)", "init rate γ", "weight decay", mask=ts < 0.9)
    for j, mixer in enumerate(m for m in mixers if m != "softmax"):  # H, I: the other mixers
        depths, t = phase_summary[(mixer, "heldout_accuracy")]
        heatmap(axes[2, 1 + j], t, pg, depths,
                f"{'HI'[j]}: {plotting.method_style(mixer).label} — (4,3) inferential x−10 (* seen < 0.9)",
                "init rate γ", "depth", mask=phase_summary[(mixer, "seen")][1] < 0.9)
    for ax in axes[2]:
        if not ax.has_data() and not ax.images:
            ax.axis("off")

steps_done = next(iter(sweep.values())).spec.train.steps
sm_mean, st_mean = held[gammas.index(g_small)].mean(), held[gammas.index(g_std)].mean()


def outcomes(i):
    """Per seed: reasons (seen >= 0.9, held-out >= 0.5), memorises (seen >= 0.9, held-out < 0.5),
    or has not fitted the seen pairs (seen < 0.9)."""
    kinds = ["not fitted" if s < 0.9 else ("reasons" if h >= 0.5 else "memorises")
             for s, h in zip(seen[i], held[i])]
    return ", ".join(f"{kinds.count(k)} {k}" for k in ("reasons", "memorises", "not fitted")
                     if kinds.count(k))


pilot = config["pilot"]
check = "pipeline check, numbers mean nothing — " if preset == "smoke" else ""
line1 = (f"Ext. 1 init rate [{preset}, {steps_done} steps, D {emb}, (3,4) and (4,3) unseen]: {check}"
         "held-out (4,3) inferential accuracy " + " | ".join(
             f"γ {g} (σ {s:.3f}): {held[i].mean():.2f}" for i, (g, s) in enumerate(zip(gammas, sigmas))))
line2 = ("seeds: " + "; ".join(f"γ {g}: {outcomes(i)}" for i, g in enumerate(gammas))
         + f". Small − standard init gap {gap:+.2f} (pilot, 6 000 steps: {pilot['small_init_heldout'][0]:.2f}–"
         f"{pilot['small_init_heldout'][1]:.2f} vs {pilot['standard_init_heldout']:.2f})"
         + ("" if gpu_panels else ". Phase diagram, weight decay, attention types: gpu preset"))
fig.suptitle(line1 + "\n" + line2, fontsize=8)
fig.tight_layout()
paths = plotting.save_figure(
    fig, FIGURE, out_dir, preset, rows, wall_time_s=timer.elapsed,
    provenance_extra={"runs": {r.spec.key(): r.spec.model.init_rate for r in trained.values()},
                      "train_wall_time_s": {k: round(r.wall_time_s, 1) for k, r in trained.items()},
                      "heldout_accuracy_by_gamma": {str(g): held[i].tolist()
                                                    for i, g in enumerate(gammas)},
                      "seen_accuracy_by_gamma": {str(g): seen[i].tolist() for i, g in enumerate(gammas)},
                      "init_std_by_gamma": dict(zip(map(str, gammas), sigmas)),
                      "gap_small_minus_standard": gap, "pilot": pilot,
                      "paper": "Zhang et al. 2024: small init (larger γ) infers the unseen composition, "
                               "standard init memorises",
                      "summary": "held-out (4,3) inferential accuracy: " + ", ".join(
                          f"γ {g} (σ {s:.3f}) {np.mean(held[i]):.2f}" for i, (g, s) in enumerate(zip(gammas, sigmas)))
                          + f"; small − standard {gap:+.2f}",
                      "seed_outcomes": {str(g): outcomes(i) for i, g in enumerate(gammas)},
                      "overrides": {"steps": steps, "num_seeds": num_seeds}})
print({k: str(v) for k, v in paths.items()})
