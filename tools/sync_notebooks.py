#!/usr/bin/env python3
"""Regenerate ``notebooks/*.ipynb`` from their paired percent-format ``.py`` files (jupytext).

    python tools/sync_notebooks.py            # write every notebooks/<name>.ipynb from notebooks/<name>.py
    python tools/sync_notebooks.py --check    # exit 1 listing every pair that is out of sync

The ``.py`` file is the source of truth (it diffs well). The generated notebook has its outputs
stripped, kernelspec ``python3`` ("Python 3"), jupytext pairing ``ipynb,py:percent`` and deterministic
cell ids, so regenerating an unchanged ``.py`` gives a byte-identical ``.ipynb``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}
FORMATS = "ipynb,py:percent"


def is_percent_script(path: Path) -> bool:
    """A jupytext percent-format script (has ``# %%`` cell markers)."""
    text = path.read_text(encoding="utf-8")
    return any(line.startswith("# %%") for line in text.splitlines())


def build(py: Path):
    """The notebook for ``py``: cells from jupytext, outputs stripped, fixed metadata and cell ids."""
    import jupytext
    import nbformat

    nb = jupytext.read(py, fmt="py:percent")
    cells = []
    for i, cell in enumerate(nb.cells):
        metadata = dict(cell.metadata)
        if cell.cell_type == "code":
            new = nbformat.v4.new_code_cell(source=cell.source, metadata=metadata)
            new.outputs = []
            new.execution_count = None
        elif cell.cell_type == "markdown":
            new = nbformat.v4.new_markdown_cell(source=cell.source, metadata=metadata)
        else:
            new = nbformat.v4.new_raw_cell(source=cell.source, metadata=metadata)
        new["id"] = f"cell-{i:03d}"
        cells.append(new)
    out = nbformat.v4.new_notebook(cells=cells)
    out.nbformat, out.nbformat_minor = 4, 5
    out.metadata = {
        "jupytext": {"formats": FORMATS},
        "kernelspec": dict(KERNELSPEC),
        "language_info": {"name": "python"},
    }
    nbformat.validate(out)
    return out


def render(nb) -> str:
    import nbformat

    return nbformat.writes(nb, version=4) + "\n"


def _normalised(text: str) -> dict:
    """Notebook JSON with cell ids dropped (Jupyter may re-number them without changing content)."""
    data = json.loads(text)
    for cell in data.get("cells", []):
        cell.pop("id", None)
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="do not write; exit 1 if any pair is out of sync")
    parser.add_argument("--dir", default=str(ROOT / "notebooks"), help="notebooks folder (default: notebooks/)")
    parser.add_argument("names", nargs="*", help="only these notebooks (stems, .py or .ipynb names)")
    args = parser.parse_args(argv)

    nb_dir = Path(args.dir)
    scripts = sorted(p for p in nb_dir.glob("*.py") if is_percent_script(p))
    notebooks = sorted(nb_dir.glob("*.ipynb"))
    if args.names:
        wanted = {Path(n).stem for n in args.names}
        scripts = [p for p in scripts if p.stem in wanted]
        notebooks = [p for p in notebooks if p.stem in wanted]
        missing = wanted - {p.stem for p in scripts} - {p.stem for p in notebooks}
        if missing:
            parser.error(f"no notebook or script named {', '.join(sorted(missing))} in {nb_dir}")

    problems: list[str] = []
    orphans = sorted({p.stem for p in notebooks} - {p.stem for p in scripts})
    for stem in orphans:
        problems.append(f"{stem}.ipynb: no paired {stem}.py (create it: jupytext --to py:percent {stem}.ipynb)")

    written = 0
    for py in scripts:
        ipynb = py.with_suffix(".ipynb")
        text = render(build(py))
        if args.check:
            if not ipynb.exists():
                problems.append(f"{ipynb.name}: missing (generate it from {py.name})")
            elif _normalised(ipynb.read_text(encoding="utf-8")) != _normalised(text):
                problems.append(f"{ipynb.name}: out of sync with {py.name}")
        else:
            if not ipynb.exists() or ipynb.read_text(encoding="utf-8") != text:
                ipynb.write_text(text, encoding="utf-8")
                written += 1
                print(f"wrote {ipynb.relative_to(nb_dir.parent) if nb_dir.parent in ipynb.parents else ipynb}")

    if args.check:
        if problems:
            print("out of sync (run: python tools/sync_notebooks.py):", file=sys.stderr)
            for p in problems:
                print(f"  {p}", file=sys.stderr)
            return 1
        print(f"{len(scripts)} notebook(s) in sync")
        return 0
    for p in problems:
        print(f"warning: {p}", file=sys.stderr)
    print(f"{written} of {len(scripts)} notebook(s) regenerated")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
