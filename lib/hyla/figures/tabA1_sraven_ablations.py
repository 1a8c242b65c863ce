"""Table A1, sRAVEN column: held-out accuracy of every mixer beside the paper's, as bars and as a table.

The paper's numbers (reference data, not ours) are read from the saved data: the CSV's ``paper_*``
columns of the run mixers and, where the notebook saved them, ``extra["paper_table"]`` for all rows.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from hyla import plotting
from hyla.figdata import FigureData
from hyla.figures import suptitle

FINAL = "heldout_accuracy_x100_final"  # held-out accuracy x 100 at the last step, one row per seed


def _table(data: FigureData) -> dict:
    """Mixers in the table's order, their paper names and the paper's (mean, s.e.), from the data."""
    ran = list(dict.fromkeys(r["method"] for r in data.select(FINAL)))
    methods = list(data.extra.get("all_methods", ran))
    names = {r["method"]: r["paper_row"] for r in data.select(FINAL)}
    names.update(data.extra.get("paper_names", {}))
    paper = {r["method"]: (r["paper_mean"], r["paper_sem"]) for r in data.select(FINAL)}
    paper.update({m: tuple(v) for m, v in data.extra.get("paper_table", {}).items()})
    ours = {m: tuple(map(float, plotting.mean_sem(data.values(FINAL, method=m)))) for m in ran}
    feat = {m: tuple(map(float, plotting.mean_sem(100 * data.values("heldout_feature_accuracy", method=m))))
            for m in ran}
    return dict(methods=methods, ran=ran, names=names, paper=paper, ours=ours, feat=feat)


def _setting(data: FigureData) -> str:
    """``K=.., F=..[, unpermuted], <steps> steps`` (the task part only where the notebook saved it)."""
    return f"{plotting.sraven_setting(data.extra.get('task'))}{max(r['step'] for r in data.select(FINAL))} steps"


def rank_correlation(data: FigureData) -> float:
    """Spearman's ρ between our mean held-out accuracies and the paper's (NaN for fewer than 3 mixers)."""
    t = _table(data)
    if len(t["ran"]) < 3:
        return float("nan")
    from scipy.stats import spearmanr

    return float(spearmanr([t["ours"][m][0] for m in t["ran"]], [t["paper"][m][0] for m in t["ran"]]).statistic)


def table_markdown(data: FigureData) -> str:
    """The table as markdown: ours (with ranks) beside the paper's, every row of the paper's table."""
    t = _table(data)
    ours, feat, paper = t["ours"], t["feat"], t["paper"]
    n_seeds = len(data.unique("seed", FINAL))
    rank_ours = {m: i + 1 for i, m in enumerate(sorted(t["ran"], key=lambda m: -ours[m][0]))}
    rank_paper = {m: i + 1 for i, m in enumerate(sorted(t["ran"], key=lambda m: -paper[m][0]))}
    lines = [f"| paper row | mixer | ours acc×100 ({_setting(data)}, {n_seeds} seeds) | rank | "
             "ours per-feature ×100 | paper acc×100 (K=4, 20M problems, 3 seeds) | rank |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for m in t["methods"]:
        pm, ps = paper[m]
        if m in ours:
            (mean, sem), (fm, fs) = ours[m], feat[m]
            lines.append(f"| {t['names'][m]} | `{m}` | {mean:.2f} ± {sem:.2f} | {rank_ours[m]} | "
                         f"{fm:.2f} ± {fs:.2f} | {pm:.2f} ± {ps:.2f} | {rank_paper[m]} |")
        else:
            lines.append(f"| {t['names'][m]} | `{m}` | not run at this preset | | | {pm:.2f} ± {ps:.2f} | |")
    for name, (pm, ps) in data.extra.get("paper_not_implemented", {}).items():
        lines.append(f"| {name} | — | not implemented (no official code) | | | {pm:.2f} ± {ps:.2f} | |")
    return "\n".join(lines)


def plot(data: FigureData):
    t = _table(data)
    fig, ax = plt.subplots(figsize=(11, 5.0))
    w = 0.38
    for i, m in enumerate(t["methods"]):
        st = plotting.method_style(m)
        if m in t["ours"]:
            ax.bar(i - w / 2, t["ours"][m][0], w, yerr=t["ours"][m][1], color=st.color, capsize=3,
                   label=f"ours ({_setting(data)})" if m == t["ran"][0] else "_")
        else:
            ax.text(i - w / 2, 1, "not run", rotation=90, ha="center", va="bottom", fontsize=7)
        if m in t["paper"]:
            pm, ps = t["paper"][m]
            ax.bar(i + w / 2, pm, w, yerr=ps, color="white", edgecolor=st.color, hatch="///", capsize=3,
                   label="paper (Table A1, K=4, 20M problems)" if i == 0 else "_")
    task = data.extra.get("task")
    if task:
        chance = 100 * task["num_values"] ** -task["num_features"]
        ax.axhline(chance, color="0.4", ls=":", lw=1, label=f"chance, ours ({chance:.1f})")
    names = [t["names"].get(m, m) for m in t["methods"]]
    ax.set_xticks(np.arange(len(names)), [n.replace(" − ", "\n− ").replace(" + ", "\n+ ") for n in names],
                  fontsize=7)
    ax.set_ylabel("held-out-combination accuracy × 100")
    ax.set_ylim(0, 100)
    ax.legend(fontsize=8, loc="upper left")
    absent = data.extra.get("paper_not_implemented")
    note = ("not implemented (no official code): " + "; ".join(
        f"{n} {pm:.1f}" for n, (pm, _) in absent.items()) + " (paper values)") if absent else (
        "the paper's rows without official code, and the chance level: not in this run's data")
    ax.text(1.0, -0.3, note, transform=ax.transAxes, ha="right", fontsize=6.5, color="0.35")
    suptitle(fig, data, f"Table A1 sRAVEN column, {_setting(data)}, {len(data.unique('seed', FINAL))} seeds",
             limit=1)
    fig.tight_layout()
    return fig
