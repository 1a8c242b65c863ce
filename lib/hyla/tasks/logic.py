"""Fuzzy-logic in-context regression task (docs/methods.md#fuzzy-logic).

Variables x ∈ [0,1]^L, Zadeh operators AND = min, OR = max, NOT x = 1 − x.
A *term* is a full minterm c ∈ {0,1}^L with value

    T_c(x) = min_j ℓ_j,   ℓ_j = x_j if c_j = 1 else 1 − x_j,

enumerated in ``itertools.product([0, 1], repeat=L)`` order (index 0 = all negated,
index 2^L − 1 = all positive).  A *task* is a set of K distinct terms combined by OR,
f(x) = max_{c ∈ task} T_c(x).

Splits (docs/methods.md#fuzzy-logic-splits; names by meaning, docs/methods.md#official-code-conventions):

* the last ⌊2^L · unknown_fraction⌋ terms are *unknown* (never used for training);
* ``unknown_terms``  = all K-subsets of unknown terms (the paper's negative control,
  the official code's ``ood`` split);
* the K-subsets of known terms (``itertools.combinations`` order) are permuted with
  ``jax.random.PRNGKey(seed)``; the first ⌊N_in · heldout_fraction⌋ form
  ``heldout_combos`` (the paper's "OOD", official ``test``), the rest ``train``.

A sequence holds T = ``seq_len`` examples (x_t, f(x_t)) of one task; token t is
concat(x_t, y_t) ∈ R^{L+1} with the last token's target zeroed (the query).
``sample`` takes all its randomness from ONE ``jax.random.bits`` draw (fast to compile):
same distributions as the official generator, not the same random stream.  The split
shuffle and the fixed inputs do reproduce the official ones (PRNGKey(seed)).
"""

from __future__ import annotations

import functools
import itertools
import math
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int, PRNGKeyArray

from hyla.tasks.splits import ShuffledSplits

SPLITS = ("train", "heldout_combos", "unknown_terms")
INPUT_DISTS = ("uniform", "fixed_context", "fixed_query")


@functools.lru_cache(maxsize=None)
def term_matrix(num_variables: int) -> Int[np.ndarray, "2**L L"]:
    """All 2^L binary terms c, row i = i-th element of ``product([0,1], repeat=L)``."""
    return np.array(list(itertools.product([0, 1], repeat=num_variables)), dtype=np.int32)


def unit_float(bits: Array) -> Float[Array, "..."]:
    """uint32 random bits -> float32 uniform on [0, 1) (same construction as jax.random.uniform)."""
    mantissa = jnp.right_shift(bits, jnp.uint32(32 - 23)) | jnp.uint32(0x3F800000)
    return jax.lax.bitcast_convert_type(mantissa, jnp.float32) - 1.0


def term_bits(terms: Int[Array, "*batch K"], num_variables: int) -> Int[Array, "*batch K L"]:
    """Binary (K × L) latent matrix of each task: row k = bits of term ``terms[..., k]``."""
    return jnp.asarray(term_matrix(num_variables))[terms]


def evaluate_terms(
    bits: Int[Array, "*batch K L"], inputs: Float[Array, "*batch T L"]
) -> Float[Array, "*batch T"]:
    """f(x) = max_k min_j (x_j if c_kj else 1 − x_j), for every input x_t of the sequence."""
    x = inputs[..., None, :, :]  # [*batch, 1, T, L]
    lit = jnp.where(bits[..., :, None, :] > 0, x, 1.0 - x)  # [*batch, K, T, L]
    return jnp.max(jnp.min(lit, axis=-1), axis=-2)


@jax.jit
def evaluate(terms_idx: Int[Array, "*batch K"], inputs: Float[Array, "*batch T L"]) -> Float[Array, "*batch T"]:
    """Zadeh DNF of the tasks given by term indices, evaluated on ``inputs``."""
    return evaluate_terms(term_bits(terms_idx, inputs.shape[-1]), inputs)


def terms_to_multi_hot(terms: Int[Array, "*batch K"], num_terms_total: int) -> Float[Array, "*batch N"]:
    """Multi-hot encoding m ∈ {0,1}^{2^L} with m_i = 1 iff term i belongs to the task."""
    return jnp.max(jax.nn.one_hot(terms, num_terms_total, dtype=jnp.float32), axis=-2)


