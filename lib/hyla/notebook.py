"""Helpers for the figure notebooks: parameter capture and validation, Colab detection, a banner.

A notebook's first code cell (tagged ``parameters``) holds literal assignments only; papermill injects
overrides after it. The next cell does::

    config = notebook.setup(FIGURE, globals())   # check_parameters + presets.get + banner

so a misspelled name (``-p presett smoke``, which papermill only warns about) or a bad value stops the
notebook before any compute, with a message naming the parameter and what is allowed.

The Colab links come from one setting, ``[project.urls] Repository`` in ``pyproject.toml`` (read from
the checkout, else from the installed package's metadata): ``repository_url()``; ``COLAB_ORG`` and
``COLAB_REPO`` are derived from it. To point the badges at a fork, edit that URL and run
``make sync-notebooks`` and ``make readme``.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import os
import sys
from typing import Any, Mapping
from urllib.parse import urlparse

__all__ = [
    "COLAB_ORG",
    "COLAB_REPO",
    "COLAB_BRANCH",
    "repository_url",
    "Range",
    "capture_parameters",
    "check_parameters",
    "colab_url",
    "colab_badge",
    "github_repo",
    "in_colab",
    "banner",
    "setup",
    "train",
    "logic_run_name",
]

# The branch the "Open in Colab" badges open; the organisation and repository come from
# ``repository_url()`` (module attributes ``COLAB_ORG`` / ``COLAB_REPO``, computed on first use).
COLAB_BRANCH = "main"

# Names IPython puts into a notebook's namespace.
_IPYTHON_NAMES = frozenset({"In", "Out", "get_ipython", "exit", "quit", "open"})


@functools.lru_cache(maxsize=1)
def repository_url() -> str:
    """``[project.urls] Repository`` of pyproject.toml in a checkout, else of the installed ``hyla``."""
    from .paths import repo_root

    root = repo_root()
    if root is not None:
        import tomllib

        with open(root / "pyproject.toml", "rb") as f:
            url = tomllib.load(f).get("project", {}).get("urls", {}).get("Repository")
        if url:
            return str(url).strip()
    from importlib import metadata

    try:
        entries = metadata.metadata("hyla").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        entries = []
    for entry in entries:
        label, _, url = entry.partition(",")
        if label.strip().lower() == "repository" and url.strip():
            return url.strip()
    raise LookupError("no Repository URL: neither a checkout's pyproject.toml nor an installed hyla has one")


def github_repo(url: str) -> tuple[str, str]:
    """``(organisation, repository)`` of a ``https://github.com/<org>/<repo>`` URL."""
    parsed = urlparse(url)
    parts = [p for p in parsed.path.split("/") if p]
    if parsed.netloc.lower() not in ("github.com", "www.github.com") or len(parts) != 2:
        raise ValueError(f"Colab opens notebooks from GitHub: expected https://github.com/<org>/<repo>, got {url!r}")
    org, repo = parts
    return org, repo[: -len(".git")] if repo.endswith(".git") else repo


def __getattr__(name: str) -> str:
    if name in ("COLAB_ORG", "COLAB_REPO"):
        org, repo = github_repo(repository_url())
        return org if name == "COLAB_ORG" else repo
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def colab_url(filename: str) -> str:
    """The Colab URL that opens ``notebooks/<filename>`` from GitHub."""
    org, repo = github_repo(repository_url())
    return f"https://colab.research.google.com/github/{org}/{repo}/blob/{COLAB_BRANCH}/notebooks/{filename}"


def colab_badge(filename: str) -> str:
    """Markdown for the "Open in Colab" badge of ``notebooks/<filename>``."""
    return f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({colab_url(filename)})"


class Range:
    """A closed numeric interval ``lo <= value <= hi`` for ``check_parameters``; ``None`` leaves a side open."""

    __slots__ = ("lo", "hi")

    def __init__(self, lo: float | None, hi: float | None) -> None:
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(f"Range({lo!r}, {hi!r}): lo > hi")
        self.lo = lo
        self.hi = hi

    def __contains__(self, value: Any) -> bool:
        try:
            return (self.lo is None or value >= self.lo) and (self.hi is None or value <= self.hi)
        except TypeError:
            return False

    def __repr__(self) -> str:
        return f"Range({self.lo!r}, {self.hi!r})"

    def describe(self) -> str:
        lo = "-inf" if self.lo is None else repr(self.lo)
        hi = "inf" if self.hi is None else repr(self.hi)
        return f"a value in [{lo}, {hi}]"


def capture_parameters(namespace: Mapping[str, Any]) -> dict[str, Any]:
    """The user-defined names in a notebook namespace (pass ``globals()``).

    Drops IPython's names (``In``, ``Out``, ``get_ipython``, ``exit``, ``quit``, ``open``), every name
    starting with ``_``, and modules, functions, classes and other callables.
    """
    params = {}
    for name, value in namespace.items():
        if name.startswith("_") or name in _IPYTHON_NAMES:
            continue
        if inspect.ismodule(value) or inspect.isclass(value) or inspect.isroutine(value) or callable(value):
            continue
        params[name] = value
    return params


