"""The paper's claims, as data, and one fixed rule that turns saved figure data into a verdict.

Each figure declares what the paper claims about it (``CLAIMS``): a metric, two groups of rows to
compare (or one group and a bound), and the paper's own numbers. ``evaluate`` reads a figure's saved
data (``hyla.figdata``) and gives one ``Verdict`` per claim. The same verdicts make the figure titles,
the notebooks' results cells and the README's "what reproduces" table.

The rule (``decide``), on the per-seed values of each group at the last evaluated step:

    gap = mean(a) - mean(b)        (or mean(a) - bound; the sign flipped for a "<" claim)
    se  = sqrt(sem(a)^2 + sem(b)^2)  (standard errors over seeds)
    reproduced      gap > 2 se, gap > 0, and at least ``min_seeds`` seeds in each group
    partly          gap > 0, but within 2 se (or too few seeds to tell)
    not reproduced  gap <= 0
    not run at this tier   the data holds no rows for a group

For an "≈" claim the gap is |mean(a) - target| and the claim holds when it is at most ``tol``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from hyla.figdata import FigureData

__all__ = ["Claim", "Verdict", "CLAIMS", "VERDICTS", "claims_for", "evaluate", "decide",
           "report", "title_line", "paper_numbers", "MAX", "MIN"]

VERDICTS = ("reproduced", "partly", "not reproduced", "not run at this tier")
MAX, MIN = "max", "min"  # a filter value: the largest / smallest value of that column in the data
_SYMBOL = {">": ">", "<": "<", "≈": "≈"}


@dataclasses.dataclass(frozen=True)
class Claim:
    """One claim of the paper about one figure.

    ``a`` and ``b`` are groups of rows: a method name, or a dict of column filters (a value ``MAX`` /
    ``MIN`` picks the largest / smallest value of that column). ``where`` filters both groups.
    ``b=None`` compares ``a`` with ``bound``. ``paper`` holds the paper's numbers in the CSV's
    units, keyed "a" and "b" (or "bound"); ``paper_text`` replaces them where the paper gives none.
    ``expected_at``: the tiers at which the paper's effect can show at our budgets.
    """

    figure: str
    text: str
    metric: str
    a: str | Mapping[str, Any]
    b: str | Mapping[str, Any] | None = None
    op: str = ">"
    bound: float | None = None
    tol: float = 0.0
    where: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    paper: Mapping[str, float] = dataclasses.field(default_factory=dict)
    paper_text: str = ""
    min_seeds: int = 2
    stat: str = "final"
    x: str = ""  # the column a "loglog_slope" statistic regresses on
    expected_at: tuple[str, ...] = ("smoke", "quick", "gpu", "paper")

    def __post_init__(self):
        if self.op not in _SYMBOL:
            raise ValueError(f"claim {self.text!r}: op={self.op!r}; allowed: {', '.join(_SYMBOL)}")
        if self.b is None and self.bound is None:
            raise ValueError(f"claim {self.text!r}: give b (a group to compare with) or bound")
        if self.stat not in STATISTICS:
            raise ValueError(f"claim {self.text!r}: stat={self.stat!r}; allowed: {', '.join(STATISTICS)}")


@dataclasses.dataclass(frozen=True)
class Verdict:
    claim: Claim
    preset: str
    verdict: str
    a: tuple[float, float, int] | None  # (mean, s.e., seeds)
    b: tuple[float, float, int] | None
    gap: float | None = None
    se: float | None = None

    @property
    def expected(self) -> bool:
        """Whether the paper's effect can show at this tier (``Claim.expected_at``)."""
        return self.preset in self.claim.expected_at

    def paper_str(self) -> str:
        c = self.claim
        if c.paper_text:
            return c.paper_text
        p = c.paper
        if "a" in p and "b" in p:
            return f"{_fmt(p['a'])} {_SYMBOL[c.op]} {_fmt(p['b'])}"
        if "a" in p:
            return _fmt(p["a"])
        return "—"

    def ours_str(self) -> str:
        if self.a is None or (self.claim.b is not None and self.b is None):
            return "—"
        a = _pm(self.a)
        if self.claim.b is None:
            return a
        return f"{a} {_SYMBOL[self.claim.op]} {_pm(self.b)}" if self.verdict != "not reproduced" \
            else f"{a} vs {_pm(self.b)}"

    def line(self) -> str:
        """``<claim>: <ours> — <verdict>`` (for titles and printouts)."""
        note = "" if self.expected or self.verdict == "not run at this tier" else " (not expected at this tier)"
        ours = self.ours_str()
        return f"{self.claim.text}: {ours + ' — ' if ours != '—' else ''}{self.verdict}{note}"


