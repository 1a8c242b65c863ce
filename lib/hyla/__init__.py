"""hyla: an Equinox/JAX companion to "Attention as a Hypernetwork" (Schug et al., ICLR 2025).

Importing the package is cheap: submodules (which pull in JAX, matplotlib, ...) are loaded lazily on
first attribute access, e.g. ``hyla.plotting`` or ``from hyla import plotting``.
"""

from __future__ import annotations

import importlib as _importlib
import time as _time

__version__ = "0.1.0"

# Monotonic clock reading at package import; `hyla.provenance` uses it as the default wall time of a
# notebook session (a notebook imports hyla in its first cells).
_IMPORT_TIME = _time.monotonic()


def _submodules() -> list[str]:
    """Names of hyla's submodules and subpackages (files next to this one), without importing them."""
    import pkgutil

    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def __getattr__(name: str):
    # PEP 562: `hyla.plotting` imports hyla.plotting on first use.
    if not name.startswith("_") and name in _submodules():
        module = _importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module 'hyla' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_submodules()))


__all__ = ["__version__"]