class LogicBatch(NamedTuple):
    """One batch of fuzzy-logic sequences (B sequences of T examples, L variables, K terms)."""

    x: Float[Array, "B T L+1"]  # concat(inputs, targets), last target zeroed
    y: Float[Array, " B"]  # target of the query (last) token
    inputs: Float[Array, "B T L"]
    targets: Float[Array, "B T"]
    terms: Int[Array, "B K"]  # term indices of each sequence's task (sorted)
    base_var: Float[Array, " B"]  # population variance of the T targets (R² baseline)


def split_sizes(
    num_variables: int, num_terms: int, heldout_fraction: float, unknown_fraction: float
) -> dict[str, int]:
    """Sizes of the three splits implied by the enumeration rule (no validation)."""
    n_total = 2**num_variables
    n_unknown = int(n_total * unknown_fraction)
    n_in = math.comb(n_total - n_unknown, num_terms)
    n_heldout = int(n_in * heldout_fraction)
    return {
        "train": n_in - n_heldout,
        "heldout_combos": n_heldout,
        "unknown_terms": math.comb(n_unknown, num_terms),
    }


def _validate(num_variables, num_terms, heldout_fraction, unknown_fraction, seq_len) -> None:
    if not (isinstance(num_variables, (int, np.integer)) and num_variables >= 1):
        raise ValueError(f"num_variables must be an integer >= 1, got {num_variables!r}")
    if not (0.0 <= unknown_fraction < 1.0):
        raise ValueError(f"unknown_fraction must be in [0, 1), got {unknown_fraction!r}")
    n_total = 2**num_variables
    n_known = n_total - int(n_total * unknown_fraction)
    if not (isinstance(num_terms, (int, np.integer)) and num_terms >= 1):
        raise ValueError(f"num_terms must be an integer in [1, {n_known}], got {num_terms!r}")
    if num_terms > n_known:
        raise ValueError(
            f"unknown_fraction={unknown_fraction} leaves {n_known} known terms, fewer than "
            f"num_terms={num_terms}: num_terms must be in [1, {n_known}] or unknown_fraction smaller"
        )
    if not (0.0 <= heldout_fraction < 1.0):
        raise ValueError(f"heldout_fraction must be in [0, 1), got {heldout_fraction!r}")
    sizes = split_sizes(num_variables, num_terms, heldout_fraction, unknown_fraction)
    if sizes["train"] < 1:
        raise ValueError(f"heldout_fraction={heldout_fraction} leaves no training combination; use a smaller value in [0, 1)")
    if not (isinstance(seq_len, (int, np.integer)) and seq_len >= 2):
        raise ValueError(f"seq_len must be an integer >= 2 (context + query), got {seq_len!r}")


@functools.partial(jax.jit, static_argnums=(1, 2))
def _fixed_inputs(key, seq_len: int, num_variables: int):
    """Fixed context [T-1, L] and query [L] inputs, both drawn from PRNGKey(seed) itself as in
    the official code (shapes [1, T-1, L] and [1, 1, L] there: same bits)."""
    return jax.random.uniform(key, (seq_len - 1, num_variables)), jax.random.uniform(key, (num_variables,))


