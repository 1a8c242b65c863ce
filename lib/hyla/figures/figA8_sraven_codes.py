"""Fig. A8: last-layer latent codes per sRAVEN rule (HYLA's mean codes and samples) and their cosines."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from hyla import plotting
from hyla.figdata import FigureData
from hyla.figures import missing, suptitle

LETTERS = "ABCDEFGH"


def _mean_codes(data: FigureData) -> tuple[list[str], np.ndarray]:
    """(rules, HYLA's per-rule mean codes [rules, heads, 2 keys]); NaN for a rule without samples."""
    rows = data.select("mean_code", method="hyla")
    rules = list(dict.fromkeys(r["rule_a"] for r in rows))
    heads = len({r["head"] for r in rows})
    return rules, np.array([r["value"] for r in rows]).reshape(len(rules), heads, 2)


def _rule_cosines(data: FigureData, rules: list[str]) -> dict[str, np.ndarray]:
    """Per method, the cosine similarity of the centred per-rule mean codes [rules, rules]."""
    rows = data.select("rule_mean_code_cosine")
    methods = list(dict.fromkeys(r["method"] for r in rows))
    return {m: np.array([r["value"] for r in rows if r["method"] == m]).reshape(len(rules), len(rules))
            for m in methods}


def _grouped_ticks(ax, rules_of_rows: np.ndarray, both: bool) -> None:
    """Lines between the rule groups of sample rows (and columns) and one letter per group."""
    for b in np.flatnonzero(np.diff(rules_of_rows)) + 0.5:
        ax.axhline(b, color="k", lw=0.6 if not both else 0.5)
        if both:
            ax.axvline(b, color="k", lw=0.5)
    present = np.unique(rules_of_rows)
    mids = [np.mean(np.flatnonzero(rules_of_rows == r)) for r in present]
    ax.set_yticks(mids, [LETTERS[r] for r in present])
    if both:
        ax.set_xticks(mids, [LETTERS[r] for r in present])


def plot(data: FigureData):
    rules, mean_codes = _mean_codes(data)
    cos_means = _rule_cosines(data, rules)
    add, diff = rules.index("addition"), rules.index("difference")
    H = mean_codes.shape[1]
    fig = plt.figure(figsize=(16, 8.5))
    gs = fig.add_gridspec(2, 1, height_ratios=[0.8, 1.2], hspace=0.35)
    top = gs[0].subgridspec(1, len(rules), wspace=0.15)
    vmax = np.nanmax(np.abs(mean_codes))
    for r, rule in enumerate(rules):
        ax = fig.add_subplot(top[0, r])
        ax.imshow(mean_codes[r], cmap="RdBu_r", vmin=-vmax, vmax=vmax, aspect="auto")
        ax.grid(False)
        ax.set_xticks([0, 1], ["p7", "p8"], fontsize=7)
        ax.set_yticks(range(0, H, max(1, H // 4)))
        if r == 0:
            ax.set_ylabel("head")
        ax.set_title(f"{LETTERS[r]} {rule}", fontsize=8)
        if np.all(np.isnan(mean_codes[r])):
            ax.text(0.5, 0.5, "no samples", transform=ax.transAxes, ha="center", fontsize=7)
    bottom = gs[1].subgridspec(1, 2 + len(cos_means), wspace=0.35, width_ratios=[1.2, 1.2] + [0.8] * len(cos_means))
    ax_samples, ax_cos = fig.add_subplot(bottom[0, 0]), fig.add_subplot(bottom[0, 1])
    within = data.values("sample_cosine_within_rule", method="hyla")[0]
    between = data.values("sample_cosine_between_rules", method="hyla")[0]
    if "samples" in data.arrays:
        samples, sample_rules = data.arrays["samples"], data.arrays["sample_rules"]
        lim = np.abs(samples).max()
        ax_samples.imshow(samples, cmap="RdBu_r", aspect="auto", vmin=-lim, vmax=lim, interpolation="nearest")
        ax_samples.grid(False)
        _grouped_ticks(ax_samples, sample_rules, both=False)
        ax_samples.set_xlabel("head × key (p7, p8)")
        ax_samples.set_title(f"HYLA sample codes ({data.extra['samples_per_rule']} per rule)", fontsize=9)
        ax_cos.imshow(data.arrays["sample_cosine"], cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
        ax_cos.grid(False)
        _grouped_ticks(ax_cos, sample_rules, both=True)
    else:
        missing(ax_samples, "HYLA's sample codes")
        missing(ax_cos, "cosines between the sample codes")
    ax_cos.set_title(f"sample cosine (centred): within {within:.2f}, between {between:.2f}", fontsize=9)
    for j, (m, cos) in enumerate(cos_means.items()):
        ax = fig.add_subplot(bottom[0, 2 + j])
        im = ax.imshow(cos, cmap="RdBu_r", vmin=-1, vmax=1)
        ax.grid(False)
        ax.set_xticks(range(len(rules)), list(LETTERS[:len(rules)]), fontsize=7)
        ax.set_yticks(range(len(rules)), list(LETTERS[:len(rules)]), fontsize=7)
        ax.set_title(f"{plotting.method_style(m).label}\nrule-mean cosine, "
                     f"cos({LETTERS[add]},{LETTERS[diff]}) {cos[add, diff]:.2f}", fontsize=8)
    fig.colorbar(im, ax=ax, fraction=0.046)
    steps = max(r["step"] for r in data.select("mean_code"))
    task, acc = data.extra.get("task"), data.extra.get("hyla_heldout_accuracy")
    setting = plotting.sraven_setting(task)
    accuracy = (f": HYLA held-out accuracy {acc:.3f} (chance {task['num_values'] ** -task['num_features']:.3f})"
                if task and acc is not None else "")
    suptitle(fig, data, f"Fig. A8 sRAVEN last-layer codes per rule, {setting}{steps} steps{accuracy}; "
             f"HYLA sample codes of the same rule cosine {within:.2f} vs different rules {between:.2f}")
    return fig
