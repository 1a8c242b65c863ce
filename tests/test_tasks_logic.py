"""Fuzzy-logic task (docs/methods.md#fuzzy-logic): semantics, splits, sampling, jit/vmap, validation."""

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hyla.tasks import FuzzyLogic, terms_to_multi_hot
from hyla.tasks.logic import evaluate, term_matrix


def _all_combos(task):
    return {k: {tuple(map(int, r)) for r in np.asarray(v)} for k, v in task.splits.items()}


def _numpy_f(terms, inputs):
    """Independent numpy reference: max_k min_j (x_j if c_kj else 1 - x_j)."""
    terms, inputs = np.asarray(terms), np.asarray(inputs)
    bits = np.array(list(itertools.product([0, 1], repeat=inputs.shape[-1])))[terms]  # [B, K, L]
    lit = np.where(bits[:, :, None, :] == 1, inputs[:, None], 1 - inputs[:, None])
    return lit.min(-1).max(1)


@pytest.fixture(scope="module")
def task():
    return FuzzyLogic()


@pytest.fixture(scope="module")
def batch(task):
    return task.sample(jax.random.key(3), 64, "train")


# ----------------------------------------------------------------------------- semantics


def test_term_matrix_order():
    np.testing.assert_array_equal(term_matrix(3), np.array(list(itertools.product([0, 1], repeat=3))))
    assert term_matrix(4)[0].sum() == 0 and term_matrix(4)[15].sum() == 4


def test_zadeh_known_points():
    # term 2 of L=2 is (1, 0): min(x0, 1 - x1)
    x = jnp.array([[0.3, 0.6]])
    np.testing.assert_allclose(evaluate(jnp.array([2]), x), [0.3], atol=1e-7)
    # terms (0,0) and (1,1): max(min(1-x0, 1-x1), min(x0, x1))
    x = jnp.array([[0.2, 0.9], [0.5, 0.5], [1.0, 0.0]])
    np.testing.assert_allclose(evaluate(jnp.array([0, 3]), x), [0.2, 0.5, 0.0], atol=1e-7)
    # single term (1,1,1): AND of the raw inputs; (0,0,0): AND of negations
    x = jnp.array([[0.7, 0.4, 0.9]])
    np.testing.assert_allclose(evaluate(jnp.array([7]), x), [0.4], atol=1e-7)
    np.testing.assert_allclose(evaluate(jnp.array([0]), x), [0.1], atol=1e-6)


@pytest.mark.parametrize("L,K", [(3, 2), (2, 3)])
def test_binary_inputs_equal_boolean_dnf(L, K):
    bits = list(itertools.product([0, 1], repeat=L))
    combos = np.array(list(itertools.combinations(range(2**L), K)))
    inputs = np.array(bits, dtype=np.float32)  # every binary input
    got = np.asarray(evaluate(jnp.asarray(combos), jnp.broadcast_to(inputs, (len(combos), *inputs.shape))))
    for ci, combo in enumerate(combos):
        for xi, x in enumerate(bits):
            want = any(all((x[j] == 1) if bits[t][j] else (x[j] == 0) for j in range(L)) for t in combo)
            assert got[ci, xi] == float(want)


def test_terms_to_multi_hot():
    m = np.asarray(terms_to_multi_hot(jnp.array([[0, 3], [1, 15]]), 16))
    assert m.shape == (2, 16) and set(np.unique(m)) <= {0.0, 1.0}
    assert m.sum() == 4 and m[0, 0] == m[0, 3] == m[1, 1] == m[1, 15] == 1


# ----------------------------------------------------------------------------- splits


@pytest.mark.parametrize(
    "L,K,frac,sizes",
    [
        (3, 2, 0.3, (11, 4, 1)),
        (3, 2, 0.5, (8, 7, 1)),
        (3, 2, 0.7, (5, 10, 1)),
        (4, 2, 0.3, (47, 19, 6)),
        (4, 2, 0.5, (33, 33, 6)),
        (4, 2, 0.7, (20, 46, 6)),
        (5, 3, 0.3, (1417, 607, 56)),
        (5, 3, 0.5, (1012, 1012, 56)),
        (5, 3, 0.7, (608, 1416, 56)),
    ],
)
def test_split_sizes(L, K, frac, sizes):
    t = FuzzyLogic(num_variables=L, num_terms=K, heldout_fraction=frac)
    got = tuple(t.splits[s].shape[0] for s in ("train", "heldout_combos", "unknown_terms"))
    assert got == sizes
    assert all(v.shape[1] == K and v.dtype == jnp.int32 for v in t.splits.values())


