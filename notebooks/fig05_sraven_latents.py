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
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/hyla-companion/hyla/blob/main/notebooks/fig05_sraven_latents.ipynb)
#
# # Fig. 5 — sRAVEN: the latent code, and two ablations
#
# **The latent code.** In layer l, the code of a (query, key) pair is the H-vector of attention scores
# a_{l,:,q,k}. For each query slot s of the missing panel (token 8K + s) we read its codes towards the
# **same slot** in the two visible panels of the bottom row (tokens 6K + s and 7K + s): an (H × 2)
# code per slot and layer (`hyla.analysis.raven_slot_codes`). Codes are read on **unpermuted**
# problems (`task.sample(..., permute=False)`), where slot s holds feature s in every column, so each
# slot is labelled with **its own rule** (and its own target value).
#
# *Deviation from the official callback (SPEC §E.1):* the official `RavenLatents` callback kept only
# the LAST slot. Because rule combinations are sorted multisets and unpermuted problems keep the
# feature order, the last slot's rule is the **maximum** rule index of the problem (rule 7 in 120 of
# 330 combinations, rule 0 in 1), so a per-rule analysis of it is badly unbalanced. We use every slot.
#
# * **A / B** — t-SNE (scikit-learn, PCA init) of the final-layer (A) and first-layer (B) codes of
#   the HYLA model on held-out combinations, coloured by the slot's rule (left) and by its target
#   value (right). Paper: final-layer codes cluster by rule, early-layer codes by target magnitude.
#   First-layer codes depend only on the tokens involved (the query slot is an all-zero token), so
#   they take few distinct values and many points coincide; the titles give the number of distinct codes.
# * **E** — cosine similarity of the per-rule mean final-layer codes (8 × 8), codes centred by their
#   overall mean first (raw attention scores share a large common component that makes every pair
#   look alike). Paper: addition (F) and difference (G) have nearly identical codes.
# * **F** — rule decoding accuracy per layer: a multinomial logistic regression on the (H × 2) codes,
#   fitted on training combinations, scored on held-out combinations (`decoding_accuracy`;
#   chance 1/8). Paper: decodable out of distribution, best in later layers.
# * **C** — held-out accuracy with one head vs the preset's number of heads, total qk / v dims kept
#   (paper: a single head is noticeably worse).
# * **D** — held-out accuracy vs the number of features K (paper: harder with more features).
#
# **What each preset can show.** `gpu`: the Fig. 4 runs (K = 4, depth 4, 15 000 steps) for A/B/E/F;
# C and D as 6 000-step runs (C: HYLA and softmax; D: HYLA, K ∈ {2, 3, 4}). `paper`: the 20M-problem
# runs. `quick`: the CPU configuration of Fig. 4 (see its search table); its title says whether the
# accuracy there is high enough for the latent structure to mean anything — structure is expected only
# where held-out accuracy is well above chance. `smoke`: pipeline only.
# With the quick tier's F = 4 values, progression +2 and progression −2 generate identical rows
# (+2 ≡ −2 mod 4), so rules C and E cannot be told apart there.
#
# Choices where the paper is silent (SPEC §E.2, §H.2): t-SNE rather than UMAP; the code of a slot is
# the concatenation of its scores towards both visible bottom-row panels; codes standardised before
# the probe (L2 logistic regression, C = 1); the first layer is shown as "early".
#
# **GPU tier, measured** (2026-11-22): it reuses Fig. 4's gpu runs and trained the head and K ablations at 6 000 steps in 6 min on one H100. Figure: `figures/` (the gpu tier's PNG/PDF replace the quick tier's), data and provenance: `figures/data/*.gpu.*` (made with `python -m hyla.reproduce --engine script --preset gpu`); the README's "Results at a glance" puts them beside the paper.

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
FIGURE = "fig05_sraven_latents"
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
# Compute: the shared Fig. 4 runs, plus the single-head and number-of-features runs.
timer = Timer()
timer.__enter__()


