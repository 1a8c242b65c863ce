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
# **What the figure shows.** The latent code of a fuzzy-logic sequence is the H-vector of attention
# scores of the **query token attending to itself**, one per layer (all layers concatenated here,
# L·H numbers). For sequences of **held-out** tasks (term combinations never trained on) the codes are
# embedded with t-SNE and coloured three ways: by the **target label** (the value f(x) the model must
# predict at the query), by the **function** (which held-out term pair), and by **one constituent term**
# (the lower-index term of the pair). Top row HYLA (the paper's figure), bottom row softmax attention
# for contrast.
#
# **What the paper reports** (Fig. A2, qualitative; full-scale runs N = 96, 50 % held out): the codes
# cluster by constituent term, and partially by target label.
#
# **The numbers beside the pictures.** t-SNE pictures are easy to over-read, so the figure adds two
# measurements made in the code space itself (not in the 2-D embedding):
#
# * **neighbour agreement κ** per colouring: the fraction of each code's k nearest neighbours
#   (standardised codes, Euclidean) that carry the same label, corrected for chance as
#   κ = (agreement − chance) / (1 − chance), chance = Σ_c p_c². κ = 0: no more clustering than chance;
#   κ = 1: every neighbour shares the label. The target label is binned into quintiles for this score;
# * **probe F1** per layer (Fig. 2B's analysis, `hyla.analysis.probe_f1`): one logistic regression per
#   term on the codes of training tasks, scored on held-out tasks, for softmax, linear attention and HYLA
#   (mean ± s.e. over seeds). Solid: sequences with random inputs; dashed: the query input FIXED
#   ([methods](../docs/methods.md#latent-codes): the official in-training probe's data), so the code varies only with the task and the
#   context. With random inputs the probe finds almost nothing (F1 ≤ 0.02 at quick, ≤ 0.016 at gpu):
#   the query's own input dominates its self-code. With the query fixed, layer 1 of linear attention
#   and HYLA carries no task information (their self-score depends on the query token alone; tested in
#   `tests/test_analysis.py`), softmax's does (normalised over the context). Quick tier: layer 2
#   F1 0.21 ± 0.05 (softmax), 0.14 ± 0.06 (linear), 0.15 ± 0.04 (HYLA). The gpu figure in `figures/`
#   was made before the fixed-query probe existed.
#
# **Presets.** All runs are the Table A1 cell of Fig. 2 (N = 32, 70 % held out), cached and shared with
# Fig. 2, A3 and Table A1. `smoke`: 24-step toys, softmax and HYLA only (pipeline check). `quick`: the D 64
# model after 1 000 steps (2 % of the paper's), 3 seeds — the models have barely started to solve held-out
# tasks (see Fig. 2 / A3), so little structure is expected and the title marks the figure as a pipeline
# check; `gpu`: the full model after 25 000 steps. The paper's latent run used
# N = 96 and 50 % held out ([methods](../docs/methods.md#latent-codes)); we use the headline cell so no extra training is needed.
#
# Choices where the paper is silent ([methods](../docs/methods.md#latent-analyses), H.2): t-SNE from scikit-learn (PCA init, perplexity 30,
# standardised codes) on the first `tsne_size` held-out sequences of seed 0; codes read in inference
# mode (no attention dropout); the term colouring uses each task's lower-index term; κ uses k = 10.
#
# **GPU tier, measured** (2026-11-22): its codes come from the 25 000-step gpu runs of Table A1's fuzzy-logic cell. Figure: `figures/` (the gpu tier's PNG/PDF replace the quick tier's), data and provenance: `figures/data/*.gpu.*` (made with `python -m hyla.reproduce --engine script --preset gpu`); the README's "Results at a glance" puts them beside the paper.

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
FIGURE = "figA2_logic_latents"
config = presets.get(FIGURE, preset)
notebook.banner(preset, FIGURE)

import matplotlib.pyplot as plt
import numpy as np
import sklearn.linear_model  # noqa: F401  (loaded first so that the thread limit below covers them)
import sklearn.manifold  # noqa: F401
import sklearn.neighbors  # noqa: F401
from threadpoolctl import threadpool_limits

from hyla import analysis, plotting, runs
from hyla.provenance import Timer

# One BLAS/OpenMP thread for the probes and t-SNE: on a small (2-core, shared) machine their default
# thread pools oversubscribe the cores and run 10-20x slower than single-threaded.
threadpool_limits(1)

