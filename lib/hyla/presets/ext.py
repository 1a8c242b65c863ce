"""Extensions beyond the paper (RELATED.md): ext01 init rate (§2-§3), ext02 exchangeability (§4).

ext01 -- "initialisation decides reasoning vs memorising" on the anchor composite-function task
(Zhang et al., NeurIPS 2024): single-head, post-LN, learned absolute positions, causal, vocabulary
head, every kernel and the embedding drawn with std fan_in^-gamma (``init_rate``).

* ``quick``: the both-unseen variant ((3, 4) and (4, 3) never trained on; App. E / complexity
  control), the pilot's reduced model with a narrower MLP (2 layers, D 64, d_k = d_v = 32, MLP 128),
  a 30 000-sequence training pool, batch 64, lr 2e-3, wd 0.01, 3 000 steps, gamma in
  {0.3, 0.5, 1.15} (std 0.29 / 0.125 / 0.008 at D 64), 2 vmapped seeds.
* ``gpu`` (estimated, not run here): width 400 (d_ff 1200, d_k = d_v = 200): the Fig. 2 phase
  diagram (main variant, gamma x depth) for softmax and, beyond both papers, linear attention and
  HYLA; the weight-decay axis of the complexity-control paper (both-unseen, gamma x wd).
* ``paper``: Fig. 2's grid as far as stated (depth 2-6, gamma 0.3-0.8, width 400, batch 2048,
  900 000 sequences x 210 epochs, lr picked from 9 values in [1e-4, 3e-4], wd 0.01, 3 seeds) and the
  complexity-control heatmap (gamma 0.40-0.80 x wd {0, 0.01, 0.1, 1}); that paper's own model
  (10 layers x 10 heads, pre-LN, D 640) is not reproduced: the grid uses the Fig. 2 model.

ext02 -- exchangeable tokens given a latent variable (Zhang, Liu, Cai, Wang, Wang 2022): a
4-component mixture of categoricals over 8 symbols, exact Bayes posterior; attention models read
the posterior off a READ token (non-causal, no positions, lengths 1..64 padded).
"""

from __future__ import annotations

from hyla.presets import register
from hyla.train import RunSpec, TrainConfig
from hyla.transformer import ModelConfig

# ------------------------------------------------------------------------------------------------
# ext01: init rate on the anchor task

BOTH_UNSEEN = ((3, 4), (4, 3))
MAIN_UNSEEN = ((4, 3),)
ANCHOR_VOCAB = 201  # the official default

ANCHOR_MODELS = {
    "smoke": dict(emb_dim=16, qk_dim=8, v_dim=8, mlp_dim=32),
    "quick": dict(emb_dim=64, qk_dim=32, v_dim=32, mlp_dim=128),  # the pilot's, MLP 256 -> 128
    "gpu": dict(emb_dim=400, qk_dim=200, v_dim=200, mlp_dim=1200),  # the paper's App. A
    "paper": dict(emb_dim=400, qk_dim=200, v_dim=200, mlp_dim=1200),
}
ANCHOR_TRAIN = {
    "smoke": TrainConfig(steps=12, batch_size=16, lr=2e-3, weight_decay=0.01, warmup_steps=2,
                         eval_every=6, eval_size=64, eval_batch_size=64),
    "quick": TrainConfig(steps=3000, batch_size=64, lr=2e-3, weight_decay=0.01, warmup_steps=200,
                         eval_every=500, eval_size=512, eval_batch_size=512),
    "gpu": TrainConfig(steps=4000, batch_size=512, lr=5e-4, weight_decay=0.01, warmup_steps=200,
                       eval_every=500, eval_size=2048, eval_batch_size=1024),
    # 900 000 / 2048 = 439 batches per epoch x 210 epochs; warm-up 10 epochs; lr = the middle of
    # the paper's [1e-4, 3e-4] (the paper keeps the best of 9 learning rates per cell)
    "paper": TrainConfig(steps=92_190, batch_size=2048, lr=2e-4, weight_decay=0.01,
                         warmup_steps=4390, eval_every=4390, eval_size=8192, eval_batch_size=2048),
}
ANCHOR_POOL = {"smoke": 2048, "quick": 30_000, "gpu": 200_000, "paper": 900_000}
ANCHOR_SEEDS = {"smoke": (0,), "quick": (0, 1), "gpu": (0,), "paper": (0, 1, 2)}