def train(spec, name):
    return runs.load_or_train(presets.apply_overrides(spec, steps, num_seeds), cache_dir, name=name)


results = {m: train(s, f"{m}") for m, s in config["specs"].items()}
heads = {(m, h): train(s, f"{m} heads={h}") for (m, h), s in config["heads_specs"].items()}
ks = {(m, k): train(s, f"{m} K={k}") for (m, k), s in config["k_specs"].items()}
print("load average (1/5/15 min):", os.getloadavg())

# %%
# Latent codes on unpermuted problems: every slot with its own rule and target value.
K = config["num_features"]
SPLITS = ("train", "heldout_combos")


def slot_codes(res, i, split, n, chunk=1024):
    """([n*K, L, H*2] codes, [n*K] rules, [n*K] targets) of seed i on unpermuted problems."""
    model, task = res.model_for_seed(i), res.task_for_seed(i)
    batch = task.sample(runs.analysis_key(res.spec.seeds[i], split), n, split, permute=False)
    codes = np.concatenate([analysis.raven_slot_codes(analysis.forward_codes(model, batch.x[j:j + chunk]), K)
                            for j in range(0, n, chunk)])  # [n, L, K, H, 2]
    n_, L = codes.shape[:2]
    x = np.moveaxis(codes, 2, 1).reshape(n_ * K, L, -1)
    return x, np.asarray(batch.rules).reshape(-1), np.asarray(batch.y).reshape(-1)


decode_rows, cos_rows, latent = [], [], {}
for method, res in results.items():
    for i, seed in enumerate(res.spec.seeds):
        data = {s: slot_codes(res, i, s, config["latent_size"]) for s in SPLITS}
        (xtr, rtr, _), (xte, rte, yte) = data["train"], data["heldout_combos"]
        for layer in range(xtr.shape[1]):
            acc = analysis.decode_accuracy(xtr[:, layer], rtr, xte[:, layer], rte)
            decode_rows.append(dict(method=method, seed=seed, step=res.spec.train.steps,
                                    metric="decoding_accuracy", value=acc, layer=layer + 1,
                                    rule_a="", rule_b=""))
        xall = np.concatenate([xtr[:, -1], xte[:, -1]])
        rall = np.concatenate([rtr, rte])
        cos = analysis.class_mean_cosine(xall - xall.mean(0), rall, len(RULES))  # centred codes
        for a in range(len(RULES)):
            for b in range(len(RULES)):
                cos_rows.append(dict(method=method, seed=seed, step=res.spec.train.steps,
                                     metric="rule_mean_code_cosine", value=float(cos[a, b]),
                                     layer=xtr.shape[1], rule_a=RULES[a], rule_b=RULES[b]))
        if method == config["latent_method"] and i == 0:
            latent = dict(x=xte, rules=rte, y=yte, cos=cos)

rng = np.random.default_rng(0)
pick = rng.choice(len(latent["rules"]), size=min(config["tsne_size"], len(latent["rules"])), replace=False)
emb_final = analysis.embed_2d(latent["x"][pick, -1], seed=0)
emb_early = analysis.embed_2d(latent["x"][pick, 0], seed=0)

# %%
# Save data: accuracies of every run, decoding accuracy per layer, per-rule cosine similarities.
rows = []
for m, res in results.items():
    rows += runs.tidy(res, m, ("heldout_accuracy", "heldout_feature_accuracy"), run="base",
                      num_heads=res.spec.model.num_heads, num_features=K)
for (m, h), res in heads.items():
    rows += runs.tidy(res, m, ("heldout_accuracy", "heldout_feature_accuracy"), run="heads",
                      num_heads=h, num_features=K)
for (m, k), res in ks.items():
    rows += runs.tidy(res, m, ("heldout_accuracy", "heldout_feature_accuracy"), run="num_features",
                      num_heads=res.spec.model.num_heads, num_features=k)
for r in rows:
    r.update(layer="", rule_a="", rule_b="")
for r in decode_rows + cos_rows:
    r.update(run="base", num_heads=results[r["method"]].spec.model.num_heads, num_features=K)
