"""Losses and metrics of the official runs (docs/methods.md#losses-and-metrics).

Fuzzy logic (prediction = output at the query token):
    official R^2 = mean_b [ 1 - (yhat_b - y_b)^2 / var_t(targets_b) ]   (per-sequence baseline)
    pooled R^2   = 1 - sum_b (yhat_b - y_b)^2 / sum_b (y_b - mean(y))^2
sRAVEN (K 8-way classifications at the last K positions):
    accuracy = fraction of problems with ALL K features right; feature accuracy = per feature.
"""

from __future__ import annotations

import jax.numpy as jnp
import optax
from jaxtyping import Array, Float, Int


def mse(pred: Float[Array, " B"], y: Float[Array, " B"]) -> Float[Array, ""]:
    return jnp.mean(jnp.square(pred - y))


def r2_per_sequence(
    pred: Float[Array, " B"], y: Float[Array, " B"], base_var: Float[Array, " B"]
) -> Float[Array, ""]:
    """The official fuzzy-logic R^2: a mean of per-sequence ratios (noisy, can be very negative)."""
    return jnp.mean(1.0 - jnp.square(pred - y) / base_var)


def r2_pooled(pred: Float[Array, " B"], y: Float[Array, " B"]) -> Float[Array, ""]:
    """R^2 with the variance of the query targets over all sequences as baseline."""
    return 1.0 - jnp.sum(jnp.square(pred - y)) / jnp.sum(jnp.square(y - jnp.mean(y)))


def cross_entropy(logits: Float[Array, "B K F"], y: Int[Array, "B K"]) -> Float[Array, ""]:
    """Mean softmax cross-entropy over features and batch."""
    return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, y))


def accuracy_all_features(logits: Float[Array, "B K F"], y: Int[Array, "B K"]) -> Float[Array, ""]:
    """Fraction of problems whose K features are all predicted right (the paper's accuracy)."""
    return jnp.mean(jnp.all(jnp.argmax(logits, -1) == y, axis=-1))


def accuracy_per_feature(logits: Float[Array, "B K F"], y: Int[Array, "B K"]) -> Float[Array, ""]:
    return jnp.mean(jnp.argmax(logits, -1) == y)


def next_token_loss(logits: Float[Array, "B T V"], y: Int[Array, "B T"]) -> Float[Array, ""]:
    return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, y))

