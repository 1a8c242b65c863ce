"""Where things live: the checkout, the figures folder, the run cache.

Works both from a git checkout (``lib/hyla`` inside the repository) and from an installed package
(e.g. ``pip install git+...`` on Colab), where there is no repository and paths fall back to the
current directory or the user's cache.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

__all__ = ["repo_root", "notebooks_dir", "figures_dir", "cache_dir"]


@lru_cache(maxsize=1)
def repo_root() -> Path | None:
    """The checkout that contains ``lib/hyla`` (this package), or ``None`` when hyla is installed elsewhere."""
    here = Path(__file__).resolve().parent  # .../lib/hyla
    if here.parent.name != "lib":
        return None
    root = here.parent.parent
    if (root / "pyproject.toml").is_file() and (root / "lib" / "hyla" / "__init__.py").is_file():
        return root
    return None


def notebooks_dir() -> Path:
    """``<repo>/notebooks`` in a checkout, else ``./notebooks``."""
    root = repo_root()
    return (root / "notebooks") if root is not None else Path.cwd() / "notebooks"


def figures_dir(out_dir: str | os.PathLike = "", preset: str = "") -> Path:
    """The folder figures are written to (created if missing).

    ``out_dir`` wins when given; ``""`` means ``<repo>/figures`` in a checkout, else ``./figures``,
    and its subfolder ``smoke/`` for the ``smoke`` preset (ignored by git), so that a smoke run never
    overwrites the committed figures.
    """
    if str(out_dir):
        path = Path(out_dir).expanduser()
    else:
        root = repo_root()
        path = (root / "figures") if root is not None else Path.cwd() / "figures"
        if preset == "smoke":
            path = path / "smoke"
    path = path.resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir(cache: str | os.PathLike = "") -> Path:
    """The folder training runs are cached in (created if missing).

    ``cache`` wins when given; ``""`` means ``$HYLA_CACHE`` if set, else ``<repo>/.cache/runs`` in a
    checkout, else ``~/.cache/hyla/runs``.
    """
    if str(cache):
        path = Path(cache).expanduser()
    elif os.environ.get("HYLA_CACHE"):
        path = Path(os.environ["HYLA_CACHE"]).expanduser()
    else:
        root = repo_root()
        path = (root / ".cache" / "runs") if root is not None else Path.home() / ".cache" / "hyla" / "runs"
    path = path.resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path