rows += decode_rows + cos_rows
timer.__exit__(None, None, None)

final_acc = {m: float(np.mean(runs.final_values(r, "heldout_accuracy"))) for m, r in results.items()}
F = results["hyla"].spec.task_args["num_values"]
unperm = "" if results["hyla"].spec.task_args["permute_features"] else ", unpermuted"
chance = F ** -K
dec = {m: [float(np.mean([r["value"] for r in decode_rows if r["method"] == m and r["layer"] == l]))
           for l in sorted({r["layer"] for r in decode_rows})] for m in results}
print("held-out accuracy:", {m: round(v, 3) for m, v in final_acc.items()}, f"chance {chance:.3f}")
print("rule decoding accuracy per layer (held-out combinations):",
      {m: [round(v, 3) for v in d] for m, d in dec.items()})
print(f"cosine(addition, difference) of HYLA mean codes, first seed (panel E): {latent['cos'][ADD, DIFF]:.3f}")

# %%
# Plot.
plotting.use_style()
fig, axes = plt.subplots(2, 4, figsize=(17, 8.2))
rule_cmap = plt.get_cmap("tab10")
L = latent["x"].shape[1]
n_distinct = {layer: len(np.unique(np.round(latent["x"][pick, layer], 5), axis=0)) for layer in (0, L - 1)}
for col, (emb, layer_name) in enumerate(((emb_final, f"final layer {L}"), (emb_early, "layer 1"))):
    ax = axes[0, 2 * col]
    for r, name in enumerate(RULES):
        sel = latent["rules"][pick] == r
        ax.scatter(emb[sel, 0], emb[sel, 1], s=5, color=rule_cmap(r), label=f"{'ABCDEFGH'[r]} {name}")
    nd = n_distinct[L - 1 if col == 0 else 0]
    ax.set_title(f"{'AB'[col]}: t-SNE, {layer_name}, by rule\n({len(pick)} slots, {nd} distinct codes)",
                 fontsize=9)
    ax.set_xticks([]), ax.set_yticks([])
    if col == 0:
        ax.legend(fontsize=6, markerscale=2.5, loc="best", ncol=1)
    ax = axes[0, 2 * col + 1]
    sc = ax.scatter(emb[:, 0], emb[:, 1], s=5, c=latent["y"][pick], cmap="viridis", vmin=0, vmax=F - 1)
    ax.set_title(f"{'AB'[col]}: t-SNE, {layer_name}, by target value", fontsize=9)
    ax.set_xticks([]), ax.set_yticks([])
    fig.colorbar(sc, ax=ax, label="target value")

ax = axes[1, 0]  # E
im = ax.imshow(latent["cos"], cmap="RdBu_r", vmin=-1, vmax=1)
ax.grid(False)
ax.set_xticks(range(8), list("ABCDEFGH"))
ax.set_yticks(range(8), [f"{'ABCDEFGH'[r]} {n}" for r, n in enumerate(RULES)], fontsize=7)
fig.colorbar(im, ax=ax, label="cosine")
ax.set_title(f"E: centred per-rule mean codes, HYLA L{L}\ncos(F addition, G difference) = "
             f"{latent['cos'][ADD, DIFF]:.2f}", fontsize=9)

ax = axes[1, 1]  # F
layers = sorted({r["layer"] for r in decode_rows})
for m in results:
    v = np.array([[r["value"] for r in decode_rows if r["method"] == m and r["layer"] == l]
                  for l in layers])
    mean, sem = plotting.mean_sem(v, axis=1)
    plotting.band(ax, layers, mean, sem, m)
ax.axhline(1 / 8, color="0.5", ls=":", lw=1, label="chance")
ax.set_xticks(layers)
ax.set_xlabel("layer")
ax.set_ylabel("rule decoding accuracy (held-out combos)")
ax.set_title("F: rule decoded from the code (fit: train combos)", fontsize=9)
ax.legend(fontsize=7)