class FuzzyLogic(ShuffledSplits, eqx.Module):
    """Fuzzy-logic task family with its splits (docs/methods.md#fuzzy-logic); stackable across seeds.

    Configuration values are static; split tables and fixed inputs are arrays, so tasks
    with different seeds can be stacked with ``jax.tree.map(lambda *a: jnp.stack(a), *tasks)``
    and ``sample`` can be vmapped over the stack.  ``seed`` is stored as an int32 array
    for the same reason.
    """

    num_variables: int = eqx.field(static=True)
    num_terms: int = eqx.field(static=True)
    heldout_fraction: float = eqx.field(static=True)
    unknown_fraction: float = eqx.field(static=True)
    seq_len: int = eqx.field(static=True)
    seed: Int[Array, ""]
    # all K-subsets of known terms, seed-shuffled: heldout_combos first, then train (hyla.tasks.splits)
    shuffled_combos: Int[Array, "n_in K"]
    num_heldout: Int[Array, ""]
    unknown_terms: Int[Array, "n_unknown K"]
    fixed_context: Float[Array, "T-1 L"]  # context inputs of input_dist="fixed_context"
    fixed_query: Float[Array, " L"]  # query input of input_dist="fixed_query"

    def __init__(
        self,
        num_variables: int = 4,
        num_terms: int = 2,
        heldout_fraction: float = 0.5,
        unknown_fraction: float = 0.25,
        seq_len: int = 16,
        seed: int = 0,
    ):
        _validate(num_variables, num_terms, heldout_fraction, unknown_fraction, seq_len)
        self.num_variables = int(num_variables)
        self.num_terms = int(num_terms)
        self.heldout_fraction = float(heldout_fraction)
        self.unknown_fraction = float(unknown_fraction)
        self.seq_len = int(seq_len)
        self.seed = jnp.asarray(seed, dtype=jnp.int32)

        n_total = 2**num_variables
        n_known = n_total - int(n_total * unknown_fraction)
        k = num_terms
        combos_in = np.array(list(itertools.combinations(range(n_known), k)), np.int32).reshape(-1, k)
        combos_unknown = np.array(list(itertools.combinations(range(n_known, n_total), k)), np.int32)
        key = jax.random.PRNGKey(seed)
        order = np.asarray(jax.random.permutation(key, len(combos_in)))
        shuffled = combos_in[order]  # == jax.random.permutation(key, combos, axis=0)
        self.fixed_context, self.fixed_query = _fixed_inputs(key, seq_len, num_variables)
        self.shuffled_combos = jnp.asarray(shuffled)
        self.num_heldout = jnp.asarray(int(len(combos_in) * heldout_fraction), dtype=jnp.int32)
        self.unknown_terms = jnp.asarray(combos_unknown.reshape(-1, k))

    @property
    def num_terms_total(self) -> int:
        """2^L, the number of possible terms."""
        return 2**self.num_variables

    def split_size(self, split: str) -> int:
        """Number of combinations in ``split`` (from the static configuration)."""
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        return split_sizes(self.num_variables, self.num_terms, self.heldout_fraction,
                           self.unknown_fraction)[split]

    @property
    def splits(self) -> dict[str, Int[Array, "n K"]]:
        """{"train", "heldout_combos", "unknown_terms"} -> term-index table [n, K] (unstacked task)."""
        return {"train": self.train, "heldout_combos": self.heldout_combos, "unknown_terms": self.unknown_terms}

    @eqx.filter_jit
    def sample(
        self,
        key: PRNGKeyArray,
        batch_size: int,
        split: str = "train",
        input_dist: str = "uniform",
    ) -> LogicBatch:
        """Sample B sequences: tasks uniform with replacement from ``split``, x_t ~ U[0,1]^L.

        Compiled on its own (``eqx.filter_jit``; Python ints/strings are static) and traceable
        inside ``jax.jit`` / ``jax.vmap`` over a stack of tasks.

        ``input_dist="fixed_context"`` replaces the T−1 context inputs by ``self.fixed_context``,
        ``"fixed_query"`` the query input by ``self.fixed_query`` (same for every sequence).
        """
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        if input_dist not in INPUT_DISTS:
            raise ValueError(f"input_dist must be one of {INPUT_DISTS}, got {input_dist!r}")
        if self.split_size(split) == 0:
            raise ValueError(f"split {split!r} is empty for this configuration; choose another split")
        T, L = self.seq_len, self.num_variables
        # One threefry draw for everything (compiles ~3x faster than split + randint + uniform).
        bits = jax.random.bits(key, (batch_size, 1 + T * L), jnp.uint32)
        if split == "unknown_terms":  # modulo bias < n / 2^32
            terms = self.unknown_terms[(bits[:, 0] % self.unknown_terms.shape[-2]).astype(jnp.int32)]
        else:  # one program for every held-out fraction (hyla.tasks.splits)
            terms = self.draw_combos(bits[:, 0], split)
        inputs = unit_float(bits[:, 1:]).reshape(batch_size, T, L)
        if input_dist == "fixed_context":
            ctx = jnp.broadcast_to(self.fixed_context, (batch_size, T - 1, L))
            inputs = jnp.concatenate([ctx, inputs[:, -1:]], axis=1)
        elif input_dist == "fixed_query":
            query = jnp.broadcast_to(self.fixed_query, (batch_size, 1, L))
            inputs = jnp.concatenate([inputs[:, :-1], query], axis=1)
        targets = evaluate(terms, inputs)
        x = jnp.concatenate([inputs, targets[..., None]], axis=-1).at[:, -1, -1].set(0.0)
        return LogicBatch(
            x=x,
            y=targets[:, -1],
            inputs=inputs,
            targets=targets,
            terms=terms,
            base_var=jnp.var(targets, axis=-1),
        )
