"""Time per training step of HYLA (and softmax) relative to linear attention, measured interleaved.

Separate ``throughput.py`` rows put minutes of this shared machine's changing load between the
mixers (HYLA / linear read 1.15x and 1.37x on fuzzy logic in two runs). Here one-seed chunks of the
real trainer (paper size, batch 128, attention dropout on) are timed in alternation, linear ->
softmax -> HYLA, with the same number of steps per call, and the ratios of the medians are printed.

    PYTHONPATH=lib python benchmarks/mixer_cost.py --task logic raven --json benchmarks/mixer_cost.json
"""

from __future__ import annotations

import argparse
import statistics
import time

import jax
import jax.numpy as jnp

from hyla.train import Trainer
from throughput import compile_chunk, make_spec, write_records

METHODS = ("linear", "softmax", "hyla")


def measure(task: str, repeats: int = 9, call_s: float = 1.5) -> dict:
    runners = {}
    for method in METHODS:
        trainer = Trainer(make_spec(task, method, "paper", 1))
        state = [trainer.params, trainer.opt_state]
        fixed = (trainer.tasks, trainer.data_keys, trainer.dropout_keys)
        chunk = compile_chunk(trainer, state, fixed)
        runners[method] = (chunk, state, fixed)
    step = 0

    def run(method, n):
        chunk, state, fixed = runners[method]
        p, o, loss = chunk(*state, *fixed, jnp.int32(step), jnp.int32(step + n))
        jax.block_until_ready(loss)
        state[:] = [p, o]

    for method in METHODS:  # warm-up: allocation, thread pool
        run(method, 2)
    t = time.perf_counter()
    run("hyla", 2)
    n = max(2, round(call_s / ((time.perf_counter() - t) / 2)))  # the slowest mixer sets the length
    times = {m: [] for m in METHODS}
    for _ in range(repeats):
        for method in METHODS:
            t = time.perf_counter()
            run(method, n)
            times[method].append(time.perf_counter() - t)
        step += n
    med = {m: statistics.median(v) for m, v in times.items()}
    return {"task": task, "size": "paper", "seeds": 1, "steps_per_call": n, "repeats": repeats,
            "seconds": times, "steps_per_s": {m: n / med[m] for m in METHODS},
            "hyla_over_linear": med["hyla"] / med["linear"],
            "softmax_over_linear": med["softmax"] / med["linear"]}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--task", nargs="+", default=["logic", "raven"], choices=["logic", "raven"])
    p.add_argument("--repeats", type=int, default=9)
    p.add_argument("--json", default="", help="write the records here")
    args = p.parse_args(argv)
    records = []
    for task in args.task:
        r = measure(task, args.repeats)
        records.append(r)
        sps = ", ".join(f"{m} {v:.2f}" for m, v in r["steps_per_s"].items())
        print(f"{task:6s} HYLA / linear {r['hyla_over_linear']:.2f}x, softmax / linear "
              f"{r['softmax_over_linear']:.2f}x  (steps/s: {sps}; {r['steps_per_call']} steps per call, "
              f"{args.repeats} alternating repeats)", flush=True)
    if args.json:
        write_records(args.json, records)


if __name__ == "__main__":
    main()