def anchor_spec(preset: str, gamma: float | None, unseen=BOTH_UNSEEN, mixer: str = "softmax",
                depth: int = 2, weight_decay: float | None = None, **model_overrides) -> RunSpec:
    """One anchor-task run: single head, post-LN, learned positions, causal, vocabulary head."""
    sizes = dict(ANCHOR_MODELS[preset])
    sizes.update(model_overrides)
    cfg = ModelConfig(num_layers=depth, num_heads=1, mixer=mixer, seq_len=9, token_dim=None,
                      vocab_size=ANCHOR_VOCAB, output_dim=ANCHOR_VOCAB, attention_dropout=0.0,
                      causal=True, relative_position=False, learned_position=True, post_ln=True,
                      init_rate=gamma, **sizes)
    train = ANCHOR_TRAIN[preset]
    if weight_decay is not None:
        import dataclasses

        train = dataclasses.replace(train, weight_decay=weight_decay)
    task = dict(unseen_pairs=tuple(tuple(p) for p in unseen), heldout_pair=(4, 3),
                vocab_size=ANCHOR_VOCAB, pool_size=ANCHOR_POOL[preset])
    return RunSpec("anchor", task, cfg, train, ANCHOR_SEEDS[preset])


def _ext01(preset: str) -> dict:
    sweep_depth = 1 if preset == "smoke" else 2  # smoke: one layer, a pipeline check that compiles fast
    grids = {
        "smoke": dict(gammas=(0.5, 1.15), depths=(sweep_depth,), phase_gammas=(0.5, 1.15), mixers=("softmax",),
                      wd_gammas=(0.5,), weight_decays=(0.01,)),
        "quick": dict(gammas=(0.3, 0.5, 1.15)),
        # 28 runs (the wd 0.01 row is panel A's sweep): ~20-25 s each on an H100 (estimated)
        "gpu": dict(gammas=(0.3, 0.5, 0.7, 0.9), depths=(2, 3, 4), phase_gammas=(0.3, 0.5, 0.7, 0.9),
                    mixers=("softmax", "linear", "hyla"), extension_depths=(2,),
                    wd_gammas=(0.3, 0.5, 0.7, 0.9), weight_decays=(0.01, 1.0)),
        "paper": dict(gammas=(0.3, 0.4, 0.5, 0.6, 0.7, 0.8), depths=(2, 3, 4, 5, 6),
                      phase_gammas=(0.3, 0.4, 0.5, 0.6, 0.7, 0.8),
                      mixers=("softmax", "linear", "hyla"), extension_depths=(2, 3, 4, 5, 6),
                      wd_gammas=(0.40, 0.45, 0.50, 0.55, 0.60, 0.65, 0.70, 0.75, 0.80),
                      weight_decays=(0.0, 0.01, 0.1, 1.0)),
    }[preset]
    # panel A: held-out (4, 3) accuracy vs gamma, both pairs unseen (the pilot's robust protocol)
    sweep = {g: anchor_spec(preset, g, depth=sweep_depth) for g in grids["gammas"]}
    phase, wd = {}, {}
    if preset == "smoke":  # exercise the gpu panels with the sweep's runs (no extra training)
        phase = {("softmax", sweep_depth, g): sweep[g] for g in grids["phase_gammas"]}
        wd = {(g, w): sweep[g] for g in grids["wd_gammas"] for w in grids["weight_decays"]}
    elif preset in ("gpu", "paper"):
        for mixer in grids["mixers"]:
            depths = grids["depths"] if mixer == "softmax" else grids["extension_depths"]
            for d in depths:
                for g in grids["phase_gammas"]:
                    phase[(mixer, d, g)] = anchor_spec(preset, g, MAIN_UNSEEN, mixer, depth=d)
        wd_depth = 3 if preset == "paper" else 2  # App. E uses a 3-layer single-head model
        for g in grids["wd_gammas"]:
            for w in grids["weight_decays"]:
                wd[(g, w)] = anchor_spec(preset, g, BOTH_UNSEEN, depth=wd_depth, weight_decay=w)
    return dict(
        **grids, sweep=sweep, phase=phase, wd=wd,
        lr_grid=tuple(1e-4 + i * 2.5e-5 for i in range(9)) if preset == "paper"
        else (ANCHOR_TRAIN[preset].lr,),
        pilot=dict(small_init_heldout=(0.893, 0.939), standard_init_heldout=0.099,
                   small_init_std=0.0083, seen_accuracy=1.0),
    )


