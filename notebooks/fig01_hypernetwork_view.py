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
# **What the paper shows.** Fig. 1 is a schematic: (A) a linear hypernetwork maps a latent code to the
# parameters of a value network; (B) the attention scores of one (query, key) pair read *along the head
# axis* form that latent code; (C) multi-head attention is therefore a linear hypernetwork that
# configures one linear value network per (query, key) pair:
#
# $$\mathrm{MHA}_q(X) = \sum_k \Big(\sum_h a_{h,q,k}\, W^O_h W^V_h\Big) x_k + \text{bias terms}
#   = \sum_k W_{q,k}\, x_k + \dots$$
#
# HYLA (hypernetwork linear attention) makes the generated value network a two-layer ReLU MLP whose
# both layers are mixed by the same code, and normalises the code over heads (RMSHead) instead of over
# keys (softmax). Fig. A1 lists the two algorithms side by side. The figure has no numbers to reproduce.
#
# **What this notebook does instead of a schematic.**
#
# * **(a)** On small random `MultiHeadAttention` modules with **non-zero biases** and a random
#   relative-position bias, it builds the matrices $W_{q,k} = \sum_h a_{h,q,k} W^O_h W^V_h$ explicitly
#   (float64, a loop over (q, k) pairs, `hyla.hypernetwork`) and reports the largest absolute
#   difference to the module's float32 output, for every mixer with a linear value network
#   (softmax, linear, linear + RMSHead).
# * **(b)** The same for HYLA and its ablations as an explicit per-(q, k) two-layer MLP
#   $\sum_k W^{(2)}_{q,k}\,\mathrm{ReLU}(W^{(1)}_{q,k} x_k + b^{(1)}_{q,k})$ with
#   $W^{(1)}_{q,k} = \sum_h a_{h,q,k} W^V_h$, $W^{(2)}_{q,k} = \sum_h a_{h,q,k} W^O_h$ — on random modules
#   and on every layer of a **trained** HYLA model.
# * **(c)** The latent code of that trained model: the HYLA run of the Table A1 cell (fuzzy logic,
#   N = 32, 70 % held out; the same cached run as Fig. 2) on one sequence of a held-out task — all H
#   heatmaps a[h, q, k] per layer, the H-dim code of a few (q, k) pairs and the value-network weights
#   they generate.
# * **(d) Fig. A1** — the companion's two reference functions for multi-head softmax attention and
#   HYLA, rendered side by side with the differing lines highlighted, plus the library's
#   `normalize_scores` / `apply_value_network` source.
#
# **Presets.** The checks (a, b) are exact identities at every preset (float32 round-off only). Panel
# (c) uses the trained headline run: `smoke` a 24-step toy (pipeline check), `quick` the D 64 model after
# 1 000 steps (2 % of the paper's), `gpu` the full model after 25 000 steps.
#
# Choices where the paper is silent: the random check modules have D 16, H 4, d_k = d_v = 2 and
# biases ~ N(0, 0.5²); the sequence shown is the first analysis sample of the held-out-combination
# split of seed 0; the (q, k) pairs shown are the query token with itself and with the first three
# context tokens.

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
FIGURE = "fig01_hypernetwork_view"
config = presets.get(FIGURE, preset)
notebook.banner(preset, FIGURE)

import difflib
import inspect

import jax
import matplotlib.pyplot as plt
import numpy as np

from hyla import hypernetwork as hn
from hyla import plotting, runs
from hyla.attention import (MIXERS, MultiHeadAttention, apply_value_network, first_generated_layer, mixer_parts,
                            normalize_scores)
from hyla.provenance import Timer

# %%
# (a) + (b): every mixer on a random module with non-zero biases, module (float32) vs explicit
# per-(query, key) value networks (float64 loops).
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
    if value == "linear":  # (a) a linear hypernetwork generating W_{q,k}
        ref, metric = hn.mha_as_hypernetwork(p, x_rand, norm, bias_rand), "identity_max_abs_error"
    else:  # (b) an explicit per-(q, k) two-layer MLP
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
for r in check_rows:
    if r["metric"].endswith("error"):
        print(f"{r['method']:28s} {r['metric']:26s} {r['value']:.2e}")

# %%
# (c): the trained HYLA headline run (cached; the same run as Fig. 2's HYLA at N 32, 70 % held out).
spec = presets.apply_overrides(config["spec"], steps, num_seeds)
res = runs.load_or_train(spec, cache_dir, name="hyla N=32 held-out=70%")
seed = res.spec.seeds[0]
model, task = res.model_for_seed(0), res.task_for_seed(0)
batch = task.sample(runs.analysis_key(seed, "heldout_combos"), 1, "heldout_combos")
tokens = batch.x[0]
_, codes = model(tokens, inference=True)
codes = np.asarray(codes, np.float64)  # [L, H, T, T]

