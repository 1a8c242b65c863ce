"""hyla.claims (the verdict rule, on hand-made data) and hyla.figdata (save / load round trip)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hyla import claims, figdata
from hyla.claims import MAX, MIN, Claim, decide
from hyla.figdata import FigureData


def _data(values: dict, metric="acc", preset="gpu", **settings) -> FigureData:
    """Rows of ``metric`` at step 10 (and a worse step 5): {method: [per-seed values]}."""
    rows = []
    for method, vals in values.items():
        for seed, v in enumerate(vals):
            rows.append(dict(method=method, seed=seed, step=5, metric=metric, value=-1.0, **settings))
            rows.append(dict(method=method, seed=seed, step=10, metric=metric, value=v, **settings))
    return FigureData("figX", preset, rows, {}, {})


def _claim(**kw) -> Claim:
    return Claim(**{"figure": "figX", "text": "a > b", "metric": "acc", "a": "a", "b": "b", **kw})


def test_rule_by_hand():
    # a: mean 0.8, s.e. 0.1/sqrt(3); b: mean 0.5, same s.e.; gap 0.3 > 2 * hypot(s.e.) = 0.163
    d = _data({"a": [0.7, 0.8, 0.9], "b": [0.4, 0.5, 0.6]})
    (v,) = claims.evaluate(d, [_claim()])
    assert v.verdict == "reproduced"
    assert v.a[0] == pytest.approx(0.8) and v.a[1] == pytest.approx(0.1 / math.sqrt(3))
    assert v.gap == pytest.approx(0.3) and v.se == pytest.approx(math.hypot(0.1, 0.1) / math.sqrt(3))
    # a gap within 2 s.e.: partly; the wrong sign: not reproduced
    assert claims.evaluate(_data({"a": [0.5, 0.7, 0.9], "b": [0.4, 0.6, 0.8]}), [_claim()])[0].verdict == "partly"
    assert claims.evaluate(_data({"a": [0.4, 0.5, 0.6], "b": [0.7, 0.8, 0.9]}), [_claim()])[0].verdict == "not reproduced"
    # one seed cannot establish a gap, however large
    assert claims.evaluate(_data({"a": [0.9], "b": [0.1]}), [_claim()])[0].verdict == "partly"
    # a method absent from the data
    assert claims.evaluate(_data({"a": [0.9, 0.8]}), [_claim()])[0].verdict == "not run at this tier"


def test_lower_bound_and_approx():
    assert decide(_claim(op="<"), (0.2, 0.01, 3), (0.5, 0.01, 3))[0] == "reproduced"
    assert decide(_claim(op="<"), (0.6, 0.01, 3), (0.5, 0.01, 3))[0] == "not reproduced"
    bound = _claim(b=None, bound=1e-4, op="<", min_seeds=1)
    assert decide(bound, (3e-6, 0.0, 1), None)[0] == "reproduced"
    assert decide(bound, (3e-3, 0.0, 1), None)[0] == "not reproduced"
    approx = _claim(b=None, bound=330, op="≈", min_seeds=1)
    assert decide(approx, (330.0, 0.0, 1), None)[0] == "reproduced"
    assert decide(approx, (329.0, 0.0, 1), None)[0] == "not reproduced"


def test_nan_seeds_are_left_out():
    (v,) = claims.evaluate(_data({"a": [0.7, float("nan"), 0.9], "b": [0.4, 0.5, 0.6]}), [_claim()])
    assert v.a[2] == 2 and v.a[0] == pytest.approx(0.8)


def test_max_min_filters_and_where():
    rows = []
    for heads, vals in ((1, [0.2, 0.3]), (8, [0.6, 0.7]), (4, [0.9, 0.9])):
        rows += [dict(method="hyla", seed=s, step=1, metric="acc", value=v, num_heads=heads, run="heads")
                 for s, v in enumerate(vals)]
    d = FigureData("figX", "quick", rows, {}, {})
    c = _claim(a={"method": "hyla", "num_heads": MAX}, b={"method": "hyla", "num_heads": MIN},
               where={"run": "heads"})
    (v,) = claims.evaluate(d, [c])
    assert v.a[0] == pytest.approx(0.65) and v.b[0] == pytest.approx(0.25)
    assert claims.evaluate(d, [_claim(a="hyla", b="hyla", where={"run": "other"})])[0].verdict == \
        "not run at this tier"


def test_loglog_slope():
    rows = [dict(method="softmax", seed=s, step=1, metric="err", value=2.0 * L ** -0.5 * (1 + 0.01 * s),
                 length=L) for s in range(3) for L in (1, 4, 16, 64)]
    d = FigureData("figX", "quick", rows, {}, {})
    c = Claim("figX", "slope", "err", "softmax", op="≈", bound=-0.5, tol=0.05, stat="loglog_slope",
              x="length")
    (v,) = claims.evaluate(d, [c])
    assert v.a[0] == pytest.approx(-0.5) and v.verdict == "reproduced"


def test_largest_takes_the_worst_row():
    """stat="largest": one number, the largest value of every matching row (layers, seeds, steps)."""
    rows = [dict(method="hyla", seed=0, step=0, metric="err", value=v, layer=l)
            for l, v in ((1, 3e-5), (2, 2e-4), (3, 1e-6))]
    d = FigureData("figX", "quick", rows, {}, {})
    c = Claim("figX", "err", "err", "hyla", op="<", bound=1e-4, stat="largest", min_seeds=1)
    (v,) = claims.evaluate(d, [c])
    assert v.a == (2e-4, 0.0, 1) and v.verdict == "not reproduced"
    c = Claim("figX", "err", "err", "hyla", op="<", bound=1e-3, stat="largest", min_seeds=1)
    assert claims.evaluate(d, [c])[0].verdict == "reproduced"


def test_bad_claims_are_rejected():
    with pytest.raises(ValueError, match="op="):
        _claim(op=">=")
    with pytest.raises(ValueError, match="bound"):
        _claim(b=None)
    with pytest.raises(ValueError, match="stat="):
        _claim(stat="median")


def test_every_declared_claim_names_a_figure_module():
    from hyla import figures

    from test_notebook_prose import NOT_YET_FROM_DATA

    assert {c.figure for c in claims.CLAIMS} - NOT_YET_FROM_DATA <= set(figures.names())
    assert not NOT_YET_FROM_DATA & set(figures.names()), "a converted figure is still listed as not yet"


def test_report_and_title():
    d = _data({"a": [0.7, 0.8, 0.9], "b": [0.4, 0.5, 0.6]})
    vs = claims.evaluate(d, [_claim(paper={"a": 0.81, "b": 0.6})])
    text = claims.report(vs)
    assert "0.81 > 0.6" in text and "0.800 ± 0.058 > 0.500 ± 0.058" in text and "reproduced" in text
    assert claims.title_line(vs).endswith("— reproduced")


def test_figdata_round_trip(tmp_path):
    rows = [dict(method="hyla", seed=s, step=t, metric="acc", value=0.1 * s + 1e-17 * t, frac=0.7, layer="")
            for s in range(2) for t in (1, 2)]
    emb = np.arange(6.0).reshape(3, 2)
    paths = figdata.save("figX", tmp_path, "quick", rows, arrays={"emb": emb}, wall_time_s=1.0,
                         provenance_extra={"note": "x"})
    d = figdata.load("figX", "quick", tmp_path)
    assert [r["value"] for r in d.rows] == [r["value"] for r in rows]  # exact (repr floats)
    assert d.rows[0]["frac"] == 0.7 and d.rows[0]["layer"] == "" and d.rows[0]["seed"] == 0
    np.testing.assert_array_equal(d.arrays["emb"], emb)
    assert d.extra["note"] == "x" and d.extra["arrays"] == ["emb"]
    np.testing.assert_array_equal(d.values("acc", frac=0.7), [2e-17, 0.1 + 2e-17])
    # saved again without arrays: the stale NPZ goes, so data and arrays never mix runs
    figdata.save("figX", tmp_path, "quick", rows, wall_time_s=1.0)
    assert not paths["npz"].exists() and figdata.load("figX", "quick", tmp_path).arrays == {}
    assert figdata.available_presets("figX", tmp_path / "data") == ["quick"]
    with pytest.raises(FileNotFoundError, match="figX"):
        figdata.load("figX", "gpu", tmp_path)
