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
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/hyla-companion/hyla/blob/main/notebooks/fig01_hypernetwork_view.ipynb)
#
# # Fig. 1 and Fig. A1 — attention as a hypernetwork
#
# Read along the head axis, the attention scores of one (query, key) pair are the latent code of a
# linear hypernetwork that configures one value network per pair (paper Eqs. 1–7, Fig. 1;
# [methods](../docs/methods.md#attention-as-a-hypernetwork)):
# $\mathrm{MHA}_q(X) = \sum_k \big(\sum_h a_{h,q,k} W^O_h W^V_h\big) x_k + \dots = \sum_k W_{q,k} x_k + \dots$
# HYLA makes the generated network a two-layer ReLU MLP whose both layers are mixed by the same code,
# and normalises the code over heads (RMSHead) instead of over keys
# ([methods](../docs/methods.md#value-networks)); Fig. A1 lists the two algorithms side by side.
#
# * **E**: both identities checked numerically, the module (float32) against explicit per-(q, k) value
#   networks (float64), for every mixer on random modules and for every layer of a trained HYLA.
# * **A–D**: the latent codes of that trained HYLA (the Table A1 fuzzy-logic run, shared with Fig. 2) on
#   one held-out sequence, and the value-network weights that a few pairs generate.
#
# **The paper**: an exact identity, a schematic; no numbers to reproduce.

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

FIGURE = "fig01_hypernetwork_view"
config = notebook.setup(FIGURE, globals())

import inspect

import jax
import numpy as np

from hyla import claims, figdata, figures, runs
from hyla import hypernetwork as hn
from hyla.attention import (MIXERS, MultiHeadAttention, apply_value_network, first_generated_layer, mixer_parts,
                            normalize_scores)
from hyla.provenance import Timer

# %% [markdown]
# ## Compute
# Every mixer on a random module with non-zero biases and a random position bias: the module's output
# (float32) against the explicit per-(q, k) value networks (float64 loops, `hyla.hypernetwork`), a
# linear hypernetwork for the mixers with a linear value network, a two-layer MLP for HYLA and its
# ablations ([methods](../docs/methods.md#mixer-names)).

# %%
timer = Timer()
timer.__enter__()
chk = config["check"]
T, D, H, dh = chk["seq_len"], chk["emb_dim"], chk["num_heads"], chk["head_dim"]
rng = np.random.default_rng(0)
x_rand = rng.standard_normal((T, D)).astype(np.float32)
bias_rand = (0.3 * rng.standard_normal((H, T, T))).astype(np.float32)
check_rows = []
for mixer in MIXERS:
    attn = MultiHeadAttention(D, H, H * dh, H * dh, mixer, 0.0, key=jax.random.key(0))
    attn = hn.with_random_biases(attn, seed=1)
    out, code = (np.asarray(a, np.float64) for a in attn(x_rand, bias_rand, inference=True))
    p = hn.head_params(attn)
    norm, value = mixer_parts(mixer)
    if value == "linear":  # a linear hypernetwork generating W_{q,k}
        ref, metric = hn.mha_as_hypernetwork(p, x_rand, norm, bias_rand), "identity_max_abs_error"
    else:  # an explicit per-(q, k) two-layer MLP
        ref = hn.hyla_as_mlp(p, x_rand, norm, bias_rand, nonlinearity=value == "mlp_relu")
        metric = "hyla_mlp_max_abs_error"
    code_ref = hn.latent_code(p, x_rand, norm, bias_rand)
    for name, val in ((metric, np.abs(ref - out).max()), ("output_max_abs", np.abs(ref).max()),
                      ("code_max_abs_error", np.abs(code_ref - code).max())):
        check_rows.append(dict(method=mixer, seed=0, step=0, metric=name, value=float(val),
                               check="random module", layer=""))
    if mixer in ("softmax", "hyla"):  # the Fig. A1 functions themselves
        alg = hn.multihead_attention if mixer == "softmax" else hn.hyla
        check_rows.append(dict(method=mixer, seed=0, step=0, metric="algorithm_max_abs_error",
                               value=float(np.abs(alg(p, x_rand, bias_rand) - out).max()),
                               check="random module", layer=""))

# %% [markdown]
# The trained HYLA headline run (cached; the same run as Fig. 2's HYLA at N 32, 70 % held out): its
# latent code on one held-out sequence, every layer's attention as explicit per-(q, k) MLPs on the
# layer's real input, and the value networks that the last layer generates for a few (q, k) pairs.

# %%
spec = presets.apply_overrides(config["spec"], steps, num_seeds)
res = runs.load_or_train(spec, cache_dir, name="hyla N=32 held-out=70%")
seed = res.spec.seeds[0]
model, task = res.model_for_seed(0), res.task_for_seed(0)
batch = task.sample(runs.analysis_key(seed, "heldout_combos"), 1, "heldout_combos")
tokens = batch.x[0]
_, codes = model(tokens, inference=True)
codes = np.asarray(codes, np.float64)  # [L, H, T, T]

h = model.embed(tokens)
seq_len = tokens.shape[0]
for layer, block in enumerate(model.blocks):
    x_in = jax.vmap(block.ln_mixer)(h)
    bias = None if block.position is None else block.position(seq_len)
    out, code = (np.asarray(a, np.float64) for a in block.attention(x_in, bias, inference=True))
    ref = hn.hyla_as_mlp(hn.head_params(block.attention), x_in, "rms_head", bias)
    for name, val in (("hyla_mlp_max_abs_error", np.abs(ref - out).max()),
                      ("output_max_abs", np.abs(ref).max()),
                      ("code_max_abs_error", np.abs(code - codes[layer]).max())):
        check_rows.append(dict(method="hyla", seed=seed, step=res.spec.train.steps, metric=name,
                               value=float(val), check="trained model", layer=layer + 1))
    h, _ = block(h, inference=True)