ax = axes[1, 2]  # C
head_methods = sorted({m for m, _ in heads}, key=list(results).index)
hs = sorted({h for _, h in heads}, reverse=True)
for i, m in enumerate(head_methods):
    for j, h in enumerate(hs):
        v = runs.final_values(heads[(m, h)], "heldout_accuracy")
        mean, sem = plotting.mean_sem(v)
        st = plotting.method_style(m)
        ax.bar(i * (len(hs) + 1) + j, mean, yerr=sem, color=st.color, alpha=1.0 if j == 0 else 0.45,
               capsize=3)
        ax.text(i * (len(hs) + 1) + j, 0, f"{h}\nhead{'s' if h > 1 else ''}", ha="center",
                va="bottom", fontsize=7)
ax.axhline(chance, color="0.5", ls=":", lw=1)
ax.set_xticks([i * (len(hs) + 1) + (len(hs) - 1) / 2 for i in range(len(head_methods))],
              [plotting.method_style(m).label for m in head_methods], fontsize=8)
ax.set_ylabel("held-out accuracy")
steps_heads = next(iter(heads.values())).spec.train.steps
ax.set_title(f"C: one head vs many (total qk/v dims kept, {steps_heads} steps)", fontsize=9)

ax = axes[1, 3]  # D
k_methods = sorted({m for m, _ in ks}, key=list(results).index)
kvals = sorted({k for _, k in ks})
for m in k_methods:
    v = np.stack([runs.final_values(ks[(m, k)], "heldout_accuracy") for k in kvals])
    mean, sem = plotting.mean_sem(v, axis=1)
    plotting.band(ax, kvals, mean, sem, m)
ax.plot(kvals, [F ** -k for k in kvals], color="0.5", ls=":", lw=1, label="chance")
ax.set_xticks(kvals)
ax.set_xlabel("number of features K")
ax.set_ylabel("held-out accuracy")
steps_k = next(iter(ks.values())).spec.train.steps
ax.set_title(f"D: accuracy vs number of features ({steps_k} steps)", fontsize=9)
ax.legend(fontsize=7)

steps_done = results["hyla"].spec.train.steps
pipeline = preset == "smoke" or (preset == "quick" and not config["quick_shows_effect"])
prefix = "pipeline check: effect needs the gpu preset — " if pipeline else ""
best = max(range(len(layers)), key=lambda i: dec["hyla"][i])
fig.suptitle(f"Fig. 5 sRAVEN latent codes [{preset}, K={K}, F={F}{unperm}, {steps_done} steps]: {prefix}HYLA held-out "
             f"accuracy {final_acc['hyla']:.3f} (chance {chance:.3f}); HYLA rule decoding best in layer "
             f"{layers[best]} ({dec['hyla'][best]:.2f}, chance 0.125); cos(addition, difference) "
             f"{latent['cos'][ADD, DIFF]:.2f}.\nCodes: every query slot on unpermuted problems, labelled with its own "
             f"rule (the official callback kept only the last slot = the maximum rule index)", fontsize=9)
fig.tight_layout()
paths = plotting.save_figure(
    fig, FIGURE, out_dir, preset, rows, wall_time_s=timer.elapsed,
    provenance_extra={"runs": {m: r.spec.key() for m, r in results.items()},
                      "heads_runs": {f"{m} h={h}": r.spec.key() for (m, h), r in heads.items()},
                      "k_runs": {f"{m} K={k}": r.spec.key() for (m, k), r in ks.items()},
                      "train_wall_time_s": {name: round(r.wall_time_s, 1) for name, r in
                                            [*results.items(), *((f"{m} h={h}", r) for (m, h), r in heads.items()),
                                             *((f"{m} K={k}", r) for (m, k), r in ks.items())]},
                      "heldout_accuracy": final_acc, "decoding_accuracy_per_layer": dec,
                      "pipeline_check": pipeline, "loadavg": os.getloadavg(),
                      "overrides": {"steps": steps, "num_seeds": num_seeds}})
print({k: str(v) for k, v in paths.items()})
