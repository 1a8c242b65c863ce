"""Cached, resumable runs: a RunSpec's hash names its folder under the cache directory.

``load_or_train(spec)`` returns the finished run from the cache when it exists, resumes a run that
was cut off from its last checkpoint, and otherwise trains it from scratch.  So re-running a
notebook, or another figure that needs the same run, does not train twice.
"""

from __future__ import annotations

import json
import os
import time

from hyla import paths
from hyla.train import RunResult, RunSpec, Trainer


def enable_compilation_cache(path: str = "", cache_dir: str = "") -> str | None:
    """Keep XLA executables on disk so a re-run (or the tests after a run) skips compilation.

    Leaves an already configured JAX compilation cache alone.  Only compilations that took at least
    $HYLA_XLA_CACHE_MIN_S seconds (default 1) are stored; the tests set 0, so that notebook kernels
    share even their quick compilations.
    """
    import jax

    if jax.config.jax_compilation_cache_dir:
        return jax.config.jax_compilation_cache_dir
    path = path or os.environ.get("HYLA_XLA_CACHE") or str(paths.cache_dir(cache_dir).parent / "xla")
    jax.config.update("jax_compilation_cache_dir", path)
    jax.config.update("jax_persistent_cache_min_compile_time_secs",
                      float(os.environ.get("HYLA_XLA_CACHE_MIN_S") or 1.0))
    return path


def run_dir(spec: RunSpec, cache_dir: str = "") -> str:
    return os.path.join(paths.cache_dir(cache_dir), f"{spec.task}-{spec.key()}")


def is_cached(spec: RunSpec, cache_dir: str = "") -> bool:
    p = os.path.join(run_dir(spec, cache_dir), "progress.json")
    if not os.path.exists(p):
        return False
    with open(p) as f:
        return bool(json.load(f).get("done"))


def load_or_train(
    spec: RunSpec, cache_dir: str = "", name: str = "", log=print, use_cache: bool = True
) -> RunResult:
    """The finished run of ``spec``: from the cache, resumed, or trained."""
    enable_compilation_cache(cache_dir=cache_dir)
    d = run_dir(spec, cache_dir) if use_cache else None
    trainer = Trainer(spec)
    cached = d is not None and is_cached(spec, cache_dir)
    t0 = time.perf_counter()
    result = trainer.run(d, log=None if cached else log, name=name)
    if cached and log:
        log(f"[{name or spec.task}] loaded from cache {d} ({time.perf_counter() - t0:.1f} s)")
    result.cached = cached
    return result


def load_or_train_all(specs: dict, cache_dir: str = "", log=print) -> dict:
    """``{name: spec}`` -> ``{name: RunResult}``, one after another."""
    return {name: load_or_train(s, cache_dir, name=name, log=log) for name, s in specs.items()}


def tidy(result: RunResult, method: str, metrics: tuple[str, ...] | None = None, **settings) -> list[dict]:
    """A run's history as tidy rows ``method, <settings...>, seed, step, metric, value``."""
    return [
        {"method": method, **settings, **r}
        for r in result.records
        if metrics is None or r["metric"] in metrics
    ]


def final_values(result: RunResult, metric: str):
    """Per-seed values of ``metric`` at the last evaluated step, as a numpy array [seeds]."""
    _, values = result.metric(metric)
    return values[-1]


def analysis_key(seed: int, split: str):
    """A fixed key for analysis batches of ``split`` (disjoint from training and eval streams)."""
    import zlib

    import jax

    return jax.random.fold_in(jax.random.key(seed + 1_000_003), zlib.crc32(split.encode()))
