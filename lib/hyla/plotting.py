"""One look for every figure: the paper style, one colour/marker/label per method, ``save_figure``.

``save_figure`` writes, for a figure ``name`` and a preset:

* ``<out_dir>/<name>.png`` (150 dpi) and ``<out_dir>/<name>.pdf`` (no timestamps, TrueType fonts),
* ``<out_dir>/data/<name>.<preset>.csv``: the tidy data behind the figure, one row per
  method x setting x seed x step x metric, with required columns ``method, seed, step, metric, value``
  (further columns are settings); floats are written with ``repr`` precision so re-runs compare exactly,
* ``<out_dir>/data/<name>.<preset>.json``: provenance (``hyla.provenance.provenance``).
"""

from __future__ import annotations

import csv
import io
import json
import math
import numbers
import os
from pathlib import Path
from typing import Any, Iterable, Mapping, NamedTuple, Sequence

import numpy as np

__all__ = [
    "MethodStyle",
    "METHOD_STYLE",
    "REQUIRED_COLUMNS",
    "STYLE_PATH",
    "method_style",
    "use_style",
    "save_figure",
    "save_plot",
    "write_tidy_csv",
    "tidy_rows",
    "mean_sem",
    "band",
]

STYLE_PATH = Path(__file__).with_name("paper.mplstyle")

REQUIRED_COLUMNS = ("method", "seed", "step", "metric", "value")


class MethodStyle(NamedTuple):
    color: str
    marker: str
    label: str


# One colour / marker / label per token mixer, shared by all figures (Okabe-Ito colour-blind-safe palette).
METHOD_STYLE: dict[str, MethodStyle] = {
    "softmax": MethodStyle("#0072B2", "o", "Softmax attention"),
    "linear": MethodStyle("#E69F00", "s", "Linear attention"),
    "hyla": MethodStyle("#D55E00", "D", "HYLA"),
    "linear+rms_head": MethodStyle("#56B4E9", "v", "Linear attention + RMSHead"),
    "hyla-rms_head": MethodStyle("#009E73", "^", "HYLA \u2212 RMSHead"),
    "hyla-nonlinearity": MethodStyle("#CC79A7", "P", "HYLA \u2212 nonlinearity"),
    "hyla-nonlinearity-rms_head": MethodStyle("#999999", "X", "HYLA \u2212 nonlinearity \u2212 RMSHead"),
    "hyla-rms_head+softmax": MethodStyle("#000000", "h", "HYLA \u2212 RMSHead + softmax"),
}


def method_style(name: str) -> MethodStyle:
    """The (color, marker, label) of a method; raises ``ValueError`` naming the known methods otherwise."""
    try:
        return METHOD_STYLE[name]
    except (KeyError, TypeError):
        known = ", ".join(repr(k) for k in METHOD_STYLE)
        raise ValueError(f"unknown method {name!r} for plotting; known methods: {known}") from None


def use_style() -> None:
    """Apply the paper style (``paper.mplstyle``) to matplotlib's global settings."""
    import matplotlib.pyplot as plt

    plt.style.use(str(STYLE_PATH))


# ----------------------------------------------------------------------------------------------------------
# Tidy data


def _scalar(value: Any) -> Any:
    """numpy / JAX scalars and 0-d arrays -> Python scalars; everything else unchanged."""
    if isinstance(value, (str, bool, int, float)) or value is None:
        return value
    if isinstance(value, np.generic):
        return value.item()
    if hasattr(value, "shape") and hasattr(value, "item") and tuple(getattr(value, "shape")) == ():
        return value.item()
    return value


