"""Add up the per-process records of `sitecustomize.py`: where the test suite's CPU time goes.

    python benchmarks/suite_profile/summarize.py DIR [--json OUT]
"""

from __future__ import annotations

import argparse
import collections
import glob
import json
import os


def summarize(folder: str) -> dict:
    records = [json.load(open(p)) for p in sorted(glob.glob(os.path.join(folder, "*.json")))]
    if not records:
        raise SystemExit(f"error: no process records in {folder}")
    by_kind: dict[str, float] = collections.defaultdict(float)
    by_function: dict[tuple[str, str], list] = collections.defaultdict(lambda: [0, 0.0])
    for r in records:
        for kind, name, secs in r["stages"]:
            by_kind[kind] += secs
            by_function[(kind, name)][0] += 1
            by_function[(kind, name)][1] += secs

    def role(argv: str) -> str:
        if "ipykernel" in argv:
            return "notebook kernels"
        if "pytest" in argv:
            return "pytest main process"
        if argv.startswith("-c"):
            return "pytest workers and test subprocesses"
        return "other subprocesses"

    roles: dict[str, list] = collections.defaultdict(lambda: [0, 0.0])
    for r in records:
        roles[role(r["argv"])][0] += 1
        roles[role(r["argv"])][1] += r["cpu_s"]
    cpu = sum(r["cpu_s"] for r in records)
    top = sorted(by_function.items(), key=lambda kv: -kv[1][1])[:15]
    return dict(
        processes=len(records), cpu_s=round(cpu, 1),
        roles={k: dict(processes=n, cpu_s=round(s, 1)) for k, (n, s) in roles.items()},
        stages_s={k: round(v, 1) for k, v in by_kind.items()},
        backend_compile_s=round(sum(r["events"].get("/jax/core/compile/backend_compile_duration", 0.0)
                                    for r in records), 1),
        compile_time_saved_by_cache_s=round(sum(
            r["events"].get("/jax/compilation_cache/compile_time_saved_sec", 0.0) for r in records), 1),
        top_functions=[dict(stage=k, function=n, count=c, seconds=round(s, 1)) for (k, n), (c, s) in top],
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder")
    ap.add_argument("--json", help="also write the summary here")
    args = ap.parse_args()
    s = summarize(args.folder)
    print(f"{s['processes']} processes, {s['cpu_s']:.0f} s CPU in all")
    for k, v in sorted(s["roles"].items(), key=lambda kv: -kv[1]["cpu_s"]):
        print(f"  {v['cpu_s']:7.1f} s  {v['processes']:3d} x {k}")
    stages = s["stages_s"]
    print("compile stages (s): " + ", ".join(f"{k} {v:.1f}" for k, v in stages.items())
          + f"; together {sum(stages.values()):.0f} s = {sum(stages.values()) / s['cpu_s']:.0%} of the CPU time")
    print(f"XLA backend compilation proper {s['backend_compile_s']:.1f} s; "
          f"saved by the persistent cache {s['compile_time_saved_by_cache_s']:.1f} s")
    for t in s["top_functions"]:
        print(f"  {t['seconds']:6.1f} s {t['count']:4d} x {t['stage']:7s} {t['function']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(s, f, indent=1)


if __name__ == "__main__":
    main()
