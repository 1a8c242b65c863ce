"""Training steps/s of the official Flax code (``smonsays/hypernetwork-attention``) on this machine,
for comparison with ``throughput.py`` in the same hour.

The official code is not part of this repository and Flax is not one of its dependencies, so this
script runs in a separate environment, on a checkout of the official repository::

    python3 -m venv /tmp/venv-official
    /tmp/venv-official/bin/pip install "jax==<the version hyla runs on>" flax chex einops ml_collections optax absl-py
    /tmp/venv-official/bin/python benchmarks/official_throughput.py --official-dir PATH/TO/hypernetwork-attention \
        --json official_run1.json
    python benchmarks/official_throughput.py --compare runs.json   # {"ours": [...], "official": [...]}

Take the official runs and ``throughput.py --size paper --seeds 1 --json`` runs in alternation
(the machine's speed drifts); ``--compare`` pairs run i of each and prints medians and ratios.

It builds each configuration the way the official ``run.py`` does (``configs/logic.py``
``logic_4var_2term`` and ``configs/raven.py`` ``raven_3x3_4features``, batch 128; the mixers
``transformer``, ``linear_transformer`` and ``linear_hypatt``; AdamW with warmup-cosine and the
ndim != 1 decay mask) and times the loop of the official ``Experiment.run``: draw the next batch from
its ``SyntheticDataloader`` (a jitted sampler) and call the jitted ``Experiment.train_step``. Only
the number of training problems is reduced (the sampler draws each batch on the fly, so it changes
nothing per step), and logging, evaluation and callbacks are left out. ``wandb``, which the official
logging module imports, is replaced by an empty module. Two warm-up steps (compilation), then
``--repeats`` timed calls of about 1.5 s each; ``steps_per_s`` is their median.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import types
from functools import partial

TASKS = ("logic", "raven")
METHODS = ("softmax", "linear", "hyla")
OFFICIAL_MIXER = {"softmax": "transformer", "linear": "linear_transformer", "hyla": "linear_hypatt"}


def build(task: str, method: str, n_batches: int = 100_000):
    """(Experiment, train loader) of one official configuration."""
    import jax
    import optax
    from configs import logic as logic_cfg
    from configs import raven as raven_cfg
    from hyla.data.logic import create_fuzzy_logic_datasets
    from hyla.data.raven import create_raven_datasets
    from hyla.experiment import Experiment
    from hyla.loss import FuzzyLogicLoss, SymbolicRavenLoss
    from hyla.models.transformer import CausalTransformer, TransformerConfig

    if task == "logic":
        config = logic_cfg.get_config(f"logic_4var_2term;{OFFICIAL_MIXER[method]}")
        config.data.num_train = n_batches * config.batch_size
        (train_loader, _, _), _ = create_fuzzy_logic_datasets(
            batch_size=config.batch_size, seed=config.seed, **config.data)
        loss = FuzzyLogicLoss
    else:
        config = raven_cfg.get_config(f"raven_3x3_4features;{OFFICIAL_MIXER[method]}")
        config.data.num_train = n_batches * config.batch_size
        (train_loader, _, _), _ = create_raven_datasets(
            batch_size=config.batch_size, seed=config.seed, **config.data)
        loss = partial(SymbolicRavenLoss, num_features=config.data.num_features,
                       num_feature_values=config.data.feature_maxval)
        config.model.output_dim = config.data.feature_maxval
    config.model.relative_position_max_dist = config.data.seq_len
    model = CausalTransformer(TransformerConfig(**config.model))
    steps = len(train_loader)
    schedule = optax.warmup_cosine_decay_schedule(
        init_value=0.0, peak_value=config.lr, warmup_steps=config.warmup_steps,
        decay_steps=steps - config.warmup_steps, end_value=config.lr * 0.1)
    optimizer = optax.chain(optax.adamw(
        learning_rate=schedule, weight_decay=config.weight_decay,
        mask=lambda p: jax.tree_util.tree_map(lambda x: x.ndim != 1, p)))
    exp = Experiment(config=config, model=model, loss=loss, optimizer=optimizer,
                     train_loader=train_loader, eval_loaders={}, callback_loaders={}, logger=[],
                     callbacks=(), log_every=1, eval_every=1)
    return exp, train_loader


def measure(task: str, method: str, repeats: int = 5, target_s: float = 1.5) -> dict:
    import jax

    exp, loader = build(task, method)
    state = exp.reset(jax.random.PRNGKey(exp.config.seed))
    batches = iter(loader)
    t0 = time.perf_counter()
    for _ in range(2):
        state, _ = exp.train_step(state, next(batches))
    jax.block_until_ready(state.params)
    compile_s = time.perf_counter() - t0
    t0, n = time.perf_counter(), 0
    while time.perf_counter() - t0 < 0.5:  # the step count of one timed call: about target_s
        state, _ = exp.train_step(state, next(batches))
        n += 1
    jax.block_until_ready(state.params)
    n = max(2, int(n / (time.perf_counter() - t0) * target_s))
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            state, _ = exp.train_step(state, next(batches))
        jax.block_until_ready(state.params)
        rates.append(n / (time.perf_counter() - t0))
    return dict(task=task, method=method, size="paper", seeds=1, code="official",
                device=str(jax.devices()[0].device_kind), steps_per_s=statistics.median(rates),
                steps_per_s_all=rates, steps_per_call=n, compile_s=compile_s,
                loadavg=os.getloadavg(), jax=jax.__version__, time=time.strftime("%Y-%m-%d %H:%M:%S"))


def compare(runs: dict) -> list[dict]:
    """Ours vs. official per (task, method) from alternating runs.

    ``runs = {"ours": [[record, ...], ...], "official": [[record, ...], ...]}``, each a list of
    runs (``throughput.py --json`` and this script's ``--json``) in the order they were taken, the
    two interleaved; run i of ours is paired with run i of official. Returns, per (task, method),
    the medians over runs, their ratio, and the range of the per-pair ratios.
    """
    def rate(run, task, method):
        (r,) = [r for r in run if (r["task"], r["method"], r["size"], r["seeds"])
                == (task, method, "paper", 1)]
        return r["steps_per_s"]

    ours, official = runs["ours"], runs["official"]
    if not ours or len(ours) != len(official):
        raise ValueError(f"need as many runs of ours as of official, got {len(ours)} and {len(official)}")
    rows = []
    for task in TASKS:
        for method in METHODS:
            a = [rate(run, task, method) for run in ours]
            b = [rate(run, task, method) for run in official]
            pairs = [x / y for x, y in zip(a, b)]
            rows.append(dict(task=task, method=method, ours=statistics.median(a),
                             official=statistics.median(b),
                             ratio=statistics.median(a) / statistics.median(b),
                             pair_ratio_min=min(pairs), pair_ratio_max=max(pairs), runs=len(a)))
    return rows


def main(argv=None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--official-dir",
                    help="checkout of smonsays/hypernetwork-attention (its run.py at the top)")
    ap.add_argument("--compare", metavar="RUNS_JSON",
                    help='only print the comparison of {"ours": [runs], "official": [runs]} (no timing)')
    ap.add_argument("--task", nargs="+", choices=TASKS, default=list(TASKS))
    ap.add_argument("--method", nargs="+", choices=METHODS, default=list(METHODS))
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--json", default="", help="write the records to this file")
    args = ap.parse_args(argv)
    if args.compare:
        with open(args.compare) as f:
            rows = compare(json.load(f))
        print("| task | method | ours steps/s | official steps/s | ours / official | per pair |")
        print("| --- | --- | ---: | ---: | ---: | --- |")
        for r in rows:
            print(f"| {r['task']} | {r['method']} | {r['ours']:.2f} | {r['official']:.2f} | "
                  f"{r['ratio']:.2f}x | {r['pair_ratio_min']:.2f}-{r['pair_ratio_max']:.2f}x |")
        return rows
    if not args.official_dir or not os.path.isfile(os.path.join(args.official_dir, "hyla", "experiment.py")):
        ap.error(f"--official-dir={args.official_dir!r} holds no hyla/experiment.py: "
                 "give a checkout of smonsays/hypernetwork-attention (or --compare RUNS_JSON)")
    if args.repeats < 1:
        ap.error(f"--repeats={args.repeats}; allowed: an integer >= 1")
    sys.path.insert(0, os.path.abspath(args.official_dir))  # its package is also named `hyla`
    sys.modules.setdefault("wandb", types.ModuleType("wandb"))
    records = []
    for task in args.task:
        for method in args.method:
            r = measure(task, method, args.repeats)
            print(f"official {task:6s} {method:8s} {r['steps_per_s']:8.2f} steps/s  compile "
                  f"{r['compile_s']:.1f} s  load {r['loadavg'][0]:.1f}", flush=True)
            records.append(r)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(records, f, indent=1)
    return records


if __name__ == "__main__":
    main()