@pytest.mark.parametrize("seed", [0, 1])
def test_split_structure(seed):
    L, K = 4, 2
    t = FuzzyLogic(num_variables=L, num_terms=K, heldout_fraction=0.5, seed=seed)
    sets = _all_combos(t)
    for rows in sets.values():
        assert all(list(r) == sorted(r) and len(set(r)) == K for r in rows)
    assert not (sets["train"] & sets["heldout_combos"])
    assert not (sets["train"] & sets["unknown_terms"]) and not (sets["heldout_combos"] & sets["unknown_terms"])
    n_known = 16 - 4
    assert sets["train"] | sets["heldout_combos"] == set(itertools.combinations(range(n_known), K))
    assert sets["unknown_terms"] == set(itertools.combinations(range(n_known, 16), K))
    train_terms = {i for r in sets["train"] for i in r}
    assert {i for r in sets["heldout_combos"] for i in r} <= train_terms  # compositional split
    assert not ({i for r in sets["train"] | sets["heldout_combos"] for i in r} & set(range(n_known, 16)))


def test_split_is_seeded_permutation():
    a, b, c = FuzzyLogic(seed=0), FuzzyLogic(seed=0), FuzzyLogic(seed=1)
    np.testing.assert_array_equal(a.train, b.train)
    assert _all_combos(a)["train"] != _all_combos(c)["train"]
    # the shuffle is jax.random.permutation(PRNGKey(seed)) of the combinations list
    combos = jnp.array(list(itertools.combinations(range(12), 2)))
    perm = np.asarray(jax.random.permutation(jax.random.PRNGKey(1), combos, axis=0))
    np.testing.assert_array_equal(np.asarray(c.heldout_combos), perm[:33])


# ----------------------------------------------------------------------------- sampling


def test_sample_shapes_and_targets(task, batch):
    B, T, L, K = 64, task.seq_len, task.num_variables, task.num_terms
    assert batch.x.shape == (B, T, L + 1) and batch.x.dtype == jnp.float32
    assert batch.inputs.shape == (B, T, L) and batch.targets.shape == (B, T)
    assert batch.y.shape == (B,) and batch.terms.shape == (B, K) and batch.base_var.shape == (B,)
    x, inputs, targets = map(np.asarray, (batch.x, batch.inputs, batch.targets))
    assert inputs.min() >= 0 and inputs.max() < 1
    np.testing.assert_array_equal(x[:, :, :L], inputs)
    np.testing.assert_array_equal(x[:, :-1, L], targets[:, :-1])
    assert np.all(x[:, -1, L] == 0)  # query target zeroed
    np.testing.assert_array_equal(np.asarray(batch.y), targets[:, -1])
    np.testing.assert_allclose(np.asarray(batch.base_var), np.var(targets, axis=1), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(targets, _numpy_f(batch.terms, inputs), atol=1e-7)
    assert {tuple(r) for r in np.asarray(batch.terms)} <= _all_combos(task)["train"]


def test_sampler_covers_split_uniformly(task):
    terms = np.asarray(task.sample(jax.random.key(11), 4096, "train").terms)
    _, counts = np.unique(terms, axis=0, return_counts=True)
    assert len(counts) == 33 and counts.min() > 0.5 * 4096 / 33 and counts.max() < 1.5 * 4096 / 33
    inputs = np.asarray(task.sample(jax.random.key(11), 4096, "train").inputs)
    assert abs(inputs.mean() - 0.5) < 0.01 and abs(inputs.var() - 1 / 12) < 0.005


@pytest.mark.parametrize("split", ["heldout_combos", "unknown_terms"])
def test_sample_other_splits(task, split):
    b = task.sample(jax.random.PRNGKey(0), 64, split)  # legacy key accepted
    assert {tuple(r) for r in np.asarray(b.terms)} <= _all_combos(task)[split]


def test_fixed_input_distributions(task):
    key = jax.random.key(5)
    fc = task.sample(key, 64, "train", input_dist="fixed_context")
    fq = task.sample(key, 64, "heldout_combos", input_dist="fixed_query")
    ctx, q = np.asarray(fc.inputs), np.asarray(fq.inputs)
    assert np.all(ctx[:, :-1] == ctx[:1, :-1]) and not np.all(ctx[:, -1] == ctx[0, -1])
    assert np.all(q[:, -1] == q[0, -1]) and not np.all(q[:, :-1] == q[:1, :-1])
    np.testing.assert_array_equal(ctx[0, :-1], np.asarray(jax.random.uniform(jax.random.PRNGKey(0), (15, 4))))
    np.testing.assert_array_equal(q[0, -1], np.asarray(task.fixed_query))
    # fixed inputs depend on the task seed only
    other = FuzzyLogic(seed=0).sample(jax.random.key(9), 64, "train", input_dist="fixed_context")
    np.testing.assert_array_equal(np.asarray(other.inputs)[0, :-1], ctx[0, :-1])
    np.testing.assert_allclose(np.asarray(fc.y), _numpy_f(fc.terms, fc.inputs)[:, -1])
    np.testing.assert_allclose(np.asarray(fq.y), _numpy_f(fq.terms, fq.inputs)[:, -1])


def test_jit_and_vmap_over_stacked_seeds():
    t0, t1 = FuzzyLogic(seed=0), FuzzyLogic(seed=1)
    stacked = jax.tree.map(lambda *a: jnp.stack(a), t0, t1)
    assert stacked.train.shape == (2, 33, 2)
    keys = jax.random.split(jax.random.key(0), 2)
    fn = jax.jit(jax.vmap(lambda t, k: t.sample(k, 64, "train")))
    b = fn(stacked, keys)
    assert b.x.shape == (2, 64, 16, 5) and b.y.shape == (2, 64)
    for i, t in enumerate((t0, t1)):
        ref = t.sample(keys[i], 64, "train")
        np.testing.assert_array_equal(np.asarray(b.terms[i]), np.asarray(ref.terms))
        np.testing.assert_allclose(np.asarray(b.x[i]), np.asarray(ref.x))
        assert {tuple(r) for r in np.asarray(b.terms[i])} <= _all_combos(t)["train"]
    assert _all_combos(t0)["train"] != _all_combos(t1)["train"]


# ----------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "kwargs,word",
    [
        (dict(heldout_fraction=1.0), "heldout_fraction"),
        (dict(heldout_fraction=-0.1), "heldout_fraction"),
        (dict(unknown_fraction=0.95), "unknown_fraction"),
        (dict(unknown_fraction=1.0), "unknown_fraction"),
        (dict(num_terms=0), "num_terms"),
        (dict(num_terms=13), "num_terms"),
        (dict(seq_len=1), "seq_len"),
        (dict(num_variables=0), "num_variables"),
    ],
)
def test_init_errors(kwargs, word):
    with pytest.raises(ValueError, match=word):
        FuzzyLogic(**kwargs)


