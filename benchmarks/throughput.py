"""Training throughput of the real engine (``hyla.train.Trainer``) per task x method x size x seeds.

    PYTHONPATH=lib python benchmarks/throughput.py                       # everything, 1 seed
    PYTHONPATH=lib python benchmarks/throughput.py --task logic --size paper --seeds 1 3 8
    PYTHONPATH=lib python benchmarks/throughput.py --json > results.json
    PYTHONPATH=lib python benchmarks/throughput.py --task logic --size paper --seeds 3 9 --seq-len 32 64

For every configuration the compiled chunk function ``Trainer._chunk`` (a ``fori_loop`` over
training steps, batches drawn on device, seeds vmapped -- or, on one CPU device, one seed per
call as the trainer does) is lowered and compiled once
(``compile_s``), run once to warm up, then timed on ``--repeats`` chunks of ``--steps`` steps;
``steps_per_s`` is the median over chunks.  ``gflops_per_s`` = XLA cost-analysis flops of one
training step x steps/s (the loop bounds are traced, so XLA counts the loop body -- one step of all
seeds -- exactly once).  ``cpu_s_per_step`` (CPU seconds
of this process per step, all threads) is less sensitive to other processes than wall time.
``matmul_gflops_per_s`` is the median rate of a 1024x1024 float32 matmul
measured right before each configuration, so numbers taken under different machine load can be
compared; the 1/5/15-minute load average is recorded alongside.

Sizes (docs/methods.md#hyperparameters for ``paper``; the CPU tier of the notebooks for ``quick``):

* logic paper: N=16 (seq_len 16), 2 layers, D 128, 8 heads, qk = v = 16, mlp 256, batch 128
* logic quick: N=32, 2 layers, D 64, 8 heads, qk = v = 16, mlp 128, batch 64
* raven paper: K=4 (seq_len 36, 8 values), 4 layers, D 128, 16 heads, qk = v = 64, mlp 256, batch 128
* raven quick: K=2 (seq_len 18), 2 layers, D 64, 8 heads, qk = v = 32, mlp 128, batch 64

Attention dropout is 0.1 everywhere (as in the official runs).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import sys
import time

import jax
import jax.numpy as jnp

from hyla.train import RunSpec, TrainConfig, Trainer
from hyla.transformer import ModelConfig

TASKS = ("logic", "raven")
METHODS = ("softmax", "linear", "hyla")
SIZES = ("quick", "paper")
# "smoke": a one-layer model that compiles in about a second, for the scripts' own tests (that a
# script runs and writes its records); never a benchmark, and not in any default.
ALL_SIZES = SIZES + ("smoke",)

MODEL = {
    ("logic", "paper"): dict(num_layers=2, emb_dim=128, num_heads=8, qk_dim=16, v_dim=16,
                             mlp_dim=256, seq_len=16, token_dim=5, output_dim=1),
    ("logic", "quick"): dict(num_layers=2, emb_dim=64, num_heads=8, qk_dim=16, v_dim=16,
                             mlp_dim=128, seq_len=32, token_dim=5, output_dim=1),
    ("raven", "paper"): dict(num_layers=4, emb_dim=128, num_heads=16, qk_dim=64, v_dim=64,
                             mlp_dim=256, seq_len=36, token_dim=8, output_dim=8),
    ("raven", "quick"): dict(num_layers=2, emb_dim=64, num_heads=8, qk_dim=32, v_dim=32,
                             mlp_dim=128, seq_len=18, token_dim=8, output_dim=8),
    ("logic", "smoke"): dict(num_layers=1, emb_dim=32, num_heads=4, qk_dim=8, v_dim=8,
                             mlp_dim=32, seq_len=8, token_dim=5, output_dim=1),
    ("raven", "smoke"): dict(num_layers=1, emb_dim=32, num_heads=4, qk_dim=8, v_dim=8,
                             mlp_dim=32, seq_len=18, token_dim=8, output_dim=8),
}
TASK_ARGS = {
    ("logic", "paper"): dict(num_variables=4, num_terms=2, heldout_fraction=0.5, seq_len=16),
    ("logic", "quick"): dict(num_variables=4, num_terms=2, heldout_fraction=0.7, seq_len=32),
    ("raven", "paper"): dict(num_features=4, num_values=8, heldout_fraction=0.25),
    ("raven", "quick"): dict(num_features=2, num_values=8, heldout_fraction=0.25),
    ("logic", "smoke"): dict(num_variables=4, num_terms=2, heldout_fraction=0.5, seq_len=8),
    ("raven", "smoke"): dict(num_features=2, num_values=8, heldout_fraction=0.25),
}
BATCH = {"paper": 128, "quick": 64, "smoke": 16}
WARMUP = {"logic": 100, "raven": 1000}

# Official Flax code on a shared 2-core CPU, batch 128, attention dropout on (the numbers;
# docs/methods.md#official-cpu-reference has more, noisier measurements).
OFFICIAL = {
    ("logic", "paper", "softmax"): 26.0, ("logic", "paper", "linear"): 27.9,
    ("logic", "paper", "hyla"): 18.6,
    ("raven", "paper", "softmax"): 3.5, ("raven", "paper", "linear"): 4.0,
    ("raven", "paper", "hyla"): 2.4,
}


def make_spec(task: str, method: str, size: str, seeds: int, seq_len: int | None = None) -> RunSpec:
    """``seq_len`` (fuzzy logic only) overrides the number of in-context examples N."""
    model_args, task_args = dict(MODEL[task, size]), dict(TASK_ARGS[task, size])
    if seq_len is not None:
        if task != "logic":
            raise ValueError(f"seq_len={seq_len} applies to task='logic' only, got task={task!r}")
        model_args["seq_len"] = task_args["seq_len"] = seq_len
    model = ModelConfig(mixer=method, attention_dropout=0.1, **model_args)
    # `steps` only shapes the lr schedule; chunks index steps from 0 upwards.
    train = TrainConfig(steps=1_000_000, batch_size=BATCH[size], warmup_steps=WARMUP[task])
    return RunSpec(task, task_args, model, train, seeds=tuple(range(seeds)))


def matmul_gflops(n: int = 1024, repeats: int = 9) -> float:
    """Median dense float32 n x n matmul rate of this machine right now."""
    a = jax.random.normal(jax.random.key(0), (n, n), jnp.float32)
    f = jax.jit(jnp.matmul)
    f(a, a).block_until_ready()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f(a, a).block_until_ready()
        times.append(time.perf_counter() - t0)
    return 2 * n**3 / statistics.median(times) / 1e9


def device_name() -> str:
    d = jax.devices()[0]
    if d.platform == "cpu":
        return f"cpu x{os.cpu_count()} ({len(jax.devices())} jax device)"
    return f"{d.platform}: {d.device_kind}"


def compile_chunk(trainer: Trainer, state, fixed):
    """The trainer's chunk compiled for one call: all seeds, or one seed's slice when the trainer
    runs seeds one by one (a single CPU device)."""
    args = (*state, *fixed)
    if trainer.seeds_one_by_one:
        args = jax.tree.map(lambda a: a[:1], args)
    return trainer._chunk.lower(*args, jnp.int32(0), jnp.int32(1)).compile()


class ChunkRunner:
    """The trainer's chunk compiled for one call (``compile_chunk``) with its training state.

    ``runner(n)`` trains n more steps (the state's buffers are donated and replaced) and returns
    the wall seconds of the call."""

    def __init__(self, trainer: Trainer):
        self.trainer = trainer
        self.state = [trainer.params, trainer.opt_state]
        self.fixed = (trainer.tasks, trainer.data_keys, trainer.dropout_keys)
        t0 = time.perf_counter()
        self.compiled = compile_chunk(trainer, self.state, self.fixed)
        self.compile_s = time.perf_counter() - t0
        self.step = 0

    def __call__(self, n: int) -> float:
        t0 = time.perf_counter()
        steps = (jnp.int32(self.step), jnp.int32(self.step + n))
        p, o, loss = self.trainer._call(self.compiled, (*self.state, *self.fixed), steps)
        jax.block_until_ready(loss)
        self.state = [p, o]
        self.step += n
        return time.perf_counter() - t0


def bench(task, method, size, seeds, steps=None, repeats=5, target_chunk_s=1.5, seq_len=None) -> dict:
    """One record; ``steps=None`` picks a chunk length of about ``target_chunk_s`` seconds."""
    matmul = matmul_gflops()
    load = os.getloadavg()
    spec = make_spec(task, method, size, seeds, seq_len)
    trainer = Trainer(spec)
    # on one CPU device the trainer calls the chunk once per seed on one-seed slices
    one_by_one = trainer.seeds_one_by_one
    runner = ChunkRunner(trainer)
    cost = runner.compiled.cost_analysis()
    cost = cost[0] if isinstance(cost, (list, tuple)) else cost
    flops_per_step = float(cost.get("flops", float("nan"))) * (seeds if one_by_one else 1)

    cpu_times = []

    def run(n):
        c0 = time.process_time()
        wall = runner(n)
        cpu_times.append((time.process_time() - c0) / n)
        return wall

    run(2)  # first call: allocation, thread-pool start, the per-seed slicing's compilation
    warm = run(2) / 2  # steady state: picks the chunk length
    if steps is None:
        # about target_chunk_s per compiled call: with seeds one by one a call runs ONE seed, so the
        # chunk length follows the per-seed time and equals the one-seed chunk (with one chunk length
        # for all seeds, calls of 3 steps for 3 seeds against 5 for one put a per-call overhead on
        # the several-seed rows only)
        per_call = warm / seeds if one_by_one else warm
        steps = int(min(500, max(3, round(target_chunk_s / per_call))))
    rates = [steps / run(steps) for _ in range(repeats)]
    sps = statistics.median(rates)
    return {
        "task": task, "method": method, "size": size, "seeds": seeds, "device": device_name(),
        "steps_per_s": sps, "compile_s": runner.compile_s, "gflops_per_s": flops_per_step * sps / 1e9,
        "matmul_gflops_per_s": matmul,
        # extras
        "steps_per_chunk": steps, "chunks": repeats, "steps_per_s_all": rates,
        "gflop_per_step": flops_per_step / 1e9,
        "cpu_s_per_step": statistics.median(cpu_times[1:]), "loadavg": load, "seed_steps_per_s": sps * seeds,
        "official_steps_per_s": OFFICIAL.get((task, size, method)) if seeds == 1 else None,
        "jax": jax.__version__, "seq_len": spec.model.seq_len,
    }


def write_records(path: str, records: list[dict]) -> None:
    """Records with the provenance of the measurement (git, device, versions, load) as JSON."""
    from hyla import provenance

    out = {"records": records, "git": provenance.git_info(), "device": provenance.device_info(),
           "versions": provenance.package_versions(), "loadavg_end": list(os.getloadavg())}
    with open(path, "w") as f:
        json.dump(out, f, indent=1)


def format_row(r: dict) -> str:
    off = r.get("official_steps_per_s")
    ratio = f"{r['steps_per_s'] / off:5.2f}x" if off else "     -"
    load = "/".join(f"{x:.1f}" for x in r["loadavg"])
    return (f"{r['task']:6s} {r['method']:8s} {r['size']:6s} {r['seeds']:5d} {r.get('seq_len', '-'):>4} "
            f"{r['steps_per_s']:9.2f} {r['compile_s']:9.1f} {r['gflops_per_s']:8.1f} "
            f"{r['matmul_gflops_per_s']:8.1f} {ratio} {load}")


HEADER = ("task   method   size   seeds    T   steps/s compile_s   GFLOP/s matmulGF vs.off "
          "load 1/5/15m")


def markdown(records: list[dict]) -> str:
    """The records as a markdown table (with the official Flax numbers where there are some)."""
    lines = [
        "| task | method | size | seeds | steps/s | seed-steps/s | vs. official | compile s "
        "| GFLOP/step | GFLOP/s | matmul GFLOP/s | CPU ms/step | load 1m |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in records:
        off = OFFICIAL.get((r["task"], r["size"], r["method"]))
        vs = f"{r['steps_per_s'] / off:.2f}x of {off}" if off and r["seeds"] == 1 else "-"
        lines.append(
            f"| {r['task']} | {r['method']} | {r['size']} | {r['seeds']} | {r['steps_per_s']:.2f} "
            f"| {r['seed_steps_per_s']:.2f} | {vs} | {r['compile_s']:.1f} | {r['gflop_per_step']:.2f} "
            f"| {r['gflops_per_s']:.1f} | {r['matmul_gflops_per_s']:.1f} "
            f"| {1e3 * r['cpu_s_per_step']:.0f} | {r['loadavg'][0]:.1f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--task", nargs="+", choices=TASKS, default=list(TASKS))
    p.add_argument("--method", nargs="+", choices=METHODS, default=list(METHODS))
    p.add_argument("--size", nargs="+", choices=ALL_SIZES, default=list(SIZES))
    p.add_argument("--seeds", nargs="+", type=int, default=[1], help="seed counts")
    p.add_argument("--steps", type=int, default=None,
                   help="timed steps per chunk (default: about 1.5 s per compiled call, i.e. per seed on one CPU)")
    p.add_argument("--repeats", type=int, default=5, help="timed chunks (median; >= 3)")
    p.add_argument("--seq-len", nargs="+", type=int, default=[None],
                   help="fuzzy logic only: numbers of in-context examples N (default: the size's)")
    p.add_argument("--json", action="store_true", help="print a JSON list of records")
    p.add_argument("--markdown", metavar="PATH", help="also write the table as markdown to PATH")
    args = p.parse_args(argv)
    if args.repeats < 3:
        p.error("--repeats must be >= 3")

    records = []
    if not args.json:
        print(f"# jax {jax.__version__}, {device_name()}, XLA_FLAGS={os.environ.get('XLA_FLAGS', '')!r}")
        print(HEADER)
    for task in args.task:
        for size in args.size:
            for method in args.method:
                for seeds, seq_len in itertools.product(args.seeds, args.seq_len):
                    r = bench(task, method, size, seeds, args.steps, args.repeats, seq_len=seq_len)
                    records.append(r)
                    if not args.json:
                        print(format_row(r), flush=True)
                    else:
                        print(format_row(r), file=sys.stderr, flush=True)
    if args.json:
        print(json.dumps(records, indent=1))
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(markdown(records))
    return records


if __name__ == "__main__":
    main()
