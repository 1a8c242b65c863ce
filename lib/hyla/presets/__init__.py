"""Per-figure configurations at four scales.

* ``smoke``: seconds; what the tests run.
* ``quick``: the default; one 2-core CPU, at most ~5 minutes per notebook.
* ``gpu``: one H100, at most ~10 minutes per figure.
* ``paper``: the paper's exact configuration (steps, grids, 3 seeds, eval sizes); checked against
  SPEC §A.9 / §F by the tests, not meant to be run to the end here.

Each figure module registers ``{preset: config}`` with :func:`register`; a config is a plain dict
(run specifications built by the helpers in :mod:`hyla.presets.specs`, plus the figure's settings).
"""

from __future__ import annotations

import importlib
from typing import Any

PRESETS = ("smoke", "quick", "gpu", "paper")
_FIGURES: dict[str, dict[str, dict[str, Any]]] = {}
_MODULES = ("logic", "raven", "lm", "ext")


def register(figure: str, configs: dict[str, dict[str, Any]]) -> None:
    missing = [p for p in PRESETS if p not in configs]
    if missing:
        raise ValueError(f"figure {figure!r}: presets {missing} missing; every figure needs {PRESETS}")
    _FIGURES[figure] = configs


def _load_all() -> None:
    for mod in _MODULES:
        try:
            importlib.import_module(f"hyla.presets.{mod}")
        except ModuleNotFoundError as e:  # a module still to be written
            if e.name != f"hyla.presets.{mod}":
                raise


def check_preset(preset: str) -> str:
    if preset not in PRESETS:
        raise ValueError(f"preset={preset!r} is unknown; allowed: {', '.join(PRESETS)}")
    return preset


def figures() -> list[str]:
    _load_all()
    return sorted(_FIGURES)


def get(figure: str, preset: str) -> dict[str, Any]:
    """The configuration of ``figure`` at ``preset`` (a fresh dict, safe to modify)."""
    check_preset(preset)
    if figure not in _FIGURES:
        _load_all()
    if figure not in _FIGURES:
        raise ValueError(f"figure={figure!r} is unknown; allowed: {', '.join(sorted(_FIGURES))}")
    return dict(_FIGURES[figure][preset])


def notebook_schema(extra: dict | None = None) -> dict:
    """Parameters every figure notebook takes, plus the figure's own ``extra`` ones."""
    from hyla.notebook import Range

    schema = {
        "preset": (str, PRESETS),
        "out_dir": (str, None),
        "cache_dir": (str, None),
        "steps": (int, Range(0, 10_000_000)),
        "num_seeds": (int, Range(0, 64)),
    }
    schema.update(extra or {})
    return schema


def apply_overrides(spec, steps: int = 0, num_seeds: int = 0):
    """A RunSpec with the notebook's ``steps`` / ``num_seeds`` overrides (0 keeps the preset's)."""
    import dataclasses

    if steps:
        t = spec.train
        warmup = min(t.warmup_steps, max(0, (steps - 1) // 10))
        every = min(t.eval_every, steps)
        spec = spec.replace(
            train=dataclasses.replace(t, steps=steps, warmup_steps=warmup, eval_every=every)
        )
    if num_seeds:
        spec = spec.replace(seeds=tuple(range(num_seeds)))
    return spec