# %%
# Compute: the cached headline runs (N 32, 70 % held out) of every method; seeds are vmapped.
timer = Timer()
timer.__enter__()
results = {}
for method, spec in config["specs"].items():
    spec = presets.apply_overrides(spec, steps, num_seeds)
    n, frac = spec.task_args["seq_len"], spec.task_args["heldout_fraction"]
    results[method] = runs.load_or_train(spec, cache_dir, name=f"{method} N={n} held-out={frac:.0%}")


# %%
# Latent codes: the query token attending to itself, every layer; probes and neighbour agreement.
def neighbour_kappa(x, labels, k):
    """Chance-corrected fraction of the k nearest neighbours (standardised x) sharing the label."""
    from sklearn.neighbors import NearestNeighbors

    z = (x - x.mean(0)) / (x.std(0) + 1e-8)
    idx = NearestNeighbors(n_neighbors=k + 1).fit(z).kneighbors(z, return_distance=False)[:, 1:]
    agree = float((labels[idx] == labels[:, None]).mean())
    _, counts = np.unique(labels, return_counts=True)
    chance = float(((counts / counts.sum()) ** 2).sum())
    return (agree - chance) / (1 - chance)


def labels_of(batch):
    """Target quintile, function id (index of the term pair) and the shown term of each sequence."""
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
                          for s in ("train", "heldout_combos"))  # the same analysis batches as Fig. 2B
        cte, bte = heldout[0], heldout[2]
        base = dict(method=method, seed=seed, step=res.spec.train.steps)
        # random inputs, and the query input fixed (docs/methods.md#latent-codes's data for the official probe)
        probes = {"probe_f1": analysis.term_probe_per_layer(train, heldout),
                  "probe_f1_fixed_query": analysis.logic_term_probe(
                      model, task, keys, config["latent_size"], "fixed_query")}
        latent_rows += [dict(base, metric=metric, value=f1, layer=layer + 1, label="")
                        for metric, f1s in probes.items() for layer, f1 in enumerate(f1s)]
        flat = cte.reshape(len(cte), -1)  # all layers concatenated
        labels = labels_of(bte)
        for name in ("target_quintile", "function", "term"):
            kappa = neighbour_kappa(flat, labels[name], config["neighbours"])
            latent_rows.append(dict(base, metric="neighbour_kappa", value=kappa, layer="all", label=name))
        if method in config["tsne_methods"] and i == 0:
            n = config["tsne_size"]
            tsne_inputs[method] = (flat[:n], {k: v[:n] for k, v in labels.items()})
embeddings = {m: analysis.embed_2d(x, seed=0) for m, (x, _) in tsne_inputs.items()}

# %%
# Save data: probe F1 and neighbour agreement per method x seed, plus the runs' training histories.
rows = list(latent_rows)
for method, res in results.items():
    rows += runs.tidy(res, method)
for r in rows:
    r.setdefault("layer", "")
    r.setdefault("label", "")
timer.__exit__(None, None, None)


def values(method, metric, **match):
    return np.array([r["value"] for r in latent_rows if r["method"] == method and r["metric"] == metric
                     and all(r[k] == v for k, v in match.items())])


kappa = {m: {lab: plotting.mean_sem(values(m, "neighbour_kappa", label=lab))
             for lab in ("term", "function", "target_quintile")} for m in results}
for m in results:
    print(plotting.method_style(m).label, "neighbour κ (mean over seeds):",
          {lab: round(float(v[0]), 3) for lab, v in kappa[m].items()})

# %%
# Plot.
plotting.use_style()
tsne_methods = [m for m in config["tsne_methods"] if m in embeddings]
nrows = len(tsne_methods)
fig = plt.figure(figsize=(17, 4.2 * max(nrows, 2)))
gs = fig.add_gridspec(max(nrows, 2), 4, width_ratios=[1, 1, 1, 1.05], wspace=0.42, hspace=0.3)
panel_titles = {"target": "target label f(x_query)", "function": "function (held-out term pair)",
                "term": ("lower" if config["shown_term_rank"] == 0 else "higher") + "-index term"}