# ------------------------------------------------------------------------------------------------
# ext02: exchangeability and the latent posterior

EXCH_TASK = {
    "smoke": dict(num_latents=4, vocab=8, min_len=1, max_len=16, concentration=1.0),
    "quick": dict(num_latents=4, vocab=8, min_len=1, max_len=32, concentration=1.0),
    "gpu": dict(num_latents=4, vocab=8, min_len=1, max_len=256, concentration=1.0),
    "paper": dict(num_latents=4, vocab=8, min_len=1, max_len=256, concentration=1.0),
}
EXCH_MODELS = {
    "smoke": dict(num_layers=1, emb_dim=16, num_heads=2, qk_dim=8, v_dim=8, mlp_dim=32),
    "quick": dict(num_layers=2, emb_dim=32, num_heads=4, qk_dim=32, v_dim=32, mlp_dim=64),
    "gpu": dict(num_layers=2, emb_dim=64, num_heads=8, qk_dim=64, v_dim=64, mlp_dim=128),
    "paper": dict(num_layers=2, emb_dim=64, num_heads=8, qk_dim=64, v_dim=64, mlp_dim=128),
}
EXCH_TRAIN = {
    "smoke": TrainConfig(steps=12, batch_size=16, lr=3e-3, weight_decay=0.01, warmup_steps=2,
                         eval_every=6, eval_size=64, eval_batch_size=64),
    "quick": TrainConfig(steps=400, batch_size=32, lr=3e-3, weight_decay=0.01, warmup_steps=40,
                         eval_every=100, eval_size=512, eval_batch_size=256),
    "gpu": TrainConfig(steps=10_000, batch_size=256, lr=1e-3, weight_decay=0.01, warmup_steps=500,
                       eval_every=1000, eval_size=4096, eval_batch_size=1024),
    "paper": TrainConfig(steps=50_000, batch_size=256, lr=1e-3, weight_decay=0.01,
                         warmup_steps=1000, eval_every=5000, eval_size=16_384,
                         eval_batch_size=1024),
}
EXCH_SEEDS = {"smoke": (0,), "quick": (0, 1, 2), "gpu": (0, 1, 2), "paper": (0, 1, 2)}


def exchangeable_spec(preset: str, mixer: str) -> RunSpec:
    task = EXCH_TASK[preset]
    cfg = ModelConfig(**EXCH_MODELS[preset], mixer=mixer, seq_len=task["max_len"] + 1,
                      token_dim=None, vocab_size=task["vocab"] + 2,
                      output_dim=task["num_latents"], attention_dropout=0.0, causal=False,
                      relative_position=False, learned_position=False)
    return RunSpec("exchangeable", dict(task), cfg, EXCH_TRAIN[preset], EXCH_SEEDS[preset])


def _ext02(preset: str) -> dict:
    methods = ("softmax", "linear", "hyla")
    max_len = EXCH_TASK[preset]["max_len"]
    eval_lengths = tuple(L for L in (1, 2, 4, 8, 16, 32, 64, 128, 256) if L <= max_len)
    return dict(
        methods=methods,
        specs={m: exchangeable_spec(preset, m) for m in methods},
        eval_lengths=eval_lengths,
        # beyond the training lengths (no padding): does the learned model extrapolate in L?
        extrapolation_lengths=(2 * max_len, 4 * max_len),
        eval_size={"smoke": 32, "quick": 512, "gpu": 4096, "paper": 16_384}[preset],
        extrapolation_size={"smoke": 16, "quick": 128, "gpu": 1024, "paper": 4096}[preset],
        # the constructions with the right parameters: no training, lengths up to 4x max_len
        analytic_lengths=tuple(2 ** i for i in range(0, {"smoke": 4, "quick": 9, "gpu": 11,
                                                         "paper": 12}[preset])),
        analytic_size={"smoke": 32, "quick": 256, "gpu": 1024, "paper": 4096}[preset],
    )


register("ext01_init_rate", {p: _ext01(p) for p in ("smoke", "quick", "gpu", "paper")})
register("ext02_exchangeability", {p: _ext02(p) for p in ("smoke", "quick", "gpu", "paper")})
