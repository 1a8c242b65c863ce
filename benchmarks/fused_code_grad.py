"""A candidate CPU speed-up of HYLA that was measured and NOT adopted: the first generated layer's
code gradient as a fused multiply + sum.

In HYLA's first generated layer, g[q,k,d] = sum_h a[h,q,k] u[k,h,d], the gradient w.r.t. the code,
sum_d dg[q,k,d] u[k,h,d], contracts only d = d_v = 2 or 4 terms.  XLA:CPU runs it as a batched Eigen
dot at about 1.5 GFLOP/s (7 ms per layer per step at the sRAVEN paper size).  Written as a fused
broadcast-multiply + sum over d (a ``custom_jvp`` whose tangent in the code is a multiply + sum over
h, so its transpose is the multiply + sum over d; every other derivative stays the einsum's), the
kernel takes ~1.4 ms in isolation.

This script installs that form by replacing ``hyla.attention.apply_value_network`` in this process,
trains the same one-seed chunk of the real trainer with the library's form and with the candidate,
checks whether the trained parameters are bit-identical, and times the two in alternation.

    PYTHONPATH=lib python benchmarks/fused_code_grad.py --json benchmarks/fused_code_grad.json
"""

from __future__ import annotations

import argparse
import statistics

import jax
import jax.numpy as jnp
import numpy as np

import hyla.attention as attention
from hyla.train import Trainer
from throughput import SIZES, TASKS, ChunkRunner, device_name, make_spec, write_records

LIBRARY_FORM = attention.apply_value_network


def _first_layer(code, values):
    return jnp.einsum("hqk,khd->qkd", code, values)


@jax.custom_jvp
def first_layer_fused_code_grad(code, values):
    """g[q,k,d] = sum_h a[h,q,k] u[k,h,d] (the einsum); see the module docstring."""
    return _first_layer(code, values)


@first_layer_fused_code_grad.defjvp
def _jvp(primals, tangents):
    (code, values), (d_code, d_values) = primals, tangents
    v = jnp.transpose(values, (1, 0, 2))  # [h, k, d]
    by_code = jnp.sum(d_code[:, :, :, None] * v[:, None, :, :], axis=0)
    return _first_layer(code, values), by_code + _first_layer(code, d_values)


def candidate_form(code, values, value_network):
    if value_network not in ("mlp_relu", "mlp_linear"):
        return LIBRARY_FORM(code, values, value_network)
    hidden = first_layer_fused_code_grad(code, values)
    if value_network == "mlp_relu":
        hidden = jax.nn.relu(hidden)
    return jnp.einsum("hqk,qkd->qhd", code, hidden)


def measure(task: str, size: str, steps: int, repeats: int) -> dict:
    runners = {}
    for name, form in (("library", LIBRARY_FORM), ("candidate", candidate_form)):
        attention.apply_value_network = form  # read at trace time, i.e. inside ChunkRunner
        try:
            runners[name] = ChunkRunner(Trainer(make_spec(task, "hyla", size, 1)))
        finally:
            attention.apply_value_network = LIBRARY_FORM
        runners[name](steps)
    leaves = {k: [np.asarray(x).copy() for x in jax.tree.leaves(r.state[0])] for k, r in runners.items()}
    identical = all(np.array_equal(a, b) for a, b in zip(leaves["library"], leaves["candidate"]))
    seconds = {k: [] for k in runners}
    for _ in range(repeats):
        for k, r in runners.items():
            seconds[k].append(r(steps) / steps)
    ratios = [c / lib for c, lib in zip(seconds["candidate"], seconds["library"])]
    return {
        "task": task, "method": "hyla", "size": size, "seeds": 1, "device": device_name(),
        "steps_per_call": steps, "repeats": repeats,
        "params_bit_identical_after_first_call": identical,
        "ms_per_step": {k: 1e3 * statistics.median(v) for k, v in seconds.items()},
        "candidate_over_library_median": statistics.median(ratios),
        "seconds_per_step": seconds,
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--task", nargs="+", choices=TASKS, default=list(TASKS))
    p.add_argument("--size", nargs="+", choices=SIZES, default=["paper", "quick"])
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
                  f"library {r['ms_per_step']['library']:.1f} ms/step, candidate "
                  f"{r['ms_per_step']['candidate']:.1f} ms/step, candidate/library "
                  f"{r['candidate_over_library_median']:.3f} (median of {args.repeats})", flush=True)
    if args.json:
        write_records(args.json, records)


if __name__ == "__main__":
    main()
