"""Provenance of a figure: which code, which machine, which package versions, how long.

``provenance(...)`` returns a JSON-serialisable dict; ``hyla.plotting.save_figure`` writes it next to
the figure's data. No hostname or user name is recorded.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import subprocess
import time
from importlib import metadata as _metadata
from typing import Any, Iterable

__all__ = ["provenance", "git_info", "device_info", "package_versions", "Timer", "session_wall_time"]

# Distribution names whose versions are recorded.
PACKAGES = (
    "jax",
    "jaxlib",
    "equinox",
    "optax",
    "numpy",
    "matplotlib",
    "scikit-learn",
    "papermill",
)


def git_info() -> dict[str, Any]:
    """``{"commit": sha or None, "dirty": bool or None}``; both None outside a git checkout.

    ``dirty`` is True when tracked files outside ``figures/`` differ from the commit: the figures and
    data that earlier notebooks of the same batch wrote do not count as changed code.

    A copy of a checkout (e.g. a working tree sent to a GPU machine, whose ``.git`` may be stale or
    missing) names its commit in ``$HYLA_GIT_COMMIT``: when set it wins, recorded with
    ``"from_env": True``.
    """
    from .paths import repo_root

    if os.environ.get("HYLA_GIT_COMMIT"):
        return {"commit": os.environ["HYLA_GIT_COMMIT"], "dirty": None, "from_env": True}
    root = repo_root()
    info: dict[str, Any] = {"commit": None, "dirty": None}
    if root is None:
        return info

    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(
                ["git", "-C", str(root), *args],
                capture_output=True,
                text=True,
                timeout=20,
                check=True,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip()

    if git("rev-parse", "--is-inside-work-tree") != "true":
        return info
    info["commit"] = git("rev-parse", "HEAD") or None  # None before the first commit
    status = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)figures")
    info["dirty"] = None if status is None else bool(status)
    return info


def device_info() -> dict[str, Any]:
    """The accelerator JAX runs on: kind, platform, count, plus the host's CPU count."""
    info: dict[str, Any] = {"cpu_count": os.cpu_count(), "machine": platform.machine(), "os": platform.system(),
                            **cpu_model()}
    try:
        import jax

        devices = jax.devices()
        info.update(
            device_kind=devices[0].device_kind,
            platform=devices[0].platform,
            device_count=len(devices),
            process_count=jax.process_count(),
        )
    except Exception as err:  # noqa: BLE001 - provenance must never break a figure
        info.update(device_kind=None, platform=None, device_count=0, error=f"{type(err).__name__}: {err}")
    return info


def cpu_model() -> dict[str, Any]:
    """The host CPU's model name and its vector extensions (XLA:CPU compiles for them, so two CPUs
    with other extensions can round differently); {} where /proc/cpuinfo is not readable."""
    try:
        text = open("/proc/cpuinfo", encoding="utf-8").read()
    except OSError:
        return {}
    fields = dict(line.split(":", 1) for line in text.splitlines()[:40] if ":" in line)
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    flags = fields.get("flags", "").split()
    return {"cpu_model": fields.get("model name"),
            "cpu_vector_extensions": sorted(f for f in flags if f.startswith(("avx", "amx", "fma")))}


def package_versions(packages: Iterable[str] = PACKAGES) -> dict[str, str | None]:
    """Installed versions of python, hyla and ``packages`` (None when a package is missing)."""
    from . import __version__

    versions: dict[str, str | None] = {"python": platform.python_version(), "hyla": __version__}
    for name in packages:
        try:
            versions[name] = _metadata.version(name)
        except _metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def session_wall_time() -> float:
    """Seconds since ``hyla`` was first imported in this process (a notebook's running time)."""
    from . import _IMPORT_TIME

    return time.monotonic() - _IMPORT_TIME


def _jsonable(value: Any) -> Any:
    """Recursively turn numpy/JAX scalars and arrays, tuples, sets and paths into JSON values."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        return [_jsonable(v) for v in items]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if hasattr(value, "tolist"):  # numpy / jax arrays and scalars
        return _jsonable(value.tolist())
    if hasattr(value, "__dataclass_fields__"):
        import dataclasses

        return _jsonable(dataclasses.asdict(value))
    return repr(value)


def provenance(
    preset: str,
    seeds: Iterable[int] | int,
    steps: int | Iterable[int] | None,
    wall_time_s: float | None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything needed to say where a figure came from.

    Args:
      preset: the preset the figure was made with (smoke / quick / gpu / paper).
      seeds: the seeds (or their number) behind the figure.
      steps: training steps (an int, or the list of evaluated steps).
      wall_time_s: wall time of the computation in seconds.
      extra: anything else (run hashes, overrides); stored under ``"extra"``.
    """
    if isinstance(seeds, int):
        seeds_out: Any = seeds
    else:
        seeds_out = [int(s) for s in seeds]
    if steps is None or isinstance(steps, int):
        steps_out: Any = steps
    else:
        steps_out = [int(s) for s in steps]
    return {
        "preset": preset,
        "seeds": seeds_out,
        "steps": steps_out,
        "wall_time_s": None if wall_time_s is None else round(float(wall_time_s), 3),
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "git": git_info(),
        "device": device_info(),
        "versions": package_versions(),
        "extra": _jsonable(extra or {}),
    }


class Timer:
    """Wall-time context manager.

    >>> with Timer() as t:
    ...     pass
    >>> t.elapsed >= 0
    True

    ``elapsed`` reads the running time inside the block and the final time after it.
    """

    def __init__(self) -> None:
        self._start: float | None = None
        self._end: float | None = None

    def __enter__(self) -> "Timer":
        self._start = time.perf_counter()
        self._end = None
        return self

    def __exit__(self, *exc: object) -> None:
        self._end = time.perf_counter()

    @property
    def elapsed(self) -> float:
        if self._start is None:
            return 0.0
        end = self._end if self._end is not None else time.perf_counter()
        return end - self._start

    def __repr__(self) -> str:
        return f"Timer(elapsed={self.elapsed:.3f}s)"
