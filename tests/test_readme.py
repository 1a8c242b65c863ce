"""The README: its generated tables agree with figures/data/, it is a short front page, and its
library example runs as written (in a fresh process, with a private run cache)."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
LIBRARY_HEADING = "\n## Library quick start\n"
MAX_CHARACTERS = 12_000  # a front page
# Decimal numbers the hand-written text may hold: the arXiv id and the Python version.
ALLOWED_DECIMALS = {"2406.05816", "3.11"}


def _tool():
    spec = importlib.util.spec_from_file_location("readme_table", ROOT / "tools" / "readme_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TOOL = _tool()


def _hand_written(text: str) -> str:
    """The README without its generated tables and code blocks."""
    for start, end in TOOL.MARKERS.values():
        text = re.sub(re.escape(start) + ".*?" + re.escape(end), "", text, flags=re.S)
    return re.sub(r"```.*?```", "", text, flags=re.S)


def test_tables_agree_with_figure_data():
    assert TOOL.main(["--check"]) == 0, "README tables out of date: run make readme"


def _copy_root(tmp_path: Path) -> Path:
    """README.md and docs/results.md copied into ``tmp_path`` (the tool's --root)."""
    (tmp_path / "docs").mkdir()
    for rel in TOOL.FILES:
        (tmp_path / rel).write_text((ROOT / rel).read_text(encoding="utf-8"), encoding="utf-8")
    return tmp_path


def test_check_fails_on_a_changed_table(tmp_path, capsys):
    root = _copy_root(tmp_path)
    args = ["--root", str(root), "--data", str(ROOT / "figures" / "data")]
    assert TOOL.main(["--check", *args]) == 0
    for rel, keys in TOOL.FILES.items():
        text = (ROOT / rel).read_text(encoding="utf-8")
        for key in keys:
            start, end = TOOL.MARKERS[key]
            head, rest = text.split(start, 1)
            table, tail = rest.split(end, 1)
            # one typed-in change: a cell of a table, or a digit of a generated sentence
            changed = (table.replace(" | ", " | 9", 1) if " | " in table else
                       re.sub(r"\d", lambda m: "8" if m.group() != "8" else "9", table, count=1))
            assert changed != table
            (root / rel).write_text(head + start + changed + end + tail, encoding="utf-8")
            assert TOOL.main(["--check", *args]) == 1, f"{rel} {start}: a changed cell passed --check"
            assert "run make readme" in capsys.readouterr().err
        (root / rel).write_text(text.replace(TOOL.MARKERS[keys[0]][1], ""), encoding="utf-8")
        assert TOOL.main(["--check", *args]) == 1   # a marker missing
        # Writing repairs the copy: the table is made from the data, not kept from the file.
        (root / rel).write_text(text.replace(" | ", " | 9", 3), encoding="utf-8")
        assert TOOL.main(args) == 0 and (root / rel).read_text(encoding="utf-8") == text


def test_front_page_is_short():
    n = len(README.read_text(encoding="utf-8"))
    assert n <= MAX_CHARACTERS, f"README.md has {n} characters; at most {MAX_CHARACTERS}"


def test_no_private_references_and_no_typed_measurements():
    text = README.read_text(encoding="utf-8")
    assert "SP" "EC" not in text  # the private notes are never cited (word split so this file passes too)
    decimals = set(re.findall(r"\d+\.\d+", _hand_written(text))) - ALLOWED_DECIMALS
    assert not decimals, f"numbers typed into the README outside the generated tables: {sorted(decimals)}"


@pytest.mark.parametrize("marker", ["<!-- paper-tier:start -->", "<!-- paper-tier:end -->"])
def test_paper_tier_section_is_marked(marker):
    assert README.read_text(encoding="utf-8").count(marker) == 1


def _library_example() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split(LIBRARY_HEADING, 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 1, f"expected one python block under {LIBRARY_HEADING.strip()!r}, found {len(blocks)}"
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
    # What the example prints: the mixer table, the sRAVEN split sizes (docs/methods.md#sraven-splits) and progress lines.
    assert "'hyla-rms_head+softmax'" in out and "'linear+rms_head'" in out, out
    assert "{'train': 248, 'heldout_combos': 82}" in out, out
    assert "[logic] step 60/60" in out, out
    assert (tmp_path / "runs").is_dir() and any((tmp_path / "runs").iterdir()), "no run was cached"