kappa_key = {"target": "target_quintile", "function": "function", "term": "term"}
for row, method in enumerate(tsne_methods):
    emb, labels = embeddings[method], tsne_inputs[method][1]
    for col, name in enumerate(("target", "function", "term")):
        ax = fig.add_subplot(gs[row, col])
        cmap = {"target": "viridis", "function": "hsv", "term": "tab20"}[name]
        sc = ax.scatter(emb[:, 0], emb[:, 1], c=labels[name], cmap=cmap, s=3, linewidths=0)
        ax.set_xticks([]), ax.set_yticks([])
        k_mean, k_sem = kappa[method][kappa_key[name]]
        ax.set_title(f"{plotting.method_style(method).label}: by {panel_titles[name]}\n"
                     f"neighbour κ {k_mean:.2f} ± {k_sem:.2f}", fontsize=9)
        if name != "function":
            cb = fig.colorbar(sc, ax=ax, fraction=0.046, pad=0.02,
                              label="f value" if name == "target" else "term index")
            if name == "term":
                cb.set_ticks(np.unique(labels["term"]))
        else:
            ax.text(0.01, 0.01, f"{len(np.unique(labels['function']))} functions", fontsize=7,
                    transform=ax.transAxes)

ax = fig.add_subplot(gs[0, 3])  # probe F1 per layer
layers = sorted({r["layer"] for r in latent_rows if r["metric"] == "probe_f1"})
for metric, ls in (("probe_f1", "-"), ("probe_f1_fixed_query", "--")):  # query input random / fixed
    for method in results:
        vals = np.stack([values(method, metric, layer=lay) for lay in layers])  # [layers, seeds]
        mean, sem = plotting.mean_sem(vals, axis=1)
        plotting.band(ax, layers, mean, sem, method, linestyle=ls,
                      label=plotting.method_style(method).label if ls == "-" else "_")
for name, ls in (("query input random", "-"), ("query input fixed", "--")):
    ax.plot([], [], color="0.4", linestyle=ls, label=name)
ax.set_xticks(layers)
ax.set_xlabel("layer")
ax.set_ylabel("term probe F1 (held-out tasks)")
ax.set_title("term probes on the per-layer code", fontsize=9)
ax.legend(fontsize=7)

ax = fig.add_subplot(gs[1, 3])  # neighbour agreement per colouring
names = ("term", "function", "target_quintile")
width = 0.8 / len(results)
for j, method in enumerate(results):
    mean = [kappa[method][n][0] for n in names]
    sem = [kappa[method][n][1] for n in names]
    st = plotting.method_style(method)
    ax.bar(np.arange(len(names)) + j * width, mean, width, yerr=sem, color=st.color, label=st.label,
           capsize=2)
ax.axhline(0, color="k", lw=0.6)
ax.set_xticks(np.arange(len(names)) + 0.4 - width / 2, ["term", "function", "target\n(quintile)"])
ax.set_ylabel(f"neighbour agreement κ (k = {config['neighbours']})")
ax.set_title("clustering in the code space, held-out tasks", fontsize=9)

hy = kappa.get("hyla")
steps_done = results["hyla"].spec.train.steps
if hy is not None:
    order = sorted(("term", "function", "target_quintile"), key=lambda n: -hy[n][0])
    verdict = (f"HYLA codes cluster by {order[0].replace('_quintile', '')} most "
               f"(κ term {hy['term'][0]:.2f}, function {hy['function'][0]:.2f}, "
               f"target {hy['target_quintile'][0]:.2f})")
else:
    verdict = "HYLA run missing"
# At smoke and quick the models have barely learned the held-out tasks (Fig. 2): no structure expected.
check = "pipeline check, effect needs the gpu preset — " if preset in ("smoke", "quick") else ""
hyla_r2 = float(np.mean(runs.final_values(results["hyla"], "heldout_r2")))
fig.suptitle(f"Fig. A2 latent codes of held-out fuzzy-logic tasks [{preset}, {steps_done} steps, "
             f"N={results['hyla'].spec.task_args['seq_len']}, HYLA held-out R² {hyla_r2:.2f}]: "
             f"{check}{verdict}.\nPaper (50k steps): clusters by term, partially by label", fontsize=10)
paths = plotting.save_figure(
    fig, FIGURE, out_dir, preset, rows, wall_time_s=timer.elapsed,
    provenance_extra={"runs": {m: r.spec.key() for m, r in results.items()},
                      "train_wall_time_s": {m: round(r.wall_time_s, 1) for m, r in results.items()},
                      "tsne_size": config["tsne_size"], "latent_size": config["latent_size"],
                      "overrides": {"steps": steps, "num_seeds": num_seeds}})
print({k: str(v) for k, v in paths.items()})