def _fmt(x: float) -> str:
    if x == 0:
        return "0"
    if abs(x) < 1e-3 or abs(x) >= 1e4:
        return f"{x:.2g}"
    return f"{x:.3g}" if abs(x) < 1 else f"{x:.4g}"


def _pm(stats: tuple[float, float, int]) -> str:
    """``mean ± s.e.``, both to the s.e.'s second significant digit (the mean alone without one)."""
    mean, se, n = stats
    if n < 2 or se == 0 or not math.isfinite(se):
        return _fmt(mean)
    digits = max(0, 1 - math.floor(math.log10(se)))
    return f"{mean:.{digits}f} ± {se:.{digits}f}"


# ---------------------------------------------------------------------------------------------------
# Statistics of a group of rows: per-seed values


def _resolve(data: FigureData, metric: str, filters: Mapping[str, Any]) -> dict[str, Any]:
    """Filters with ``MAX`` / ``MIN`` replaced by the largest / smallest value present."""
    out = {k: v for k, v in filters.items() if v not in (MAX, MIN)}
    for k, v in filters.items():
        if v in (MAX, MIN):
            vals = data.unique(k, metric, **out)
            if not vals:
                raise KeyError(k)
            out[k] = max(vals) if v == MAX else min(vals)
    return out


def _final(data: FigureData, claim: Claim, filters: Mapping[str, Any]) -> np.ndarray:
    return data.values(claim.metric, **filters)


def _loglog_slope(data: FigureData, claim: Claim, filters: Mapping[str, Any]) -> np.ndarray:
    """Per-seed slope of log(value) against log(x) (x = the column ``claim.x``), last step."""
    xs = data.unique(claim.x, claim.metric, **filters)
    if len(xs) < 2:
        raise KeyError(claim.x)
    per_x = np.stack([data.values(claim.metric, **{**filters, claim.x: x}) for x in xs])  # [X, seeds]
    lx = np.log(np.asarray(xs, dtype=float))
    return np.array([np.polyfit(lx, np.log(per_x[:, j]), 1)[0] for j in range(per_x.shape[1])])


def _largest(data: FigureData, claim: Claim, filters: Mapping[str, Any]) -> np.ndarray:
    """The largest value among all matching rows (every layer, seed and step): one worst case."""
    rows = data.select(claim.metric, **filters)
    if not rows:
        raise KeyError(claim.metric)
    return np.array([max(float(r["value"]) for r in rows)])


STATISTICS: dict[str, Callable[[FigureData, Claim, Mapping[str, Any]], np.ndarray]] = {
    "final": _final,
    "loglog_slope": _loglog_slope,
    "largest": _largest,
}


def _group(data: FigureData, claim: Claim, group) -> tuple[float, float, int] | None:
    filters = {"method": group} if isinstance(group, str) else dict(group)
    try:
        filters = _resolve(data, claim.metric, {**claim.where, **filters})
        vals = STATISTICS[claim.stat](data, claim, filters)
    except KeyError:
        return None
    vals = vals[np.isfinite(vals)]
    if not len(vals):
        return None
    n = len(vals)
    sem = float(np.std(vals, ddof=1) / math.sqrt(n)) if n > 1 else 0.0
    return float(np.mean(vals)), sem, n


