"""Wall time of short fuzzy-logic runs at the gpu tier's model size: what a run costs beyond its
training steps (tracing, compilation, evaluation, checkpoints), and how much of that a warm XLA
compilation cache (a second run of the same program) removes.  Sizes the fig02 gpu grid.

    PYTHONPATH=lib python benchmarks/logic_run_overhead.py --num-examples 16 64 --steps 1000
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

import jax

from hyla import runs
from hyla.presets.logic import headline_spec
from hyla.train import TrainConfig


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--num-examples", nargs="+", type=int, default=[16, 32, 64])
    p.add_argument("--methods", nargs="+", default=["softmax", "hyla"])
    p.add_argument("--fractions", nargs="+", type=float, default=[0.3, 0.5, 0.3])
    p.add_argument("--steps", type=int, default=1000)
    args = p.parse_args(argv)
    tc = TrainConfig(steps=args.steps, batch_size=128, lr=3e-3, warmup_steps=100,
                     eval_every=args.steps // 2, eval_size=4096, eval_batch_size=1024)
    rows = []
    with tempfile.TemporaryDirectory() as d:
        runs.enable_compilation_cache(path=f"{d}/xla")
        for n in args.num_examples:
            for method in args.methods:
                for i, frac in enumerate(args.fractions):
                    spec = headline_spec("gpu", method, num_examples=n, heldout_fraction=frac, train=tc)
                    t0 = time.perf_counter()
                    r = runs.load_or_train(spec, cache_dir=f"{d}/runs{i}", log=None)
                    wall = time.perf_counter() - t0
                    row = dict(num_examples=n, method=method, heldout_fraction=frac, repeat=i,
                               wall_s=wall, train_time_s=r.train_time_s, steps=args.steps,
                               device=jax.devices()[0].device_kind)
                    rows.append(row)
                    print(json.dumps(row), flush=True)
    return rows


if __name__ == "__main__":
    main()
