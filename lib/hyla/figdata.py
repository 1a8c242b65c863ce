"""A figure's saved data: the tidy CSV, optional arrays (NPZ) and the provenance (JSON).

A notebook computes, then ``save``s; its results cell and its plot read only what ``load`` returns,
so ``python -m hyla.reproduce --replot`` redraws every figure from ``figures/data/`` alone::

    figdata.save(FIGURE, out_dir, preset, rows, arrays={"embedding": emb}, provenance_extra={...})
    data = figdata.load(FIGURE, preset, out_dir)
    data.values("heldout_r2", method="hyla", num_examples=32)   # per-seed values at the last step

Files, for figure ``name`` at ``preset`` under ``<out_dir>/data/``: ``<name>.<preset>.csv`` (one row
per method x setting x seed x step x metric), ``<name>.<preset>.npz`` (only when the figure needs
arrays: embeddings, similarity matrices, example grids) and ``<name>.<preset>.json``.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import os
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

__all__ = ["FigureData", "save", "load", "data_paths", "available_presets", "TIER_ORDER"]

# The tier shown in figures/ when several were run: the largest that has data.
TIER_ORDER = ("paper", "gpu", "quick", "smoke")
_INT_COLUMNS = ("seed", "step")


def data_paths(name: str, preset: str, out_dir: str | os.PathLike = "") -> dict[str, Path]:
    """``{"csv", "npz", "json"}`` paths of ``name`` at ``preset`` (``out_dir`` as ``save_figure``)."""
    from .paths import figures_dir

    data_dir = figures_dir(out_dir, preset) / "data"
    return {ext: data_dir / f"{name}.{preset}.{ext}" for ext in ("csv", "npz", "json")}


def available_presets(name: str, data_dir: str | os.PathLike) -> list[str]:
    """The presets with a saved CSV of ``name`` in ``data_dir``, largest tier first."""
    return [p for p in TIER_ORDER if (Path(data_dir) / f"{name}.{p}.csv").is_file()]


def _parse(value: str) -> Any:
    """A CSV cell back to what was written: '' -> '', ints, floats (repr round-trips), else str."""
    if value == "":
        return ""
    try:
        return int(value)
    except ValueError:
        pass
    try:
        return float(value)
    except ValueError:
        return value


def _matches(row: Mapping[str, Any], filters: Mapping[str, Any]) -> bool:
    for key, want in filters.items():
        got = row.get(key, "")
        if isinstance(want, float) or isinstance(got, float):
            try:
                if not math.isclose(float(got), float(want), rel_tol=1e-9, abs_tol=1e-12):
                    return False
            except (TypeError, ValueError):
                return False
        elif got != want:
            return False
    return True


@dataclasses.dataclass
class FigureData:
    """What a figure was drawn from: tidy rows, arrays and provenance of one preset."""

    name: str
    preset: str
    rows: list[dict]
    arrays: dict[str, np.ndarray]
    provenance: dict

    @property
    def extra(self) -> dict:
        """The figure's own provenance entries (``provenance_extra`` of ``save``)."""
        return self.provenance.get("extra", {})

    def has(self, metric: str, **filters) -> bool:
        return any(r["metric"] == metric and _matches(r, filters) for r in self.rows)

    def select(self, metric: str | None = None, **filters) -> list[dict]:
        """Rows of ``metric`` (all metrics if None) whose columns equal ``filters``."""
        return [r for r in self.rows
                if (metric is None or r["metric"] == metric) and _matches(r, filters)]

    def unique(self, column: str, metric: str | None = None, **filters) -> list:
        """Sorted distinct non-empty values of ``column`` among the selected rows."""
        vals = {r.get(column, "") for r in self.select(metric, **filters)}
        return sorted(v for v in vals if v != "")

    def values(self, metric: str, step: int | str = "last", **filters) -> np.ndarray:
        """Per-seed values [seeds] (sorted by seed) of ``metric`` at ``step`` ("last": the largest
        step among the selected rows). Raises ``KeyError`` when nothing matches."""
        rows = self.select(metric, **filters)
        if not rows:
            raise KeyError(f"{self.name} [{self.preset}]: no rows with metric={metric!r} and {filters}")
        at = max(r["step"] for r in rows) if step == "last" else int(step)
        by_seed = {r["seed"]: float(r["value"]) for r in rows if r["step"] == at}
        return np.array([by_seed[s] for s in sorted(by_seed)])

    def curve(self, metric: str, **filters) -> tuple[np.ndarray, np.ndarray]:
        """(steps [n], values [n, seeds]) of ``metric``; NaN where a seed lacks a step."""
        rows = self.select(metric, **filters)
        steps = sorted({r["step"] for r in rows})
        seeds = sorted({r["seed"] for r in rows})
        out = np.full((len(steps), len(seeds)), np.nan)
        si, ki = {s: i for i, s in enumerate(steps)}, {s: j for j, s in enumerate(seeds)}
        for r in rows:
            out[si[r["step"]], ki[r["seed"]]] = float(r["value"])
        return np.array(steps), out