q = seq_len - 1
keys = [q] + list(range(config["num_keys_shown"] - 1))
shown_layer = codes.shape[0] - 1
p_last = hn.head_params(model.blocks[shown_layer].attention)
pair_code = codes[shown_layer][:, [q], :][:, :, keys]  # [H, 1, K]
w1, b1, w2 = hn.hyla_mlp_weights(p_last, pair_code)  # [1, K, dv, D], [1, K, dv], [1, K, D, dv]

# %%
# Save data: the checks, the query row of the code in every layer and the run's training history
# (CSV); the whole code and the generated value networks (NPZ).
rows = list(check_rows)
for layer in range(codes.shape[0]):
    for head in range(codes.shape[1]):
        for k in range(seq_len):
            rows.append(dict(method="hyla", seed=seed, step=res.spec.train.steps, metric="latent_code",
                             value=float(codes[layer, head, q, k]), check="trained model",
                             layer=layer + 1, head=head + 1, query=q, key=k))
rows += runs.tidy(res, "hyla", check="training history")
for r in rows:
    for c in ("layer", "head", "query", "key"):
        r.setdefault(c, "")
timer.__exit__(None, None, None)


def worst(metric, check):
    return max(r["value"] for r in check_rows if r["metric"] == metric and r["check"] == check)


figdata.save(FIGURE, out_dir, preset, rows, wall_time_s=timer.elapsed,
             arrays={"latent_code": codes, "pair_code": pair_code[:, 0], "w1": w1[0], "b1": b1[0],
                     "w2": w2[0], "keys": np.array(keys), "query": np.array(q),
                     "pair_layer": np.array(shown_layer + 1)},
             provenance_extra={"runs": {"hyla": res.spec.key()},
                               "train_wall_time_s": {"hyla": round(res.wall_time_s, 1)},
                               "max_abs_error": {
                                   "identity": worst("identity_max_abs_error", "random module"),
                                   "hyla_mlp_random": worst("hyla_mlp_max_abs_error", "random module"),
                                   "hyla_mlp_trained": worst("hyla_mlp_max_abs_error", "trained model")},
                               "overrides": {"steps": steps, "num_seeds": num_seeds}})

# %% [markdown]
# ## Results
# From the saved data only (`figures/data/fig01_hypernetwork_view.<preset>.csv` and `.npz`): the
# claims with their verdicts, then every check: the largest |module − explicit| of the output and of
# the code, beside the largest |output|.

# %%
data = figdata.load(FIGURE, preset, out_dir)
print(claims.report(claims.evaluate(data)))
print()
print(f"{'mixer':28s} {'check':24s} {'output error':>12s} {'code error':>11s} {'max |output|':>12s}")
for r in data.rows:
    if r["metric"] in ("identity_max_abs_error", "hyla_mlp_max_abs_error"):
        at = dict(method=r["method"], check=r["check"], layer=r["layer"])
        where = r["check"] + (f", layer {r['layer']}" if r["layer"] != "" else "")
        print(f"{r['method']:28s} {where:24s} {r['value']:12.2e} "
              f"{data.select('code_max_abs_error', **at)[0]['value']:11.2e} "
              f"{data.select('output_max_abs', **at)[0]['value']:12.2f}")
for r in data.select("algorithm_max_abs_error"):
    print(f"Fig. A1 function of {r['method']}: max |function − module| {r['value']:.2e}")

# %% [markdown]
# ## Fig. A1 — softmax attention vs HYLA, as code
#
# `hyla.hypernetwork.multihead_attention` and `hyla.hypernetwork.hyla` (the bottom of the figure) are
# the companion's float64 references of Algorithms 1 and 2; the checks above show they equal the
# module. They differ in two places only ([methods](../docs/methods.md#attention-normalisation)):
#
# 1. **Normalisation**: softmax normalises the scores of each head *over the keys*; HYLA divides each
#    (q, k) score vector by its root-mean-square *over the heads* (RMSHead, no learnable scale), with
#    no communication across keys, so the linear-time form of linear attention stays available.
# 2. **Value network**: softmax attention applies one linear map per head and mixes the heads once,
#    through the output projection. HYLA mixes the value projections of all heads with the code
#    (`Σ_h a_{h,q,k} W^V_h x_k`), applies a ReLU, and mixes again with the *same* code for the second
#    layer (`Σ_h a_{h,q,k} W^O_h`): the value network becomes nonlinear, with no extra parameters.
#
# The library implements the same two steps as `normalize_scores` and `apply_value_network`; the first
# generated layer is the einsum `hqk,khd->qkd` in `first_generated_layer` (on CPU with a hand-written
# derivative that computes the same gradient faster):

# %%
print(inspect.getsource(normalize_scores))
print(inspect.getsource(apply_value_network))
print(inspect.getsource(first_generated_layer))

# %%
fig, paths = figures.render(FIGURE, data, out_dir)  # hyla/figures/fig01_hypernetwork_view.py

# %% [markdown]
# ## Choices and deviations
# * The random check modules (where the paper is silent): D 16, H 4 heads, `d_k = d_v = 2`, T 16 tokens
#   (4 at `smoke`), the four biases drawn with standard deviation one half and a random position bias.
# * The trained model: `smoke` a tiny model trained a few steps (pipeline check), `quick` the reduced
#   model (D 64) after 1 000 steps, 2 % of the paper's, `gpu` the full model after half of them.
# * Shown: the first analysis sequence of the held-out-combination split of seed 0; in B–D the last
#   layer and the last query with itself and with the first three context tokens.
# * The errors are float32 round-off; they grow with the output scale, which is larger in the trained
#   model than in the random modules.