def decide(claim: Claim, a, b) -> tuple[str, float | None, float | None]:
    """(verdict, gap, se) of ``claim`` from the (mean, s.e., n) of its groups (the module's rule)."""
    if a is None or (claim.b is not None and b is None):
        return "not run at this tier", None, None
    ref_mean, ref_se, ref_n = b if claim.b is not None else (claim.bound, 0.0, a[2])
    n = min(a[2], ref_n)
    se = math.hypot(a[1], ref_se)
    if claim.op == "≈":
        gap = abs(a[0] - ref_mean)
        return ("reproduced" if gap <= claim.tol else "not reproduced"), gap, se
    gap = a[0] - ref_mean if claim.op == ">" else ref_mean - a[0]
    if gap <= 0:
        return "not reproduced", gap, se
    if gap > 2 * se and n >= claim.min_seeds:
        return "reproduced", gap, se
    return "partly", gap, se


def evaluate(data: FigureData, claims: Sequence[Claim] | None = None) -> list[Verdict]:
    """One verdict per claim of ``data.name`` (or per given claim) from the saved data."""
    out = []
    for c in claims_for(data.name) if claims is None else claims:
        a = _group(data, c, c.a)
        b = _group(data, c, c.b) if c.b is not None else None
        verdict, gap, se = decide(c, a, b)
        out.append(Verdict(c, data.preset, verdict, a, b, gap, se))
    return out


def report(verdicts: Sequence[Verdict]) -> str:
    """A plain-text table: claim | paper | ours | verdict."""
    if not verdicts:
        return "(the paper makes no quantitative claim about this figure)"
    head = ("claim", "paper", f"ours [{verdicts[0].preset}]", "verdict")
    rows = [(v.claim.text, v.paper_str(), v.ours_str(),
             v.verdict + ("" if v.expected else " (not expected at this tier)")) for v in verdicts]
    widths = [max(len(r[i]) for r in (head, *rows)) for i in range(4)]
    fmt = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    return "\n".join([fmt(head), fmt(tuple("-" * w for w in widths)), *map(fmt, rows)])


def title_line(verdicts: Sequence[Verdict], limit: int = 2) -> str:
    """The first ``limit`` verdicts as one line for a figure title."""
    return "; ".join(v.line() for v in verdicts[:limit])


def claims_for(figure: str) -> list[Claim]:
    return [c for c in CLAIMS if c.figure == figure]


def paper_numbers(figure: str) -> set[float]:
    """Every number the paper states in this figure's claims (the numbers prose may quote)."""
    nums = set(QUOTED.get(figure, ()))
    for c in claims_for(figure):
        nums.update(float(v) for v in c.paper.values())
    return nums


# ---------------------------------------------------------------------------------------------------
# The claims. Paper numbers: Table A1 (3 seeds, mean ± s.e.) and the figures' captions and text.

_LOGIC_CELL = {"num_examples": 32, "heldout_fraction": 0.7}  # Table A1's fuzzy-logic cell
_SCALE = ("paper",)  # sRAVEN effects need the paper's data budget
_LONG = ("gpu", "paper")  # fuzzy-logic orderings that appear only late in training

