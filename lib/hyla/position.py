"""Unidirectional T5-style relative-position bias (docs/methods.md#relative-positions).

For query i and key j, n = max(i - j, 0) (keys right of the query share bucket 0), m = n_b // 2:

    bucket(n) = n                                                         if n < m
              = min(m + floor(log(n/m + eps) / log(n_b/m) * (n_b - m)), n_b - 1)   otherwise

with n_b = num_buckets = max_distance (the official runs set both to the sequence length).  Each
layer owns a table B in R^{H x n_b}; beta_h(i, j) = B[h, bucket(i, j)].
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int, PRNGKeyArray


def relative_position_buckets(
    num_queries: int, num_keys: int, num_buckets: int, max_distance: int | None = None
) -> Int[np.ndarray, "Tq Tk"]:
    """Bucket index of every (query, key) pair, computed in float32 as the official code does."""
    max_distance = num_buckets if max_distance is None else max_distance
    i = np.arange(num_queries)[:, None]
    j = np.arange(num_keys)[None, :]
    n = np.maximum(i - j, 0)
    m = num_buckets // 2
    eps = np.finfo(np.float32).eps
    with np.errstate(divide="ignore"):
        large = m + (
            np.log(n.astype(np.float32) / np.float32(m) + eps)
            / np.float32(np.log(max_distance / m))
            * np.float32(num_buckets - m)
        ).astype(np.int32)
    large = np.minimum(large, num_buckets - 1)
    return np.where(n < m, n, large).astype(np.int32)


class RelativePositionBias(eqx.Module):
    """Per-layer bias table B [H, n_b], init Normal(0, 1/n_b) (flax's default embedding init)."""

    table: Float[Array, "H nb"]
    seq_len: int = eqx.field(static=True)

    def __init__(self, num_heads: int, seq_len: int, *, key: PRNGKeyArray):
        self.seq_len = seq_len
        self.table = jax.random.normal(key, (num_heads, seq_len)) / jnp.sqrt(seq_len)

    def __call__(self, length: int | None = None) -> Float[Array, "H T T"]:
        """beta[h, q, k] for the first ``length`` positions (default: seq_len).

        Written as a one-hot contraction rather than a gather: its backward pass is a matmul
        instead of a scatter-add, which is much faster on CPU.
        """
        t = self.seq_len if length is None else length
        buckets = relative_position_buckets(t, t, self.seq_len)
        onehot = np.eye(self.seq_len, dtype=np.float32)[buckets]  # [T, T, nb], a constant
        return jnp.einsum("hb,qkb->hqk", self.table, onehot)
