"""Per-figure configurations at four scales.

* ``smoke``: seconds; what the tests run.
* ``quick``: the default; one 2-core CPU, at most ~5 minutes per notebook.
* ``gpu``: one H100, at most ~10 minutes per figure.
* ``paper``: the paper's exact configuration (steps, grids, 3 seeds, eval sizes); checked against
  docs/methods.md#hyperparameters and docs/methods.md#figures by the tests, not meant to be run to
  the end on one machine (``python -m hyla.reproduce --executor local|slurm`` spreads its runs).

Each figure module registers ``{preset: config}`` with :func:`register`; a config is a plain dict
(run specifications built by the helpers in :mod:`hyla.presets.specs`, plus the figure's settings).
:func:`training_runs` lists the runs a figure's notebook trains, read from that config.
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


def _cell(n, frac) -> str:
    return f"N={n} held-out={frac:.0%}"


def _logic_named(specs: dict) -> dict:
    return {f"{m} {_cell(s.task_args['seq_len'], s.task_args['heldout_fraction'])}": s
            for m, s in specs.items()}


def _fig04_named(specs: dict, only_problems=None) -> dict:
    out = {}
    for (m, d, w, p), s in specs.items():
        if only_problems is not None:
            if p != only_problems:
                continue
            budget = ""
        else:
            budget = f" {p / 1e6:g}M problems" if p else ""
        out[f"{m} depth={d} width={w}{budget}"] = s
    return out


# Which config entries each notebook passes to runs.load_or_train, under the names it logs
# (mirrors the notebooks' compute cells; tests/test_executors.py checks it against them).
_TRAINED = {
    "fig01_hypernetwork_view": lambda c: {"hyla " + _cell(32, 0.7): c["spec"]},
    "fig02_fuzzy_logic": lambda c: {f"{m} {_cell(n, f)}": s for (m, n, f), s in c["specs"].items()},
    "fig03_sraven_task": lambda c: {},
    "fig04_sraven_scaling": lambda c: _fig04_named(c["specs"]),
    "fig05_sraven_latents": lambda c: {**{m: s for m, s in c["specs"].items()},
                                       **{f"{m} heads={h}": s for (m, h), s in c["heads_specs"].items()},
                                       **{f"{m} K={k}": s for (m, k), s in c["k_specs"].items()}},
    "fig06_language_model": lambda c: {f"{m} LM": s for m, s in c["specs"].items()},
    "figA2_logic_latents": lambda c: _logic_named(c["specs"]),
    "figA3_logic_metrics": lambda c: _logic_named(c["specs"]),
    "figA4_sraven_training": lambda c: _fig04_named(c["specs"], c["problems"][-1]),
    "figA5_sraven_heldout_fraction": lambda c: {f"{m} held-out={f:.0%}": s
                                                for (m, f), s in c["specs"].items()},
    "figA6_sraven_depth_latents": lambda c: {f"hyla depth={d}": s for d, s in c["specs"].items()},
    "figA8_sraven_codes": lambda c: dict(c["specs"]),
    "tabA1_logic_ablations": lambda c: _logic_named(c["specs"]),
    "tabA1_sraven_ablations": lambda c: dict(c["specs"]),
    "ext01_init_rate": lambda c: {
        **{f"softmax γ={g} both unseen": s for g, s in c["sweep"].items()},
        **{f"{k[0]} depth {k[1]} γ={k[2]}": s for k, s in c["phase"].items()},
        **{f"γ={k[0]} wd={k[1]} both unseen": s for k, s in c["wd"].items()}},
    "ext02_exchangeability": lambda c: {f"{m} posterior": s for m, s in c["specs"].items()},
}


def training_runs(figure: str, preset: str, steps: int = 0, num_seeds: int = 0) -> dict:
    """``{run name: RunSpec}``: the runs the notebook of ``figure`` trains at ``preset`` (with its
    ``steps`` / ``num_seeds`` overrides), each spec once (the first name of a shared spec kept)."""
    config = get(figure, preset)
    if figure not in _TRAINED:
        raise ValueError(f"figure={figure!r} has no run list; add it to hyla.presets._TRAINED")
    runs, seen = {}, set()
    for name, spec in _TRAINED[figure](config).items():
        spec = apply_overrides(spec, steps, num_seeds)
        if spec.key() not in seen:
            seen.add(spec.key())
            runs[name] = spec
    return runs
