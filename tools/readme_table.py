"""Generate the README's tables and docs/results.md from the saved figure data in figures/data/.

    python tools/readme_table.py            # rewrite the tables between their markers
    python tools/readme_table.py --check    # exit 1 when README.md or docs/results.md differ from the data

"What reproduces": the verdicts of ``hyla.claims.CLAIMS``, computed by ``hyla.claims.evaluate`` from
the tier shown in figures/ (the largest tier with data, ``hyla.figdata.available_presets``): in the
README each figure's headline claim (its first), in docs/results.md every claim; figures without a
claim follow. The gallery: per figure its thumbnail, notebook, tier, device and wall time (from the
provenance JSON). Nothing is typed by hand: every number comes from figures/data/ (``make readme``).
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "lib") not in sys.path:
    sys.path.insert(0, str(ROOT / "lib"))

from hyla import claims, figdata  # noqa: E402

MARKERS = {
    "claims": ("<!-- claims:start -->", "<!-- claims:end -->"),
    "gallery": ("<!-- gallery:start -->", "<!-- gallery:end -->"),
    "all_claims": ("<!-- all-claims:start -->", "<!-- all-claims:end -->"),
    "paper_cost": ("<!-- paper-cost:start -->", "<!-- paper-cost:end -->"),
}
# which marked tables each generated file holds
FILES = {"README.md": ("claims", "gallery", "paper_cost"), "docs/results.md": ("all_claims",)}
GALLERY_COLUMNS = 4
NOT_EXPECTED = " †"  # the paper's effect needs more than this tier trains (Claim.expected_at)


def figure_names(data_dir: Path) -> list[str]:
    """Every figure with data in ``data_dir`` or a claim in ``CLAIMS``, sorted."""
    names = {c.figure for c in claims.CLAIMS}
    for tier in figdata.TIER_ORDER:
        names.update(p.name[: -len(f".{tier}.csv")] for p in data_dir.glob(f"*.{tier}.csv"))
    return sorted(names)


def shown(name: str, data_dir: Path) -> figdata.FigureData | None:
    """The data of the tier figures/ shows for ``name`` (the largest with data), or None."""
    tiers = figdata.available_presets(name, data_dir)
    return figdata.load(name, tiers[0], data_dir.parent) if tiers else None


def tier(data: figdata.FigureData | None) -> str:
    """``gpu, H100`` / ``quick, CPU``: the preset and the device of the provenance JSON."""
    if data is None:
        return "—"
    dev = data.provenance.get("device", {})
    if dev.get("platform") == "cpu":
        where = "CPU"
    else:
        kind = str(dev.get("device_kind") or dev.get("platform") or "?")
        words = [w for w in kind.split() if w.lower() not in ("nvidia", "tesla")]
        where = words[0] if words else kind
    return f"{data.preset}, {where}"


def label(name: str, names: list[str]) -> str:
    """``fig02`` for ``fig02_fuzzy_logic``; ``tabA1 logic`` where the prefix is shared."""
    parts = name.split("_")
    shared = sum(n.split("_")[0] == parts[0] for n in names) > 1
    return " ".join(parts[:2]) if shared and len(parts) > 1 else parts[0]


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def claims_table(data_dir: Path, headline_only: bool = True) -> list[str]:
    """Rows figure | claim | paper | ours | tier | verdict; each figure's first claim, or all."""
    names = figure_names(data_dir)
    out = ["| figure | claim | paper | ours | tier | verdict |", "| --- | --- | --- | --- | --- | --- |"]
    unclaimed = []
    for name in names:
        if not claims.claims_for(name):
            unclaimed.append(name)
            continue
        data = shown(name, data_dir)
        verdicts = claims.evaluate(data if data is not None else figdata.FigureData(name, "—", [], {}, {}))
        for v in verdicts[:1] if headline_only else verdicts:
            note = "" if v.expected or v.verdict == "not run at this tier" else NOT_EXPECTED
            out.append(f"| {_cell(label(name, names))} | {_cell(v.claim.text)} | {_cell(v.paper_str())} | "
                       f"{_cell(v.ours_str())} | {tier(data)} | {v.verdict}{note} |")
    for name in unclaimed:
        out.append(f"| {_cell(label(name, names))} | no quantitative claim | — | — | "
                   f"{tier(shown(name, data_dir))} | — |")
    return out


