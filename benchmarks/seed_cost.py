"""Cost of 3 seeds relative to one on one CPU, measured interleaved.

On a single CPU device ``Trainer`` runs the seeds of a run one after another through one compiled
chunk (one-seed slices, results concatenated), so 3 seeds should cost 3x one seed. Measured as
separate rows (``throughput.py --seeds 1 3``) the ratio drifts with this shared machine's load
(2.6-3.5x). Here the two are timed in alternation with chunks of equal length: each repeat runs the
trainer's several-seed call (slice, chunk per seed, concatenate) and then one seed's chunk alone,
and the ratio of the medians is printed.

    PYTHONPATH=lib python benchmarks/seed_cost.py --task logic raven --json benchmarks/seed_cost.json
"""

from __future__ import annotations

import argparse
import statistics
import time

import jax
import jax.numpy as jnp

from hyla.train import Trainer, _seed_slice
from throughput import compile_chunk, make_spec, write_records


def measure(task: str, method: str, seeds: int = 3, repeats: int = 7, call_s: float = 1.0) -> dict:
    trainer = Trainer(make_spec(task, method, "paper", seeds))
    assert trainer.seeds_one_by_one, "needs a single CPU device"
    state = [trainer.params, trainer.opt_state]
    fixed = (trainer.tasks, trainer.data_keys, trainer.dropout_keys)
    chunk = compile_chunk(trainer, state, fixed)
    one = list(_seed_slice((*state, *fixed), 0))  # seed 0 on its own, as a one-seed run holds it
    step = 0

    def several(n):
        p, o, loss = trainer._call(chunk, (*state, *fixed), (jnp.int32(step), jnp.int32(step + n)))
        jax.block_until_ready(loss)
        state[:] = [p, o]

    def single(n):
        p, o, loss = chunk(*one, jnp.int32(step), jnp.int32(step + n))
        jax.block_until_ready(loss)
        one[:2] = [p, o]

    for f in (several, single):  # warm-up: allocation, thread pool, the slicing's compilation
        f(2)
    t = time.perf_counter()
    single(2)
    n = max(2, round(call_s / ((time.perf_counter() - t) / 2)))
    times = {"several": [], "single": []}
    for _ in range(repeats):
        for name, f in (("several", several), ("single", single)):
            t = time.perf_counter()
            f(n)
            times[name].append(time.perf_counter() - t)
            step += n
    ratio = statistics.median(times["several"]) / statistics.median(times["single"])
    return {"task": task, "method": method, "size": "paper", "seeds": seeds, "steps_per_call": n,
            "repeats": repeats, "seconds_several": times["several"], "seconds_single": times["single"],
            "ratio": ratio}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--task", nargs="+", default=["logic", "raven"], choices=["logic", "raven"])
    p.add_argument("--method", nargs="+", default=["softmax", "linear", "hyla"],
                   choices=["softmax", "linear", "hyla"])
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--json", default="", help="write the records here")
    args = p.parse_args(argv)
    records = []
    for task in args.task:
        for method in args.method:
            r = measure(task, method, args.seeds, args.repeats)
            records.append(r)
            print(f"{task:6s} {method:8s} {args.seeds} seeds / 1 seed: {r['ratio']:.2f}x "
                  f"({r['steps_per_call']} steps per call, {args.repeats} alternating repeats)", flush=True)
    if args.json:
        write_records(args.json, records)


if __name__ == "__main__":
    main()
