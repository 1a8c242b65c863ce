"""Builders of run specifications for the paper's tasks, at named model sizes."""

from __future__ import annotations

from hyla.train import RunSpec, TrainConfig
from hyla.transformer import ModelConfig

# Fuzzy logic (docs/methods.md#hyperparameters): 2 layers, D 128, 8 heads, d_k = d_v = 2, MLP 256.
LOGIC_MODELS = {
    "paper": dict(num_layers=2, emb_dim=128, num_heads=8, qk_dim=16, v_dim=16, mlp_dim=256),
    "cpu": dict(num_layers=2, emb_dim=64, num_heads=8, qk_dim=16, v_dim=16, mlp_dim=128),
    "smoke": dict(num_layers=1, emb_dim=32, num_heads=4, qk_dim=8, v_dim=8, mlp_dim=64),
}

# sRAVEN (docs/methods.md#hyperparameters): depth 4, width w multiplies heads/D/qk/v/MLP; d_k = d_v = 4.
def raven_model(depth: int = 4, width: int = 1) -> dict:
    return dict(num_layers=depth, emb_dim=128 * width, num_heads=16 * width, qk_dim=64 * width,
                v_dim=64 * width, mlp_dim=256 * width)


RAVEN_MODELS = {
    "paper": raven_model(4, 1),
    "cpu": dict(num_layers=2, emb_dim=64, num_heads=8, qk_dim=32, v_dim=32, mlp_dim=128),
    "smoke": dict(num_layers=2, emb_dim=32, num_heads=4, qk_dim=16, v_dim=16, mlp_dim=64),
}

# Official training settings (docs/methods.md#hyperparameters, #fuzzy-logic): batch 128, AdamW wd 0.1, attention dropout 0.1.
LOGIC_PAPER_TRAIN = TrainConfig(steps=50_000, batch_size=128, lr=1e-3, weight_decay=0.1,
                                warmup_steps=100, eval_every=10_000, eval_size=16_000,
                                eval_batch_size=500)
RAVEN_PAPER_TRAIN = TrainConfig(steps=156_250, batch_size=128, lr=1e-3, weight_decay=0.1,
                                warmup_steps=1000, eval_every=10_000, eval_size=51_200,
                                eval_batch_size=512)
PAPER_SEEDS = (0, 1, 2)


def logic_spec(
    method: str,
    num_examples: int = 16,
    heldout_fraction: float = 0.5,
    model: str | dict = "paper",
    train: TrainConfig = LOGIC_PAPER_TRAIN,
    seeds: tuple[int, ...] = PAPER_SEEDS,
    num_variables: int = 4,
    num_terms: int = 2,
    **model_overrides,
) -> RunSpec:
    """A fuzzy-logic run: ``num_examples`` in-context examples (= seq_len), a held-out fraction."""
    sizes = LOGIC_MODELS[model] if isinstance(model, str) else model
    cfg = ModelConfig(**sizes, mixer=method, seq_len=num_examples, token_dim=num_variables + 1,
                      output_dim=1, **model_overrides)
    task = dict(num_variables=num_variables, num_terms=num_terms,
                heldout_fraction=heldout_fraction, seq_len=num_examples)
    return RunSpec("logic", task, cfg, train, tuple(seeds))


def raven_spec(
    method: str,
    model: str | dict = "paper",
    train: TrainConfig = RAVEN_PAPER_TRAIN,
    seeds: tuple[int, ...] = PAPER_SEEDS,
    num_features: int = 4,
    num_values: int = 8,
    heldout_fraction: float = 0.25,
    permute_features: bool = True,
    **model_overrides,
) -> RunSpec:
    """An sRAVEN run with K = ``num_features`` features of ``num_values`` values."""
    sizes = RAVEN_MODELS[model] if isinstance(model, str) else model
    cfg = ModelConfig(**sizes, mixer=method, seq_len=9 * num_features, token_dim=num_values,
                      output_dim=num_values, **model_overrides)
    task = dict(num_features=num_features, num_values=num_values,
                heldout_fraction=heldout_fraction, permute_features=permute_features)
    return RunSpec("raven", task, cfg, train, tuple(seeds))
