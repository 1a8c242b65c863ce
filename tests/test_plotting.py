"""hyla.plotting: style, method styles, save_figure outputs (png/pdf/csv/json), tidy-data validation."""

from __future__ import annotations

import csv
import json
import re
import zlib

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from hyla import plotting  # noqa: E402

MIXERS = (
    "softmax",
    "linear",
    "hyla",
    "linear+rms_head",
    "hyla-rms_head",
    "hyla-nonlinearity",
    "hyla-nonlinearity-rms_head",
    "hyla-rms_head+softmax",
)


def _rows():
    rows = []
    for method in ("softmax", "hyla"):
        for seed in (0, 1):
            for step in (0, 100):
                rows.append(
                    {
                        "method": method,
                        "seed": seed,
                        "step": step,
                        "metric": "r2",
                        "value": 0.1 + 0.7 * step / 100 + 0.01 * seed,
                        "split": "heldout_combos",
                        "frac_ood": np.float32(0.25),
                    }
                )
    return rows


def _figure():
    plotting.use_style()
    fig, ax = plt.subplots()
    x = np.arange(5)
    for method in ("softmax", "hyla"):
        mean, sem = plotting.mean_sem(np.stack([x * 0.1, x * 0.12 + 0.01]))
        plotting.band(ax, x, mean, sem, method)
    ax.set_xlabel("step")
    ax.set_ylabel("$R^2$")
    ax.legend()
    return fig


def test_every_mixer_has_a_distinct_style():
    for name in MIXERS:
        color, marker, label = plotting.method_style(name)
        assert color.startswith("#") and marker and label
    styles = [plotting.METHOD_STYLE[m] for m in MIXERS]
    assert len({s.color for s in styles}) == len(MIXERS)
    assert len({s.marker for s in styles}) == len(MIXERS)
    assert plotting.method_style("hyla").label == "HYLA"
    assert plotting.method_style("hyla-rms_head+softmax").label == "HYLA \u2212 RMSHead + softmax"


def test_unknown_method_is_a_clear_error():
    with pytest.raises(ValueError, match=r"unknown method 'hylaa'.*'softmax'"):
        plotting.method_style("hylaa")


def test_style_sets_truetype_fonts():
    plotting.use_style()
    assert matplotlib.rcParams["pdf.fonttype"] == 42
    assert matplotlib.rcParams["ps.fonttype"] == 42
    assert matplotlib.rcParams["svg.fonttype"] == "none"
    assert plotting.STYLE_PATH.is_file()


