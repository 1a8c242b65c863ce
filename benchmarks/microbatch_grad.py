"""One training gradient with the batch split into accumulated slices: measured and NOT adopted.

Idea: XLA:CPU runs every operation over the whole batch, so HYLA's [B, H, T, T] code-sized arrays
(10.6 MB at the sRAVEN paper size) stream through memory many times per step.  Accumulating the
gradient over slices of the batch (``lax.scan``) keeps each slice's working set in cache.  This
script times, in alternation, one gradient of the real model and loss (batch drawn on device,
dropout on) for linear attention and HYLA with the batch as 1, 2, 4 or 8 slices.  Slicing changes
the summation order of the gradient, so adopting it would change every figure's numbers.

    PYTHONPATH=lib python benchmarks/microbatch_grad.py --task raven --json benchmarks/microbatch_grad.json
"""

from __future__ import annotations

import argparse
import statistics
import time

import equinox as eqx
import jax
import jax.numpy as jnp

from hyla.train import Trainer, compiler_options
from throughput import ALL_SIZES, TASKS, device_name, make_spec, write_records

METHODS = ("linear", "hyla")


def sliced_grad(trainer: Trainer, slices: int):
    """jit of (params, data_key, dropout_key) -> (loss, grads), the batch as ``slices`` slices."""
    obj, static, batch_size = trainer.objective, trainer.static, trainer.spec.train.batch_size
    if batch_size % slices:
        raise ValueError(f"--slices {slices} must divide the batch size {batch_size}")
    task = obj.make_task(0)

    def slice_loss(p, batch, dropout_key):
        model = eqx.combine(p, static)
        return obj.loss(obj.predict(model, batch, key=dropout_key, inference=False), batch)

    def grad(p, data_key, dropout_key):
        batch = obj.sample(task, data_key, batch_size, "train")
        parts = jax.tree.map(lambda x: x.reshape((slices, batch_size // slices) + x.shape[1:]), batch)

        def body(acc, part):
            out = jax.value_and_grad(slice_loss)(p, part, dropout_key)
            return jax.tree.map(jnp.add, acc, out), None

        zero = (jnp.zeros(()), jax.tree.map(jnp.zeros_like, p))
        (loss, g), _ = jax.lax.scan(body, zero, parts)
        return loss / slices, jax.tree.map(lambda x: x / slices, g)

    return jax.jit(grad, compiler_options=compiler_options())


def measure(task: str, size: str, slices: list[int], repeats: int) -> list[dict]:
    fns, params = {}, {}
    for method in METHODS:
        trainer = Trainer(make_spec(task, method, size, 1))
        params[method] = jax.tree.map(lambda x: x[0], trainer.params)
        for n in slices:
            fns[method, n] = sliced_grad(trainer, n)
    keys = (jax.random.key(1), jax.random.key(2))
    grads = {mn: f(params[mn[0]], *keys)[1] for mn, f in fns.items()}  # compile and warm up
    rel_diff = {}  # each slicing computes the same gradient as the first one, up to rounding
    for method, n in fns:
        a, b = jax.tree.leaves(grads[method, n]), jax.tree.leaves(grads[method, slices[0]])
        rel_diff[method, n] = max(float(jnp.max(jnp.abs(x - y)) / (jnp.max(jnp.abs(y)) + 1e-30))
                                  for x, y in zip(a, b))
    seconds = {mn: [] for mn in fns}
    for _ in range(repeats):
        for (method, n), f in fns.items():
            t = time.perf_counter()
            jax.block_until_ready(f(params[method], *keys))
            seconds[method, n].append(time.perf_counter() - t)
    med = {mn: statistics.median(v) for mn, v in seconds.items()}
    return [{"task": task, "size": size, "slices": n, "device": device_name(), "repeats": repeats,
             "ms_per_grad": {m: 1e3 * med[m, n] for m in METHODS},
             "hyla_over_linear": med["hyla", n] / med["linear", n],
             "grad_max_rel_diff_vs_first": {m: rel_diff[m, n] for m in METHODS},
             "seconds": {m: seconds[m, n] for m in METHODS}} for n in slices]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--task", nargs="+", choices=TASKS, default=["raven"])
    p.add_argument("--size", choices=ALL_SIZES, default="paper")
    p.add_argument("--slices", nargs="+", type=int, default=[1, 2, 4, 8])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    if args.repeats < 1 or any(n < 1 for n in args.slices):
        raise ValueError(f"--repeats and --slices must be >= 1, got {args.repeats}, {args.slices}")
    records = []
    for task in args.task:
        for r in measure(task, args.size, args.slices, args.repeats):
            records.append(r)
            ms = r["ms_per_grad"]
            print(f"{task:6s} {args.size:6s} {r['slices']} slice(s): linear {ms['linear']:.1f} ms, "
                  f"hyla {ms['hyla']:.1f} ms, hyla/linear {r['hyla_over_linear']:.2f} (gradient vs "
                  f"{args.slices[0]} slice(s): max rel. diff "
                  f"{max(r['grad_max_rel_diff_vs_first'].values()):.1e})", flush=True)
    if args.json:
        write_records(args.json, records)


if __name__ == "__main__":
    main()
