"""What a training run optimises and measures, per task.

An objective knows how to build its task for a seed, draw batches, read predictions off the model's
outputs, and turn predictions into a loss and metrics.  Evaluation splits are named by meaning: the
metric prefix ``heldout`` is the paper's "OOD" (held-out combinations), ``unknown_terms`` the
fuzzy-logic control (combinations of terms never trained on).

Register further tasks with :func:`register_objective`.
"""

from __future__ import annotations

from typing import Any, Callable

import equinox as eqx
import jax
import jax.numpy as jnp

from hyla import metrics
from hyla.transformer import ModelConfig

_REGISTRY: dict[str, Callable[..., "Objective"]] = {}


def register_objective(name: str):
    def deco(cls):
        _REGISTRY[name] = cls
        cls.name = name
        return cls

    return deco


def make_objective(task: str, **task_args) -> "Objective":
    if task not in _REGISTRY:
        _load_builtin()
    if task not in _REGISTRY:
        raise ValueError(f"task={task!r} is unknown; allowed: {sorted(_REGISTRY)}")
    return _REGISTRY[task](**task_args)


def _load_builtin():
    import importlib

    for mod in ("hyla.lm", "hyla.tasks.anchor", "hyla.tasks.exchangeable"):
        try:
            importlib.import_module(mod)
        except ModuleNotFoundError:
            pass


class Objective:
    """Base class: subclasses set ``splits`` and implement the task-specific pieces."""

    name: str = ""
    splits: dict[str, str] = {}  # metric prefix -> task split

    def __init__(self, **task_args):
        self.task_args = task_args

    def make_task(self, seed: int) -> eqx.Module:
        raise NotImplementedError

    def check_model(self, cfg: ModelConfig) -> None:
        """Raise ValueError when the model cannot read this task's sequences."""

    @staticmethod
    def check_seq_len(cfg: ModelConfig, seq_len: int, detail: str = "") -> None:
        """Raise ValueError unless the model reads sequences of the task's length ``seq_len``."""
        if cfg.seq_len != seq_len:
            raise ValueError(f"model seq_len={cfg.seq_len}; allowed: seq_len={seq_len}, the length "
                             f"this task produces{detail}")

    def sample(self, task, key, batch_size: int, split: str):
        return task.sample(key, batch_size, split)

    def inputs(self, batch):
        return batch.x

    def predict(self, model, batch, *, key=None, inference=True):
        """Model outputs at the positions that are scored (batched)."""
        raise NotImplementedError

    def loss(self, pred, batch) -> jax.Array:
        raise NotImplementedError

    def metrics(self, pred, batch) -> dict[str, jax.Array]:
        raise NotImplementedError

    def eval_metrics(self, prefix: str, pred, batch) -> dict[str, jax.Array]:
        return {f"{prefix}_{k}": v for k, v in self.metrics(pred, batch).items()}

    def forward(self, model, batch, *, key=None, inference=True):
        """Full outputs [B, T, O] and codes [B, L, H, T, T]; one dropout key shared by the batch."""
        return jax.vmap(lambda x: model(x, key=key, inference=inference))(self.inputs(batch))


@register_objective("logic")
class LogicObjective(Objective):
    """Fuzzy-logic regression: MSE at the query token; official and pooled R^2."""

    splits = {"train": "train", "heldout": "heldout_combos", "unknown_terms": "unknown_terms"}

    def make_task(self, seed: int):
        from hyla.tasks.logic import FuzzyLogic

        return FuzzyLogic(**self.task_args, seed=seed)

    def check_model(self, cfg: ModelConfig) -> None:
        seq_len = self.task_args.get("seq_len", 16)
        num_variables = self.task_args.get("num_variables", 4)
        self.check_seq_len(cfg, seq_len)
        if cfg.token_dim != num_variables + 1 or cfg.output_dim != 1:
            raise ValueError(
                f"token_dim={cfg.token_dim}, output_dim={cfg.output_dim}; "
                f"allowed: token_dim={num_variables + 1}, output_dim=1"
            )

    def predict(self, model, batch, *, key=None, inference=True):
        out, _ = self.forward(model, batch, key=key, inference=inference)
        return out[:, -1, 0]

    def loss(self, pred, batch):
        return metrics.mse(pred, batch.y)

    def metrics(self, pred, batch):
        return {
            "r2": metrics.r2_per_sequence(pred, batch.y, batch.base_var),
            "pooled_r2": metrics.r2_pooled(pred, batch.y),
            "mse": metrics.mse(pred, batch.y),
        }


@register_objective("raven")
class RavenObjective(Objective):
    """sRAVEN: K 8-way classifications at the last K tokens; all-features accuracy."""

    splits = {"train": "train", "heldout": "heldout_combos"}

    def make_task(self, seed: int):
        from hyla.tasks.raven import SymbolicRaven

        return SymbolicRaven(**self.task_args, seed=seed)

    @property
    def num_features(self) -> int:
        return self.task_args.get("num_features", 4)

    def check_model(self, cfg: ModelConfig) -> None:
        k, f = self.num_features, self.task_args.get("num_values", 8)
        self.check_seq_len(cfg, 9 * k, f" (9 panels x num_features={k} tokens)")
        if cfg.token_dim != f or cfg.output_dim != f:
            raise ValueError(
                f"token_dim={cfg.token_dim}, output_dim={cfg.output_dim}; allowed: both {f}"
            )

    def predict(self, model, batch, *, key=None, inference=True):
        out, _ = self.forward(model, batch, key=key, inference=inference)
        return out[:, -self.num_features :, :]

    def loss(self, pred, batch):
        return metrics.cross_entropy(pred, batch.y)

    def metrics(self, pred, batch):
        return {
            "accuracy": metrics.accuracy_all_features(pred, batch.y),
            "feature_accuracy": metrics.accuracy_per_feature(pred, batch.y),
            "ce": metrics.cross_entropy(pred, batch.y),
        }


def stack_tasks(tasks: list[Any]):
    """Stack per-seed tasks (eqx Modules with array split tables) along a leading seed axis."""
    return jax.tree.map(lambda *xs: jnp.stack(xs), *tasks)