def test_sample_errors(task):
    with pytest.raises(ValueError, match="split"):
        task.sample(jax.random.key(0), 2, "test")
    with pytest.raises(ValueError, match="input_dist"):
        task.sample(jax.random.key(0), 2, "train", input_dist="gaussian")
    with pytest.raises(ValueError, match="empty"):
        FuzzyLogic(heldout_fraction=0.0).sample(jax.random.key(0), 2, "heldout_combos")


def test_split_counts_match_formula():
    for L, K, uf in [(3, 1, 0.0)]:  # K = 1 and no unknown terms (empty control split)
        t = FuzzyLogic(num_variables=L, num_terms=K, unknown_fraction=uf, heldout_fraction=0.4)
        n_unknown = int(2**L * uf)
        n_in = math.comb(2**L - n_unknown, K)
        assert t.heldout_combos.shape[0] == int(n_in * 0.4)
        assert t.train.shape[0] + t.heldout_combos.shape[0] == n_in
        assert t.unknown_terms.shape == (math.comb(n_unknown, K), K)


@pytest.mark.parametrize("frac", [0.1, 0.3, 0.7])
def test_samples_stay_in_their_split_at_every_fraction(frac):
    """The split point is an array: each split still draws only its own rows, and all of them."""
    t = FuzzyLogic(heldout_fraction=frac, seed=2)
    for split in ("train", "heldout_combos"):
        rows = {tuple(r) for r in np.asarray(t.splits[split]).tolist()}
        drawn = {tuple(r) for r in np.asarray(t.sample(jax.random.key(7), 4096, split).terms).tolist()}
        assert drawn == rows


def test_heldout_fractions_share_one_program():
    """Same table shapes for every held-out fraction and the split point as an array: the sampler
    lowers to the same program, so runs at other fractions reuse one compilation."""

    def hlo(frac):
        t = FuzzyLogic(heldout_fraction=frac, seed=0)
        fn = jax.jit(lambda t, k: t.sample(k, 32, "train").x)
        return fn.lower(t, jax.random.key(0)).as_text()

    assert hlo(0.3) == hlo(0.7)


def test_draw_equals_two_table_formula():
    """The one-table draw picks exactly the row the two separate split tables would give."""
    t, key, B = FuzzyLogic(heldout_fraction=0.3, seed=1), jax.random.key(8), 64
    bits = np.asarray(jax.random.bits(key, (B, 1 + t.seq_len * t.num_variables), jnp.uint32))
    for split in ("train", "heldout_combos", "unknown_terms"):
        table = np.asarray(t.splits[split])
        want = table[bits[:, 0] % len(table)]
        np.testing.assert_array_equal(np.asarray(t.sample(key, B, split).terms), want)
