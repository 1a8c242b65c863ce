"""Fig. 6 language modelling: softmax vs linear vs HYLA as causal LMs on an offline corpus.

The paper trains ~50M-parameter models on C4 for 130B tokens (paper Fig. 6,
docs/methods.md#language-modelling); that corpus is not reachable offline, so every tier here trains
on a local text file (default: CPython's ``pydoc_data.topics``, character level) -- a qualitative
substitute, labelled as such.

* ``quick`` (docs/methods.md#figures): 2 layers, D 64, 4 heads (d_k = d_v = 16), MLP 128, seq 64, batch 32,
  lr 3e-3, 400 steps, 3 vmapped seeds.
* ``gpu`` (docs/methods.md#figures): 4 layers, D 256, 8 heads, seq 128, batch 64, 5 000 steps, 3 seeds.
* ``paper``: the C4 model as far as known (paper Table A3: 6 layers, D 512, 8 heads,
  kqv_dim 64 per head, MLP 2048, batch 256); the corpus is substituted (vocabulary = the corpus's
  characters, not SentencePiece 32k), sequence length 512 and the step count (130B tokens /
  (256 x 512)) are assumptions, lr / wd / warmup follow the repository's WikiText config.

Choices where the paper is silent: GELU MLP (the official LM configs use SwiGLU, the C4 model is
unknown), T5 relative-position bias (the C4 runs used rotary embeddings, not implemented here),
attention dropout 0.1 (repository WikiText config), tied embedding head scaled by 1/sqrt(D).
"""

from __future__ import annotations

from hyla.presets import register
from hyla.train import RunSpec, TrainConfig
from hyla.transformer import ModelConfig

METHODS = ("softmax", "linear", "hyla")
LEVEL = "char"

MODELS = {
    "smoke": dict(num_layers=1, emb_dim=16, num_heads=2, qk_dim=8, v_dim=8, mlp_dim=32, seq_len=16),
    "quick": dict(num_layers=2, emb_dim=64, num_heads=4, qk_dim=64, v_dim=64, mlp_dim=128,
                  seq_len=64),
    "gpu": dict(num_layers=4, emb_dim=256, num_heads=8, qk_dim=256, v_dim=256, mlp_dim=1024,
                seq_len=128),
    "paper": dict(num_layers=6, emb_dim=512, num_heads=8, qk_dim=512, v_dim=512, mlp_dim=2048,
                  seq_len=512),
}
TRAIN = {
    "smoke": TrainConfig(steps=12, batch_size=8, lr=3e-3, warmup_steps=2, eval_every=6,
                         eval_size=32, eval_batch_size=32),
    "quick": TrainConfig(steps=400, batch_size=32, lr=3e-3, weight_decay=0.1, warmup_steps=50,
                         eval_every=100, eval_size=512, eval_batch_size=256),
    "gpu": TrainConfig(steps=5000, batch_size=64, lr=1e-3, weight_decay=0.1, warmup_steps=200,
                       eval_every=250, eval_size=2048, eval_batch_size=512),
    # 130e9 tokens / (256 sequences x 512 tokens) = 991 821 steps (sequence length assumed)
    "paper": TrainConfig(steps=991_821, batch_size=256, lr=1e-3, weight_decay=0.1,
                         warmup_steps=1000, eval_every=10_000, eval_size=8192,
                         eval_batch_size=512),
}
SEEDS = {"smoke": (0,), "quick": (0, 1, 2), "gpu": (0, 1, 2), "paper": (0, 1, 2)}


def lm_spec(method: str, preset: str, corpus: str = "", level: str = LEVEL,
            train: TrainConfig | None = None, seeds: tuple[int, ...] | None = None,
            **model_overrides) -> RunSpec:
    """A causal LM run on ``corpus`` ("" = pydoc_data.topics) at ``preset``'s model size.

    The vocabulary size comes from the corpus; the spec carries the corpus's fingerprint, so a
    changed file is a new run (and a stale cache entry is never reused).
    """
    from hyla import lm

    _, vocab, fingerprint = lm.encoded_corpus(corpus, level)
    sizes = dict(MODELS[preset])
    sizes.update(model_overrides)
    cfg = ModelConfig(**sizes, mixer=method, token_dim=None, vocab_size=vocab, output_dim=None,
                      causal=True)
    task = dict(corpus=corpus, level=level, seq_len=cfg.seq_len, validation_fraction=0.1,
                fingerprint=fingerprint)
    return RunSpec("lm", task, cfg, train or TRAIN[preset],
                   tuple(SEEDS[preset] if seeds is None else seeds))


def _fig06(preset: str) -> dict:
    return dict(
        methods=METHODS,
        level=LEVEL,
        specs={m: lm_spec(m, preset) for m in METHODS},
        paper=dict(corpus="C4", params="~50M", tokens="130B", vocab="SentencePiece 32k",
                   position="rotary", hardware="16 TPU v5e, 72-100 h per run"),
    )


register("fig06_language_model", {p: _fig06(p) for p in ("smoke", "quick", "gpu", "paper")})
