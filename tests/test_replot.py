"""`python -m hyla.reproduce --replot` redraws every committed figure from figures/data/ alone."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_replot_of_committed_data_trains_nothing(tmp_path):
    from hyla import figdata, figures

    shutil.copytree(ROOT / "figures" / "data", tmp_path / "figures" / "data")
    cache = tmp_path / "cache"
    env = dict(os.environ, HYLA_CACHE=str(cache), HYLA_XLA_CACHE=str(tmp_path / "xla"),
               MPLBACKEND="Agg", PYTHONPATH=os.pathsep.join([str(ROOT / "lib"), os.environ.get("PYTHONPATH", "")]))
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "hyla.reproduce", "--replot", "--out", str(tmp_path / "figures")],
                          env=env, capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - t0
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert seconds < 120, f"replot took {seconds:.0f} s (goal: under 2 minutes)"
    for name in figures.names():
        tier = figdata.available_presets(name, ROOT / "figures" / "data")
        assert tier, f"{name}: no committed data"
        assert (tmp_path / "figures" / f"{name}.png").is_file(), f"{name} was not redrawn:\n{proc.stdout}"
        assert f"{name}" in proc.stdout and f"[{tier[0]}]" in proc.stdout
    assert not cache.exists() or not any(cache.iterdir()), "replot wrote to the run cache"
    assert not (tmp_path / "xla").exists() or not any((tmp_path / "xla").iterdir()), "replot compiled"


def test_replot_names_unknown_figures():
    from hyla import figures

    assert figures.replot(None, ["fig99"], "") == 2
