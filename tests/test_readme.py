"""The README's library example runs as written (in a fresh process, with a private run cache)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _library_example() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Library\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 1, f"expected one python block under '## Library', found {len(blocks)}"
    return blocks[0]


def test_library_example_runs(tmp_path):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "lib"), env.get("PYTHONPATH", "")) if p)
    env["HYLA_CACHE"] = str(tmp_path / "runs")
    # Compiled programs are keyed by their full program: the checkout's XLA cache is safe to share.
    env["HYLA_XLA_CACHE"] = env.get("HYLA_XLA_CACHE") or str(ROOT / ".cache" / "xla")
    env["MPLBACKEND"] = "Agg"
    proc = subprocess.run([sys.executable, "-c", _library_example()], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    # What the example prints: the mixer table, the sRAVEN split sizes (SPEC §C.5) and progress lines.
    assert "'hyla-rms_head+softmax'" in out and "'linear+rms_head'" in out, out
    assert "{'train': 248, 'heldout_combos': 82}" in out, out
    assert "[logic] step 60/60" in out, out
    assert (tmp_path / "runs").is_dir() and any((tmp_path / "runs").iterdir()), "no run was cached"
