"""One plotting module per figure: ``hyla.figures.<name>.plot(data) -> Figure``.

A figure is a function of its saved data (``hyla.figdata``): the notebook saves its CSV (and NPZ
arrays where a panel needs them), reads them back and calls ``render``; ``replot`` does the same
from ``figures/data/`` alone, without training or a GPU (``python -m hyla.reproduce --replot``,
``make plots``). Both draw in a fresh copy of the paper style, so they give the same pixels.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from pathlib import Path
from typing import Sequence

from hyla import claims, figdata, plotting

__all__ = ["names", "render", "replot", "suptitle", "missing"]


def names() -> list[str]:
    """The figures that have a plotting module (one per notebook)."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def _module(name: str):
    if name not in names():
        raise ValueError(f"figure={name!r} has no plotting module; allowed: {', '.join(names())}")
    return importlib.import_module(f"hyla.figures.{name}")


def render(name: str, data: figdata.FigureData, out_dir: str = ""):
    """Draw ``name`` from ``data`` and write its PNG and PDF; returns ``(fig, paths)``."""
    import matplotlib

    with matplotlib.rc_context():
        matplotlib.rcdefaults()
        plotting.use_style()
        fig = _module(name).plot(data)
        paths = plotting.save_plot(fig, name, out_dir, data.preset)
    return fig, paths


def suptitle(fig, data: figdata.FigureData, headline: str, limit: int = 2, **kw) -> str:
    """The figure's title: ``headline [preset]`` and, below, the computed verdicts of its claims."""
    verdicts = claims.evaluate(data)
    text = f"{headline} [{data.preset}]"
    if verdicts:
        text += "\n" + claims.title_line(verdicts, limit)
    fig.suptitle(text, fontsize=kw.pop("fontsize", 9), **kw)
    return text


def missing(ax, what: str) -> None:
    """Mark a panel whose data this run did not save (say what is missing; draw nothing made up)."""
    ax.text(0.5, 0.5, f"not in this run's data:\n{what}", ha="center", va="center",
            transform=ax.transAxes, fontsize=8, color="0.35", wrap=True)
    ax.set_xticks([])
    ax.set_yticks([])


def replot(preset: str | None = None, only: Sequence[str] | None = None, out_dir: str = "") -> int:
    """Redraw figures from their saved data; returns an exit status (1 if any failed).

    ``preset`` None: each figure from the largest tier with data (``figdata.TIER_ORDER``), which is
    the tier shown in ``figures/``. ``only``: name prefixes, as ``hyla.reproduce --only``.
    """
    from hyla.paths import figures_dir

    chosen = [n for n in names() if not only or any(n.startswith(p) for p in only)]
    unknown = [p for p in only or () if not any(n.startswith(p) for n in names())]
    if unknown:
        print(f"error: no figure matches {', '.join(map(repr, unknown))}; available: "
              f"{', '.join(names())}", file=sys.stderr)
        return 2
    data_dir = figures_dir(out_dir, preset or "") / "data"
    failed = 0
    for name in chosen:
        tiers = figdata.available_presets(name, data_dir)
        tier = preset if preset else (tiers[0] if tiers else None)
        if tier is None or tier not in tiers:
            print(f"{name:<30} skipped: no {tier or 'saved'} data in {data_dir}")
            continue
        t0 = time.perf_counter()
        try:
            data = figdata.load(name, tier, Path(data_dir).parent)
            fig, paths = render(name, data, str(Path(data_dir).parent))
            import matplotlib.pyplot as plt

            plt.close(fig)
        except Exception as err:  # noqa: BLE001 - report and go on with the next figure
            failed += 1
            print(f"{name:<30} [{tier}] failed: {type(err).__name__}: {err}", file=sys.stderr)
            continue
        print(f"{name:<30} [{tier}] -> {paths['png']} ({time.perf_counter() - t0:.1f} s)")
    return 1 if failed else 0
