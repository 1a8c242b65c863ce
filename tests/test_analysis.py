"""hyla.analysis: probes against hand-made data, code extraction against explicit indexing, and the
reason the fuzzy-logic probe reads fixed-query sequences."""

import jax
import numpy as np
import pytest

from hyla import analysis
from hyla.presets.specs import logic_spec
from hyla.tasks.logic import FuzzyLogic
from hyla.transformer import Transformer


def test_probe_f1_separable_and_shuffled():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((400, 3))
    y = np.stack([x[:, 0] > 0.5, x[:, 1] < -0.5], axis=1).astype(int)  # two linearly separable labels
    assert analysis.probe_f1(x[:200], y[:200], x[200:], y[200:]) > 0.95
    shuffled = y[200:][rng.permutation(200)]
    assert analysis.probe_f1(x[:200], y[:200], x[200:], shuffled) < 0.6


def test_logic_query_codes_is_the_query_attending_to_itself():
    codes = np.random.default_rng(1).standard_normal((5, 2, 3, 7, 7))
    got = analysis.logic_query_codes(codes)
    assert got.shape == (5, 2, 3)
    np.testing.assert_array_equal(got[2, 1, 0], codes[2, 1, 0, 6, 6])


def test_raven_slot_codes_reads_the_query_slot_attending_to_the_bottom_row():
    """docs/methods.md#latent-codes: panel p (0..8) holds tokens p*K .. p*K+K-1; the query of slot s is token 8K+s and
    its code is read where it attends to slot s of panels 7 and 8 (tokens 6K+s and 7K+s)."""
    B, L, H, K = 2, 3, 4, 3
    T = 9 * K
    b, l, h, q, k = np.meshgrid(*map(np.arange, (B, L, H, T, T)), indexing="ij")
    codes = (((b * 10 + l) * 10 + h) * 100 + q) * 100 + k  # every entry names its own indices
    got = analysis.raven_slot_codes(codes.astype(float), K)
    assert got.shape == (B, L, K, H, 2)
    for bi, li, s, hi, j in np.ndindex(*got.shape):
        query, key = 8 * K + s, (6 + j) * K + s  # j = 0: panel 7, j = 1: panel 8
        assert got[bi, li, s, hi, j] == codes[bi, li, hi, query, key]


def _model(mixer):
    spec = logic_spec(mixer, num_examples=8, model="smoke")
    return Transformer(spec.model, key=jax.random.key(3))


@pytest.mark.parametrize("mixer", ["linear", "hyla", "softmax"])
def test_fixed_query_layer1_code(mixer):
    """With the query input fixed, the layer-1 self-score of a mixer without softmax depends on the
    query token alone, so it is the same for every sequence; softmax normalises over the context."""
    model, task = _model(mixer), FuzzyLogic(seq_len=8, seed=0)
    key = jax.random.key(4)
    fixed, _, _ = analysis.logic_split_codes(model, task, key, 64, "train", "fixed_query")
    free, _, _ = analysis.logic_split_codes(model, task, key, 64, "train")
    spread_fixed = np.ptp(fixed[:, 0], axis=0).max()
    assert np.ptp(free[:, 0], axis=0).max() > 1e-3  # random query inputs: the code varies
    if mixer == "softmax":
        assert spread_fixed > 1e-3
    else:
        assert spread_fixed < 1e-5


def test_logic_term_probe_per_layer():
    model, task = _model("hyla"), FuzzyLogic(seq_len=8, seed=0)
    keys = {s: jax.random.key(i) for i, s in enumerate(("train", "heldout_combos"))}
    f1 = analysis.logic_term_probe(model, task, keys, 256, "fixed_query")
    assert len(f1) == logic_spec("hyla", model="smoke").model.num_layers
    assert all(0.0 <= v <= 1.0 for v in f1)


def test_chunk_size_fits_the_budget():
    # the whole batch when it fits; else the largest power of two within the budget; at least 1
    assert analysis.chunk_size(512, 4 * 33 * 33) == 512
    assert analysis.chunk_size(4096, 8 * 257 * 257) == 256  # 508 fit: 256, 256 * 528392 <= 2**28
    assert analysis.chunk_size(1024, 8 * 1025 * 1025) == 16  # ext02's gpu extrapolation length
    assert analysis.chunk_size(10, 2**30) == 1
    for n, per in ((4096, 8 * 257 * 257), (1000, 12345), (7, 3)):
        c = analysis.chunk_size(n, per, budget=10**6)
        assert 1 <= c <= n and (c == n or (c * per <= 10**6 and c & (c - 1) == 0 and 2 * c * per > 10**6))
    with pytest.raises(ValueError, match="elements_per_item"):
        analysis.chunk_size(4, 0)


def test_map_in_chunks_equals_one_call_per_item():
    # per-item function of a two-leaf batch: chunked results equal an item-by-item reference
    rng = np.random.default_rng(0)
    batch = (rng.normal(size=(10, 3)).astype(np.float32), rng.normal(size=(10,)).astype(np.float32))
    fn = jax.jit(lambda b: (b[0] ** 2).sum(-1) * b[1])
    ref = np.array([float((batch[0][i] ** 2).sum() * batch[1][i]) for i in range(10)])
    for chunk in (1, 3, 4, 10, 64):
        got = analysis.map_in_chunks(fn, batch, chunk)
        assert got.shape == (10,)
        np.testing.assert_allclose(got, ref, rtol=1e-6)


def test_neighbour_kappa_against_brute_force():
    """κ from explicit pairwise distances and hand-computed chance, on a small random example."""
    from hyla import analysis

    rng = np.random.default_rng(3)
    x = rng.standard_normal((40, 3)) * np.array([1.0, 5.0, 0.2])
    labels = rng.integers(0, 3, 40)
    x[labels == 1] += 2.0  # some clustering
    k = 4
    z = (x - x.mean(0)) / (x.std(0) + 1e-8)
    d = ((z[:, None] - z[None]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    nn = np.argsort(d, axis=1, kind="stable")[:, :k]
    agree = np.mean([[labels[j] == labels[i] for j in nn[i]] for i in range(len(x))])
    p = np.bincount(labels) / len(labels)
    chance = (p ** 2).sum()
    assert analysis.neighbour_kappa(x, labels, k) == pytest.approx((agree - chance) / (1 - chance), abs=1e-12)
    # identical labels within perfectly separated clusters: κ = 1
    x2 = np.concatenate([np.zeros((10, 2)), 100 + np.zeros((10, 2))]) + 1e-3 * rng.standard_normal((20, 2))
    assert analysis.neighbour_kappa(x2, np.repeat([0, 1], 10), 3) == pytest.approx(1.0)
