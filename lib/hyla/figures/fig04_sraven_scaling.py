"""Fig. 4: sRAVEN held-out-combination accuracy against the training data (and depth / width)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from hyla import plotting
from hyla.figdata import FigureData
from hyla.figures import missing, suptitle

ACC = "heldout_accuracy"
SEARCH_COLUMNS = ("config", "method", "K", "F", "permuted", "held out", "batch", "lr", "steps", "seeds",
                  "held-out acc", "per-feature acc", "chance", "CPU s", "wall s (load)")


def _budgets(data: FigureData, **run) -> list:
    return data.unique("problem_budget", ACC, **run)


def data_axis(data: FigureData, metric: str, **run) -> tuple[np.ndarray, np.ndarray]:
    """(training problems, values [n, seeds]): along one run's training (problems = step × batch), or,
    where the data holds one run per problem budget (paper grid), the final value of each budget."""
    budgets = _budgets(data, **run)
    if len(budgets) > 1:
        return (np.array(budgets, dtype=float),
                np.stack([data.values(metric, **run, problem_budget=p) for p in budgets]))
    steps, vals = data.curve(metric, **run)
    seen = {r["step"]: r["problems_seen"] for r in data.select(metric, **run)}
    return np.array([seen[s] for s in steps], dtype=float), vals


def base_run(data: FigureData) -> dict:
    """The Table A1 cell: the smallest depth and width, at the notebook's base problem budget."""
    depth, width = min(data.unique("depth", ACC)), min(data.unique("width", ACC))
    budget = data.extra.get("base_problems") or max(_budgets(data, depth=depth, width=width))
    return dict(depth=depth, width=width, problem_budget=budget)


def _chance(data: FigureData) -> tuple[float, float] | None:
    """(all-features, per-feature) chance accuracy of the saved task; None where it was not saved."""
    task = data.extra.get("task")
    return (task["num_values"] ** -task["num_features"], 1 / task["num_values"]) if task else None


def _curves(ax, data, methods, metric, base, chance):
    for method in methods:
        x, v = data_axis(data, metric, method=method, depth=base["depth"], width=base["width"])
        plotting.band(ax, x, *plotting.mean_sem(v, axis=1), method)
    if chance is not None:
        ax.axhline(chance, color="0.5", ls=":", lw=1, label="chance")
    ax.xaxis.set_major_locator(MaxNLocator(5))
    one_run = len(_budgets(data, depth=base["depth"], width=base["width"])) == 1
    ax.set_xlabel("training problems (= step × batch)" if one_run
                  else "training problems (one run per budget)")


def _per_seed(ax, data, methods, base):
    """Final held-out accuracy of each seed (all features and per feature)."""
    for i, method in enumerate(methods):
        st = plotting.method_style(method)
        for k, metric in enumerate((ACC, "heldout_feature_accuracy")):
            v = data.values(metric, method=method, **base)
            ax.scatter(np.full(len(v), k + (i - 1) * 0.2), v, color=st.color, marker=st.marker, s=25,
                       label=st.label if k == 0 else None)
    ax.set_xticks([0, 1], ["all features", "per feature"])
    ax.set_xlim(-0.5, 1.5)
    ax.set_ylabel("final held-out accuracy (one dot per seed)")
    ax.set_title("C: per seed (depth / width axes: paper preset)", fontsize=9)


def _against(ax, data, methods, base, axis_name, letter):
    """Final held-out accuracy against depth or width (the other at its base value)."""
    values = data.unique(axis_name, ACC)
    for method in methods:
        v = np.stack([data.values(ACC, method=method, **{**base, axis_name: x}) for x in values])
        plotting.band(ax, values, *plotting.mean_sem(v, axis=1), method)
    ax.set_xticks(values)
    ax.set_xlabel(axis_name)
    ax.set_ylabel("held-out accuracy")
    ax.set_title(f"{letter}: accuracy vs {axis_name} ({base['problem_budget'] / 1e6:g}M problems)", fontsize=9)


