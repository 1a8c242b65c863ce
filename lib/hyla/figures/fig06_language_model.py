"""Fig. 6: validation loss of causal language models with softmax attention, linear attention and HYLA."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from hyla import plotting
from hyla.figdata import FigureData
from hyla.figures import suptitle


def plot(data: FigureData):
    methods = list(dict.fromkeys(r["method"] for r in data.select("validation_loss")))
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    ax = axes[0]
    second = []  # the mean loss at the second evaluation: the top of the zoomed y-axis
    for method in methods:
        s, v = data.curve("validation_loss", method=method)
        mean, sem = plotting.mean_sem(v, axis=1)
        plotting.band(ax, s, mean, sem, method)
        second.append(float(np.nanmean(v[min(1, len(s) - 1)])))
    lowest = min(float(np.mean(data.values("validation_loss", method=m))) for m in methods)
    ax.set_ylim(lowest - 0.1, max(second) + 0.1)
    ax.set_xlabel("training step")
    ax.set_ylabel("validation loss (nats / character)")
    ax.set_title("validation loss during training (first evaluation off the top)", fontsize=9)
    ax.legend(fontsize=8)

    ax = axes[1]  # the end of training, train windows (same protocol) beside validation
    for i, method in enumerate(methods):
        st = plotting.method_style(method)
        for j, (metric, fill) in enumerate((("validation_loss", True), ("train_eval_loss", False))):
            v = data.values(metric, method=method)
            m, se = plotting.mean_sem(v)
            x = i + 0.15 * (2 * j - 1)
            ax.errorbar(x, m, yerr=se, marker=st.marker, color=st.color,
                        markerfacecolor=st.color if fill else "white", capsize=3, linestyle="none",
                        label=("validation" if fill else "train windows") if i == 0 else "_")
            ax.scatter(np.full(len(v), x), v, s=8, color=st.color, alpha=0.4)
    ax.set_xticks(range(len(methods)), [plotting.method_style(m).label for m in methods], fontsize=8)
    ax.set_ylabel("loss at the last step (nats / character)")
    ax.set_title("final loss per seed")
    ax.legend(fontsize=7)

    corpus = data.unique("corpus", "validation_loss")[0].split(" (")[0]
    steps = max(r["step"] for r in data.select("validation_loss"))
    seeds = len(data.unique("seed", "validation_loss"))
    suptitle(fig, data, f"Fig. 6 substitute: character-level LM on {corpus}, not C4, {steps} steps, "
             f"{seeds} seeds", fontsize=8.5)
    fig.tight_layout()
    return fig
