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
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/hyla-companion/hyla/blob/main/notebooks/ext02_exchangeability.ipynb)
#
# # Extension 2 — exchangeable tokens, a latent variable, and what attention computes
#
# **Related work, not the HYLA paper.** Zhang, Liu, Cai, Wang, Wang, *An Analysis of Attention via the
# Lens of Exchangeability and Latent Variable Models* ([arXiv](https://arxiv.org/abs/2212.14852), theory only). Tokens that are
# exchangeable given a latent z have the posterior p(z | X) as their sufficient, minimal representation;
# attention with the right parameters infers it with an approximation error **decreasing in the input
# size L**, by estimating the conditional mean of the value given the key (a kernel-weighted average).
#
# **Our test.** z uniform on 4 latents; given z, L i.i.d. tokens from Categorical(θ_z) over 8 symbols,
# with the exact posterior and predictive in closed form. We check the rate on attention with the right
# parameters (the central limit gives L^−1/2), build the posterior from attention, and train softmax,
# linear and HYLA transformers on it ([methods](../docs/methods.md#attention-normalisation)). The setup
# and each preset: [docs/figures/ext02_exchangeability.md](../docs/figures/ext02_exchangeability.md).

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

FIGURE = "ext02_exchangeability"
config = notebook.setup(FIGURE, globals())

import jax
import numpy as np

from hyla import analysis, claims, figdata, figures, plotting, runs
from hyla.objectives import make_objective
from hyla.provenance import Timer
from hyla.tasks.exchangeable import ExchangeableMixture, bayes_attention_readout, cme_l1_rate

# %% [markdown]
# ## Attention with the right parameters (panels A, B; no training)
# * **A — softmax = the conditional mean embedding.** One head, the same score for every token, one-hot
#   values: softmax attention returns the empirical token frequencies n/L. We score its L1 distance to
#   the Bayes predictive p(x' | X) = Σ_z p(z | X) θ_z and to θ_z. The central limit predicts c/√L with
#   c = mean_z Σ_v √(2θ_zv(1−θ_zv)/π) (`cme_l1_rate`, not fitted).
# * **B — the posterior itself.** With log-likelihood values, *unnormalised* attention (linear attention;
#   HYLA, whose single-head RMSHead code of a positive score is 1) sums them: the exact log posterior at
#   every L. Softmax averages them: a posterior tempered by 1/L, whose error does not vanish, since
#   normalising over keys discards L. (This construction is ours.)
#
# PAD tokens get no weight in these constructions, so every length is padded to the longest one.

# %%
timer = Timer()
timer.__enter__()
task_args = config["specs"]["softmax"].task_args
task = ExchangeableMixture(**task_args, seed=0)
n_seq = config["analytic_size"]
analytic_rows = []


def tv(p, q):
    return 0.5 * np.sum(np.abs(p - q), axis=-1)


readouts = {(m, v): jax.jit(lambda x, m=m, v=v: bayes_attention_readout(task, m, x, v))
            for m, v in (("softmax", "onehot"), ("softmax", "loglik"), ("linear", "loglik"),
                         ("hyla", "loglik"))}
T_analytic = max(config["analytic_lengths"])  # one padded shape: one compilation per readout
for L in config["analytic_lengths"]:
    b = jax.tree.map(np.asarray, task.sample(runs.analysis_key(0, f"analytic{L}"), n_seq,
                                              length=L, pad=T_analytic))
    theta_z = np.exp(np.asarray(task.log_theta))[b.z]
    f = np.asarray(readouts[("softmax", "onehot")](b.x))
    errors = {
        ("softmax", "cme_l1_to_bayes_predictive"): np.sum(np.abs(f - b.predictive), -1),
        ("softmax", "cme_l1_to_theta_z"): np.sum(np.abs(f - theta_z), -1),
    }
    for m in ("linear", "hyla", "softmax"):
        logq = np.asarray(readouts[(m, "loglik")](b.x), np.float64)
        errors[(m, "posterior_tv")] = tv(np.exp(logq), b.posterior)
    for (m, metric), e in errors.items():
        analytic_rows.append(dict(method=m, seed=0, step=0, metric=f"analytic_{metric}",
                                  value=float(e.mean()), length=L, sem=float(e.std() / np.sqrt(len(e))),
                                  panel="right_parameters"))
c_theory = cme_l1_rate(task)

# %% [markdown]
# ## Learned (panels C, D)
# Softmax, linear and HYLA transformers, read at a `READ` token with no positional encoding (so they are
# permutation-invariant, like the data), trained through the library's engine on soft-label
# cross-entropy to the exact posterior (lengths 1..max_len, padded; cached runs, seeds vmapped). Each is
# scored by the total variation to the exact posterior at each training length, and at two lengths
# beyond training (2× and 4× the longest, padded to 4×).

