"""Ext. 2: exchangeable tokens and a latent variable (Zhang et al. 2022): what attention computes.

A: softmax attention with one-hot values = the empirical conditional mean embedding (CME), error vs L;
B: the posterior p(z | X) from attention with log-likelihood values; C: learned transformers' posterior
error vs L; D: validation KL during training.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from hyla import plotting
from hyla.figdata import FigureData
from hyla.figures import suptitle

FLOOR = 1e-9  # panel B's log axis: float32 errors of an exact construction can be 0


def analytic(data: FigureData, method: str, metric: str):
    """(lengths, value, s.e.) of a right-parameters construction (one row per length)."""
    rows = sorted(data.select(f"analytic_{metric}", method=method, panel="right_parameters"),
                  key=lambda r: r["length"])
    return tuple(np.array([r[k] for r in rows], dtype=float) for k in ("length", "value", "sem"))


def learned(data: FigureData, method: str, panel: str):
    """(lengths, posterior TV [lengths, seeds]) of a trained model."""
    lengths = data.unique("length", "learned_posterior_tv", method=method, panel=panel)
    tv = np.stack([data.values("learned_posterior_tv", method=method, panel=panel, length=L)
                   for L in lengths]) if lengths else np.zeros((0, 0))
    return np.array(lengths, dtype=float), tv


def cme_slope(lengths, errors) -> float:
    """Log-log slope of the CME error against L, over every length (claims' ``loglog_slope``)."""
    return float(np.polyfit(np.log(lengths), np.log(errors), 1)[0])


def finish(ax, title: str, ylabel: str, xlabel: str = "sequence length L", log_x: bool = True):
    """Log axes (x in base 2 unless ``log_x`` is False), labels, title and legend of one panel."""
    if log_x:
        ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=8.5)
    ax.legend(fontsize=7)


def plot(data: FigureData):
    methods = [m for m in plotting.METHOD_STYLE if m in data.unique("method", "learned_posterior_tv")]
    c_theory = data.extra.get("cme_theory_constant")
    fig, axes = plt.subplots(2, 2, figsize=(10.5, 7.6))

    ax = axes[0, 0]
    for metric, ls, lab in (("cme_l1_to_bayes_predictive", "-", "softmax output vs Bayes predictive"),
                            ("cme_l1_to_theta_z", "--", "softmax output vs θ_z (true latent)")):
        L, v, se = analytic(data, "softmax", metric)
        plotting.band(ax, L, v, se, "softmax", label=lab, linestyle=ls)
    Ls, cme, _ = analytic(data, "softmax", "cme_l1_to_bayes_predictive")
    if c_theory is not None:
        ax.plot(Ls, c_theory / np.sqrt(Ls), color="k", linestyle=":",
                label=f"central-limit theory {c_theory:.2f}/√L")
    finish(ax, f"A: softmax attention = empirical CME; log-log slope {cme_slope(Ls, cme):.2f}", "L1 error")

    ax = axes[0, 1]
    for m in ("linear", "hyla", "softmax"):
        L, v, se = analytic(data, m, "posterior_tv")
        how = " (average: tempered)" if m == "softmax" else " (sum: exact)"
        plotting.band(ax, L, np.maximum(v, FLOOR), se, m, label=plotting.method_style(m).label + how)
    finish(ax, "B: posterior from attention with log-likelihood values",
           "TV to the exact posterior p(z | X) (float32: ~1e-7)")

    ax = axes[1, 0]
    for m in methods:
        L, tv = learned(data, m, "learned")
        plotting.band(ax, L, *plotting.mean_sem(tv, axis=1), m)
        Lx, tvx = learned(data, m, "learned_extrapolation")
        if len(Lx):
            st = plotting.method_style(m)
            ax.errorbar(Lx, *plotting.mean_sem(tvx, axis=1), marker=st.marker, color=st.color,
                        markerfacecolor="white", linestyle="--", capsize=2, label="_")
    trained_max = max(data.unique("length", "learned_posterior_tv", panel="learned"))
    Lref = np.array(data.unique("length", "learned_posterior_tv"), dtype=float)
    if c_theory is not None:
        ax.plot(Lref, c_theory / np.sqrt(Lref) / 2, color="k", linestyle=":", label="∝ L^−1/2 (reference)")
    ax.axvline(trained_max, color="0.7", linewidth=0.7)
    finish(ax, "C: learned transformers, posterior error vs L", "TV to the exact posterior",
           "sequence length L (hollow: beyond training lengths, more padding)")

    ax = axes[1, 1]
    for m in methods:
        steps, kl = data.curve("validation_kl", method=m, panel="training")
        plotting.band(ax, steps, *plotting.mean_sem(kl, axis=1), m)
    finish(ax, f"D: training (lengths 1..{trained_max} mixed)", "validation KL(exact ‖ model), nats",
           "training step", log_x=False)

    steps = max(r["step"] for r in data.select("validation_kl"))
    check = ", pipeline check: learned numbers mean nothing" if data.preset == "smoke" else ""
    suptitle(fig, data, f"Ext. 2 exchangeability (Zhang et al. 2022), {steps} steps{check}",
             limit=2, fontsize=8.5)
    fig.tight_layout()
    return fig
