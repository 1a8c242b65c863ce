#!/usr/bin/env python3
"""Regenerate ``notebooks/*.ipynb`` from their paired percent-format ``.py`` files (jupytext).

    python tools/sync_notebooks.py            # the Colab lines of every .py, then every .ipynb from its .py
    python tools/sync_notebooks.py --check    # exit 1 listing every notebook that is out of date

The ``.py`` file is the source of truth (it diffs well). Two parts of it are generated from the one
repository setting, ``[project.urls] Repository`` in pyproject.toml (``hyla.notebook.repository_url``):
the Colab badge (the markdown line starting with ``# [![Open In Colab]``) and the Colab install block
(the ``if "google.colab" in sys.modules:`` block of the setup cell). A plain run (or ``--colab``)
rewrites both in place, ``--no-colab`` leaves the scripts alone; ``--check`` reports a badge or install block that
disagrees with the setting.

The generated notebook has its outputs stripped, kernelspec ``python3`` ("Python 3"), jupytext pairing
``ipynb,py:percent`` and deterministic cell ids, so regenerating an unchanged ``.py`` gives a
byte-identical ``.ipynb``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KERNEL_INFO = {"display_name": "Python 3", "language": "python", "name": "python3"}
FORMATS = "ipynb,py:percent"
# Whether a plain run (``make sync-notebooks``) rewrites the Colab lines of the .py files; ``--colab`` /
# ``--no-colab`` override it. A script whose Colab lines already agree is never rewritten.
REWRITE_COLAB = True
BADGE_PREFIX = "# [![Open In Colab]"
INSTALL_PREFIX = 'if "google.colab" in sys.modules'


def _notebook_helpers():
    """``hyla.notebook`` of this checkout (importable without installing the package)."""
    if str(ROOT / "lib") not in sys.path:
        sys.path.insert(0, str(ROOT / "lib"))
    from hyla import notebook

    return notebook


def badge_line(stem: str) -> str:
    """The badge line of ``notebooks/<stem>.py`` (a markdown line of the first cell)."""
    return "# " + _notebook_helpers().colab_badge(f"{stem}.ipynb")


def install_block() -> list[str]:
    """The setup cell's Colab install block, installing hyla from the repository setting."""
    url = _notebook_helpers().repository_url()
    return [
        'if "google.colab" in sys.modules:  # on Colab: install hyla from GitHub, unless it is importable',
        "    import importlib.util",
        '    if importlib.util.find_spec("hyla") is None:',
        "        # No --upgrade: pip then keeps every dependency already satisfied, so Colab's own jax stays.",
        '        subprocess.run([sys.executable, "-m", "pip", "install", "-q",',
        f'                        "hyla[notebooks] @ git+{url}"], check=True)',
    ]


def colab_lines(text: str, stem: str) -> tuple[str, list[str]]:
    """``text`` with its badge line and install block regenerated, and what was missing.

    The install block is the line starting with ``if "google.colab" in sys.modules`` and the
    indented lines right after it.
    """
    lines = text.split("\n")
    out: list[str] = []
    found_badge = found_install = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith(BADGE_PREFIX):
            out.append(badge_line(stem))
            found_badge = True
            i += 1
        elif line.startswith(INSTALL_PREFIX):
            i += 1
            while i < len(lines) and lines[i][:1] in (" ", "\t"):
                i += 1
            out.extend(install_block())
            found_install = True
        else:
            out.append(line)
            i += 1
    missing = [what for what, ok in (("Colab badge line", found_badge), ("Colab install block", found_install))
               if not ok]
    return "\n".join(out), missing


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
        "kernelspec": dict(KERNEL_INFO),
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


def _replace_if_unchanged(path: Path, expected: str, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file, unless ``path`` changed since it was read."""
    tmp = path.with_name(f".{path.name}.sync")
    tmp.write_text(text, encoding="utf-8")
    if path.read_text(encoding="utf-8") != expected:
        tmp.unlink()
        raise SystemExit(f"{path}: changed while syncing; run again")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="do not write; exit 1 if any pair is out of sync")
    parser.add_argument("--colab", action=argparse.BooleanOptionalAction, default=REWRITE_COLAB,
                        help="rewrite each .py's Colab badge and install block from pyproject.toml "
                             f"(default: {REWRITE_COLAB}); --check always reports a disagreement")
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
        source = py.read_text(encoding="utf-8")
        synced, missing = colab_lines(source, py.stem)
        problems.extend(f"{py.name}: no {what}" for what in missing)
        if synced != source:
            if args.check:
                problems.append(f"{py.name}: Colab badge or install block disagrees with pyproject.toml's "
                                "Repository URL")
            elif args.colab:
                _replace_if_unchanged(py, source, synced)
                print(f"wrote {py.name} (Colab badge and install block)")
            else:
                print(f"warning: {py.name}: Colab badge or install block out of date (run with --colab)",
                      file=sys.stderr)
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