# %%
results = notebook.train(config["specs"], cache_dir, steps, num_seeds, name=lambda m, spec: f"{m} posterior")
obj = make_objective("exchangeable", **task_args)
learned_rows = []
for m, res in results.items():
    predict = jax.jit(lambda model, batch: obj.predict(model, batch))
    for i, seed in enumerate(res.spec.seeds):
        model, t = res.model_for_seed(i), res.task_for_seed(i)
        lengths = [(L, True) for L in config["eval_lengths"]]
        lengths += [(L, False) for L in config["extrapolation_lengths"]]
        for L, inside in lengths:
            n = config["eval_size"] if inside else config["extrapolation_size"]
            pad = True if inside else max(config["extrapolation_lengths"])  # one shape each
            batch = t.sample(runs.analysis_key(seed, f"len{L}"), n, length=L, pad=pad)
            # in chunks of sequences, each chunk's attention ([chunk, H, T, T]; HYLA also
            # [chunk, T, T, d_v]) within 1 GiB: at the gpu tier's longest length (T = 1025, 1024
            # sequences) one call would need tens of GB. quick and smoke: one chunk, one call.
            H, T = res.spec.model.num_heads, batch.x.shape[1]
            chunk = analysis.chunk_size(n, T * T * max(H, res.spec.model.v_dim // H))
            logq = np.asarray(analysis.map_in_chunks(lambda b: predict(model, b), batch, chunk),
                              np.float64)
            p = np.asarray(batch.posterior, np.float64)
            kl = np.sum(np.where(p > 0, p * (np.log(np.where(p > 0, p, 1)) - logq), 0), -1)
            for metric, val in (("posterior_tv", tv(np.exp(logq), p).mean()), ("posterior_kl", kl.mean()),
                                ("accuracy", np.mean(logq.argmax(-1) == np.asarray(batch.z)))):
                learned_rows.append(dict(method=m, seed=seed, step=res.spec.train.steps,
                                         metric=f"learned_{metric}", value=float(val), length=L,
                                         sem="", panel="learned" if inside else "learned_extrapolation"))

# Save: the constructions (one row per length, `sem` over sequences), the learned scores per seed and
# length, and the training curves.
rows = analytic_rows + learned_rows
for m, res in results.items():
    rows += [dict(r, length="", sem="", panel="training") for r in runs.tidy(res, m)]
timer.__exit__(None, None, None)
figdata.save(FIGURE, out_dir, preset, rows, wall_time_s=timer.elapsed,
             provenance_extra={**runs.provenance(results),
                               "cme_theory_constant": c_theory,
                               "paper": "Zhang et al. 2022 (arXiv 2212.14852): attention infers the "
                                        "latent posterior, error decreasing in L",
                               "overrides": {"steps": steps, "num_seeds": num_seeds}})

# %% [markdown]
# ## Results
# Everything below reads only the saved data (`figures/data/ext02_exchangeability.<preset>.csv`): the
# claims beside ours, with the verdict of the rule in `hyla.claims` (the constructions have one row per
# length, so their claim needs one seed), then the constructions' errors and the learned posterior TV
# per length (mean ± s.e. over seeds).

# %%
data = figdata.load(FIGURE, preset, out_dir)
print(claims.report(claims.evaluate(data)))
print(f"\ncentral-limit constant c = {data.extra['cme_theory_constant']:.3f}")
print("L      CME L1  c/√L    posterior TV: linear  HYLA     softmax")
for r in data.select("analytic_cme_l1_to_bayes_predictive"):
    L = r["length"]
    tvs = [data.select("analytic_posterior_tv", method=m, length=L)[0]["value"]
           for m in ("linear", "hyla", "softmax")]
    print(f"{L:<6} {r['value']:.4f}  {data.extra['cme_theory_constant'] / np.sqrt(L):.4f}"
          f"                {tvs[0]:.1e}  {tvs[1]:.1e}  {tvs[2]:.3f}")
methods = [m for m in plotting.METHOD_STYLE if m in data.unique("method", "learned_posterior_tv")]
print("\nlearned posterior TV (mean ± s.e. over seeds; * beyond the training lengths)")
print("L     " + "".join(f"{m:<20s}" for m in methods))
for panel in ("learned", "learned_extrapolation"):
    for L in data.unique("length", "learned_posterior_tv", panel=panel):
        print(f"{L:<4}{'*' if panel != 'learned' else ' '} " + "".join(
            "{:.4f} ± {:.4f}     ".format(*plotting.mean_sem(data.values(
                "learned_posterior_tv", method=m, panel=panel, length=L))) for m in methods))

# %%
fig, paths = figures.render(FIGURE, data, out_dir)  # hyla/figures/ext02_exchangeability.py

# %% [markdown]
# ## Choices and deviations
# * The paper has no experiment: the task, the constructions of panels A and B and the training setup
#   are ours. Its own construction of attention with "the desired parameter" is not reproduced.
# * The learned models have no positional encoding and read out at a `READ` token; lengths are mixed
#   and padded in training, so the sequences beyond training also see more padding.
# * The slope claim fits every length of panel A (the smallest lengths sit below the central-limit
#   line); its tolerance around −1/2 is ours (`hyla.claims`).
# * Scale: `quick` trains tiny models (2 layers, D 32, 4 heads) for 400 steps on lengths up to 32,
#   3 seeds; `gpu` lengths up to 256, larger models, 10 000 steps. The title says which tier drew it.
