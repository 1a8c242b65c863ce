"""`make figures` from an empty cache: `--executor inline` against `--executor local --workers N`.

Each notebook of the preset is run once per mode, in the order of `make figures`, alternating which
mode goes first (A B, then B A, ...), so that a drift of this shared machine's speed falls on both
modes alike. Each mode has its own run cache, XLA compilation cache, figures folder and executed
notebooks, all empty at the start and kept from one notebook to the next, as in one
`make figures`: a run that several figures share (fig04's in fig05 and Table A1) trains once, in the
first notebook that needs it. So a mode's total is its `make figures` from empty caches, except that
`local` dispatches each notebook's runs separately, not all of `make figures` in one pool (its total
is then an upper bound). Every notebook's CSV must be byte-identical between the modes.

    PYTHONPATH=lib python benchmarks/make_figures_timing.py --preset quick --workers 2 \\
        --json benchmarks/make_figures_timing.json

With ``--whole R`` it times the real thing instead: R rounds of one `python -m hyla.reproduce`
over all the selected notebooks per mode (what `make figures` runs), each from empty caches, the
first mode alternating per round; `local` then trains every run of every notebook in one pool.

    PYTHONPATH=lib python benchmarks/make_figures_timing.py --preset quick --workers 2 --whole 2 \\
        --json benchmarks/make_figures_timing_whole.json
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _reproduce(names: list[str], mode: str, d: Path, preset: str, workers: int, log: Path) -> tuple:
    """`python -m hyla.reproduce` over ``names`` with ``mode``, its caches and outputs in ``d``;
    returns (the record so far, its stdout). The output goes to ``log``."""
    cmd = [sys.executable, "-m", "hyla.reproduce", "--preset", preset, "--only", *names,
           "--out", str(d / "figures"), "--cache-dir", str(d / "runs"), "--executed", str(d / "executed"),
           "--log-dir", str(d / "run_logs"), "--executor", mode]
    if mode == "local":
        cmd += ["--workers", str(workers)]
    env = dict(os.environ, HYLA_XLA_CACHE=str(d / "xla"), MPLBACKEND="Agg",
               PYTHONPATH=os.pathsep.join([str(ROOT / "lib"), os.environ.get("PYTHONPATH", "")]))
    load0 = os.getloadavg()
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(proc.stdout + proc.stderr, encoding="utf-8")
    return {"seconds": round(seconds, 1), "ok": proc.returncode == 0, "loadavg_start": load0,
            "loadavg_end": os.getloadavg()}, proc.stdout


def run_one(name: str, mode: str, base: Path, preset: str, workers: int) -> dict:
    d = base / mode
    return _reproduce([name], mode, d, preset, workers, d / "logs" / f"{name}.txt")[0]


_NOTEBOOK_LINE = re.compile(r"^\[\d+/\d+\] (\S+)\s+\.\.\. (\w+) ([\d.]+) s", re.M)


def run_whole(names: list[str], mode: str, d: Path, preset: str, workers: int) -> dict:
    """One `python -m hyla.reproduce` over ``names`` with ``mode``, from empty caches in ``d``."""
    rec, stdout = _reproduce(names, mode, d, preset, workers, d / "log.txt")
    notebooks = {m[1]: float(m[3]) for m in _NOTEBOOK_LINE.finditer(stdout) if m[2] == "ok"}
    rec["ok"] = rec["ok"] and len(notebooks) == len(names)
    rec["notebooks_s"] = notebooks
    rec["outside_notebooks_s"] = round(rec["seconds"] - sum(notebooks.values()), 1)  # pool, start-up
    return rec


def main_whole(args, names: list[str], base: Path, provenance) -> int:
    modes = ("inline", "local")
    rounds = []
    csv = [f"{n}.{args.preset}.csv" for n in names]
    for i in range(args.whole):
        order = modes if i % 2 == 0 else modes[::-1]
        row = {"round": i, "order": list(order)}
        for mode in order:
            row[mode] = run_whole(names, mode, base / f"{mode}-{i}", args.preset, args.workers)
            print(f"round {i} {mode:6s} {row[mode]['seconds']:7.1f} s  ok={row[mode]['ok']}  "
                  f"load {row[mode]['loadavg_start'][0]:.1f} -> {row[mode]['loadavg_end'][0]:.1f}", flush=True)
        row["local_over_inline"] = round(row["local"]["seconds"] / row["inline"]["seconds"], 3)
        rounds.append(row)
        folders = [base / f"{m}-{r['round']}" / "figures" / "data" for r in rounds for m in modes]
        identical = {c: all((f / c).is_file() and filecmp.cmp(folders[0] / c, f / c, shallow=False)
                            for f in folders) for c in csv}
        means = {m: round(sum(r[m]["seconds"] for r in rounds) / len(rounds), 1) for m in modes}
        record = {"preset": args.preset, "workers": args.workers, "whole": True, "rounds": rounds,
                  "mean_s": means, "local_over_inline": round(means["local"] / means["inline"], 3),
                  "complete": len(rounds) == args.whole, "selected": names,
                  "csv_identical": identical, "all_csv_identical": all(identical.values()),
                  **_where(base, provenance)}
        if args.json:  # after every round, so a killed measurement keeps what it measured
            Path(args.json).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"mean over {len(rounds)} round(s): inline {means['inline']:.1f} s, local {means['local']:.1f} s, "
          f"local / inline {record['local_over_inline']:.3f}")
    return 0 if all(r[m]["ok"] for r in rounds for m in modes) and record["all_csv_identical"] else 1


def _record(args, rows: list[dict], names: list[str], base: Path, provenance) -> dict:
    """The measurement so far: per-notebook rows, the totals of both modes, and where it ran."""
    totals = {m: round(sum(r[m]["seconds"] for r in rows), 1) for m in ("inline", "local")}
    return {"preset": args.preset, "workers": args.workers, "notebooks": rows, "totals_s": totals,
            "local_over_inline": round(totals["local"] / totals["inline"], 3),
            "complete": len(rows) == len(names), "selected": names,
            "all_csv_identical": all(r["csv_identical"] for r in rows), **_where(base, provenance)}


def _where(base: Path, provenance) -> dict:
    """Where and when a record was measured: the machine, the commit, the date, the working folder."""
    return {"device": provenance.device_info(), "git": provenance.git_info(),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "dir": str(base)}


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×" if b else "-"


def markdown(record: dict) -> str:
    """The RESULTS table of a record of this script (one notebook at a time, or ``--whole``)."""
    yes = lambda ok: "yes" if ok else "**no**"  # noqa: E731
    if not record.get("whole"):
        out = ["| notebook (%s) | first | inline | local, %d workers | local / inline | CSV identical |"
               % (record["preset"], record["workers"]), "| --- | --- | ---: | ---: | ---: | --- |"]
        for r in record["notebooks"]:
            out.append(f"| {r['notebook']} | {r['order'][0]} | {r['inline']['seconds']:.1f} s | "
                       f"{r['local']['seconds']:.1f} s | {_ratio(r['local']['seconds'], r['inline']['seconds'])} | "
                       f"{yes(r['csv_identical'])} |")
        t = record["totals_s"]
        out.append(f"| total | | {t['inline']:.1f} s | {t['local']:.1f} s | {_ratio(t['local'], t['inline'])} | "
                   f"{yes(record['all_csv_identical'])} |")
        return "\n".join(out)
    out = ["| round | first | inline | local, %d workers | local / inline | load avg at start (inline, local) |"
           % record["workers"], "| --- | --- | ---: | ---: | ---: | --- |"]
    for r in record["rounds"]:
        out.append(f"| {r['round'] + 1} | {r['order'][0]} | {r['inline']['seconds']:.1f} s | "
                   f"{r['local']['seconds']:.1f} s | {_ratio(r['local']['seconds'], r['inline']['seconds'])} | "
                   f"{r['inline']['loadavg_start'][0]:.2f}, {r['local']['loadavg_start'][0]:.2f} |")
    m = record["mean_s"]
    out.append(f"| mean | | {m['inline']:.1f} s | {m['local']:.1f} s | {_ratio(m['local'], m['inline'])} | |")
    n = len(record["rounds"])
    mean = lambda mode, key: sum(r[mode][key] for r in record["rounds"]) / n  # noqa: E731
    out += ["", f"Per notebook, mean over the {n} round(s) (`local`: the notebook only reads the runs "
            "that the pool trained before it):", "",
            "| notebook | inline | local: notebook | CSV identical |", "| --- | ---: | ---: | --- |"]
    for name in record["selected"]:
        nb = lambda mode: sum(r[mode]["notebooks_s"].get(name, float("nan")) for r in record["rounds"]) / n  # noqa: E731
        out.append(f"| {name} | {nb('inline'):.1f} s | {nb('local'):.1f} s | "
                   f"{yes(record['csv_identical'][name + '.' + record['preset'] + '.csv'])} |")
    out.append(f"| outside the notebooks (start-up; `local`: the training pool) | "
               f"{mean('inline', 'outside_notebooks_s'):.1f} s | {mean('local', 'outside_notebooks_s'):.1f} s | |")
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", default="quick")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--only", nargs="*", help="notebook names (default: every notebook)")
    ap.add_argument("--dir", help="working folder (default: a new temporary folder)")
    ap.add_argument("--json", help="write the records here")
    ap.add_argument("--markdown", metavar="JSON", help="print the RESULTS table of a record and exit")
    ap.add_argument("--whole", type=int, default=0, metavar="R",
                    help="R rounds of one reproduce over all the notebooks per mode (what `make figures` runs)")
    args = ap.parse_args(argv)
    if args.markdown:
        print(markdown(json.loads(Path(args.markdown).read_text(encoding="utf-8"))))
        return 0
    if args.whole < 0:
        ap.error(f"--whole {args.whole}: expected a number of rounds >= 1 (0: one notebook at a time)")

    sys.path.insert(0, str(ROOT / "lib"))
    from hyla import provenance, reproduce

    names = [p.stem for p in reproduce.find_notebooks(ROOT / "notebooks")
             if not args.only or p.stem in args.only]
    base = Path(args.dir or tempfile.mkdtemp(prefix="make_figures_timing_"))
    if args.whole:
        return main_whole(args, names, base, provenance)
    modes = ("inline", "local")
    rows = []
    for i, name in enumerate(names):
        order = modes if i % 2 == 0 else modes[::-1]
        row = {"notebook": name, "order": list(order)}
        for mode in order:
            row[mode] = run_one(name, mode, base, args.preset, args.workers)
            print(f"{name:32s} {mode:6s} {row[mode]['seconds']:7.1f} s  ok={row[mode]['ok']}  "
                  f"load {row[mode]['loadavg_start'][0]:.1f} -> {row[mode]['loadavg_end'][0]:.1f}", flush=True)
        csv = f"{name}.{args.preset}.csv"
        a, b = (base / m / "figures" / "data" / csv for m in modes)
        row["csv_identical"] = a.is_file() and b.is_file() and filecmp.cmp(a, b, shallow=False)
        row["local_over_inline"] = round(row["local"]["seconds"] / row["inline"]["seconds"], 3)
        rows.append(row)
        record = _record(args, rows, names, base, provenance)
        if args.json:  # after every notebook, so a killed measurement keeps what it measured
            Path(args.json).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    totals = record["totals_s"]
    print(f"{'total':32s} inline {totals['inline']:.1f} s, local {totals['local']:.1f} s, "
          f"local / inline {record['local_over_inline']:.3f}")
    return 0 if all(r["inline"]["ok"] and r["local"]["ok"] and r["csv_identical"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