def save(
    name: str,
    out_dir: str | os.PathLike,
    preset: str,
    rows: Sequence[Mapping[str, Any]] | Mapping[str, Sequence[Any]],
    arrays: Mapping[str, Any] | None = None,
    provenance_extra: Mapping[str, Any] | None = None,
    *,
    wall_time_s: float | None = None,
) -> dict[str, Path]:
    """Write the tidy CSV, the arrays (NPZ, when given) and the provenance JSON of a figure.

    ``rows`` is validated (``hyla.plotting.tidy_rows``) before anything is written. Returns the paths
    written. A stale NPZ of an earlier run without arrays is removed, so data and arrays never mix runs.
    """
    from .plotting import tidy_rows, write_tidy_csv
    from .provenance import provenance, session_wall_time

    if not name or os.sep in name or "/" in name or name.startswith("."):
        raise ValueError(f"figure name must be a plain file stem, got {name!r}")
    if not preset or "/" in preset or os.sep in preset:
        raise ValueError(f"preset must be a plain name, got {preset!r}")
    _, rows = tidy_rows(rows)
    paths = data_paths(name, preset, out_dir)
    paths["csv"].parent.mkdir(parents=True, exist_ok=True)
    write_tidy_csv(paths["csv"], rows)
    written = {"csv": paths["csv"], "json": paths["json"]}
    if arrays:
        with open(paths["npz"], "wb") as f:
            np.savez(f, **{k: np.asarray(v) for k, v in arrays.items()})
        written["npz"] = paths["npz"]
    elif paths["npz"].exists():
        paths["npz"].unlink()

    seeds = sorted({int(r["seed"]) for r in rows})
    steps = max(int(r["step"]) for r in rows)
    extra = {"figure": name, "methods": sorted({r["method"] for r in rows}),
             "metrics": sorted({r["metric"] for r in rows})}
    extra.update(dict(provenance_extra or {}))
    if arrays:
        extra["arrays"] = sorted(arrays)
    if wall_time_s is None:
        wall_time_s = session_wall_time()
        extra.setdefault("wall_time_measured", "since import hyla")
    record = provenance(preset, seeds, steps, wall_time_s, extra=extra)
    paths["json"].write_text(json.dumps(record, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return written


def load(name: str, preset: str, out_dir: str | os.PathLike = "") -> FigureData:
    """The saved data of ``name`` at ``preset``; ``FileNotFoundError`` names the missing file."""
    paths = data_paths(name, preset, out_dir)
    if not paths["csv"].is_file():
        raise FileNotFoundError(f"{name} [{preset}]: no data at {paths['csv']}; run the notebook first")
    with paths["csv"].open(encoding="utf-8", newline="") as f:
        rows = [{k: _parse(v) for k, v in r.items()} for r in csv.DictReader(f)]
    for r in rows:
        for key in _INT_COLUMNS:
            r[key] = int(r[key])
        r["value"] = float(r["value"])
        r["method"], r["metric"] = str(r["method"]), str(r["metric"])
    arrays = {}
    if paths["npz"].is_file():
        with np.load(paths["npz"], allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    prov = json.loads(paths["json"].read_text(encoding="utf-8")) if paths["json"].is_file() else {}
    return FigureData(name, preset, rows, arrays, prov)