def _search_table(ax, search: list[dict] | None):
    """E: the measured CPU-tier search (benchmarks/raven_cpu_search.py), as the notebook saved it."""
    ax.axis("off")
    if not search:
        missing(ax, "E: the CPU-tier search table (benchmarks/raven_cpu_search.py)")
        return
    body = [[r["config"], r["method"], r["num_features"], r["num_values"], r["permute_features"],
             f"{float(r['heldout_fraction']):.0%}", r["batch_size"], r["lr"], r["steps"], r["num_seeds"],
             f"{float(r['heldout_accuracy']):.3f} ± {float(r['heldout_accuracy_sem']):.3f}",
             f"{float(r['heldout_feature_accuracy']):.3f} ± {float(r['heldout_feature_accuracy_sem']):.3f}",
             f"{float(r['chance_accuracy']):.3f}", f"{float(r['cpu_time_s']):.0f}",
             f"{float(r['wall_time_s']):.0f} ({float(r['loadavg_after']):.1f})"] for r in search]
    t = ax.table(cellText=body, colLabels=SEARCH_COLUMNS, loc="upper center", cellLoc="center")
    t.auto_set_font_size(False)
    t.set_fontsize(7)
    t.scale(1, 1.2)
    ax.set_title("E: measured CPU-tier search (benchmarks/raven_cpu_search.py; 2 layers, D 64, 8 heads, "
                 "d = 4; mean ± s.e. over seeds; process CPU time, and wall time on a shared 2-core CPU "
                 "with the 1-min load in brackets)", fontsize=8)


def plot(data: FigureData):
    methods = [m for m in plotting.METHOD_STYLE if m in data.unique("method", ACC)]
    base = base_run(data)
    chance = _chance(data)
    search = data.extra.get("cpu_search")
    table = 0.25 + 0.06 * max(len(search), 2) if search else 0.12  # height of panel E (relative)
    fig = plt.figure(figsize=(18, 4.5 + 3.6 * table))
    gs = fig.add_gridspec(2, 4, height_ratios=[1, table], hspace=0.35, wspace=0.32)
    for j, (metric, label) in enumerate(((ACC, "held-out accuracy (all features)"),
                                         ("heldout_feature_accuracy", "held-out per-feature accuracy"))):
        ax = fig.add_subplot(gs[0, j])
        _curves(ax, data, methods, metric, base, chance[j] if chance else None)
        ax.set_ylabel(label)
        ax.set_title(f"{'AB'[j]}: depth {base['depth']}, width {base['width']}", fontsize=9)
        if j == 0:
            ax.legend(fontsize=7)
    for j, axis_name in enumerate(("depth", "width")):
        ax = fig.add_subplot(gs[0, 2 + j])
        if len(data.unique(axis_name, ACC)) > 1:
            _against(ax, data, methods, base, axis_name, "CD"[j])
        elif j == 0:  # no depth axis in this run: the final values per seed instead
            _per_seed(ax, data, methods, base)
        else:  # no width axis in this run: accuracy on the training combinations instead
            _curves(ax, data, methods, "train_accuracy", base, chance[0] if chance else None)
            ax.set_ylabel("training-combination accuracy (all features)")
            ax.set_title("D: in-distribution accuracy (fresh problems)", fontsize=9)
    _search_table(fig.add_subplot(gs[1, :]), search)

    steps = max(r["step"] for r in data.select(ACC))
    check = "pipeline check, " if data.extra.get("pipeline_check") else ""
    chance_text = f", chance {chance[0]:.3g}" if chance else ""
    suptitle(fig, data, f"Fig. 4 sRAVEN, {check}{plotting.sraven_setting(data.extra.get('task'))}"
             f"{steps} steps{chance_text}; paper: K=4, 20M problems", fontsize=8)
    return fig