def paper_cost(data_dir: Path) -> list[str]:
    """Per figure: the paper preset's runs (each shared run counted once, in the first figure that
    needs it) and their estimated H100 GPU-hours (``hyla.runlist.estimate_s``)."""
    from hyla import presets, runlist

    per: dict[str, list] = {}
    for run in runlist.collect(presets.figures(), "paper"):
        est = runlist.estimate_s(run.spec, "h100")
        n, hours, unknown = per.setdefault(run.figures[0], [0, 0.0, 0])
        per[run.figures[0]] = [n + 1, hours + (est or 0.0) / 3600, unknown + (est is None)]
    cells = []
    for name, (n, hours, unknown) in per.items():
        cost = "not estimated" if unknown == n else _gpu_h(hours) + ("+" if unknown else "")
        cells.append(f"{label(name, list(per))} ({n} run{'s' * (n > 1)}) {cost}")
    total = sum(h for _, h, _ in per.values())
    return ["**Estimated**, not measured, H100 GPU-hours per figure's paper sweep (the benchmark's "
            "steps/s scaled to each run's size; `+`: some runs not estimated): "
            + "; ".join(cells) + f"; all: {_gpu_h(total)}+."]


def _gpu_h(hours: float) -> str:
    return f"{hours:.0f}" if hours >= 10 else f"{hours:.2g}"


def all_claims_table(data_dir: Path) -> list[str]:
    return claims_table(data_dir, headline_only=False)


def gallery(data_dir: Path) -> list[str]:
    cells = []
    for name in figure_names(data_dir):
        data = shown(name, data_dir)
        png = data_dir.parent / f"{name}.png"
        parts = []
        if png.is_file():
            parts.append(f'<img src="figures/{name}.png" width="180">')  # GitHub links it to the image
        parts.append(f"[{name}](notebooks/{name}.ipynb)")
        parts.append("not run yet" if data is None else tier(data))
        cells.append("<br>".join(_cell(p) for p in parts))
    cells += [""] * (-len(cells) % GALLERY_COLUMNS)
    out = ["|" + " |" * GALLERY_COLUMNS, "|" + " --- |" * GALLERY_COLUMNS]
    for i in range(0, len(cells), GALLERY_COLUMNS):
        out.append("| " + " | ".join(cells[i:i + GALLERY_COLUMNS]) + " |")
    return out


def visible_length(markdown: str) -> int:
    """Characters a reader sees: without comments, HTML tags, link targets and link definitions."""
    text = re.sub(r"<!--.*?-->", "", markdown, flags=re.S)
    text = re.sub(r"<br>", " ", text)
    text = re.sub(r"<[^>]+>", "", text)
    text = re.sub(r"^\[[^\]]+\]: \S+$", "", text, flags=re.M)
    text = re.sub(r"!\[([^\]]*)\](\([^)]*\)|\[[^\]]*\])", r"\1", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return len(text)


def render(text: str, data_dir: Path, keys=("claims", "gallery")) -> str:
    """``text`` with the marked tables ``keys`` regenerated; ``ValueError`` when a marker is missing."""
    tables = {"claims": claims_table, "gallery": gallery, "all_claims": all_claims_table,
              "paper_cost": paper_cost}
    for key in keys:
        start, end = MARKERS[key]
        if text.count(start) != 1 or text.count(end) != 1 or text.index(start) > text.index(end):
            raise ValueError(f"needs one {start} ... {end} pair")
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        text = head + start + "\n" + "\n".join(tables[key](data_dir)) + "\n" + end + tail
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="do not write; exit 1 if a file is out of date")
    parser.add_argument("--root", default=str(ROOT), help="the folder holding README.md and docs/results.md")
    parser.add_argument("--data", default=str(ROOT / "figures" / "data"), help="the figure data folder")
    args = parser.parse_args(argv)
    root, data_dir = Path(args.root), Path(args.data)
    status = 0
    for rel, keys in FILES.items():
        path = root / rel
        text = path.read_text(encoding="utf-8")
        try:
            new = render(text, data_dir, keys)
        except ValueError as err:
            print(f"{path}: {err}", file=sys.stderr)
            return 1
        if args.check:
            if new != text:
                diff = difflib.unified_diff(text.splitlines(), new.splitlines(), rel, "from figures/data",
                                            n=0, lineterm="")
                print("\n".join(list(diff)[:40]), file=sys.stderr)
                print(f"{rel}'s tables differ from figures/data: run make readme", file=sys.stderr)
                status = 1
            else:
                print(f"{rel}'s tables agree with figures/data")
            continue
        if new != text:
            path.write_text(new, encoding="utf-8")
        print(f"wrote {path}: {len(new)} characters")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
