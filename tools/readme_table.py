"""Rebuild the README's figure table from the provenance files in figures/data/.

Every row comes from `figures/data/<name>.<preset>.json` (written by `hyla.plotting.save_figure`):
its `extra.paper` and `extra.summary` lines, the preset, the device and the wall time.  The gpu tier
is shown where it exists, else quick.  Usage: `python tools/readme_table.py [--check]`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- figures:start -->", "<!-- figures:end -->"
ORDER = ("gpu", "quick", "paper", "smoke")


def rows() -> list[str]:
    sys.path.insert(0, str(ROOT / "lib"))
    from hyla.notebook import colab_badge

    best: dict[str, tuple[str, dict]] = {}
    for p in sorted((ROOT / "figures" / "data").glob("*.json")):
        parts = p.name[: -len(".json")].rsplit(".", 1)
        if len(parts) != 2 or parts[1] not in ORDER:
            continue
        name, preset = parts
        rec = json.loads(p.read_text())
        if name not in best or ORDER.index(preset) < ORDER.index(best[name][0]):
            best[name] = (preset, rec)
    out = ["| figure | | paper reports | we measured | preset | device | wall time | Colab |",
           "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, (preset, rec) in sorted(best.items()):
        extra = rec.get("extra", {})
        dev = rec.get("device", {})
        device = str(dev.get("device_kind") or "?")
        if dev.get("platform") == "cpu":
            device = f"CPU, {dev.get('cpu_count')} cores"
        wall = rec.get("wall_time_s")
        thumb = f"[<img src='figures/{name}.png' width='160'>](figures/{name}.png)"
        nb = ROOT / "notebooks" / f"{name}.ipynb"
        badge = colab_badge(nb.name) if nb.exists() else ""
        cell = lambda s: str(s).replace("|", "\\|").replace("\n", " ")  # noqa: E731
        out.append(
            f"| `{name}` | {thumb} | {cell(extra.get('paper', '—'))} | "
            f"{cell(extra.get('summary', '—'))} | {preset} | {cell(device)} | "
            f"{'—' if wall is None else f'{wall / 60:.1f} min'} | {badge} |"
        )
    return out


def main() -> int:
    readme = ROOT / "README.md"
    text = readme.read_text()
    if START not in text or END not in text:
        print(f"README.md lacks the markers {START} / {END}", file=sys.stderr)
        return 1
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    new = head + START + "\n" + "\n".join(rows()) + "\n" + END + tail
    if "--check" in sys.argv:
        if new != text:
            print("README figure table is out of date: run python tools/readme_table.py")
            return 1
        return 0
    readme.write_text(new)
    print(f"wrote {len(rows()) - 2} figure rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
