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
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/hyla-companion/hyla/blob/main/notebooks/figA2_logic_latents.ipynb)
#
# # Fig. A2 — the latent code of fuzzy-logic tasks
#
# The latent code of a fuzzy-logic sequence is the H-vector of attention scores of the **query token
# attending to itself**, one per layer (all layers concatenated here)
# ([methods](../docs/methods.md#latent-codes)). For sequences of **held-out** tasks (term combinations
# never trained on) the codes are embedded with t-SNE and coloured three ways: by the **target label**
# f(x) at the query, by the **function** (which held-out term pair) and by **one constituent term**.
# Top row HYLA (the paper's figure), bottom row softmax attention for contrast. Two measurements in the
# code space itself sit beside the pictures: the neighbour agreement κ of each colouring and
# per-layer term probes.
#
# **The paper** (Fig. A2, qualitative; a run with N = 96 and half the pairs held out): HYLA's codes
# cluster by constituent term, and partly by target label.

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

FIGURE = "figA2_logic_latents"
config = notebook.setup(FIGURE, globals())

import numpy as np
import sklearn.linear_model  # noqa: F401  (loaded first so that the thread limit below covers them)
import sklearn.manifold  # noqa: F401
import sklearn.neighbors  # noqa: F401
from threadpoolctl import threadpool_limits

from hyla import analysis, claims, figdata, figures, plotting, runs
from hyla.provenance import Timer

# One BLAS/OpenMP thread for the probes and t-SNE: on a small (2-core, shared) machine their default
# thread pools oversubscribe the cores and run 10-20x slower than single-threaded.
threadpool_limits(1)

# %% [markdown]
# ## Compute
# The cached headline runs of Fig. 2 (N = 32, 70 % held out), shared with Fig. A3 and Table A1: no
# extra training at any tier. Seeds are vmapped.

# %%
timer = Timer()
timer.__enter__()
results = notebook.train(config["specs"], cache_dir, steps, num_seeds, name=notebook.logic_run_name)


# %% [markdown]
# For every seed, the codes of `latent_size` training-task and held-out-task sequences (the same
# analysis batches as Fig. 2B). **Term probes** (`analysis.term_probe_per_layer`): one logistic
# regression per term on the codes of training tasks, scored (F1) on held-out tasks, per layer; once
# with random inputs and once with the query input **fixed** (the official in-training probe's data),
# so that the code varies only with the task and the context. **Neighbour κ**
# (`analysis.neighbour_kappa`, k nearest neighbours of the standardised codes): the fraction sharing a
# label, corrected for chance; the target label is binned into quintiles for it.

# %%
def labels_of(batch):
    """Target, target quintile, function id (index of the term pair) and the shown term of each sequence."""
    terms = np.asarray(batch.terms)
    y = np.asarray(batch.y)
    quintile = np.searchsorted(np.quantile(y, [0.2, 0.4, 0.6, 0.8]), y)
    _, function = np.unique(terms, axis=0, return_inverse=True)
    return dict(target=y, target_quintile=quintile, function=function.reshape(-1),
                term=np.sort(terms, axis=1)[:, config["shown_term_rank"]])


latent_rows, tsne_inputs = [], {}
for method, res in results.items():
    for i, seed in enumerate(res.spec.seeds):
        model, task = res.model_for_seed(i), res.task_for_seed(i)
        keys = {split: runs.analysis_key(seed, split) for split in ("train", "heldout_combos")}
        train, heldout = (analysis.logic_split_codes(model, task, keys[s], config["latent_size"], s)
                          for s in ("train", "heldout_combos"))
        cte, bte = heldout[0], heldout[2]
        base = dict(method=method, seed=seed, step=res.spec.train.steps)
        probes = {"probe_f1": analysis.term_probe_per_layer(train, heldout),
                  "probe_f1_fixed_query": analysis.logic_term_probe(
                      model, task, keys, config["latent_size"], "fixed_query")}
        latent_rows += [dict(base, metric=metric, value=f1, layer=layer + 1, label="")
                        for metric, f1s in probes.items() for layer, f1 in enumerate(f1s)]
        flat = cte.reshape(len(cte), -1)  # all layers concatenated
        labels = labels_of(bte)
        for name in ("target_quintile", "function", "term"):
            kappa = analysis.neighbour_kappa(flat, labels[name], config["neighbours"])
            latent_rows.append(dict(base, metric="neighbour_kappa", value=kappa, layer="all", label=name))
        if method in config["tsne_methods"] and i == 0:
            n = config["tsne_size"]
            tsne_inputs[method] = (flat[:n], {k: v[:n] for k, v in labels.items()})