def tidy_rows(data: Sequence[Mapping[str, Any]] | Mapping[str, Sequence[Any]]) -> tuple[list[str], list[dict]]:
    """Validate tidy data and return ``(columns, rows)``.

    ``data`` is a list of row dicts or a dict of equally long columns. Required columns come first in
    ``REQUIRED_COLUMNS`` order, then settings columns in order of first appearance.
    Raises ``ValueError`` for missing columns, ragged data or values of the wrong kind.
    """
    if isinstance(data, Mapping):
        names = list(data)
        columns = {k: list(np.asarray(v).tolist()) if hasattr(v, "shape") else list(v) for k, v in data.items()}
        lengths = {k: len(v) for k, v in columns.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"tidy data: columns have different lengths: {lengths}")
        n = next(iter(lengths.values()), 0)
        rows = [{k: columns[k][i] for k in names} for i in range(n)]
    else:
        rows = [dict(r) for r in data]
        names = []
        for r in rows:
            for k in r:
                if k not in names:
                    names.append(k)
    if not rows:
        raise ValueError("tidy data is empty: a figure needs at least one row")
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise ValueError(
            f"tidy data is missing required column(s) {missing}; required: {list(REQUIRED_COLUMNS)}, got: {names}"
        )
    for i, r in enumerate(rows):
        absent = [k for k in names if k not in r]
        if absent:
            raise ValueError(f"tidy data row {i} lacks column(s) {absent} (every row needs every column)")
        for k in names:
            r[k] = _scalar(r[k])
        _check_row(i, r)
    settings = [k for k in names if k not in REQUIRED_COLUMNS]
    return [*REQUIRED_COLUMNS, *settings], rows


def _check_row(i: int, r: Mapping[str, Any]) -> None:
    for key in ("method", "metric"):
        if not isinstance(r[key], str) or not r[key]:
            raise ValueError(f"tidy data row {i}: {key!r} must be a non-empty string, got {r[key]!r}")
    for key in ("seed", "step"):
        v = r[key]
        if isinstance(v, bool) or not isinstance(v, numbers.Integral):
            if isinstance(v, float) and v.is_integer():
                continue
            raise ValueError(f"tidy data row {i}: {key!r} must be an integer, got {v!r}")
    v = r["value"]
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise ValueError(f"tidy data row {i}: 'value' must be a real number, got {v!r}")


