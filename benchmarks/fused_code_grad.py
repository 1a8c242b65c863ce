"""HYLA's first generated layer's code gradient as a fused multiply + sum, against the einsum's own.

In HYLA's first generated layer, g[q,k,d] = sum_h a[h,q,k] u[k,h,d], the gradient w.r.t. the code,
sum_d dg[q,k,d] u[k,h,d], contracts only d = d_v = 2 or 4 terms.  XLA:CPU runs the einsum's
derivative as a batched Eigen dot at about 1.5 GFLOP/s (7 ms per layer per step at the sRAVEN paper
size).  ``hyla.attention.first_generated_layer`` computes it instead as a fused broadcast-multiply +
sum over d (a ``custom_jvp`` whose tangent in the code is a multiply + sum over h, so its transpose
is the multiply + sum over d; every other derivative stays the einsum's).  The library uses that
form on the CPU backend since commit "attention: HYLA's fused code gradient on CPU"; before, it
used the einsum's derivative everywhere.

This script trains the same one-seed chunk of the real trainer with both forms
(``hyla.attention.FUSED_CODE_GRADIENT`` False / True, read at trace time), checks whether the trained
parameters are bit-identical, and times the two in alternation.

    PYTHONPATH=lib python benchmarks/fused_code_grad.py --json benchmarks/fused_code_grad.json
"""

from __future__ import annotations

import argparse
import statistics

import jax
import numpy as np

import hyla.attention as attention
from hyla.train import Trainer
from throughput import ALL_SIZES, TASKS, ChunkRunner, device_name, make_spec, write_records

FORMS = {"einsum": False, "fused": True}


def measure(task: str, size: str, steps: int, repeats: int) -> dict:
    runners = {}
    before = attention.FUSED_CODE_GRADIENT
    for name, fused in FORMS.items():
        attention.FUSED_CODE_GRADIENT = fused  # read at trace time, i.e. inside the first call
        try:
            runners[name] = ChunkRunner(Trainer(make_spec(task, "hyla", size, 1)))
            runners[name](steps)
        finally:
            attention.FUSED_CODE_GRADIENT = before
    leaves = {k: [np.asarray(x).copy() for x in jax.tree.leaves(r.state[0])] for k, r in runners.items()}
    identical = all(np.array_equal(a, b) for a, b in zip(leaves["einsum"], leaves["fused"]))
    seconds = {k: [] for k in runners}
    for _ in range(repeats):
        for k, r in runners.items():
            seconds[k].append(r(steps) / steps)
    ratios = [f / e for f, e in zip(seconds["fused"], seconds["einsum"])]
    return {
        "task": task, "method": "hyla", "size": size, "seeds": 1, "device": device_name(),
        "steps_per_call": steps, "repeats": repeats,
        "params_bit_identical_after_first_call": identical,
        "ms_per_step": {k: 1e3 * statistics.median(v) for k, v in seconds.items()},
        "fused_over_einsum_median": statistics.median(ratios),
        "fused_over_einsum_quartiles": [float(q) for q in np.percentile(ratios, [25, 75])],
        "seconds_per_step": seconds,
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--task", nargs="+", choices=TASKS, default=list(TASKS))
    p.add_argument("--size", nargs="+", choices=ALL_SIZES, default=["paper", "quick"])
    p.add_argument("--repeats", type=int, default=11)
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    if args.repeats < 1:
        raise ValueError(f"--repeats must be >= 1, got {args.repeats}")
    records = []
    for task in args.task:
        for size in args.size:
            steps = 20 if task == "logic" else (3 if size == "paper" else 20)
            r = measure(task, size, steps, args.repeats)
            records.append(r)
            print(f"{task:6s} {size:6s} hyla: bit-identical {r['params_bit_identical_after_first_call']}, "
                  f"einsum {r['ms_per_step']['einsum']:.1f} ms/step, fused "
                  f"{r['ms_per_step']['fused']:.1f} ms/step, fused/einsum "
                  f"{r['fused_over_einsum_median']:.3f} (median of {args.repeats})", flush=True)
    if args.json:
        write_records(args.json, records)


if __name__ == "__main__":
    main()
