"""How often does HYLA beat linear attention at the fig02 quick cell? More seeds than the figure.

The quick tier of Fig. 2 (N = 32, 70 % held out, D 64, 1 000 steps, batch 64, lr 1e-2) runs three
seeds. This script trains the same runs for more seeds (each seed runs on its own on one CPU, so
seeds 0-2 reproduce the figure's runs exactly) and prints the held-out R² per seed and method;
``--lr``, ``--batch-size``, ``--warmup-steps``, ``--weight-decay`` and ``--steps`` override the quick
preset's schedule, ``--first-seed`` moves the seeds.

    # the quick preset, seeds 0-7
    PYTHONPATH=lib python benchmarks/logic_quick_seeds.py --seeds 8 --json benchmarks/logic_quick_seeds_lr1e-2.json
    # seeds 0-23 (the committed file joins the 0-7 run above and a --first-seed 8 --seeds 16 run;
    # each seed trains on its own on one CPU, so the numbers per seed are the same)
    PYTHONPATH=lib python benchmarks/logic_quick_seeds.py --seeds 24 --json benchmarks/logic_quick_seeds_lr1e-2_24.json
    # the learning-rate choice (tuning seeds 100-105, disjoint from the figure's)
    PYTHONPATH=lib python benchmarks/logic_quick_seeds.py --seeds 6 --first-seed 100 --lr 6e-3 \
        --json benchmarks/logic_quick_lr_sweep/lr6e-3.json
    # the earlier quick cell, lr 3e-3 as docs/methods.md#official-cpu-reference (the committed files before 2026-11-23 07:00):
    PYTHONPATH=lib python benchmarks/logic_quick_seeds.py --lr 3e-3 --seeds 8 --json benchmarks/logic_quick_seeds.json
    PYTHONPATH=lib python benchmarks/logic_quick_seeds.py --lr 3e-3 --seeds 8 --methods hyla \
        --attention-dropout 0 --json benchmarks/logic_quick_seeds_no_dropout.json
    PYTHONPATH=lib python benchmarks/logic_quick_seeds.py --lr 3e-3 --seeds 24 --json benchmarks/logic_quick_seeds_24.json
    PYTHONPATH=lib python benchmarks/logic_quick_seeds.py --lr 3e-3 --seeds 8 --steps 2000 \
        --json benchmarks/logic_quick_seeds_2000_steps.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time

import numpy as np

from hyla import provenance, runs
from hyla.presets.logic import TRAIN, headline_spec

SCHEDULE = ("steps", "lr", "batch_size", "warmup_steps", "weight_decay")  # overridable TrainConfig fields


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=8, help="seeds 0..N-1")
    p.add_argument("--methods", nargs="+", default=["linear", "hyla"])
    p.add_argument("--json", default="", help="write the results here")
    p.add_argument("--cache", default="", help="run cache (default: the repository's)")
    p.add_argument("--attention-dropout", type=float, default=None,
                   help="override the attention dropout rate (default: the preset's, 0.1 as official)")
    p.add_argument("--first-seed", type=int, default=0, help="seeds first..first+N-1")
    for name in SCHEDULE:  # --steps keeps the warmup and stretches the cosine
        default = getattr(TRAIN["quick"], name)
        p.add_argument("--" + name.replace("_", "-"), type=type(default), default=None,
                       help=f"override the quick preset's {name} (default {default})")
    args = p.parse_args(argv)
    overrides = {k: getattr(args, k) for k in SCHEDULE if getattr(args, k) is not None}
    seeds = tuple(range(args.first_seed, args.first_seed + args.seeds))
    t0 = time.time()
    train = dataclasses.replace(TRAIN["quick"], **overrides)
    out = {"cell": "fig02 quick: N=32, 70% held out", "seeds": list(seeds),
           "attention_dropout": args.attention_dropout, "steps": train.steps,
           "train": dataclasses.asdict(train), "heldout_r2": {}, "train_r2": {}}
    for m in args.methods:
        extra = {} if args.attention_dropout is None else {"attention_dropout": args.attention_dropout}
        if overrides:
            extra["train"] = train
        spec = headline_spec("quick", m, seeds=seeds, **extra)
        res = runs.load_or_train(spec, args.cache, name=f"{m} x{args.seeds} seeds")
        for metric in ("heldout_r2", "train_r2"):
            steps, vals = res.metric(metric)
            out[metric][m] = [float(v) for v in vals[-1]]
        print(f"{m}: held-out R² per seed {np.round(out['heldout_r2'][m], 3).tolist()}", flush=True)
    if {"hyla", "linear"} <= set(args.methods):
        d = np.array(out["heldout_r2"]["hyla"]) - np.array(out["heldout_r2"]["linear"])
        out["hyla_minus_linear"] = dict(mean=float(d.mean()), sem=float(d.std(ddof=1) / np.sqrt(len(d))),
                                        hyla_ahead=int((d > 0).sum()), n=len(d))
        print(f"HYLA − linear: {d.mean():+.3f} ± {out['hyla_minus_linear']['sem']:.3f} (s.e.), "
              f"HYLA ahead in {(d > 0).sum()}/{len(d)} seeds")
    out["wall_time_s"] = round(time.time() - t0, 1)
    out.update(git=provenance.git_info(), device=provenance.device_info(), versions=provenance.package_versions())
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