CLAIMS: list[Claim] = [
    # Fig. 1 / A1: the identity of paper Eq. 3 on random weights, and HYLA as an explicit MLP
    Claim("fig01_hypernetwork_view", "softmax attention = linear hypernetwork (max abs error)",
          "identity_max_abs_error", "softmax", op="<", bound=1e-4, where={"check": "random module"},
          paper_text="exact identity", min_seeds=1),
    Claim("fig01_hypernetwork_view", "linear attention = linear hypernetwork (max abs error)",
          "identity_max_abs_error", "linear", op="<", bound=1e-4, where={"check": "random module"},
          paper_text="exact identity", min_seeds=1),
    Claim("fig01_hypernetwork_view", "HYLA = per-(q, k) MLP value network (max abs error, every check)",
          "hyla_mlp_max_abs_error", "hyla", op="<", bound=1e-4, stat="largest",
          paper_text="exact identity", min_seeds=1),
    # Fig. 2 (Table A1 cell): held-out R², paper 81.13 ± 7.77, 63.28 ± 2.31, 59.89 ± 5.22 (×100)
    Claim("fig02_fuzzy_logic", "HYLA > linear attention, held-out R² (N 32, 70 % held out)",
          "heldout_r2", "hyla", "linear", where=_LOGIC_CELL, paper={"a": 0.8113, "b": 0.5989}),
    Claim("fig02_fuzzy_logic", "HYLA > softmax attention, held-out R² (N 32, 70 % held out)",
          "heldout_r2", "hyla", "softmax", where=_LOGIC_CELL, paper={"a": 0.8113, "b": 0.6328},
          expected_at=_LONG),
    # Fig. 3 / Table A2: the task's combinatorics and ambiguity
    Claim("fig03_sraven_task", "rule combinations (K = 4 features, 8 rules)", "num_combinations",
          "sraven_task", op="≈", bound=330, paper={"a": 330}, min_seeds=1),
    Claim("fig03_sraven_task", "held-out rule combinations", "num_heldout_combinations",
          "sraven_task", op="≈", bound=82, paper={"a": 82}, min_seeds=1),
    Claim("fig03_sraven_task", "ambiguous held-out problems (fraction)", "ambiguous_fraction",
          "sraven_task", op="<", bound=0.005, where={"split": "heldout_combos", "criterion": "all_features"},
          paper_text="< 0.5 %", min_seeds=1),
    # Fig. 4 (Table A1 cell: depth 4, width 1, 20M problems): 69.13 ± 1.90, 56.56 ± 1.05, 56.30 ± 1.11 %
    Claim("fig04_sraven_scaling", "HYLA > linear attention, held-out accuracy (largest data budget)",
          "heldout_accuracy", {"method": "hyla", "depth": MIN, "width": MIN},
          {"method": "linear", "depth": MIN, "width": MIN}, paper={"a": 0.6913, "b": 0.5630},
          expected_at=_SCALE),
    Claim("fig04_sraven_scaling", "HYLA > softmax attention, held-out accuracy (largest data budget)",
          "heldout_accuracy", {"method": "hyla", "depth": MIN, "width": MIN},
          {"method": "softmax", "depth": MIN, "width": MIN}, paper={"a": 0.6913, "b": 0.5656},
          expected_at=_SCALE),
    # Fig. 5: latent-code structure on sRAVEN (qualitative in the paper)
    Claim("fig05_sraven_latents", "HYLA's rule decodable from held-out codes, last layer (> chance 1/8)",
          "decoding_accuracy", {"method": "hyla", "layer": MAX}, op=">", bound=0.125,
          where={"run": "base"}, paper_text="decodable", expected_at=_SCALE),
    Claim("fig05_sraven_latents", "HYLA: many heads > one head, held-out accuracy",
          "heldout_accuracy", {"method": "hyla", "num_heads": MAX}, {"method": "hyla", "num_heads": 1},
          where={"run": "heads"}, paper_text="one head noticeably worse", expected_at=_SCALE),
    Claim("fig05_sraven_latents", "HYLA: fewer features easier (K smallest > K largest)",
          "heldout_accuracy", {"method": "hyla", "num_features": MIN},
          {"method": "hyla", "num_features": MAX}, where={"run": "num_features"},
          paper_text="harder with more features"),
    # Fig. 6: language modelling (C4 in the paper; an offline corpus here)
    Claim("fig06_language_model", "HYLA < linear attention, validation loss", "validation_loss",
          "hyla", "linear", op="<", paper_text="HYLA better than linear"),
    # Fig. A2: fuzzy-logic codes
    Claim("figA2_logic_latents", "HYLA's codes: neighbours share the term more than the target",
          "neighbour_kappa", {"method": "hyla", "label": "term", "layer": "all"},
          {"method": "hyla", "label": "target_quintile", "layer": "all"},
          paper_text="clusters by term", expected_at=_LONG),
    # Fig. A3: in-distribution and unknown-term R²
    Claim("figA3_logic_metrics", "no model solves unknown-term combinations: HYLA's R² < 0",
          "unknown_terms_r2", "hyla", op="<", bound=0.0, where=_LOGIC_CELL, paper_text="R² ≲ 0"),
    Claim("figA3_logic_metrics", "in-distribution R²: HYLA ≈ softmax attention (within 0.05)",
          "train_r2", "hyla", "softmax", op="≈", tol=0.05, where=_LOGIC_CELL,
          paper_text="differences small", expected_at=_LONG),
    # Fig. A5: held-out fraction
    Claim("figA5_sraven_heldout_fraction", "HYLA: fewer held-out combinations, higher accuracy",
          "heldout_accuracy", {"method": "hyla", "heldout_fraction": MIN},
          {"method": "hyla", "heldout_fraction": MAX}, paper_text="falls with the held-out fraction",
          expected_at=_SCALE),
    # Fig. A6: depth and codes
    Claim("figA6_sraven_depth_latents", "deepest HYLA: rule decoding, last layer > first",
          "decoding_accuracy", {"depth": MAX, "layer": MAX}, {"depth": MAX, "layer": 1},
          where={"method": "hyla"}, paper_text="structure in later layers", expected_at=_SCALE),
    # Fig. A8: related rules share codes (addition and difference)
    Claim("figA8_sraven_codes", "HYLA: addition and difference share codes (cosine > 0.9)",
          "rule_mean_code_cosine", "hyla", op=">", bound=0.9,
          where={"rule_a": "addition", "rule_b": "difference"}, paper_text="near-identical",
          expected_at=_SCALE),
    # Table A1, fuzzy-logic column (R², N 32, 70 % held out)
    Claim("tabA1_logic_ablations", "HYLA > linear attention, held-out R²", "heldout_r2", "hyla",
          "linear", paper={"a": 0.8113, "b": 0.5989}),
    Claim("tabA1_logic_ablations", "linear + RMSHead > linear attention, held-out R²", "heldout_r2",
          "linear+rms_head", "linear", paper={"a": 0.6893, "b": 0.5989}, expected_at=_LONG),
    # Table A1, sRAVEN column (held-out accuracy, depth 4, 20M problems)
    Claim("tabA1_sraven_ablations", "HYLA > linear attention, held-out accuracy", "heldout_accuracy",
          "hyla", "linear", paper={"a": 0.6913, "b": 0.5630}, expected_at=_SCALE),
    Claim("tabA1_sraven_ablations", "HYLA > HYLA − RMSHead + softmax, held-out accuracy",
          "heldout_accuracy", "hyla", "hyla-rms_head+softmax", paper={"a": 0.6913, "b": 0.3821},
          expected_at=_SCALE),
    # Ext. 1 (Zhang et al. 2024, Fig. 2; Zhang et al. 2025, complexity control): init rate γ, σ = D^-γ
    Claim("ext01_init_rate", "(4,3) held-out accuracy, both unseen: largest γ > γ 0.5",
          "heldout_accuracy", {"init_rate": MAX}, {"init_rate": 0.5},
          where={"panel": "init_rate_sweep", "method": "softmax"},
          paper_text="small init infers, standard init memorises", expected_at=("quick", "gpu", "paper")),
    Claim("ext01_init_rate", "Fig. 2, shallowest: (4,3) inferential, largest γ > γ 0.5",
          "heldout_accuracy", {"init_rate": MAX}, {"init_rate": 0.5},
          where={"panel": "phase_diagram", "method": "softmax", "depth": MIN},
          paper_text="γ 0.8 inferential (2 layers)", expected_at=("gpu", "paper")),
    Claim("ext01_init_rate", "Fig. 2, shallowest: (4,3) symmetric, γ 0.5 > largest γ",
          "heldout_symmetric_accuracy", {"init_rate": 0.5}, {"init_rate": MAX},
          where={"panel": "phase_diagram", "method": "softmax", "depth": MIN},
          paper_text="γ 0.5 symmetric (2 layers)", expected_at=("gpu", "paper")),
    Claim("ext01_init_rate", "(4,3) held-out accuracy at γ 0.5: weight decay 1 > 0.01",
          "heldout_accuracy", {"weight_decay": 1.0}, {"weight_decay": 0.01},
          where={"panel": "weight_decay", "init_rate": 0.5},
          paper_text="large weight decay infers", expected_at=("gpu", "paper")),
    # Ext. 2 (Zhang et al. 2022: attention infers the latent posterior, error decreasing in L). The
    # right-parameters rows have one row per length (seed 0, a `sem` column over sequences): min_seeds=1.
    Claim("ext02_exchangeability", "softmax CME error: log-log slope in L ≈ −1/2 ± 0.05",
          "analytic_cme_l1_to_bayes_predictive", "softmax", op="≈", bound=-0.5, tol=0.05,
          where={"panel": "right_parameters"}, stat="loglog_slope", x="length", min_seeds=1,
          paper_text="error decreasing in L"),
    Claim("ext02_exchangeability", "learned softmax: TV at longest L < at shortest",
          "learned_posterior_tv", {"method": "softmax", "length": MAX},
          {"method": "softmax", "length": MIN}, op="<", where={"panel": "learned"},
          paper_text="error decreasing in L", expected_at=("quick", "gpu", "paper")),
    Claim("ext02_exchangeability", "learned linear: TV at longest L < at shortest",
          "learned_posterior_tv", {"method": "linear", "length": MAX},
          {"method": "linear", "length": MIN}, op="<", where={"panel": "learned"},
          paper_text="error decreasing in L", expected_at=("quick", "gpu", "paper")),
    Claim("ext02_exchangeability", "learned HYLA: TV at longest L < at shortest",
          "learned_posterior_tv", {"method": "hyla", "length": MAX},
          {"method": "hyla", "length": MIN}, op="<", where={"panel": "learned"},
          paper_text="error decreasing in L", expected_at=("quick", "gpu", "paper")),
]

# Further numbers the paper states (s.e. of Table A1 entries), which notebook prose may quote.
QUOTED: dict[str, tuple[float, ...]] = {
    "fig02_fuzzy_logic": (81.13, 7.77, 63.28, 2.31, 59.89, 5.22, 81.1, 63.3, 59.9, 0.81, 0.63, 0.60),
    "fig03_sraven_task": (0.5,),  # App. B.2: fewer than 0.5 % of problems are ambiguous
    "fig04_sraven_scaling": (69.13, 1.90, 56.56, 1.05, 56.30, 1.11, 69.1, 56.6, 56.3),
    "tabA1_logic_ablations": (81.13, 7.77, 63.28, 2.31, 59.89, 5.22, 68.93, 5.10),
    "tabA1_sraven_ablations": (69.13, 1.90, 56.56, 1.05, 56.30, 1.11, 38.21, 2.98, 59.01, 2.50, 62.53,
                               5.73, 56.54, 0.21, 56.33, 1.41),
    # Zhang et al. 2024: γ 0.5 the usual fan-in scale; Fig. 2's representative 2-layer models, γ 0.5
    # (symmetric) and γ 0.8 (inferential)
    "ext01_init_rate": (0.5, 0.8),
}