def _format(value: Any) -> str:
    value = _scalar(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        f = float(value)
        if math.isnan(f):
            return "nan"
        return repr(f)  # shortest round-trip representation: exact and stable
    if isinstance(value, (list, tuple)):
        return json.dumps([_scalar(v) for v in value])
    return str(value)


def write_tidy_csv(path: str | os.PathLike, data: Sequence[Mapping[str, Any]] | Mapping[str, Sequence[Any]]) -> Path:
    """Validate ``data`` (see ``tidy_rows``) and write it as CSV (``\\n`` line endings, repr floats)."""
    columns, rows = tidy_rows(data)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for r in rows:
        row = dict(r)
        for key in ("seed", "step"):
            row[key] = int(row[key])
        writer.writerow([_format(row[c]) for c in columns])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


# ----------------------------------------------------------------------------------------------------------
# Saving


def save_figure(
    fig,
    name: str,
    out_dir: str | os.PathLike,
    preset: str,
    data: Sequence[Mapping[str, Any]] | Mapping[str, Sequence[Any]],
    provenance_extra: Mapping[str, Any] | None = None,
    *,
    wall_time_s: float | None = None,
) -> dict[str, Path]:
    """Write the figure (PNG + PDF), its tidy data (CSV) and its provenance (JSON).

    Args:
      fig: a matplotlib figure.
      name: the figure's file stem, e.g. ``"fig02_fuzzy_logic"``.
      out_dir: folder for the images; data and provenance go to ``<out_dir>/data``. ``""`` means the
        default figures folder (``hyla.paths.figures_dir``: ``figures/``, ``figures/smoke/`` for the
        smoke preset).
      preset: the preset the numbers come from; it names the data files.
      data: tidy data, a list of row dicts or a dict of columns, with columns
        ``method, seed, step, metric, value`` plus any settings columns. Validated before anything is written.
      provenance_extra: extra provenance (run hashes, overrides, ...).
      wall_time_s: the computation's wall time; default: seconds since ``hyla`` was imported.

    Returns:
      ``{"png": ..., "pdf": ..., "csv": ..., "json": ...}`` paths.
    """
    from .paths import figures_dir
    from .provenance import provenance, session_wall_time

    if not name or os.sep in name or "/" in name or name.startswith("."):
        raise ValueError(f"figure name must be a plain file stem, got {name!r}")
    if not preset or "/" in preset or os.sep in preset:
        raise ValueError(f"preset must be a plain name, got {preset!r}")
    columns, rows = tidy_rows(data)  # validate before writing anything

    out = figures_dir(out_dir, preset)
    data_dir = out / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "png": out / f"{name}.png",
        "pdf": out / f"{name}.pdf",
        "csv": data_dir / f"{name}.{preset}.csv",
        "json": data_dir / f"{name}.{preset}.json",
    }

    save_plot(fig, name, out_dir, preset)
    write_tidy_csv(paths["csv"], rows)

    seeds = sorted({int(r["seed"]) for r in rows})
    steps = max(int(r["step"]) for r in rows)
    extra = {"figure": name, "methods": sorted({r["method"] for r in rows}), "metrics": sorted({r["metric"] for r in rows})}
    extra.update(dict(provenance_extra or {}))
    if wall_time_s is None:
        wall_time_s = session_wall_time()
        extra.setdefault("wall_time_measured", "since import hyla")
    record = provenance(preset, seeds, steps, wall_time_s, extra=extra)
    paths["json"].write_text(json.dumps(record, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return paths


def save_plot(fig, name: str, out_dir: str | os.PathLike, preset: str) -> dict[str, Path]:
    """Write ``<out_dir>/<name>.png`` (150 dpi) and ``.pdf`` (no timestamps): the images alone.

    ``out_dir`` as in ``save_figure`` (``""``: ``figures/``, ``figures/smoke/`` for the smoke preset).
    """
    from .paths import figures_dir

    out = figures_dir(out_dir, preset)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"png": out / f"{name}.png", "pdf": out / f"{name}.pdf"}
    fig.savefig(paths["png"], dpi=150, metadata={"Software": None})
    fig.savefig(paths["pdf"], metadata={"CreationDate": None, "ModDate": None})
    return paths


# ----------------------------------------------------------------------------------------------------------
# Summaries


def mean_sem(values: Any, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard error of the mean along ``axis`` (the seed axis), ignoring NaNs.

    With a single value the s.e. is 0.
    """
    x = np.asarray(values, dtype=np.float64)
    n = np.sum(~np.isnan(x), axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nanmean(x, axis=axis) if x.size else np.mean(x, axis=axis)
        if x.shape[axis] > 1:
            sd = np.nanstd(x, axis=axis, ddof=1)
            sem = np.where(n > 1, sd / np.sqrt(np.maximum(n, 1)), 0.0)
        else:
            sem = np.zeros_like(mean)
    return mean, sem


def final_table(data, metrics: Sequence[str], fmt: str = "{:.3f} ± {:.3f}", unit: str = "") -> str:
    """One line per method: ``metric mean ± s.e.`` (over seeds, last step) of each of ``metrics``."""
    lines = []
    for method in data.unique("method", metrics[0]):
        cells = "  ".join(f"{m} " + fmt.format(*mean_sem(data.values(m, method=method))) for m in metrics)
        lines.append(f"{method:10s} {cells}{' ' + unit if unit else ''}")
    return "\n".join(lines)


def band(
    ax,
    x: Iterable[float],
    mean: Iterable[float],
    sem: Iterable[float],
    method: str,
    *,
    label: str | None = None,
    marker: bool = True,
    alpha: float = 0.2,
    **line_kwargs: Any,
):
    """Plot ``mean`` against ``x`` with a shaded ± s.e. band, in ``method``'s colour, marker and label.

    Returns the ``Line2D``.
    """
    style = method_style(method)
    x = np.asarray(list(x) if not hasattr(x, "shape") else x, dtype=np.float64)
    mean = np.asarray(mean, dtype=np.float64)
    sem = np.asarray(sem, dtype=np.float64)
    kwargs = dict(color=style.color, label=style.label if label is None else label)
    if marker:
        kwargs["marker"] = style.marker
        if len(x) > 12:
            kwargs["markevery"] = max(1, len(x) // 8)
    kwargs.update(line_kwargs)
    (line,) = ax.plot(x, mean, **kwargs)
    ax.fill_between(x, mean - sem, mean + sem, color=style.color, alpha=alpha, linewidth=0)
    return line


def sraven_setting(task: Mapping[str, Any] | None) -> str:
    """``"K=2, F=4, unpermuted, "`` from a saved sRAVEN task (``extra["task"]``); ``""`` if not saved."""
    if not task:
        return ""
    unperm = "" if task["permute_features"] else ", unpermuted"
    return f"K={task['num_features']}, F={task['num_values']}{unperm}, "
