"""Where one training step's time goes on this machine: XLA's own per-kernel timings.

Compiles the trainer's chunk exactly as ``throughput.py`` does (paper or quick size, one seed,
attention dropout on), runs a few warm steps under ``jax.profiler.trace``, and sums the duration
of every compiled kernel in the Perfetto trace per step.  Kernels are grouped by the kind XLA gives
them (``ynn_fusion``: dots run by YNNPACK; ``copy_bitcast_fusion``: transposed copies, usually
with elementwise work fused in; ``wrapped_reduce-window``: the first stage of XLA:CPU's split
reductions, e.g. bias and LayerNorm-parameter gradients summed over batch x tokens; the rest:
elementwise fusions).  On two CPU threads kernels overlap, so the groups add up to more than the
wall time per step.

    python benchmarks/profile_step.py --task raven --method linear --steps 3 [--json out.json]
"""

from __future__ import annotations

import argparse
import collections
import glob
import gzip
import json
import os
import re
import sys
import tempfile

import jax

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from throughput import ALL_SIZES, METHODS, TASKS, ChunkRunner, device_name, make_spec, write_records  # noqa: E402

from hyla.train import Trainer  # noqa: E402

_NOT_KERNELS = re.compile(r"^\$|Thunk|Slinky|PjitFunction|ParseArguments|PjRt|^end: ")


def profile(task: str, method: str, size: str, steps: int) -> dict:
    """Per-kernel-kind milliseconds per step, wall ms per step and the top kernels."""
    run = ChunkRunner(Trainer(make_spec(task, method, size, 1)))
    run(2)  # allocation, thread-pool start, the per-seed slicing's compilation
    run(2)
    with tempfile.TemporaryDirectory() as d:
        with jax.profiler.trace(d, create_perfetto_trace=True):
            wall = run(steps) / steps
        (path,) = glob.glob(os.path.join(d, "**", "perfetto_trace.json.gz"), recursive=True)
        with gzip.open(path) as f:
            events = json.load(f)
    events = events["traceEvents"] if isinstance(events, dict) else events
    per_kernel = collections.Counter()
    for e in events:
        if e.get("ph") == "X" and not _NOT_KERNELS.search(e["name"]):
            per_kernel[e["name"]] += e.get("dur", 0) / 1e3 / steps  # us -> ms per step
    kinds = collections.Counter()
    for name, ms in per_kernel.items():
        kinds[re.sub(r"\.\d+$", "", name)] += ms
    return {
        "task": task, "method": method, "size": size, "steps": steps, "device": device_name(),
        "wall_ms_per_step": 1e3 * wall, "kernel_ms_per_step": sum(per_kernel.values()),
        "kinds_ms_per_step": dict(kinds.most_common()),
        "top_kernels_ms_per_step": dict(per_kernel.most_common(15)),
        "loadavg": list(os.getloadavg()), "jax": jax.__version__,
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--task", nargs="+", choices=TASKS, default=list(TASKS))
    p.add_argument("--method", nargs="+", choices=METHODS, default=list(METHODS))
    p.add_argument("--size", choices=ALL_SIZES, default="paper")
    p.add_argument("--steps", type=int, default=None, help="profiled steps (default: 20 logic, 3 raven)")
    p.add_argument("--json", default=None, help="also write the records to this path")
    args = p.parse_args(argv)
    if args.steps is not None and args.steps < 1:
        raise ValueError(f"--steps must be >= 1, got {args.steps}")
    records = []
    for task in args.task:
        for method in args.method:
            steps = args.steps or (20 if task == "logic" else 3)
            r = profile(task, method, args.size, steps)
            records.append(r)
            top = ", ".join(f"{k} {v:.1f}" for k, v in list(r["kinds_ms_per_step"].items())[:5])
            print(f"{task:6s} {method:8s} {args.size}: wall {r['wall_ms_per_step']:.1f} ms/step, "
                  f"kernels {r['kernel_ms_per_step']:.1f} ms/step: {top}", flush=True)
    if args.json:
        write_records(args.json, records)


if __name__ == "__main__":
    main()
