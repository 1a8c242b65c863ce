"""sRAVEN figures: Fig. 3, 4, 5, A4, A5, A6/A7, A8 and the sRAVEN column of Table A1.

Every trained run is built by :func:`scaling_spec` (one function, so figures that share a run share
its spec hash and thus its cache entry):

* ``paper``: docs/methods.md#hyperparameters exactly -- K = 4 features of F = 8 values, permuted columns, depth 4,
  width 1 (D 128, 16 heads, d_k = d_v = 4, MLP 256), batch 128, 156 250 steps (20M problems),
  lr 1e-3, wd 0.1, warmup 1 000, eval 51 200 problems, seeds (0, 1, 2); the Fig. 4 grid
  depth {4, 8, 16} x width {1, 2, 4} x problems {10M, 20M, 40M} (78 125 / 156 250 / 312 500 steps).
* ``gpu`` (one H100, docs/methods.md#figures): the paper's task and model, 15 000 steps (1.9M problems) for the
  Fig. 4 runs, 6 000-step runs for the ablations (Fig. 5C/D, A5, Table A1), 3 seeds vmapped.
* ``quick`` (2-core CPU): the configuration chosen by the measured search
  ``benchmarks/raven_cpu_search.py`` (see ``QUICK_SEARCH_NOTE``).
* ``smoke``: a tiny K = 2 model, 24 steps; checks the pipeline only.

``PAPER_TABLE_A1_SRAVEN`` holds the paper's Table A1 sRAVEN numbers (reference data, not ours).
"""

from __future__ import annotations

import dataclasses

from hyla.attention import MIXERS
from hyla.presets import register
from hyla.presets.specs import PAPER_SEEDS, RAVEN_PAPER_TRAIN, raven_spec
from hyla.train import RunSpec, TrainConfig

PRESETS = ("smoke", "quick", "gpu", "paper")
METHODS = ("softmax", "linear", "hyla")

# The paper's Table A1, sRAVEN column: held-out-combination accuracy x 100, mean ± s.e. over 3 seeds
# (depth 4, width 1, 20M problems; paper Table A1, docs/methods.md#figures).  REFERENCE DATA, never our results.
PAPER_TABLE_A1_SRAVEN: dict[str, tuple[float, float]] = {
    "softmax": (56.56, 1.05),
    "linear": (56.30, 1.11),
    "hyla": (69.13, 1.90),
    "linear+rms_head": (59.01, 2.50),
    "hyla-rms_head": (62.53, 5.73),
    "hyla-nonlinearity": (56.54, 0.21),
    "hyla-nonlinearity-rms_head": (56.33, 1.41),
    "hyla-rms_head+softmax": (38.21, 2.98),
}
# Rows of the paper's table with no implementation here (no code in the official repository).
PAPER_TABLE_A1_SRAVEN_NOT_IMPLEMENTED: dict[str, tuple[float, float]] = {
    "linear + RMSHead + nonlinear value": (55.38, 0.32),
    "HYLA + deep value network": (66.59, 0.08),
    "softmax + MoE": (57.68, 1.31),
    "linear + MoE": (64.34, 4.3),
    "HYLA + MoE": (66.94, 3.94),
}

# ------------------------------------------------------------------------------------------------
# Per-preset task, model unit, training schedule, seeds.

TASK = {
    "smoke": dict(num_features=2, num_values=5, permute_features=True),
    # a pipeline check sized from the CPU search (figures/data/raven_cpu_search.csv): the most
    # learnable searched task (config A: K=2, F=4, unpermuted); with F=4, progression+2 and
    # progression-2 coincide (+2 = -2 mod 4)
    "quick": dict(num_features=2, num_values=4, permute_features=False),
    "gpu": dict(num_features=4, num_values=8, permute_features=True),
    "paper": dict(num_features=4, num_values=8, permute_features=True),
}
# One width unit: (D, heads, per-head d_k = d_v, MLP); width w multiplies D, heads and MLP.
UNIT = {
    "smoke": (32, 4, 4, 64),
    "quick": (64, 8, 4, 128),  # the CPU proxy of docs/methods.md#official-cpu-reference
    "gpu": (128, 16, 4, 256),  # docs/methods.md#hyperparameters
    "paper": (128, 16, 4, 256),
}
DEPTH = {"smoke": 1, "quick": 2, "gpu": 4, "paper": 4}
TRAIN = {
    "smoke": TrainConfig(steps=24, batch_size=16, lr=3e-3, weight_decay=0.1, warmup_steps=2,
                         eval_every=12, eval_size=128, eval_batch_size=64),
    # ~0.6 / 0.35 / 0.45 CPU-ms per problem-step (HYLA / linear / softmax) + ~30 s compilation per
    # run (measured): 600 steps x batch 32 x 2 seeds keeps the Fig. 4 notebook near 3 CPU-minutes
    "quick": TrainConfig(steps=600, batch_size=32, lr=3e-3, weight_decay=0.1, warmup_steps=30,
                         eval_every=150, eval_size=1024, eval_batch_size=512),
    "gpu": TrainConfig(steps=15_000, batch_size=128, lr=1e-3, weight_decay=0.1, warmup_steps=1000,
                       eval_every=2500, eval_size=8192, eval_batch_size=1024, log_every=500),
    "paper": RAVEN_PAPER_TRAIN,
}
# Shorter runs for the ablations (Fig. 5C/D, Fig. A5, Table A1) where the preset needs them.
ABLATION_TRAIN = dict(TRAIN, gpu=dataclasses.replace(TRAIN["gpu"], steps=6000, eval_every=1500))
SEEDS = {"smoke": (0,), "quick": (0, 1), "gpu": PAPER_SEEDS, "paper": PAPER_SEEDS}

