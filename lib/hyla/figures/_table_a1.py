"""Table A1, either column: every mixer's final held-out score beside the paper's, as bars and a table.

A column's notebook saves one row per mixer and seed of a ``final`` metric (the score x 100 at the
last step) with the columns ``paper_row``, ``paper_mean`` and ``paper_sem`` (the paper's numbers,
reference data, not ours); where it saved them, ``extra["all_methods"]``, ``extra["paper_names"]``,
``extra["paper_table"]`` and ``extra["paper_not_implemented"]`` complete the table with the rows
that were not run. The two column modules (``tabA1_logic_ablations``, ``tabA1_sraven_ablations``)
say what is scored and how the setting reads.
"""

from __future__ import annotations

import dataclasses
import textwrap
from typing import Callable

import matplotlib.pyplot as plt
import numpy as np

from hyla import plotting
from hyla.figdata import FigureData
from hyla.figures import suptitle


@dataclasses.dataclass(frozen=True, eq=False)
class Column:
    """One column of Table A1: what it scores, the paper's numbers, and how its setting reads.

    A column module binds its ``COLUMN``'s methods as its own functions (``rows``,
    ``paper_provenance``, ``write_markdown``, ...), which its notebook calls.
    """

    final: str  # the metric with one row per mixer x seed at the last step, x 100
    source: str  # the run metric that ``final`` is 100 x, at the last step
    score: str  # "R²×100" / "acc×100"
    ylabel: str
    title: str  # "Table A1, <task> column", for the markdown file
    paper: dict  # the paper's (mean, s.e.) per mixer: reference data, not ours
    paper_not_implemented: dict  # the paper's rows without official code: name -> (mean, s.e.)
    paper_setting: str  # the paper's setting, for the header and the legend
    setting: Callable[[FigureData], str]  # ours, from the data
    history: tuple[str, ...] | None = None  # the history metrics saved per run (None: all)
    extra_metric: str = ""  # a second per-mixer column (x 100, last step), e.g. per-feature accuracy
    extra_label: str = ""

    def rows(self, results: dict) -> list[dict]:
        """Every run's history and, per mixer and seed, the final score x 100 beside the paper's."""
        return rows(results, self)

    def paper_provenance(self, methods) -> dict:
        """The paper's whole column (reference data) for the figure's provenance."""
        return paper_provenance(methods, self.paper, self.paper_not_implemented)

    def rank_correlation(self, data: FigureData) -> float:
        """Spearman's ρ between our mean scores and the paper's (NaN for fewer than 3 mixers)."""
        return rank_correlation(data, self)

    def table_markdown(self, data: FigureData) -> str:
        """The column as markdown: ours (with ranks) beside the paper's, every row of the paper's table."""
        return table_markdown(data, self)

    def write_markdown(self, data: FigureData, out_dir: str = "") -> str:
        """The markdown table, also written to ``figures/data/<name>.<preset>.md``, and its rank
        correlation with the paper."""
        return write_markdown(data, self, out_dir)


def rows(results: dict, col: Column) -> list[dict]:
    """What a column's notebook saves: each run's history (``col.history`` metrics; all if None) and,
    per mixer and seed, ``col.final`` = 100 x ``col.source`` at the last step beside the paper's value."""
    from hyla import runs
    from hyla.attention import PAPER_NAMES

    out = []
    for method, res in results.items():
        out += runs.tidy(res, method, col.history)
        for seed, v in zip(res.spec.seeds, runs.final_values(res, col.source)):
            out.append(dict(method=method, seed=seed, step=res.spec.train.steps, metric=col.final,
                            value=100 * float(v), paper_row=PAPER_NAMES[method], paper_mean=col.paper[method][0],
                            paper_sem=col.paper[method][1]))
    for r in out:
        for c in ("paper_row", "paper_mean", "paper_sem"):
            r.setdefault(c, "")
    return out


def paper_provenance(methods, paper: dict, not_implemented: dict) -> dict:
    """The whole column of the paper's table (reference data, not ours) for the figure's provenance."""
    from hyla.attention import PAPER_NAMES

    return {"all_methods": list(methods), "paper_names": {m: PAPER_NAMES[m] for m in methods},
            "paper_table": {m: list(v) for m, v in paper.items()},
            "paper_not_implemented": {k: list(v) for k, v in not_implemented.items()}}


def table(data: FigureData, col: Column) -> dict:
    """Mixers in the table's order, their paper names, the paper's and our (mean, s.e.), from the data."""
    ran = list(dict.fromkeys(r["method"] for r in data.select(col.final)))
    methods = list(data.extra.get("all_methods", ran))
    names = {r["method"]: r["paper_row"] for r in data.select(col.final)}
    names.update(data.extra.get("paper_names", {}))
    paper = {r["method"]: (r["paper_mean"], r["paper_sem"]) for r in data.select(col.final)}
    paper.update({m: tuple(v) for m, v in data.extra.get("paper_table", {}).items()})
    ours = {m: tuple(map(float, plotting.mean_sem(data.values(col.final, method=m)))) for m in ran}
    extra = {m: tuple(map(float, plotting.mean_sem(100 * data.values(col.extra_metric, method=m))))
             for m in ran} if col.extra_metric else {}
    return dict(methods=methods, ran=ran, names=names, paper=paper, ours=ours, extra=extra,
                seeds=len(data.unique("seed", col.final)))


