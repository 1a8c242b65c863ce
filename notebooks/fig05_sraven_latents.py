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
# In layer l, the code of a (query, key) pair is the H-vector of its attention scores
# ([methods](../docs/methods.md#latent-codes)). For each query slot of the missing panel we read its
# codes towards the same slot in the two visible panels of the bottom row, an (H × 2) code per slot and
# layer, on **unpermuted** problems, so that each slot is labelled with its own rule and target value.
# Panels: **A / B** t-SNE of the final-layer and first-layer codes of HYLA on held-out combinations, by
# rule and by target value; **E** cosine similarity of the per-rule mean final-layer codes; **F** rule
# decoding accuracy per layer ([methods](../docs/methods.md#latent-analyses)); **C** one head against
# many; **D** held-out accuracy against the number of features K.
#
# **The paper** (Fig. 5, qualitative): final-layer codes cluster by rule and early-layer codes by
# target value; addition and difference have nearly identical codes; the rule is decodable out of
# distribution, best in later layers; a single head is noticeably worse; more features are harder.
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

from hyla import notebook, presets

FIGURE = "fig05_sraven_latents"
config = notebook.setup(FIGURE, globals())

import os

import numpy as np

from hyla import analysis, claims, figdata, figures, plotting, runs
from hyla.provenance import Timer
from hyla.tasks.raven import RULES

# %% [markdown]
# ## Compute
# The shared Fig. 4 runs, plus the single-head runs (C) and the number-of-features runs (D).

# %%
timer = Timer()
timer.__enter__()


def train(spec, name):
    return runs.load_or_train(presets.apply_overrides(spec, steps, num_seeds), cache_dir, name=name)


results = {m: train(s, f"{m}") for m, s in config["specs"].items()}
heads = {(m, h): train(s, f"{m} heads={h}") for (m, h), s in config["heads_specs"].items()}
ks = {(m, k): train(s, f"{m} K={k}") for (m, k), s in config["k_specs"].items()}
print("load average (1/5/15 min):", os.getloadavg())

# %% [markdown]
# Latent codes on unpermuted problems, every slot with its own rule and target value (the official
# callback kept only the last slot: [why we use every slot](../docs/figures/fig05_sraven_latents.md)).
# For every method and seed: the rule decoded from each layer's codes, and the cosine similarity of the
# per-rule mean final-layer codes, centred by their overall mean first (raw attention scores share a
# large common component that makes every pair look alike). The t-SNE uses a fixed random subset of
# the first seed's held-out codes of HYLA.

# %%
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
        codes = {s: slot_codes(res, i, s, config["latent_size"]) for s in SPLITS}
        (xtr, rtr, _), (xte, rte, yte) = codes["train"], codes["heldout_combos"]
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
            latent = dict(x=xte, rules=rte, y=yte)

rng = np.random.default_rng(0)
pick = rng.choice(len(latent["rules"]), size=min(config["tsne_size"], len(latent["rules"])), replace=False)
emb_final = analysis.embed_2d(latent["x"][pick, -1], seed=0)
emb_early = analysis.embed_2d(latent["x"][pick, 0], seed=0)
# First-layer codes depend only on the tokens involved (the query slot is an all-zero token), so they
# take few distinct values and many t-SNE points coincide: count the distinct codes of both layers.
distinct = [len(np.unique(np.round(latent["x"][pick, layer], 5), axis=0)) for layer in (0, -1)]

# %% [markdown]
# Save: the accuracies of every run, the decoding accuracy per layer and the per-rule cosine
# similarities (CSV); the t-SNE coordinates with each point's rule and target value (NPZ).

# %%
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

task = results[config["latent_method"]].spec.task_args
named = [*results.items(), *((f"{m} h={h}", r) for (m, h), r in heads.items()),
         *((f"{m} K={k}", r) for (m, k), r in ks.items())]
figdata.save(FIGURE, out_dir, preset, rows, wall_time_s=timer.elapsed,
             arrays=dict(tsne_final=emb_final, tsne_early=emb_early, tsne_rules=latent["rules"][pick],
                         tsne_target=latent["y"][pick], distinct_codes=np.array(distinct)),
             provenance_extra={"runs": {m: r.spec.key() for m, r in results.items()},
                               "heads_runs": {f"{m} h={h}": r.spec.key() for (m, h), r in heads.items()},
                               "k_runs": {f"{m} K={k}": r.spec.key() for (m, k), r in ks.items()},
                               "train_wall_time_s": {name: round(r.wall_time_s, 1) for name, r in named},
                               "task": {k: task[k] for k in ("num_features", "num_values", "permute_features")},
                               "pipeline_check": preset == "smoke" or (
                                   preset == "quick" and not config["quick_shows_effect"]),
                               "loadavg": os.getloadavg(),
                               "overrides": {"steps": steps, "num_seeds": num_seeds}})

# %% [markdown]
# ## Results
# From the saved data only (`figures/data/fig05_sraven_latents.<preset>.csv`): the paper's claims beside
# ours, with the verdict of the rule in `hyla.claims`, then each method's held-out accuracy and rule
# decoding accuracy per layer (mean ± s.e. over seeds), and HYLA's cosine of addition and difference.

# %%
data = figdata.load(FIGURE, preset, out_dir)
print(claims.report(claims.evaluate(data)))
print()
t = data.extra["task"]
print(f"{plotting.sraven_setting(t)}chance {t['num_values'] ** -t['num_features']:.4f}; rule decoding chance 0.125")
for method in data.unique("method", run="base"):
    acc = "{:.3f} ± {:.3f}".format(*plotting.mean_sem(data.values("heldout_accuracy", method=method, run="base")))
    dec = ", ".join("{:.2f}".format(np.mean(data.values("decoding_accuracy", method=method, layer=l)))
                    for l in data.unique("layer", "decoding_accuracy"))
    print(f"{method:10s} held-out accuracy {acc}  rule decoding per layer: {dec}")
first = min(data.unique("seed", "rule_mean_code_cosine"))
print("HYLA cos(addition, difference), first seed:", "{:.3f}".format(*data.values(
    "rule_mean_code_cosine", method="hyla", seed=first, rule_a="addition", rule_b="difference")))

# %%
fig, paths = figures.render(FIGURE, data, out_dir)  # hyla/figures/fig05_sraven_latents.py

# %% [markdown]
# ## Choices and deviations
# * Every query slot is used, not only the last one as in the official callback
#   ([why](../docs/figures/fig05_sraven_latents.md)).
# * Where the paper is silent ([methods](../docs/methods.md#open-questions)): t-SNE (scikit-learn, PCA
#   initialisation) rather than UMAP; a slot's code concatenates its scores towards both visible
#   bottom-row panels; codes are standardised before the probe (L2 logistic regression, `C = 1`); the
#   first layer is shown as "early".
# * Presets: `gpu` uses the Fig. 4 runs (K = 4, depth 4, 15 000 steps) for A, B, E and F, and 6 000-step
#   runs for C (HYLA and softmax) and D (HYLA, K from 2 to 4); `paper` the 20M-problem runs; `quick`
#   the CPU configuration of Fig. 4, where structure is expected only if held-out accuracy is well
#   above chance; `smoke` checks the pipeline only. With the quick tier's F = 4 values, progression +2
#   and progression −2 generate identical rows, so rules C and E cannot be told apart there.
# * The committed `gpu` data (`figures/data/fig05_sraven_latents.gpu.*`, made with
#   `python -m hyla.reproduce --engine script --preset gpu`) predates the saved t-SNE arrays and task
#   settings: its panels A and B say "not in this run's data", and C and D have no chance line.
