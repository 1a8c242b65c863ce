"""Symbolic Raven (sRAVEN) task (docs/methods.md#sraven).

A problem is a 3×3 grid of panels, each panel a tuple of K features in {0..F−1}.
Feature k follows rule r_k along every ROW (3 independent rows; arithmetic mod F):

    0 constant         (a, a, a)
    1 progression+1    (s, s+1, s+2)
    2 progression+2    (s, s+2, s+4)
    3 progression-1    (s, s−1, s−2)
    4 progression-2    (s, s−2, s−4)
    5 addition         (a, b, a+b)
    6 difference       (a, b, a−b)
    7 distribute_three each row a random permutation of one 3-set of distinct values,
                       drawn once per (problem, feature)

With feature permutation, column c stores its features in the order π_c (the same for
all three rows of the column): slot s of column c holds original feature π_c(s).
Tokens: panels row-major, K one-hot(F) tokens per panel; the 9th panel's K tokens are
zero (queries); targets y = the stored features of the 9th panel.

Tasks = sorted multisets of K rules (``combinations_with_replacement``), shuffled with
``jax.random.key(seed)``; the first ⌊n · heldout_fraction⌋ are ``heldout_combos`` (the
paper's OOD split, official ``ood``), the rest ``train``.

All randomness of ``sample`` comes from ONE ``jax.random.bits`` draw (integers by modulo,
bias < n / 2^32; permutations by table lookup): same distributions as the official
generator, not the same random stream.
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
from jaxtyping import Array, Bool, Float, Int, PRNGKeyArray

from hyla.tasks.splits import ShuffledSplits

RULES = (
    "constant",
    "progression+1",
    "progression+2",
    "progression-1",
    "progression-2",
    "addition",
    "difference",
    "distribute_three",
)
SPLITS = ("train", "heldout_combos")
# the older spelling (docs/methods.md#official-code-conventions)
_SPLIT_ALIASES = {"heldout_rule_combos": "heldout_combos"}


class RavenBatch(NamedTuple):
    """One batch of sRAVEN problems (B problems, K features, F values)."""

    x: Float[Array, "B 9K F"]  # one-hot tokens, query tokens zero
    y: Int[Array, "B K"]  # stored features of the 9th panel
    panels: Int[Array, "B 3 3 K"]  # stored (permuted) feature values [row, col, slot]
    rules: Int[Array, "B K"]  # feature k (original order) follows rule rules[b, k]
    permutation: Int[Array, "B 3 K"]  # slot s of column c holds original feature permutation[b, c, s]


def rule_index(rule: str) -> int:
    """Index of a rule in ``RULES`` (the order of docs/methods.md#sraven-rules), e.g.
    ``rule_index("addition") == 5``."""
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}, got {rule!r}")
    return RULES.index(rule)


def slot_rules(batch: RavenBatch) -> Int[Array, "B K"]:
    """Rule followed by each query slot s: rules[b, permutation[b, 2, s]]."""
    return jnp.take_along_axis(batch.rules, batch.permutation[:, 2, :], axis=-1)


def draw_bits(key: PRNGKeyArray, *shapes: tuple[int, ...]) -> list[Array]:
    """Random uint32 arrays of the given shapes from ONE threefry call (fast to compile)."""
    sizes = [math.prod(shape) for shape in shapes]
    flat = jax.random.bits(key, (sum(sizes),), jnp.uint32)
    parts = jnp.split(flat, list(itertools.accumulate(sizes))[:-1])
    return [part.reshape(shape) for part, shape in zip(parts, shapes)]


def randint_from_bits(bits: Array, n: int | Array) -> Int[Array, "..."]:
    """Uniform integers in {0..n-1} (modulo bias < n / 2^32)."""
    return (bits % jnp.asarray(n, jnp.uint32)).astype(jnp.int32)


@functools.lru_cache(maxsize=None)
def _permutation_table(n: int) -> np.ndarray:
    return np.array(list(itertools.permutations(range(n))), dtype=np.int32)


def random_permutations(bits: Array, n: int) -> Int[Array, "*batch n"]:
    """A uniform random permutation of range(n) per element from bits [*batch, n].

    n ≤ 8: row ``bits[..., 0] mod n!`` of the ``itertools.permutations`` table (no sort, which is
    slow on CPU); larger n: argsort of the bits."""
    if n <= 8:
        table = jnp.asarray(_permutation_table(n))
        return table[randint_from_bits(bits[..., 0], table.shape[0])]
    return jnp.argsort(bits, axis=-1).astype(jnp.int32)


def distinct_triple(bits: Array, num_values: int) -> Int[Array, "*batch 3"]:
    """3 distinct values of {0..F−1}, uniform over ordered triples (skip-over construction)."""
    F = num_values
    v0 = randint_from_bits(bits[..., 0], F)
    v1 = randint_from_bits(bits[..., 1], F - 1)
    v1 = v1 + (v1 >= v0)
    lo, hi = jnp.minimum(v0, v1), jnp.maximum(v0, v1)
    v2 = randint_from_bits(bits[..., 2], F - 2)
    v2 = v2 + (v2 >= lo)
    v2 = v2 + (v2 >= hi)
    return jnp.stack([v0, v1, v2], axis=-1)


def _grid_bit_shapes(batch_shape: tuple[int, ...]) -> tuple[tuple[int, ...], ...]:
    return ((*batch_shape, 3), (*batch_shape, 3), (*batch_shape, 3), (*batch_shape, 3, 3))


def rule_grids(key: PRNGKeyArray, batch_shape: tuple[int, ...], num_values: int) -> Int[Array, "*batch 8 3 3"]:
    """One 3×3 grid [row, col] per rule (axis −3 indexes RULES), for every batch element."""
    return rule_grids_from_bits(*draw_bits(key, *_grid_bit_shapes(batch_shape)), num_values=num_values)


def rule_grids_from_bits(
    a_bits: Array, b_bits: Array, set_bits: Array, row_bits: Array, *, num_values: int
) -> Int[Array, "*batch 8 3 3"]:
    """Grids of all 8 rules from random bits (a, b: one value per row; set, row: distribute-three)."""
    F = num_values
    a, b = randint_from_bits(a_bits, F), randint_from_bits(b_bits, F)  # one start/first value per row
    batch_shape = a.shape[:-1]
    col = jnp.arange(3)
    const = jnp.broadcast_to(a[..., None], (*batch_shape, 3, 3))
    progs = [(a[..., None] + d * col) % F for d in (1, 2, -1, -2)]
    add = jnp.stack([a, b, (a + b) % F], axis=-1)
    sub = jnp.stack([a, b, (a - b) % F], axis=-1)
    # distribute-three: one 3-set of distinct values, each row an independent permutation of it
    three = jnp.broadcast_to(distinct_triple(set_bits, F)[..., None, :], (*batch_shape, 3, 3))
    dist = jnp.take_along_axis(three, random_permutations(row_bits, 3), axis=-1)
    return jnp.stack([const, *progs, add, sub, dist], axis=-3).astype(jnp.int32)


@functools.partial(jax.jit, static_argnums=1)
def _seeded_order(key, n: int):
    """Permutation of the rule multisets, jax.random.permutation(key(seed), n) as in the official code."""
    return jax.random.permutation(key, n)


def _validate(num_features, num_values, heldout_fraction) -> None:
    if not (isinstance(num_features, (int, np.integer)) and num_features >= 1):
        raise ValueError(f"num_features must be an integer >= 1, got {num_features!r}")
    if not (isinstance(num_values, (int, np.integer)) and num_values >= 3):
        raise ValueError(f"num_values must be an integer >= 3 (distribute_three needs 3 distinct values), got {num_values!r}")
    n = math.comb(len(RULES) + num_features - 1, num_features)
    if not (0.0 <= heldout_fraction < 1.0) or n - int(n * heldout_fraction) < 1:
        raise ValueError(
            f"heldout_fraction must be in [0, 1) and leave at least one training combination, got {heldout_fraction!r}"
        )


class SymbolicRaven(ShuffledSplits, eqx.Module):
    """sRAVEN task family with its splits (docs/methods.md#sraven); stackable across seeds.

    Measured ambiguity (K=4, F=8, permuted, seed 0, 3 × 4096 problems per split, ``ambiguous``;
    the checker agrees with a pure-Python brute force over whole grids, tests/test_tasks_raven.py):

    * ``criterion="all_features"`` (official checker: some correspondence under which EVERY
      feature admits a rule with a different answer): train 0.28 % ± 0.05 %, held-out
      0.22 % ± 0.04 % -- this is the paper's "< 0.5 % ambiguous".
    * ``criterion="any_feature"`` (another correspondence + rule assignment fits the 8 context
      panels and changes at least one answer feature): train 24.2 % ± 0.4 %, held-out 23.9 %.
      14.3 % already arise under the TRUE correspondence (e.g. difference rows with b ∈ {0, 4} also
      satisfy addition; distribute-three sets {a, b, a+b} ordered as sums; constant rows of 0 and
      progression+1 rows starting at 1 fit addition) and 12.8 % need a wrong correspondence
      (``permutation=`` given).  The generator follows docs/methods.md#sraven-rules exactly, so this
      is a property of the task: about a quarter of the problems cannot be answered with certainty
      from the context alone, and all-features accuracy is bounded below 100 %.
    """

    RULES = RULES

    num_features: int = eqx.field(static=True)
    num_values: int = eqx.field(static=True)
    heldout_fraction: float = eqx.field(static=True)
    permute_features: bool = eqx.field(static=True)
    seed: Int[Array, ""]
    # all rule multisets, seed-shuffled: heldout_combos first, then train (hyla.tasks.splits)
    shuffled_combos: Int[Array, "n K"]
    num_heldout: Int[Array, ""]

    def __init__(
        self,
        num_features: int = 4,
        num_values: int = 8,
        heldout_fraction: float = 0.25,
        permute_features: bool = True,
        seed: int = 0,
    ):
        _validate(num_features, num_values, heldout_fraction)
        self.num_features = int(num_features)
        self.num_values = int(num_values)
        self.heldout_fraction = float(heldout_fraction)
        self.permute_features = bool(permute_features)
        self.seed = jnp.asarray(seed, dtype=jnp.int32)
        combos = jnp.array(
            list(itertools.combinations_with_replacement(range(len(RULES)), num_features)), jnp.int32
        )
        order = _seeded_order(jax.random.key(seed), combos.shape[0])
        self.shuffled_combos = combos[order]
        self.num_heldout = jnp.asarray(int(combos.shape[0] * heldout_fraction), dtype=jnp.int32)

    def split_size(self, split: str) -> int:
        """Number of rule multisets in ``split`` (from the static configuration)."""
        split = _SPLIT_ALIASES.get(split, split)
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        n = self.shuffled_combos.shape[-2]
        n_heldout = int(n * self.heldout_fraction)
        return n_heldout if split == "heldout_combos" else n - n_heldout

    @property
    def splits(self) -> dict[str, Int[Array, "n K"]]:
        """{"train", "heldout_combos"} -> rule-multiset table [n, K] (rows sorted; unstacked task)."""
        return {"train": self.train, "heldout_combos": self.heldout_combos}

    @property
    def num_tokens_per_panel(self) -> int:
        return self.num_features

    @property
    def seq_len(self) -> int:
        """9K tokens: 8 context panels + K zero query tokens."""
        return 9 * self.num_features

    @eqx.filter_jit
    def sample(
        self,
        key: PRNGKeyArray,
        batch_size: int,
        split: str = "train",
        permute: bool | None = None,
    ) -> RavenBatch:
        """Sample B problems, rule multisets uniform with replacement from ``split``.

        Compiled on its own (``eqx.filter_jit``; Python ints/strings/bools are static) and
        traceable inside ``jax.jit`` / ``jax.vmap`` over a stack of tasks.
        """
        split = _SPLIT_ALIASES.get(split, split)
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        if self.split_size(split) == 0:
            raise ValueError(f"split {split!r} is empty (heldout_fraction={self.heldout_fraction})")
        permute = self.permute_features if permute is None else bool(permute)
        B, K, F = batch_size, self.num_features, self.num_values
        task_bits, perm_bits, *grid_bits = draw_bits(key, (B,), (B, 3, K), *_grid_bit_shapes((B, K)))
        rules = self.draw_combos(task_bits, split)  # [B, K]; one program for every fraction
        grids = rule_grids_from_bits(*grid_bits, num_values=F)  # [B, K, R, 3, 3]
        orig = jnp.take_along_axis(grids, rules[:, :, None, None, None], axis=2)[:, :, 0]  # [B, K, 3, 3]
        orig = jnp.moveaxis(orig, 1, -1)  # [B, row, col, K]
        if permute:
            perm = random_permutations(perm_bits, K)
        else:
            perm = jnp.broadcast_to(jnp.arange(K, dtype=jnp.int32), (B, 3, K))
        panels = jnp.take_along_axis(orig, jnp.broadcast_to(perm[:, None], (B, 3, 3, K)), axis=-1)
        x = jax.nn.one_hot(panels.reshape(B, 9 * K), F, dtype=jnp.float32).at[:, -K:].set(0.0)
        return RavenBatch(x=x, y=panels[:, 2, 2], panels=panels, rules=rules, permutation=perm)


# ---------------------------------------------------------------------------------------
# Ambiguity (docs/methods.md#sraven-permutation, #sraven-ambiguity): brute force over feature correspondences.
# ---------------------------------------------------------------------------------------

CRITERIA = ("any_feature", "all_features")


def triple_answer_sets(panels: Int[np.ndarray, "B 3 3 K"], num_values: int) -> Bool[np.ndarray, "B K K K F"]:
    """Answers allowed by any rule family for every aligned slot triple.

    ``A[b, s0, s1, s2, v]`` is True iff the 8-value sequence formed by slot s0 of column 0,
    s1 of column 1 and s2 of column 2 is explained by some rule (constant; progression
    ±1, ±2 mod F; addition; difference; distribute-three) whose answer for the 9th panel is v.
    """
    F = num_values
    p = np.asarray(panels, dtype=np.int64)
    B, _, _, K = p.shape
    shape = (B, 3, K, K, K)
    c0 = np.broadcast_to(p[:, :, 0, :, None, None], shape)
    c1 = np.broadcast_to(p[:, :, 1, None, :, None], shape)
    c2 = np.broadcast_to(p[:, :, 2, None, None, :], shape)
    r0, r1, r2 = c0[:, :2], c1[:, :2], c2[:, :2]  # the two complete rows  [B, 2, K, K, K]
    q0, q1 = c0[:, 2], c1[:, 2]  # the last row's two visible values      [B, K, K, K]
    fams = []  # (valid [B,K,K,K], answer [B,K,K,K])
    fams.append((((r0 == r1) & (r1 == r2)).all(1) & (q0 == q1), q0))
    for d in (1, 2, -1, -2):
        ok = (((r1 - r0) % F == d % F) & ((r2 - r1) % F == d % F)).all(1) & ((q1 - q0) % F == d % F)
        fams.append((ok, (q1 + d) % F))
    fams.append(((r2 == (r0 + r1) % F).all(1), (q0 + q1) % F))
    fams.append(((r2 == (r0 - r1) % F).all(1), (q0 - q1) % F))
    rows = np.sort(np.stack([r0, r1, r2], axis=2), axis=2)  # [B, 2, 3(sorted), K, K, K]
    distinct = (rows[:, 0, 0] < rows[:, 0, 1]) & (rows[:, 0, 1] < rows[:, 0, 2])
    same_set = (rows[:, 0] == rows[:, 1]).all(1)
    in_set0 = (q0[:, None] == rows[:, 0]).any(1)
    in_set1 = (q1[:, None] == rows[:, 0]).any(1)
    ok = distinct & same_set & (q0 != q1) & in_set0 & in_set1
    fams.append((ok, rows[:, 0].sum(1) - q0 - q1))
    values = np.arange(F)
    out = np.zeros((B, K, K, K, F), dtype=bool)
    for ok, ans in fams:
        out |= ok[..., None] & (ans[..., None] == values)
    return out


@functools.lru_cache(maxsize=None)
def _alignments(K: int) -> tuple[np.ndarray, np.ndarray]:
    """All (K!)² (column-1, column-2) slot permutations; column 0 fixed WLOG."""
    perms = np.array(list(itertools.permutations(range(K))), dtype=np.int64)
    s1 = np.repeat(perms, len(perms), axis=0)
    s2 = np.tile(perms, (len(perms), 1))
    return s1, s2


def _is_true_alignment(perm: np.ndarray, s1: np.ndarray, s2: np.ndarray) -> np.ndarray:
    """[b, M] True where alignment m pairs the slots that hold the same original feature."""
    inv = np.argsort(perm, axis=-1)  # inv[b, c, f] = slot of original feature f in column c
    true1 = np.take_along_axis(inv[:, 1], perm[:, 0], axis=-1)  # [b, K]
    true2 = np.take_along_axis(inv[:, 2], perm[:, 0], axis=-1)
    return (s1[None] == true1[:, None]).all(-1) & (s2[None] == true2[:, None]).all(-1)


def ambiguous(
    panels: Int[np.ndarray, "B 3 3 K"],
    num_values: int,
    criterion: str = "any_feature",
    permutation: Int[np.ndarray, "B 3 K"] | None = None,
    chunk: int = 1024,
) -> Bool[np.ndarray, " B"]:
    """Brute-force ambiguity flag per problem (bool [B]).

    An alignment pairs slot j of column 0 with slots s1(j), s2(j) of columns 1 and 2.
    With A = ``triple_answer_sets`` and y the stored 9th panel:

    * ``"any_feature"`` (default, the logical definition): ∃ alignment with
      A[j, s1(j), s2(j)] ≠ ∅ for all j and, for some j, A[j, s1(j), s2(j)] ∋ v ≠ y[s2(j)],
      i.e. another correspondence + rule assignment explains all 8 context panels but
      predicts a different 9th panel.
    * ``"all_features"`` (the official checker's count > 0): ∃ alignment under which every
      feature admits a rule whose answer differs from y[s2(j)].

    With ``permutation`` (the batch's ``RavenBatch.permutation``) the true alignment is
    skipped, so only ambiguity through a *wrong correspondence* is counted.
    Cost O(B · (K!)² · K); fine for K ≤ 4, slow for K ≥ 6.
    """
    if criterion not in CRITERIA:
        raise ValueError(f"criterion must be one of {CRITERIA}, got {criterion!r}")
    panels = np.asarray(panels)
    B, K = panels.shape[0], panels.shape[-1]
    s1, s2 = _alignments(K)
    j = np.arange(K)
    out = np.zeros(B, dtype=bool)
    for start in range(0, B, chunk):
        p = panels[start : start + chunk]
        A = triple_answer_sets(p, num_values)
        truth = p[:, 2, 2, :]  # [b, K] true answer per column-2 slot
        other = A & (np.arange(num_values) != truth[:, None, None, :, None])
        nonempty = A.any(-1)[:, j, s1, s2]  # [b, M, K]
        differs = other.any(-1)[:, j, s1, s2]
        if criterion == "any_feature":
            hit = nonempty.all(-1) & differs.any(-1)
        else:
            hit = differs.all(-1)
        if permutation is not None:
            hit &= ~_is_true_alignment(np.asarray(permutation)[start : start + chunk], s1, s2)
        out[start : start + chunk] = hit.any(-1)
    return out


def ambiguous_fraction(
    task: SymbolicRaven,
    key: PRNGKeyArray,
    n: int = 2048,
    split: str = "train",
    criterion: str = "any_feature",
) -> float:
    """Fraction of n sampled problems that ``ambiguous`` flags."""
    panels = np.asarray(task.sample(key, n, split).panels)
    return float(ambiguous(panels, task.num_values, criterion).mean())
