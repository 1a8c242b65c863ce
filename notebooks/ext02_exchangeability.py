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
# **Related work, not the HYLA paper.** Zhang, Liu, Cai, Wang, Wang, *An Analysis of Attention via
# the Lens of Exchangeability and Latent Variable Models* (arXiv 2212.14852; theory only, no code or
# experiments). Its claims (abstract; the full text was not read for this notebook): tokens that are
# exchangeable given a latent variable z have the posterior p(z | X) as sufficient and minimal
# representation; attention "with the desired parameter" infers it up to an approximation error
# **decreasing in the input size L**, by approximating the conditional mean of the value given the
# key (a kernel-weighted average); ERM learns the parameters with an error independent of L.
#
# **Setup (ours).** z uniform on 4 latents; given z, L tokens i.i.d. from Categorical(θ_z) over 8
# symbols (θ_z ~ Dirichlet(1), fixed by the seed) — exchangeable given z. The exact posterior
# p(z | X) ∝ π_z Π_i θ_z[x_i] and predictive p(x' | X) = Σ_z p(z | X) θ_z are computed in closed form
# (tests check them against a direct sum). A model reads the sequence `[READ, x_1..x_L, PAD…]` with no
# positional encoding (so it is permutation-invariant, like the data) and outputs p(z | X) at READ.
#
# * **A — attention with the right parameters, softmax = the conditional mean embedding.** One head,
#   the same score for every token, one-hot values: softmax attention returns the empirical token
#   frequencies n/L. Its L1 distance to the Bayes predictive shrinks as L^−1/2; the dashed line is
#   the central-limit prediction c/√L with c = mean_z Σ_v √(2θ_zv(1−θ_zv)/π) (not fitted).
# * **B — the posterior itself.** With log-likelihood values, *unnormalised* attention (linear
#   attention; HYLA, whose single-head RMSHead code of a positive score is 1) sums them and returns the
#   exact log posterior at every L (error at float precision). Softmax attention with the same values
#   averages them: a posterior tempered by 1/L, whose error does not vanish — normalising over keys
#   discards L, which the posterior needs. (This construction is ours; the paper's exact one was not
#   read.)
# * **C — learned.** Softmax, linear and HYLA transformers trained through the library's engine on
#   soft-label cross-entropy to the exact posterior (lengths 1..max_len, padded), scored by the total
#   variation to the exact posterior vs L; hollow markers: lengths beyond training (2× and 4× the
#   longest training length, padded to 4×).
# * **D** — validation KL during training.
#
# **What each preset can show.** `quick` (2-core CPU, ~2 min): A and B exactly (256 sequences per L up
# to 256 tokens), C and D with tiny models (2 layers, D 32, 4 heads), 400 steps, lengths ≤ 32, 3
# seeds. `gpu`: lengths ≤ 256, larger models, 10 000 steps. `paper`: no experiment exists in the
# paper; this tier is a longer `gpu` run.

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
FIGURE = "ext02_exchangeability"
config = presets.get(FIGURE, preset)
notebook.banner(preset, FIGURE)

import jax
import matplotlib.pyplot as plt
import numpy as np

from hyla import analysis, plotting, runs
from hyla.objectives import make_objective
from hyla.provenance import Timer
from hyla.tasks.exchangeable import ExchangeableMixture, bayes_attention_readout, cme_l1_rate

# %%
# A, B: attention with the right parameters (no training); PAD tokens get no weight in these
# constructions, so every length is padded to the longest one.
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


def analytic(method, metric):
    r = [x for x in analytic_rows if x["method"] == method and x["metric"] == f"analytic_{metric}"]
    return (np.array([x["length"] for x in r]), np.array([x["value"] for x in r]),
            np.array([x["sem"] for x in r]))


Ls, cme, _ = analytic("softmax", "cme_l1_to_bayes_predictive")
fit = Ls >= 4
slope = float(np.polyfit(np.log(Ls[fit]), np.log(cme[fit]), 1)[0])
c_theory = cme_l1_rate(task)
print(f"softmax CME: L1 error to the Bayes predictive ~ L^{slope:.3f} (theory: L^-0.5, "
      f"constant {c_theory:.3f}); posterior TV, linear: max {analytic('linear', 'posterior_tv')[1].max():.1e}, "
      f"HYLA: max {analytic('hyla', 'posterior_tv')[1].max():.1e}, softmax (averaged): "
      f"{np.round(analytic('softmax', 'posterior_tv')[1], 3)}")

# %%
# C, D: learned models through the engine (cached, seeds vmapped), then scored per length.
results = {m: runs.load_or_train(presets.apply_overrides(s, steps, num_seeds), cache_dir,
                                 name=f"{m} posterior")
           for m, s in config["specs"].items()}
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

# %%
# Save data.
rows = analytic_rows + learned_rows
for m, res in results.items():
    rows += [dict(r, length="", sem="", panel="training") for r in runs.tidy(res, m)]
timer.__exit__(None, None, None)


def learned(method, metric, panel):
    r = [x for x in learned_rows if x["method"] == method and x["metric"] == f"learned_{metric}"
         and x["panel"] == panel]
    Ls = sorted({x["length"] for x in r})
    seeds = sorted({x["seed"] for x in r})
    v = np.array([[next(x["value"] for x in r if x["length"] == L and x["seed"] == s) for s in seeds]
                  for L in Ls])
    return np.array(Ls), v