def _type_name(t: Any) -> str:
    if isinstance(t, tuple):
        return " or ".join(_type_name(x) for x in t)
    return getattr(t, "__name__", repr(t))


def _type_ok(value: Any, expected: Any) -> bool:
    if expected is None or expected is Any:
        return True
    types = expected if isinstance(expected, tuple) else (expected,)
    if isinstance(value, bool) and bool not in types:
        return False  # True is not an int here
    if isinstance(value, int) and float in types:
        return True  # an int literal is fine for a float parameter
    return isinstance(value, types)


def check_parameters(given: Mapping[str, Any], schema: Mapping[str, tuple[Any, Any]]) -> dict[str, Any]:
    """Validate notebook parameters against ``schema``; return them unchanged.

    ``schema`` maps each allowed name to ``(type, allowed)``: ``type`` a type or a tuple of types,
    ``allowed`` a tuple/list of allowed values, a ``Range(lo, hi)``, or ``None`` (anything of that type).

    Raises ``ValueError`` naming the parameter and what is allowed, for an unknown name (e.g. a
    misspelled ``presett``), a value of the wrong type, or a value not allowed.
    """
    known = list(schema)
    for name, value in given.items():
        if name not in schema:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(
                f"unknown notebook parameter {name!r}{hint}; allowed parameters: {', '.join(known)}"
            )
        expected, allowed = schema[name]
        if not _type_ok(value, expected):
            raise ValueError(
                f"parameter {name!r} must be of type {_type_name(expected)}, got {type(value).__name__} {value!r}"
            )
        if allowed is None:
            continue
        if isinstance(allowed, Range):
            if value not in allowed:
                raise ValueError(f"parameter {name!r} = {value!r} is out of range; allowed: {allowed.describe()}")
        elif isinstance(allowed, (tuple, list, set, frozenset)):
            if value not in allowed:
                choices = ", ".join(repr(a) for a in allowed)
                raise ValueError(f"parameter {name!r} = {value!r} is not allowed; allowed values: {choices}")
        elif callable(allowed):
            if not allowed(value):
                raise ValueError(f"parameter {name!r} = {value!r} is not allowed")
        else:
            raise TypeError(f"schema for {name!r}: allowed must be a tuple/list, a Range or None, got {allowed!r}")
    return dict(given)


def in_colab() -> bool:
    """True inside a Google Colab runtime."""
    return "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ


def banner(preset: str, figure: str) -> None:
    """Print one line: figure, preset, hyla/JAX versions and the devices the notebook will use."""
    from . import __version__

    platform = None
    try:
        import jax

        devices = jax.devices()
        platform = devices[0].platform
        where = f"jax {jax.__version__} on {len(devices)} x {devices[0].device_kind} ({platform})"
    except Exception as err:  # noqa: BLE001
        where = f"jax unavailable ({type(err).__name__})"
    colab = " | Colab" if in_colab() else ""
    print(f"hyla {__version__} | {figure} | preset={preset} | {where}{colab}", flush=True)
    if platform == "cpu" and preset in ("gpu", "paper"):
        size = "one H100, ~10 minutes per figure" if preset == "gpu" else "the paper's compute"
        print(f"note: preset {preset!r} is sized for {size}; on this CPU it can take many hours "
              "(preset 'quick' is the CPU tier)", flush=True)


def setup(figure: str, namespace: Mapping[str, Any], extra: Mapping[str, tuple[Any, Any]] | None = None) -> dict:
    """A figure notebook's setup: check its parameters, print the banner, return its configuration.

    ``namespace`` is the notebook's ``globals()`` after the parameters cell (its ``FIGURE = figure``
    is not a parameter); ``extra`` adds the figure's own parameters to ``presets.notebook_schema``.
    Raises ``ValueError`` (naming the parameter and the allowed values) before any compute; returns
    ``presets.get(figure, preset)``.
    """
    from . import presets

    given = capture_parameters(namespace)
    if given.get("FIGURE") == figure:
        del given["FIGURE"]
    given = check_parameters(given, presets.notebook_schema(dict(extra or {})))
    config = presets.get(figure, given["preset"])
    banner(given["preset"], figure)
    return config


def train(specs: Mapping[Any, Any], cache_dir: str = "", steps: int = 0, num_seeds: int = 0,
          name=None, **kw) -> dict:
    """``{key: spec}`` -> ``{key: RunResult}``: each spec with the notebook's ``steps`` /
    ``num_seeds`` overrides, from the run cache or trained there (``runs.load_or_train``, ``kw``).

    ``name(key, spec)`` labels a run in the log; by default the key itself (a tuple joined by spaces).
    """
    from . import presets, runs

    out = {}
    for key, spec in specs.items():
        spec = presets.apply_overrides(spec, steps, num_seeds)
        label = name(key, spec) if name else (" ".join(map(str, key)) if isinstance(key, tuple) else str(key))
        out[key] = runs.load_or_train(spec, cache_dir, name=label, **kw)
    return out


def logic_run_name(method: str, spec) -> str:
    """``<method> N=<examples> held-out=<fraction>``: how the fuzzy-logic notebooks label a run."""
    return f"{method} N={spec.task_args['seq_len']} held-out={spec.task_args['heldout_fraction']:.0%}"
