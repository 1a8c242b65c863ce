"""Cached, resumable runs: a RunSpec's hash names its folder under the cache directory.

``load_or_train(spec)`` returns the finished run from the cache when it exists, resumes a run that
was cut off from its last checkpoint, and otherwise trains it from scratch.  So re-running a
notebook, or another figure that needs the same run, does not train twice.

The cache never lies (docs/methods.md#training-loop):

* checkpoints are crash-consistent: a run killed at any moment resumes to the numbers of an
  uninterrupted run (``hyla.train``, "checkpoints");
* a damaged checkpoint, or a folder holding another spec's run, raises :class:`CorruptRunError`
  naming the run, its folder and the ways out; it is never resumed from;
* one process trains a run folder at a time: a second process on the same spec waits and then
  loads the finished run (``wait=False``: raises :class:`RunLockedError` naming the holder);
* a run whose loss or parameters stopped being finite is recorded as diverged, never as done, and
  ``load_or_train`` raises :class:`DivergedRunError` (``allow_diverged=True``: returns it marked).
"""

from __future__ import annotations

import os
import time

from hyla import paths
from hyla.checkpoint import (
    CorruptRunError,
    DivergedRunError,
    RunLockedError,
    diverged_seeds,
    is_finished,
    read_progress,
    read_state_bytes,
)
from hyla.train import RunResult, RunSpec, Trainer

__all__ = ["CorruptRunError", "DivergedRunError", "RunLockedError", "enable_compilation_cache",
           "run_dir", "status", "is_cached", "load_or_train", "load_or_train_all", "tidy",
           "final_values", "analysis_key", "provenance"]


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


def status(spec: RunSpec, cache_dir: str = "", name: str = "") -> str:
    """What the cache holds for ``spec``: "missing", "partial" (resumable), "done", "diverged" or
    "corrupt" (``load_or_train`` would raise CorruptRunError). Reads only; trains nothing."""
    d, name = run_dir(spec, cache_dir), name or spec.task
    try:
        prog = read_progress(d, spec, name)
        while prog is not None:
            try:
                if "state_sha256" in prog:
                    read_state_bytes(d, prog, name)
                else:  # a format-1 checkpoint has no checksum: read it as the spec's state
                    Trainer(spec)._load(d, prog, name)
                break
            except CorruptRunError:
                again = read_progress(d, spec, name)  # a writer may have moved on meanwhile
                if again == prog:
                    raise
                prog = again
    except CorruptRunError:
        return "corrupt"
    if prog is None:
        return "missing"
    if diverged_seeds(prog):
        return "diverged"
    return "done" if is_finished(prog) else "partial"


def is_cached(spec: RunSpec, cache_dir: str = "") -> bool:
    """True when a verified, finished run of ``spec`` is in the cache (not diverged, not corrupt)."""
    return status(spec, cache_dir) == "done"


def load_or_train(
    spec: RunSpec, cache_dir: str = "", name: str = "", log=print, use_cache: bool = True,
    *, allow_diverged: bool = False, wait: bool = True,
) -> RunResult:
    """The finished run of ``spec``: from the cache, resumed, or trained.

    Raises CorruptRunError for a damaged or foreign cache folder, and DivergedRunError for a run
    whose loss or parameters stopped being finite, unless ``allow_diverged`` (then the result has
    ``diverged`` = {seed: step}). While another process trains the same spec this one waits for it
    and loads its run; ``wait=False`` raises RunLockedError naming that process instead.
    """
    enable_compilation_cache(cache_dir=cache_dir)
    d = run_dir(spec, cache_dir) if use_cache else None
    trainer = Trainer(spec)
    t0 = time.perf_counter()
    result = trainer.run(d, log=log, name=name, wait=wait)
    if result.cached and log:
        log(f"[{name or spec.task}] loaded from cache {d} ({time.perf_counter() - t0:.1f} s)")
    if result.diverged and not allow_diverged:
        raise DivergedRunError(name or spec.task, d, result.diverged, spec.train.lr)
    return result


def load_or_train_all(specs: dict, cache_dir: str = "", log=print, **kw) -> dict:
    """``{name: spec}`` -> ``{name: RunResult}``, one after another (``kw``: of load_or_train)."""
    return {name: load_or_train(s, cache_dir, name=name, log=log, **kw) for name, s in specs.items()}


def provenance(results: dict, label=None) -> dict:
    """``{"runs": {label: cache key}, "train_wall_time_s": {label: seconds}}`` of ``{key: RunResult}``
    for a figure's provenance; ``label(key)`` names a run (default: the key, a tuple joined by spaces)."""
    def name(key):
        if label is not None:
            return label(key)
        return " ".join(map(str, key)) if isinstance(key, tuple) else str(key)

    return {"runs": {name(k): r.spec.key() for k, r in results.items()},
            "train_wall_time_s": {name(k): round(r.wall_time_s, 1) for k, r in results.items()}}


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