tv_at = {m: learned(m, "posterior_tv", "learned") for m in results}
summary = {m: {int(L): float(v.mean()) for L, v in zip(*tv_at[m])} for m in results}
print("learned posterior TV by length (mean over seeds):", summary)

# %%
# Plot.
plotting.use_style()
fig, axes = plt.subplots(2, 2, figsize=(10.5, 7.6))
SOFT = plotting.method_style("softmax")

ax = axes[0, 0]
for metric, ls, lab in (("cme_l1_to_bayes_predictive", "-", "softmax output vs Bayes predictive"),
                        ("cme_l1_to_theta_z", "--", "softmax output vs θ_z (true latent)")):
    L, v, se = analytic("softmax", metric)
    plotting.band(ax, L, v, se, "softmax", label=lab, linestyle=ls)
ax.plot(Ls, c_theory / np.sqrt(Ls), color="k", linestyle=":", label=f"CLT theory {c_theory:.2f}/√L")
ax.set_xscale("log", base=2), ax.set_yscale("log")
ax.set_xlabel("sequence length L")
ax.set_ylabel("L1 error")
ax.set_title(f"A: softmax attention = empirical CME; fitted slope {slope:.2f} (theory −0.5)",
             fontsize=8.5)
ax.legend(fontsize=7)

ax = axes[0, 1]
floor = 1e-9
for m in ("linear", "hyla", "softmax"):
    L, v, se = analytic(m, "posterior_tv")
    lab = plotting.method_style(m).label + (" (sum: exact)" if m != "softmax" else " (average: tempered)")
    plotting.band(ax, L, np.maximum(v, floor), se, m, label=lab)
ax.set_xscale("log", base=2), ax.set_yscale("log")
ax.set_xlabel("sequence length L")
ax.set_ylabel("TV to the exact posterior p(z | X) (float32: ~1e-7)")
ax.set_title("B: posterior from attention with log-likelihood values", fontsize=8.5)
ax.legend(fontsize=7)

ax = axes[1, 0]
for m in results:
    L, v = tv_at[m]
    mean, sem = plotting.mean_sem(v, axis=1)
    plotting.band(ax, L, mean, sem, m)
    Lx, vx = learned(m, "posterior_tv", "learned_extrapolation")
    mx, sx = plotting.mean_sem(vx, axis=1)
    st = plotting.method_style(m)
    ax.errorbar(Lx, mx, yerr=sx, marker=st.marker, color=st.color, markerfacecolor="white",
                linestyle="--", capsize=2, label="_")
Lref = np.array(sorted(set(config["eval_lengths"]) | set(config["extrapolation_lengths"])))
ax.plot(Lref, c_theory / np.sqrt(Lref) / 2, color="k", linestyle=":", label="∝ L^−1/2 (reference)")
ax.axvline(max(config["eval_lengths"]), color="0.7", linewidth=0.7)
ax.set_xscale("log", base=2), ax.set_yscale("log")
ax.set_xlabel("sequence length L (hollow: beyond training lengths, more padding)")
ax.set_ylabel("TV to the exact posterior")
ax.set_title("C: learned transformers, posterior error vs L", fontsize=8.5)
ax.legend(fontsize=7)

ax = axes[1, 1]
for m, res in results.items():
    s, v = res.metric("validation_kl")
    mean, sem = plotting.mean_sem(v, axis=1)
    plotting.band(ax, s, mean, sem, m)
ax.set_yscale("log")
ax.set_xlabel("training step")
ax.set_ylabel("validation KL(exact ‖ model), nats")
ax.set_title("D: training (lengths 1..max_len mixed)", fontsize=8.5)
ax.legend(fontsize=7)

steps_done = results["hyla"].spec.train.steps
small, large = min(config["eval_lengths"]), max(config["eval_lengths"])
trend = {m: "falls" if summary[m][large] < summary[m][small] else "does not fall" for m in summary}
check = "pipeline check, learned numbers mean nothing — " if preset == "smoke" else ""
fig.suptitle(f"Ext. 2 exchangeability [{preset}, {steps_done} steps]: {check}softmax CME error ~ L^{slope:.2f} "
             f"(theory −0.5); linear & HYLA constructions give the exact posterior, softmax's average a "
             f"tempered one\nLearned posterior TV at L={small}→{large}: "
             + ", ".join(f"{plotting.method_style(m).label} {summary[m][small]:.3f}→{summary[m][large]:.3f}"
                         f" ({trend[m]})" for m in summary), fontsize=8)
fig.tight_layout()
paths = plotting.save_figure(
    fig, FIGURE, out_dir, preset, rows, wall_time_s=timer.elapsed,
    provenance_extra={"runs": {m: r.spec.key() for m, r in results.items()},
                      "train_wall_time_s": {m: round(r.wall_time_s, 1) for m, r in results.items()},
                      "cme_slope": slope, "cme_theory_constant": c_theory,
                      "paper": "Zhang et al. 2022: attention ≈ Bayes posterior; softmax CME error ∝ L^-1/2",
                      "summary": f"CME error slope {slope:.2f} (theory −0.5); learned posterior TV at "
                                 f"L={small}→{large}: " + ", ".join(
                                     f"{m} {summary[m][small]:.3f}→{summary[m][large]:.3f}" for m in summary),
                      "learned_posterior_tv_by_length": summary, "learned_trend": trend,
                      "overrides": {"steps": steps, "num_seeds": num_seeds}})
print({k: str(v) for k, v in paths.items()})
