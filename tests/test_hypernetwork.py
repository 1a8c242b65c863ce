"""hyla.hypernetwork (float64 references of Fig. 1 / A1) against the attention module and by hand.

The module under test is a second, loop-based implementation; it is checked against
``hyla.attention.MultiHeadAttention`` (fused einsums, float32) and against small hand-built cases.
"""

from __future__ import annotations

import jax
import numpy as np
import pytest

from hyla import hypernetwork as hn
from hyla.attention import MIXERS, MultiHeadAttention, mixer_parts

T, D, H, DK, DV = 5, 8, 4, 2, 2


def module(mixer, seed=0):
    attn = MultiHeadAttention(D, H, H * DK, H * DV, mixer, 0.0, key=jax.random.key(seed))
    return hn.with_random_biases(attn, seed=seed + 7)


def inputs(seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((T, D)).astype(np.float32), 0.3 * rng.standard_normal((H, T, T)).astype(np.float32)


def run_module(attn, x, bias):
    out, code = attn(x, bias, inference=True)
    return np.asarray(out, np.float64), np.asarray(code, np.float64)


def test_random_biases_are_nonzero_and_only_biases_change():
    attn = MultiHeadAttention(D, H, H * DK, H * DV, "hyla", 0.0, key=jax.random.key(0))
    new = hn.with_random_biases(attn, seed=1)
    for name in ("b_query", "b_key", "b_value", "b_out"):
        assert np.all(np.asarray(getattr(new, name)) != 0.0)
    for name in ("w_query", "w_key", "w_value", "w_out"):
        np.testing.assert_array_equal(getattr(new, name), getattr(attn, name))


def test_head_params_orientation():
    attn = module("softmax")
    p = hn.head_params(attn)
    assert p["W_Q"].shape == (H, DK, D) and p["W_V"].shape == (H, DV, D) and p["W_O"].shape == (H, D, DV)
    np.testing.assert_allclose(p["W_V"][2], np.asarray(attn.w_value)[:, 2, :].T)
    np.testing.assert_allclose(p["W_O"][1], np.asarray(attn.w_out)[1].T)


@pytest.mark.parametrize("mixer", sorted(MIXERS))
def test_latent_code_matches_module(mixer):
    attn = module(mixer, seed=1)
    x, bias = inputs(1)
    _, code = run_module(attn, x, bias)
    ref = hn.latent_code(hn.head_params(attn), x, mixer_parts(mixer)[0], bias)
    np.testing.assert_allclose(ref, code, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("mixer", sorted(m for m, (_, v) in MIXERS.items() if v == "linear"))
def test_mha_is_a_linear_hypernetwork(mixer):
    attn = module(mixer, seed=2)
    x, bias = inputs(2)
    out, _ = run_module(attn, x, bias)
    ref = hn.mha_as_hypernetwork(hn.head_params(attn), x, mixer_parts(mixer)[0], bias)
    np.testing.assert_allclose(ref, out, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("mixer", sorted(m for m, (_, v) in MIXERS.items() if v != "linear"))
def test_hyla_is_a_per_pair_mlp(mixer):
    attn = module(mixer, seed=3)
    x, bias = inputs(3)
    out, _ = run_module(attn, x, bias)
    norm, value = mixer_parts(mixer)
    ref = hn.hyla_as_mlp(hn.head_params(attn), x, norm, bias, nonlinearity=value == "mlp_relu")
    np.testing.assert_allclose(ref, out, rtol=1e-4, atol=1e-4)


def test_algorithms_match_module():
    x, bias = inputs(4)
    for mixer, fn in (("softmax", hn.multihead_attention), ("hyla", hn.hyla)):
        attn = module(mixer, seed=4)
        out, _ = run_module(attn, x, bias)
        np.testing.assert_allclose(fn(hn.head_params(attn), x, bias), out, rtol=1e-4, atol=1e-4)


def test_one_hot_code_selects_one_basis_matrix():
    p = hn.head_params(module("linear"))
    code = np.zeros((H, 2, 3))
    code[1, 0, 2] = 1.0
    code[3, 1, 0] = -2.0
    w = hn.linear_hypernetwork_weights(p, code)
    np.testing.assert_allclose(w[0, 2], p["W_O"][1] @ p["W_V"][1])
    np.testing.assert_allclose(w[1, 0], -2.0 * p["W_O"][3] @ p["W_V"][3])
    np.testing.assert_allclose(w[0, 0], 0.0)


def test_mlp_weights_by_hand():
    p = hn.head_params(module("hyla"))
    code = np.random.default_rng(0).standard_normal((H, 1, 1))
    w1, b1, w2 = hn.hyla_mlp_weights(p, code)
    np.testing.assert_allclose(w1[0, 0], sum(code[h, 0, 0] * p["W_V"][h] for h in range(H)))
    np.testing.assert_allclose(b1[0, 0], sum(code[h, 0, 0] * p["b_V"][h] for h in range(H)))
    np.testing.assert_allclose(w2[0, 0], sum(code[h, 0, 0] * p["W_O"][h] for h in range(H)))


def test_normalisations_by_their_definition():
    p = hn.head_params(module("softmax"))
    x, bias = inputs(5)
    np.testing.assert_allclose(hn.latent_code(p, x, "softmax", bias).sum(axis=2), 1.0)
    rms = hn.latent_code(p, x, "rms_head", bias)
    np.testing.assert_allclose(np.mean(rms**2, axis=0), 1.0, rtol=1e-5)
    np.testing.assert_allclose(hn.latent_code(p, x, "none", bias), hn.scores(p, x, bias))
    with pytest.raises(ValueError, match="normalization"):
        hn.latent_code(p, x, "sigmoid")