# (b) on the trained model: every layer's attention as explicit per-(q, k) MLPs on its real input.
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
    print(f"trained layer {layer + 1}: HYLA vs per-(q,k) MLP max |diff| "
          f"{np.abs(ref - out).max():.2e} (output scale {np.abs(ref).max():.2f})")

# The generated value networks of a few (query, key) pairs in the last layer.
q = seq_len - 1
keys = [q] + list(range(config["num_keys_shown"] - 1))
shown_layer = codes.shape[0] - 1
p_last = hn.head_params(model.blocks[shown_layer].attention)
pair_code = codes[shown_layer][:, [q], :][:, :, keys]  # [H, 1, K]
w1, b1, w2 = hn.hyla_mlp_weights(p_last, pair_code)  # [1, K, dv, D], [1, K, dv], [1, K, D, dv]
heldout_r2 = runs.final_values(res, "heldout_r2")

# %%
# Save data: checks, the query row of the code in every layer, and the run's training history.
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


err_identity = worst("identity_max_abs_error", "random module")
err_mlp = worst("hyla_mlp_max_abs_error", "random module")
err_trained = worst("hyla_mlp_max_abs_error", "trained model")
out_scale = worst("output_max_abs", "trained model")
print(f"max |diff|: MHA vs linear hypernetwork {err_identity:.1e}; HYLA vs per-pair MLP {err_mlp:.1e} "
      f"(random), {err_trained:.1e} (trained)")

# %% [markdown]
# ## Fig. A1 — softmax attention vs HYLA, as code
#
# The two functions below (`hyla.hypernetwork.multihead_attention` and `hyla.hypernetwork.hyla`) are
# the companion's float64 references; the checks above show they equal the module. They differ in two
# places only:
#
# 1. **Normalisation**: softmax normalises the scores of each head *over the keys*
#    (`softmax(s, axis=keys)`); HYLA divides each (q, k) score vector by its root-mean-square *over the
#    heads* (RMSHead, no learnable scale, ε = 1e-6) — no communication across keys, so the linear-time
#    form of linear attention stays available.
# 2. **Value network**: softmax attention applies one linear map per head and mixes the heads once,
#    through the output projection. HYLA mixes the value projections of all heads with the code
#    (first generated layer, `Σ_h a_{h,q,k} W^V_h x_k`), applies a ReLU, and mixes again with the *same*
#    code for the second layer (`Σ_h a_{h,q,k} W^O_h`) — the value network becomes nonlinear and the
#    code enters twice. There are no extra parameters.
#
# The library implements the same two steps as `normalize_scores` and `apply_value_network`; the first
# generated layer is the einsum `hqk,khd->qkd` in `first_generated_layer` (on CPU with a hand-written
# derivative that computes the same gradient faster):

# %%
print(inspect.getsource(normalize_scores))
print(inspect.getsource(apply_value_network))
print(inspect.getsource(first_generated_layer))


# %%
# Plot.
def aligned_source(f_left, f_right):
    """Lines of two functions aligned by difflib; True where the two sides differ."""
    left, right = (inspect.getsource(f).rstrip().splitlines() for f in (f_left, f_right))
    out = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, left, right).get_opcodes():
        n = max(i2 - i1, j2 - j1)
        for t in range(n):
            a = left[i1 + t] if i1 + t < i2 else ""
            b = right[j1 + t] if j1 + t < j2 else ""
            out.append((a, b, tag != "equal"))
    return out


plotting.use_style()
L, Hm = codes.shape[:2]
fig = plt.figure(figsize=(15, 2.1 * L + 7.6))
outer = fig.add_gridspec(3, 1, height_ratios=[2.1 * L, 3.0, 2.6], hspace=0.32,
                         left=0.06, right=0.98, top=0.9, bottom=0.02)
top = outer[0].subgridspec(L, Hm + 1, wspace=0.12, hspace=0.18,
                           width_ratios=[1] * Hm + [0.08])
vmax = np.abs(codes).max()
for layer in range(L):
    for head in range(Hm):
        ax = fig.add_subplot(top[layer, head])
        im = ax.imshow(codes[layer, head], cmap="RdBu_r", vmin=-vmax, vmax=vmax)
        ax.set_xticks([]), ax.set_yticks([])
        if layer == 0:
            ax.set_title(f"head {head + 1}", fontsize=8)
        if head == 0:
            ax.set_ylabel(f"layer {layer + 1}\nquery q", fontsize=8)
        if layer == L - 1:
            ax.set_xlabel("key k", fontsize=8)
        if layer == 0 and head == 0:
            ax.text(0, 1.25, f"A: latent codes a[h, q, k] of one held-out sequence (trained HYLA, fuzzy "
                    f"logic N={seq_len}, {res.spec.train.steps} steps, held-out R² of the run "
                    f"{np.mean(heldout_r2):.2f}); the code of a pair (q, k) is one column through the heads",
                    transform=ax.transAxes, fontsize=9, fontweight="bold")