def test_save_figure_writes_png_pdf_csv_json(tmp_path):
    fig = _figure()
    paths = plotting.save_figure(fig, "figXX_test", tmp_path, "smoke", _rows(), {"note": "unit test"}, wall_time_s=1.5)
    plt.close(fig)
    assert paths["png"] == tmp_path / "figXX_test.png"
    assert paths["pdf"] == tmp_path / "figXX_test.pdf"
    assert paths["csv"] == tmp_path / "data" / "figXX_test.smoke.csv"
    assert paths["json"] == tmp_path / "data" / "figXX_test.smoke.json"
    for p in paths.values():
        assert p.is_file() and p.stat().st_size > 0
    assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    with open(paths["csv"], newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        body = list(reader)
    assert header == ["method", "seed", "step", "metric", "value", "split", "frac_ood"]
    assert len(body) == 8
    assert body[0][:4] == ["softmax", "0", "0", "r2"]
    assert float(body[-1][4]) == 0.1 + 0.7 + 0.01  # repr precision: exact round trip
    assert body[0][6] == "0.25"

    record = json.loads(paths["json"].read_text())
    assert record["preset"] == "smoke"
    assert record["seeds"] == [0, 1]
    assert record["steps"] == 100
    assert record["wall_time_s"] == 1.5
    assert record["extra"]["note"] == "unit test"
    assert record["extra"]["figure"] == "figXX_test"
    assert "jax" in record["versions"] and "python" in record["versions"]
    assert {"commit", "dirty"} <= set(record["git"])
    assert {"device_kind", "platform", "device_count", "cpu_count"} <= set(record["device"])
    assert "hostname" not in json.dumps(record).lower()


def _pdf_text(pdf: bytes) -> bytes:
    """The PDF's bytes with every Flate stream decompressed (to look inside content/object streams)."""
    out = [pdf]
    for m in re.finditer(rb"stream\r?\n", pdf):
        start = m.end()
        end = pdf.find(b"endstream", start)
        try:
            out.append(zlib.decompress(pdf[start:end]))
        except zlib.error:
            pass
    return b"\n".join(out)


def test_pdf_has_no_dates_and_truetype_fonts(tmp_path):
    fig = _figure()
    paths = plotting.save_figure(fig, "figXX_pdf", tmp_path, "smoke", _rows(), wall_time_s=0.0)
    plt.close(fig)
    pdf = _pdf_text(paths["pdf"].read_bytes())
    assert b"/CreationDate" not in pdf
    assert b"/ModDate" not in pdf
    assert b"/TrueType" in pdf or b"/CIDFontType2" in pdf
    assert b"/Type3" not in pdf
    assert b"tIME" not in paths["png"].read_bytes()  # no PNG timestamp chunk


def test_resaving_is_byte_identical(tmp_path):
    out1, out2 = tmp_path / "a", tmp_path / "b"
    for out in (out1, out2):
        fig = _figure()
        plotting.save_figure(fig, "figXX_same", out, "smoke", _rows(), wall_time_s=0.0)
        plt.close(fig)
    for rel in ("data/figXX_same.smoke.csv", "figXX_same.pdf", "figXX_same.png"):
        assert (out1 / rel).read_bytes() == (out2 / rel).read_bytes(), rel


def test_dict_of_columns_equals_list_of_rows(tmp_path):
    rows = _rows()
    columns = {k: [r[k] for r in rows] for k in rows[0]}
    columns["value"] = np.asarray(columns["value"])
    a = plotting.write_tidy_csv(tmp_path / "a.csv", rows)
    b = plotting.write_tidy_csv(tmp_path / "b.csv", columns)
    assert a.read_bytes() == b.read_bytes()


@pytest.mark.parametrize("missing", ["method", "seed", "step", "metric", "value"])
def test_missing_required_column_is_rejected(tmp_path, missing):
    rows = [{k: v for k, v in r.items() if k != missing} for r in _rows()]
    fig = _figure()
    with pytest.raises(ValueError, match=missing):
        plotting.save_figure(fig, "figXX_bad", tmp_path, "smoke", rows)
    plt.close(fig)
    assert not (tmp_path / "figXX_bad.png").exists()  # validated before anything is written


@pytest.mark.parametrize(
    "column, bad",
    [("seed", 0.5), ("step", "ten"), ("value", "high"), ("method", ""), ("metric", None)],
)
def test_bad_values_are_rejected(tmp_path, column, bad):
    rows = _rows()
    rows[3][column] = bad
    with pytest.raises(ValueError, match=f"row 3.*{column}"):
        plotting.write_tidy_csv(tmp_path / "x.csv", rows)


def test_ragged_and_empty_data_are_rejected(tmp_path):
    with pytest.raises(ValueError, match="different lengths"):
        plotting.write_tidy_csv(
            tmp_path / "x.csv", {"method": ["a"], "seed": [0, 1], "step": [0], "metric": ["m"], "value": [1.0]}
        )
    with pytest.raises(ValueError, match="empty"):
        plotting.write_tidy_csv(tmp_path / "x.csv", [])
    rows = _rows()
    del rows[2]["split"]
    with pytest.raises(ValueError, match="row 2 lacks.*split"):
        plotting.write_tidy_csv(tmp_path / "x.csv", rows)


def test_nan_and_float32_formatting(tmp_path):
    rows = [
        {"method": "hyla", "seed": np.int64(3), "step": 7, "metric": "acc", "value": float("nan")},
        {"method": "hyla", "seed": 3, "step": 8, "metric": "acc", "value": np.float32(0.1)},
    ]
    text = plotting.write_tidy_csv(tmp_path / "x.csv", rows).read_text()
    assert text.splitlines()[1] == "hyla,3,7,acc,nan"
    assert float(text.splitlines()[2].split(",")[-1]) == float(np.float32(0.1))


def test_mean_sem():
    mean, sem = plotting.mean_sem([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_allclose(mean, [2.0, 3.0])
    np.testing.assert_allclose(sem, [1.0, 1.0])
    mean, sem = plotting.mean_sem([[1.0, 2.0]])
    np.testing.assert_allclose(sem, [0.0, 0.0])


def test_band_uses_method_style():
    fig, ax = plt.subplots()
    line = plotting.band(ax, [0, 1, 2], [0.1, 0.2, 0.3], [0.01, 0.01, 0.01], "linear")
    assert line.get_color() == plotting.METHOD_STYLE["linear"].color
    assert line.get_label() == "Linear attention"
    assert line.get_marker() == plotting.METHOD_STYLE["linear"].marker
    assert len(ax.collections) == 1  # the shaded band
    plt.close(fig)


# ---------------------------------------------------------------------------------------------------------
# The infrastructure save_figure stands on: paths, provenance, a light `import hyla`.


def test_import_hyla_is_light():
    import subprocess
    import sys

    code = "import sys, hyla; print(hyla.__version__, 'jax' in sys.modules, 'matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["0.1.0", "False", "False"]


def test_smoke_figures_never_land_on_the_committed_ones(tmp_path, monkeypatch):
    """out_dir "" means figures/ (committed), but figures/smoke/ (git-ignored) for preset smoke."""
    from hyla import paths

    fake_root = tmp_path / "repo"
    monkeypatch.setattr(paths, "repo_root", lambda: fake_root)
    assert paths.figures_dir("", "smoke") == fake_root / "figures" / "smoke"
    fig = _figure()
    written = plotting.save_figure(fig, "figXX_test", "", "smoke", _rows(), wall_time_s=1.0)
    plt.close(fig)
    assert written["png"] == fake_root / "figures" / "smoke" / "figXX_test.png"
    assert written["csv"] == fake_root / "figures" / "smoke" / "data" / "figXX_test.smoke.csv"
    assert not (fake_root / "figures" / "figXX_test.png").exists()
    fig = _figure()
    written = plotting.save_figure(fig, "figXX_test", "", "quick", _rows(), wall_time_s=1.0)
    plt.close(fig)
    assert written["png"] == fake_root / "figures" / "figXX_test.png"


def test_paths(tmp_path, monkeypatch):
    from hyla import paths

    root = paths.repo_root()
    assert root is not None and (root / "lib" / "hyla" / "paths.py").is_file()
    assert paths.figures_dir() == root / "figures"
    assert paths.figures_dir(tmp_path / "f") == tmp_path / "f" and (tmp_path / "f").is_dir()
    assert paths.figures_dir("", "quick") == root / "figures"
    assert paths.figures_dir(tmp_path / "g", "smoke") == tmp_path / "g"  # an explicit folder wins
    assert (root / ".gitignore").read_text().splitlines().count("/figures/smoke/") == 1
    monkeypatch.setenv("HYLA_CACHE", str(tmp_path / "c"))
    assert paths.cache_dir() == tmp_path / "c"
    assert paths.cache_dir(tmp_path / "d") == tmp_path / "d"
    monkeypatch.delenv("HYLA_CACHE")
    assert paths.cache_dir() == root / ".cache" / "runs"


def test_provenance_and_timer():
    import time

    from hyla.provenance import Timer, provenance

    with Timer() as t:
        time.sleep(0.01)
    assert t.elapsed >= 0.01
    record = provenance("quick", [0, 1, 2], 1000, t.elapsed, {"spec": np.arange(2), "path": tmp_dir_name()})
    json.dumps(record)  # serialisable
    assert record["seeds"] == [0, 1, 2] and record["steps"] == 1000
    assert record["extra"]["spec"] == [0, 1]
    assert set(record["versions"]) >= {"python", "jax", "jaxlib", "equinox", "optax", "numpy", "matplotlib",
                                       "scikit-learn", "papermill"}
    assert record["device"]["cpu_count"] >= 1 and record["device"]["device_count"] >= 1
    assert "T" in record["date"]


def tmp_dir_name():
    from pathlib import Path

    return Path("some") / "where"


def test_git_commit_from_environment_wins(monkeypatch):
    from hyla.provenance import git_info

    monkeypatch.setenv("HYLA_GIT_COMMIT", "0123abc")
    assert git_info() == {"commit": "0123abc", "dirty": None, "from_env": True}
    monkeypatch.delenv("HYLA_GIT_COMMIT")
    info = git_info()
    assert "from_env" not in info and info["commit"] != "0123abc"


def test_git_dirty_ignores_figures_but_not_code(monkeypatch, tmp_path):
    """Figures written by earlier notebooks of a batch do not make the code 'dirty'; code edits do."""
    import subprocess

    from hyla import paths, provenance

    def git(*args):
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    (tmp_path / "figures").mkdir()
    (tmp_path / "lib").mkdir()
    (tmp_path / "figures" / "a.png").write_text("old")
    (tmp_path / "lib" / "code.py").write_text("x = 1")
    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init")
    monkeypatch.delenv("HYLA_GIT_COMMIT", raising=False)
    monkeypatch.setattr(paths, "repo_root", lambda: tmp_path)
    assert provenance.git_info()["dirty"] is False
    (tmp_path / "figures" / "a.png").write_text("new")
    assert provenance.git_info()["dirty"] is False
    (tmp_path / "lib" / "code.py").write_text("x = 2")
    assert provenance.git_info()["dirty"] is True


def test_final_table_prints_mean_and_sem_over_seeds_at_the_last_step():
    from hyla.figdata import FigureData

    rows = [dict(method=m, seed=s, step=st, metric="loss", value=v)
            for m, vals in (("hyla", (1.0, 3.0)), ("linear", (2.0, 2.0)))
            for s, v in enumerate(vals) for st, v in ((1, 9.0), (10, v))]
    text = plotting.final_table(FigureData("figX", "quick", rows, {}, {}), ("loss",), unit="nats")
    # hyla: mean 2, s.e. = std(ddof=1) / sqrt(2) = sqrt(2) / sqrt(2) = 1; linear: 2 ± 0
    assert text.splitlines() == ["hyla       loss 2.000 ± 1.000 nats", "linear     loss 2.000 ± 0.000 nats"]


def test_runs_provenance_names_each_run_by_its_key():
    import types

    from hyla import runs

    def result(key, seconds):
        return types.SimpleNamespace(spec=types.SimpleNamespace(key=lambda: key), wall_time_s=seconds)

    res = {("hyla", 2): result("abc", 1.234), ("linear", 4): result("def", 5.0)}
    assert runs.provenance(res) == {"runs": {"hyla 2": "abc", "linear 4": "def"},
                                    "train_wall_time_s": {"hyla 2": 1.2, "linear 4": 5.0}}
    assert runs.provenance(res, lambda k: "{} d={}".format(*k))["runs"] == {"hyla d=2": "abc", "linear d=4": "def"}