embeddings = {m: analysis.embed_2d(x, seed=0) for m, (x, _) in tsne_inputs.items()}

# Save: probe F1 and neighbour κ per method x seed, the runs' training histories, and the t-SNE arrays.
rows = list(latent_rows)
for method, res in results.items():
    rows += runs.tidy(res, method)
for r in rows:
    r.setdefault("layer", "")
    r.setdefault("label", "")
timer.__exit__(None, None, None)
arrays = {f"tsne_{m}": emb for m, emb in embeddings.items()}
arrays.update({f"{k}_{m}": tsne_inputs[m][1][k] for m in embeddings for k in ("target", "function", "term")})
figdata.save(FIGURE, out_dir, preset, rows, arrays=arrays, wall_time_s=timer.elapsed,
             provenance_extra={**runs.provenance(results),
                               "task": {k: results["hyla"].spec.task_args[k] for k in ("seq_len", "heldout_fraction")},
                               "tsne_methods": [m for m in config["tsne_methods"] if m in embeddings],
                               "shown_term_rank": config["shown_term_rank"], "neighbours": config["neighbours"],
                               "tsne_size": config["tsne_size"], "latent_size": config["latent_size"],
                               "overrides": {"steps": steps, "num_seeds": num_seeds}})

# %% [markdown]
# ## Results
# From the saved data only (`figures/data/figA2_logic_latents.<preset>.csv` and `.npz`): the paper's
# claim beside ours, then per method the neighbour κ of each colouring and the term-probe F1 of each
# layer (mean ± s.e. over seeds).

# %%
data = figdata.load(FIGURE, preset, out_dir)
print(claims.report(claims.evaluate(data)))
print()
for m in data.unique("method", "neighbour_kappa"):
    print(f"{m:8s} neighbour κ", "  ".join(
        "{} {:.3f} ± {:.3f}".format(lab, *plotting.mean_sem(data.values("neighbour_kappa", method=m, label=lab)))
        for lab in ("term", "function", "target_quintile")))
    for metric in ("probe_f1", "probe_f1_fixed_query"):
        if data.has(metric, method=m):
            print(f"{'':8s} {metric:21s}", "  ".join(
                "layer {} {:.3f} ± {:.3f}".format(l, *plotting.mean_sem(data.values(metric, method=m, layer=l)))
                for l in data.unique("layer", metric, method=m)))

# %%
fig, paths = figures.render(FIGURE, data, out_dir)  # hyla/figures/figA2_logic_latents.py

# %% [markdown]
# ## Choices and deviations
# * Runs: the Table A1 cell of Fig. 2 (N = 32, 70 % held out) instead of the paper's latent run
#   (N = 96, half held out), so that no extra training is needed ([methods](../docs/methods.md#latent-codes)).
#   `quick` trains 2 % of the paper's steps and the models have barely started on held-out tasks,
#   so little structure is expected there; `gpu` half the paper's steps; `smoke` checks the pipeline.
# * t-SNE from scikit-learn (PCA initialisation, perplexity 30, standardised codes) on the first
#   `tsne_size` held-out sequences of seed 0; codes are read in inference mode (no attention dropout);
#   the term colouring uses each task's lower-index term; κ uses k = 10 neighbours
#   ([methods](../docs/methods.md#latent-analyses)).
# * With random inputs the query's own input dominates its self-code, so the probe finds little; with
#   the query input fixed, layer 1 of linear attention and HYLA carries no task information (their
#   self-score depends on the query token alone; tested in `tests/test_analysis.py`), softmax's does.
# * The committed `gpu` data (one H100) predates the fixed-query probe and the saved t-SNE arrays; its
#   figure says so in those panels.