fig.colorbar(im, cax=fig.add_subplot(top[:, Hm]), label="a[h, q, k]")

mid = outer[1].subgridspec(1, 4, width_ratios=[1.1, 1.35, 1.35, 1.0], wspace=0.62)
ax = fig.add_subplot(mid[0])
width = 0.8 / len(keys)
for j, k in enumerate(keys):
    ax.bar(np.arange(Hm) + j * width, pair_code[:, 0, j], width, label=f"(q={q}, k={k})")
ax.axhline(0, color="k", lw=0.6)
ax.set_xticks(np.arange(Hm) + 0.4 - width / 2, [str(i + 1) for i in range(Hm)])
ax.set_xlabel("head h")
ax.set_ylabel(f"code a[h, q, k], layer {shown_layer + 1}")
ax.set_title(f"B: code of {len(keys)} (q, k) pairs, layer {shown_layer + 1}", fontsize=9)
ax.legend(fontsize=6, loc="best")
dv, Dm = w1.shape[2], w1.shape[3]
titles = (r"C: generated layer 1, $W^{(1)}_{q,k}=\sum_h a_{h,q,k} W^V_h$",
          r"D: generated layer 2, $(W^{(2)}_{q,k})^\top=(\sum_h a_{h,q,k} W^O_h)^\top$")
for col, (mat, name) in enumerate(((w1[0], titles[0]), (np.swapaxes(w2[0], 1, 2), titles[1]))):
    ax = fig.add_subplot(mid[1 + col])
    stacked = mat.reshape(len(keys) * dv, Dm)
    lim = np.abs(stacked).max()
    ax.imshow(stacked, cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto", interpolation="nearest")
    for j in range(1, len(keys)):
        ax.axhline(j * dv - 0.5, color="k", lw=0.8)
    ax.set_yticks([j * dv + (dv - 1) / 2 for j in range(len(keys))],
                  [f"(q={q}, k={k})" for k in keys], fontsize=7)
    ax.set_xlabel(f"model dimension (D = {Dm}); {dv} rows per pair")
    ax.set_title(name, fontsize=9)
ax = fig.add_subplot(mid[3])
labels, vals, colors = [], [], []
for r in check_rows:
    if r["metric"] in ("identity_max_abs_error", "hyla_mlp_max_abs_error"):
        trained = r["check"] == "trained model"
        labels.append(plotting.method_style(r["method"]).label
                      + (f" (trained, layer {r['layer']})" if trained else ""))
        vals.append(max(r["value"], 1e-12))
        colors.append(plotting.method_style(r["method"]).color)
ax.barh(np.arange(len(vals)), vals, color=colors)
ax.set_xscale("log")
ax.set_yticks(np.arange(len(vals)), labels, fontsize=6)
ax.invert_yaxis()
ax.set_xlabel("max |module − explicit|")
ax.set_title("E: module (float32) vs explicit\nper-(q, k) networks (float64)", fontsize=9)

bottom = outer[2].subgridspec(1, 2, wspace=0.02)
lines = aligned_source(hn.multihead_attention, hn.hyla)
for side, title in enumerate(("Algorithm 1: multi-head softmax attention",
                              "Algorithm 2: hypernetwork linear attention (HYLA)")):
    ax = fig.add_subplot(bottom[side])
    ax.axis("off")
    ax.set_title(f"Fig. A1 — {title}", fontsize=9, loc="left")
    for i, (a, b, differs) in enumerate(lines):
        text = (a, b)[side]
        ax.text(0.0, 1 - (i + 0.5) / len(lines), text or " ", family="monospace", fontsize=6.3,
                va="center", transform=ax.transAxes,
                bbox=dict(facecolor="#FFE08A" if differs and text else "none", edgecolor="none", pad=0.6))

fig.suptitle(
    f"Fig. 1 [{preset}]: multi-head attention = linear hypernetwork, max |Δ| {err_identity:.1e}; "
    f"HYLA = per-(q,k) 2-layer MLP, max |Δ| {err_mlp:.1e} (random modules), {err_trained:.1e} "
    f"(trained model, output scale {out_scale:.0f}) — float32 round-off", fontsize=10, y=0.985)
paths = plotting.save_figure(
    fig, FIGURE, out_dir, preset, rows, wall_time_s=timer.elapsed,
    provenance_extra={"runs": {"hyla": res.spec.key()},
                      "train_wall_time_s": {"hyla": round(res.wall_time_s, 1)},
                      "max_abs_error": {"identity": err_identity, "hyla_mlp_random": err_mlp,
                                        "hyla_mlp_trained": err_trained},
                      "overrides": {"steps": steps, "num_seeds": num_seeds}})
print({k: str(v) for k, v in paths.items()})
