"""Rebuild the README's figure table from the provenance files in figures/data/.

Every row comes from `figures/data/<name>.<preset>.json` (written by `hyla.plotting.save_figure`):
its `extra.paper` and `extra.summary` lines, the preset, the device and the wall time.  The gpu tier
is shown where it exists (its PNG/PDF replace the quick tier's; both tiers' data stay), else quick.  Usage: `python tools/readme_table.py [--check]`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- figures:start -->", "<!-- figures:end -->"
ORDER = ("gpu", "quick", "paper", "smoke")

# Where a notebook wrote no one-line "paper"/"summary": what the paper reports (reference text) and
# which metric of the figure's CSV summarises our measurement (mean over seeds at the last step).
FALLBACK = {
    "fig01_hypernetwork_view": ("MHA = linear hypernetwork (exact identity); HYLA = per-(q,k) MLP",
                                ("identity_max_abs_error", "hyla_mlp_max_abs_error")),
    "fig03_sraven_task": ("330 rule combinations, 248 / 82 split, < 0.5 % ambiguous", None),
    "fig04_sraven_scaling": ("held-out accuracy at 20M problems, depth 4: HYLA 69.1, softmax 56.6, "
                             "linear 56.3 (%)", ("heldout_accuracy",)),
    "fig05_sraven_latents": ("codes cluster by rule; addition ≈ difference; rules decodable OOD",
                             ("decoding_accuracy",)),
    "figA2_logic_latents": ("t-SNE of codes clusters by term", ("probe_f1",)),
    "figA3_logic_metrics": ("in-distribution differences small; unknown-term R² ≲ 0",
                            ("train_r2", "heldout_r2", "unknown_terms_r2")),
    "figA4_sraven_training": ("training loss curves per model", ("train_loss",)),
    "figA5_sraven_heldout_fraction": ("accuracy falls as more combinations are held out",
                                      ("heldout_accuracy",)),
    "figA6_sraven_depth_latents": ("deeper models: codes structured by rule", ("decoding_accuracy",)),
    "figA8_sraven_codes": ("related rules share codes", None),
    "tabA1_logic_ablations": ("Table A1 fuzzy logic (R²×100): HYLA 81.1, softmax 63.3, linear 59.9",
                              ("heldout_r2",)),
    "tabA1_sraven_ablations": ("Table A1 sRAVEN (acc. %): HYLA 69.1, softmax 56.6, linear 56.3",
                               ("heldout_accuracy",)),
}


def measured(name: str, preset: str, metrics) -> str:
    """Mean over seeds (and settings) at each method's last step, from the figure's CSV."""
    import csv
    from collections import defaultdict

    path = ROOT / "figures" / "data" / f"{name}.{preset}.csv"
    if not metrics or not path.exists():
        return "—"
    rows = list(csv.DictReader(path.open()))
    parts = []
    for metric in metrics:
        last: dict[str, int] = {}
        vals: dict[str, list[float]] = defaultdict(list)
        for r in rows:
            if r["metric"] == metric:
                last[r["method"]] = max(last.get(r["method"], -1), int(float(r["step"])))
        for r in rows:
            if r["metric"] == metric and int(float(r["step"])) == last[r["method"]]:
                try:
                    vals[r["method"]].append(float(r["value"]))
                except ValueError:
                    pass
        if vals:
            parts.append(f"{metric}: " + ", ".join(
                f"{m} {sum(v) / len(v):.3g}" for m, v in vals.items() if v))
    return "; ".join(parts) or "—"


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
        paper, metrics = FALLBACK.get(name, ("—", None))
        summary = extra.get("summary") or measured(name, preset, metrics)
        if str(extra.get("pipeline_check")) == "True":
            summary = "pipeline check (effect needs the gpu preset): " + summary
        out.append(
            f"| `{name}` | {thumb} | {cell(extra.get('paper', paper))} | "
            f"{cell(summary)} | {preset} | {cell(device)} | "
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
