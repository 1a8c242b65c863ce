"""Held-out splits stored as ONE shuffled table (shared by the fuzzy-logic and sRAVEN tasks).

A task's combinations (term pairs, rule multisets) are shuffled with the seed; the held-out split is
the first ``num_heldout`` rows and the training split the rest.  Keeping the whole table (same shape
for every held-out fraction) with the split point as an array makes runs at different held-out
fractions compile to the same program; the rows drawn are exactly those of two separate tables.
"""

from __future__ import annotations

import jax.numpy as jnp
from jaxtyping import Array, Int, UInt


class ShuffledSplits:
    """Mixin for an ``eqx.Module`` with fields ``shuffled_combos`` [n, K] and ``num_heldout`` (int32
    array) and a method ``split_size(split)`` computed from its static configuration."""

    @property
    def heldout_combos(self) -> Int[Array, "n_heldout K"]:
        """Held-out combinations (the paper's "OOD"): the first rows of ``shuffled_combos``."""
        return self.shuffled_combos[..., : self.split_size("heldout_combos"), :]

    @property
    def train(self) -> Int[Array, "n_train K"]:
        """Training combinations: the rows of ``shuffled_combos`` after the held-out ones."""
        return self.shuffled_combos[..., self.split_size("heldout_combos"):, :]

    def draw_combos(self, bits: UInt[Array, " B"], split: str) -> Int[Array, "B K"]:
        """Rows of ``split`` ("train" or "heldout_combos"), uniform: row = offset + bits mod n
        (modulo bias < n / 2^32), with n and the offset arrays."""
        n_all = jnp.uint32(self.shuffled_combos.shape[-2])
        n_held = self.num_heldout.astype(jnp.uint32)
        if split == "heldout_combos":
            n, offset = n_held, 0
        elif split == "train":
            n, offset = n_all - n_held, self.num_heldout
        else:
            raise ValueError(f"split={split!r}; allowed: 'train', 'heldout_combos'")
        return self.shuffled_combos[(bits % n).astype(jnp.int32) + offset]