def rank_correlation(data: FigureData, col: Column) -> float:
    """Spearman's ρ between our mean scores and the paper's (NaN for fewer than 3 mixers)."""
    t = table(data, col)
    if len(t["ran"]) < 3:
        return float("nan")
    from scipy.stats import spearmanr

    return float(spearmanr([t["ours"][m][0] for m in t["ran"]], [t["paper"][m][0] for m in t["ran"]]).statistic)


def _pm(mean: float, sem: float, seeds: int) -> str:
    return f"{mean:.2f} ± {sem:.2f}" if seeds > 1 else f"{mean:.2f}"


def table_markdown(data: FigureData, col: Column) -> str:
    """The column as markdown: ours (with ranks) beside the paper's, every row of the paper's table."""
    t = table(data, col)
    ours, paper, n = t["ours"], t["paper"], t["seeds"]
    rank_ours = {m: i + 1 for i, m in enumerate(sorted(t["ran"], key=lambda m: -ours[m][0]))}
    rank_paper = {m: i + 1 for i, m in enumerate(sorted(t["ran"], key=lambda m: -paper[m][0]))}
    seeds = f"{n} seeds" if n > 1 else "1 seed, no s.e."
    extra_head = f" ours {col.extra_label} |" if col.extra_metric else ""
    extra_gap = " |" if col.extra_metric else ""
    lines = [f"| paper row | mixer | ours {col.score} ({col.setting(data)}, {seeds}) | rank |{extra_head} "
             f"paper {col.score} ({col.paper_setting}, 3 seeds) | rank |",
             "| --- " * (6 + bool(col.extra_metric)) + "|"]
    for m in t["methods"]:
        pm, ps = paper[m]
        if m in ours:
            extra = f" {_pm(*t['extra'][m], n)} |" if col.extra_metric else ""
            lines.append(f"| {t['names'][m]} | `{m}` | {_pm(*ours[m], n)} | {rank_ours[m]} |{extra} "
                         f"{pm:.2f} ± {ps:.2f} | {rank_paper[m]} |")
        else:
            lines.append(f"| {t['names'][m]} | `{m}` | not run at this preset | |{extra_gap} "
                         f"{pm:.2f} ± {ps:.2f} | |")
    for name, (pm, ps) in data.extra.get("paper_not_implemented", {}).items():
        lines.append(f"| {name} | — | not implemented (no official code) | |{extra_gap} {pm:.2f} ± {ps:.2f} | |")
    return "\n".join(lines)


def write_markdown(data: FigureData, col: Column, out_dir: str = "") -> str:
    """The column's markdown table, also written to ``figures/data/<name>.<preset>.md``; returns it
    with a last line on the rank correlation with the paper and the training time per mixer."""
    from hyla.figdata import data_paths

    md = table_markdown(data, col)
    path = data_paths(data.name, data.preset, out_dir)["csv"].with_suffix(".md")
    path.write_text(f"{col.title} [{data.preset}]\n\n{md}\n", encoding="utf-8")
    times = data.extra.get("train_wall_time_s", "not in this run's data")
    return (f"{md}\n\nrank correlation with the paper: ρ = {rank_correlation(data, col):.2f} over "
            f"{len(data.unique('method', col.final))} mixers; training time per mixer (s): {times}\n"
            f"(table written to {path})")


def plot(data: FigureData, col: Column, headline: str, chance: float | None = None,
         ylim: tuple[float, float] = (0, 100), absent: str = "the paper's rows without official code"):
    """Bars: ours (filled, left) beside the paper's (hatched, right) for every mixer of the column;
    ``absent`` names what a note says is not in the data when the run saved no unimplemented rows."""
    t = table(data, col)
    fig, ax = plt.subplots(figsize=(11, 5.0))
    w = 0.38
    for i, m in enumerate(t["methods"]):
        st = plotting.method_style(m)
        if m in t["ours"]:
            ax.bar(i - w / 2, t["ours"][m][0], w, yerr=t["ours"][m][1] if t["seeds"] > 1 else None,
                   color=st.color, capsize=3, label=f"ours ({col.setting(data)})" if m == t["ran"][0] else "_")
        else:
            ax.text(i - w / 2, ylim[0] + 1, "not run", rotation=90, ha="center", va="bottom", fontsize=7)
        if m in t["paper"]:
            pm, ps = t["paper"][m]
            ax.bar(i + w / 2, pm, w, yerr=ps, color="white", edgecolor=st.color, hatch="///", capsize=3,
                   label=f"paper (Table A1, {col.paper_setting})" if i == 0 else "_")
    if chance is not None:
        ax.axhline(chance, color="0.4", ls=":", lw=1, label=f"chance, ours ({chance:.1f})")
    ax.axhline(0, color="k", lw=0.6)
    names = [t["names"].get(m, m) for m in t["methods"]]
    ax.set_xticks(np.arange(len(names)), [n.replace(" − ", "\n− ").replace(" + ", "\n+ ") for n in names],
                  fontsize=7)
    ax.set_ylabel(col.ylabel)
    ax.set_ylim(*ylim)
    ax.legend(fontsize=8, loc="upper left")
    rows = data.extra.get("paper_not_implemented")
    note = ("not implemented (no official code): " + "; ".join(
        f"{n} {pm:.1f}" for n, (pm, _) in rows.items()) + " (paper values)") if rows else (
        f"{absent}: not in this run's data")
    ax.text(1.0, -0.3, textwrap.fill(note, 150), transform=ax.transAxes, ha="right", va="top",
            fontsize=6.5, color="0.35")
    seeds = f"{t['seeds']} seeds" if t["seeds"] > 1 else "1 seed"
    suptitle(fig, data, f"{headline}, {col.setting(data)}, {seeds}", limit=1)
    fig.tight_layout()
    return fig