QUICK_SEARCH_NOTE = (
    "quick = a pipeline check: the CPU search (benchmarks/raven_cpu_search.py) found no "
    "configuration where HYLA beats linear attention clearly within a few CPU minutes"
)
QUICK_SHOWS_EFFECT = False  # set from the search's measured table; titles use it

PAPER_PROBLEMS = (10_000_000, 20_000_000, 40_000_000)


def model_sizes(preset: str, depth: int | None = None, width: int = 1,
                num_heads: int | None = None) -> dict:
    """Model sizes at ``preset``: depth, width multiplier, optionally a different number of heads
    with the TOTAL qk / v dims kept (Fig. 5C's single head)."""
    D, H, d, M = UNIT[preset]
    sizes = dict(num_layers=depth or DEPTH[preset], emb_dim=D * width, num_heads=H * width,
                 qk_dim=H * d * width, v_dim=H * d * width, mlp_dim=M * width)
    if num_heads is not None:
        if sizes["qk_dim"] % num_heads:
            raise ValueError(f"num_heads={num_heads} must divide qk_dim={sizes['qk_dim']}")
        sizes["num_heads"] = num_heads
    return sizes


def scaling_spec(
    preset: str,
    method: str,
    depth: int | None = None,
    width: int = 1,
    *,
    problems: int | None = None,
    num_heads: int | None = None,
    num_features: int | None = None,
    heldout_fraction: float = 0.25,
    ablation: bool = False,
) -> RunSpec:
    """THE sRAVEN run of every figure at ``preset``.

    ``problems`` (paper grid only) sets steps = problems / batch; ``ablation`` picks the shorter
    ablation schedule (gpu); ``num_features`` overrides K (Fig. 5D); ``num_heads`` changes the
    number of heads keeping the total qk / v dims (Fig. 5C).
    """
    train = (ABLATION_TRAIN if ablation else TRAIN)[preset]
    if problems is not None:
        train = dataclasses.replace(train, steps=problems // train.batch_size)
    task = dict(TASK[preset])
    if num_features is not None:
        task["num_features"] = num_features
    return raven_spec(method, model=model_sizes(preset, depth, width, num_heads), train=train,
                      seeds=SEEDS[preset], heldout_fraction=heldout_fraction, **task)


def base_specs(preset: str, ablation: bool = False, methods=METHODS) -> dict[str, RunSpec]:
    return {m: scaling_spec(preset, m, ablation=ablation) for m in methods}


# ------------------------------------------------------------------------------------------------
# Figures.

def _fig03(preset: str) -> dict:
    return dict(
        num_examples=3,  # problems drawn
        ambiguity_size={"smoke": 128, "quick": 2048, "gpu": 4096, "paper": 8192}[preset],
        ambiguity_seed=0,
        split_seed=0,
    )


def _fig04(preset: str) -> dict:
    if preset == "paper":
        depths, widths, problems = (4, 8, 16), (1, 2, 4), PAPER_PROBLEMS
    else:
        depths, widths, problems = (DEPTH[preset],), (1,), (None,)
    specs = {
        (m, d, w, p): scaling_spec(preset, m, d, w, problems=p)
        for m in METHODS for d in depths for w in widths for p in problems
    }
    return dict(methods=METHODS, depths=depths, widths=widths, problems=problems, specs=specs,
                base_depth=DEPTH[preset], base_problems=20_000_000 if preset == "paper" else None,
                search_csv="data/raven_cpu_search.csv", quick_shows_effect=QUICK_SHOWS_EFFECT,
                quick_note=QUICK_SEARCH_NOTE)


def _latent_common(preset: str) -> dict:
    return dict(
        latent_size={"smoke": 64, "quick": 512, "gpu": 4096, "paper": 8192}[preset],
        tsne_size={"smoke": 64, "quick": 300, "gpu": 2000, "paper": 4000}[preset],
        quick_shows_effect=QUICK_SHOWS_EFFECT, quick_note=QUICK_SEARCH_NOTE,
    )


def _fig05(preset: str) -> dict:
    K = TASK[preset]["num_features"]
    ks = {"smoke": (2, 3), "quick": (2, 3), "gpu": (2, 3, 4), "paper": (2, 3, 4)}[preset]
    head_methods = ("hyla",) if preset in ("smoke", "quick") else ("softmax", "hyla")
    k_methods = METHODS if preset == "paper" else ("hyla",)
    ablate = preset == "gpu"
    return dict(
        methods=METHODS, specs=base_specs(preset), latent_method="hyla", num_features=K,
        # C: one head vs the preset's heads, total qk / v dims kept
        heads_specs={(m, h): scaling_spec(preset, m, num_heads=h, ablation=ablate)
                     for m in head_methods for h in (UNIT[preset][1], 1)},
        # D: accuracy vs number of features K
        k_specs={(m, k): scaling_spec(preset, m, num_features=k, ablation=ablate)
                 for m in k_methods for k in ks},
        **_latent_common(preset),
    )


def _figA4(preset: str) -> dict:
    cfg = _fig04(preset)
    return dict(methods=METHODS, specs=cfg["specs"], depths=cfg["depths"], widths=cfg["widths"],
                problems=cfg["problems"], base_depth=DEPTH[preset],
                quick_shows_effect=QUICK_SHOWS_EFFECT, quick_note=QUICK_SEARCH_NOTE)


def _figA5(preset: str) -> dict:
    fractions = {"smoke": (0.25, 0.75), "quick": (0.25, 0.75), "gpu": (0.1, 0.25, 0.5, 0.9),
                 "paper": (0.1, 0.25, 0.5, 0.75, 0.9)}[preset]
    methods = {"smoke": ("hyla",), "quick": ("linear", "hyla"), "gpu": ("linear", "hyla"),
               "paper": METHODS}[preset]
    ablate = preset == "gpu"
    return dict(methods=methods, fractions=fractions,
                specs={(m, f): scaling_spec(preset, m, heldout_fraction=f, ablation=ablate)
                       for m in methods for f in fractions},
                quick_shows_effect=QUICK_SHOWS_EFFECT, quick_note=QUICK_SEARCH_NOTE)


def _figA6(preset: str) -> dict:
    shallow = DEPTH[preset]
    deep = {"smoke": 2, "quick": 4, "gpu": 8, "paper": 16}[preset]
    return dict(depths=(shallow, deep),
                specs={d: scaling_spec(preset, "hyla", depth=d) for d in (shallow, deep)},
                **_latent_common(preset))


def _figA8(preset: str) -> dict:
    return dict(spec=scaling_spec(preset, "hyla"), methods=METHODS, specs=base_specs(preset),
                samples_per_rule={"smoke": 4, "quick": 24, "gpu": 32, "paper": 32}[preset],
                **_latent_common(preset))


def _tabA1(preset: str) -> dict:
    ablate = preset == "gpu"
    methods = ("linear", "hyla") if preset == "smoke" else tuple(MIXERS)
    return dict(methods=methods, all_methods=tuple(MIXERS), specs=base_specs(preset, ablate, methods),
                paper=PAPER_TABLE_A1_SRAVEN, paper_not_implemented=PAPER_TABLE_A1_SRAVEN_NOT_IMPLEMENTED,
                quick_shows_effect=QUICK_SHOWS_EFFECT, quick_note=QUICK_SEARCH_NOTE)


for _name, _fn in {
    "fig03_sraven_task": _fig03,
    "fig04_sraven_scaling": _fig04,
    "fig05_sraven_latents": _fig05,
    "figA4_sraven_training": _figA4,
    "figA5_sraven_heldout_fraction": _figA5,
    "figA6_sraven_depth_latents": _figA6,
    "figA8_sraven_codes": _figA8,
    "tabA1_sraven_ablations": _tabA1,
}.items():
    register(_name, {p: _fn(p) for p in PRESETS})
