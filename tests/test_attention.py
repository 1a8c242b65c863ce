"""Attention math (docs/methods.md#attention-as-a-hypernetwork to #mixer-names) against explicit
numpy references (float64 loops).

Every reference here is written out in the test (loops over queries, keys and heads); the library
is never used to check itself.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from finite_differences import central_differences

import hyla.attention as attention_module
from hyla.attention import (
    MIXERS,
    OFFICIAL_NAMES,
    MultiHeadAttention,
    apply_value_network,
    normalize_scores,
    resolve_mixer,
)
from hyla.transformer import ModelConfig, Transformer, count_parameters

T, D, H, DK, DV = 5, 16, 4, 2, 2
PARAM_NAMES = ("w_query", "b_query", "w_key", "b_key", "w_value", "b_value", "w_out", "b_out")
EPS = 1e-6
# the small transformer of these tests (same shapes as in test_transformer.py: compiled ops are shared)
TINY = dict(num_layers=2, emb_dim=16, num_heads=4, qk_dim=8, v_dim=8, mlp_dim=32, seq_len=8,
            token_dim=5, output_dim=1, mixer="hyla")

# docs/methods.md#mixer-names, official `sequence_mixer` name -> (attention_norm, target_network); the official
# "default" target network is our "linear".
OFFICIAL_TABLE = {
    "softmax_attention": ("softmax", "linear"),
    "transformer": ("softmax", "linear"),
    "linear_attention": ("none", "linear"),
    "linear_transformer": ("none", "linear"),
    "linear_attention_rms_head": ("rms_head", "linear"),
    "linear_hypatt": ("rms_head", "mlp_relu"),
    "linear_hypatt_mlp_linear": ("rms_head", "mlp_linear"),
    "linear_hypatt_mlp_linear_no_rms_head": ("none", "mlp_linear"),
    "linear_hypatt_no_rms_head": ("none", "mlp_relu"),
    "softmax_hypatt": ("softmax", "mlp_relu"),
}


# ---------------------------------------------------------------------------------------------
# helpers: random modules and float64 references
# ---------------------------------------------------------------------------------------------


def make_mha(mixer, seed=0, dropout=0.0, scale=0.5):
    """A module whose every parameter (biases included) is a non-zero random array."""
    mha = MultiHeadAttention(D, H, H * DK, H * DV, mixer, dropout, key=jax.random.key(seed))
    rng = np.random.default_rng(seed + 100)
    new = [
        jnp.asarray(scale * rng.standard_normal(getattr(mha, n).shape), jnp.float32)
        for n in PARAM_NAMES
    ]
    mha = eqx.tree_at(lambda m: [getattr(m, n) for n in PARAM_NAMES], mha, new)
    for n in PARAM_NAMES:  # biases really are non-zero
        assert np.all(np.asarray(getattr(mha, n)) != 0.0)
    return mha


def random_model(cfg: ModelConfig, seed: int) -> Transformer:
    """A Transformer of ``cfg`` with random weights, built without running its initialiser
    (eval_shape, then numpy draws): the forward-pass tests need no init, and skipping it saves the
    compilation of the initialisers."""
    abstract = eqx.filter_eval_shape(lambda: Transformer(cfg, key=jax.random.key(0)))
    rng = np.random.default_rng(seed)

    def fill(leaf):
        if not isinstance(leaf, jax.ShapeDtypeStruct):
            return leaf
        if len(leaf.shape) == 1:
            return jnp.asarray(0.5 + 0.3 * rng.standard_normal(leaf.shape), leaf.dtype)
        std = 1.0 / math.sqrt(math.prod(leaf.shape[:-1]))
        return jnp.asarray(std * rng.standard_normal(leaf.shape), leaf.dtype)

    return jax.tree.map(fill, abstract, is_leaf=lambda x: isinstance(x, jax.ShapeDtypeStruct))


def with_params(mha, like):
    """``mha`` with the parameter values of ``like`` (another mixer)."""
    return eqx.tree_at(
        lambda m: [getattr(m, n) for n in PARAM_NAMES], mha, [getattr(like, n) for n in PARAM_NAMES]
    )


def p64(mha):
    return {n: np.asarray(getattr(mha, n), np.float64) for n in PARAM_NAMES}


def head_mats(P):
    """Per-head matrices in the notation of docs/methods.md#notation: W^Q_h [dk, D], W^V_h [dv, D], W^O_h [D, dv]."""
    wq = [P["w_query"][:, h, :].T for h in range(H)]
    wk = [P["w_key"][:, h, :].T for h in range(H)]
    wv = [P["w_value"][:, h, :].T for h in range(H)]
    wo = [P["w_out"][h].T for h in range(H)]
    return wq, wk, wv, wo


def ref_scores(P, x, bias=None):
    wq, wk, _, _ = head_mats(P)
    n = x.shape[0]
    s = np.zeros((H, n, n))
    for h in range(H):
        for q in range(n):
            qv = wq[h] @ x[q] + P["b_query"][h]
            for k in range(n):
                kv = wk[h] @ x[k] + P["b_key"][h]
                s[h, q, k] = qv @ kv / math.sqrt(DK) + (0.0 if bias is None else bias[h, q, k])
    return s


def ref_normalize(s, norm, mask=None):
    nh, nq, nk = s.shape
    allowed = np.ones((nq, nk), bool) if mask is None else np.asarray(mask, bool)
    a = np.zeros_like(s)
    for q in range(nq):
        for k in range(nk):
            for h in range(nh):
                if norm == "softmax":
                    row = np.array([s[h, q, kk] for kk in range(nk) if allowed[q, kk]])
                    if allowed[q, k]:
                        a[h, q, k] = math.exp(s[h, q, k] - row.max()) / np.exp(row - row.max()).sum()
                elif norm == "none":
                    a[h, q, k] = s[h, q, k] if allowed[q, k] else 0.0
                elif norm == "rms_head":
                    col = [s[hh, q, k] if allowed[q, k] else 0.0 for hh in range(nh)]
                    rms = math.sqrt(sum(c * c for c in col) / nh + EPS)
                    a[h, q, k] = col[h] / rms
    return a


def ref_linear(P, x, a):
    """Hypernetwork form: out_q = sum_k W_{q,k} x_k + sum_k sum_h a W^O_h b^V_h + b^O."""
    _, _, wv, wo = head_mats(P)
    n = x.shape[0]
    out = np.zeros((n, D))
    for q in range(n):
        acc = P["b_out"].copy()
        for k in range(n):
            w_qk = sum(a[h, q, k] * wo[h] @ wv[h] for h in range(H))  # [D, D]
            b_qk = sum(a[h, q, k] * wo[h] @ P["b_value"][h] for h in range(H))
            acc += w_qk @ x[k] + b_qk
        out[q] = acc
    return out


def ref_mlp(P, x, a, relu=True):
    """Per-(q,k) generated two-layer network of docs/methods.md#value-networks."""
    _, _, wv, wo = head_mats(P)
    n = x.shape[0]
    out = np.zeros((n, D))
    for q in range(n):
        acc = P["b_out"].copy()
        for k in range(n):
            w1 = sum(a[h, q, k] * wv[h] for h in range(H))  # [dv, D]
            b1 = sum(a[h, q, k] * P["b_value"][h] for h in range(H))
            w2 = sum(a[h, q, k] * wo[h] for h in range(H))  # [D, dv]
            hid = w1 @ x[k] + b1
            if relu:
                hid = np.maximum(hid, 0.0)
            acc += w2 @ hid
        out[q] = acc
    return out


def ref_output(P, x, a, value_network):
    if value_network == "linear":
        return ref_linear(P, x, a)
    return ref_mlp(P, x, a, relu=value_network == "mlp_relu")


@pytest.fixture(scope="module")
def x():
    return np.random.default_rng(1).standard_normal((T, D)).astype(np.float32)


@pytest.fixture(scope="module")
def bias():
    return (0.5 * np.random.default_rng(2).standard_normal((H, T, T))).astype(np.float32)


def close(actual, expected, tol=2e-4):
    np.testing.assert_allclose(np.asarray(actual, np.float64), expected, rtol=tol, atol=tol)


# ---------------------------------------------------------------------------------------------
# scores and normalisations
# ---------------------------------------------------------------------------------------------


def test_raw_scores_by_hand(x, bias):
    mha = make_mha("softmax")
    P = p64(mha)
    close(mha.scores(jnp.asarray(x), jnp.asarray(bias)), ref_scores(P, x.astype(np.float64), bias))
    close(mha.scores(jnp.asarray(x)), ref_scores(P, x.astype(np.float64)))


def test_softmax_rows_sum_to_one_over_keys():
    s = jnp.asarray(np.random.default_rng(3).standard_normal((H, T, T + 2)) * 2, jnp.float32)
    a = np.asarray(normalize_scores(s, "softmax"), np.float64)
    np.testing.assert_allclose(a.sum(-1), 1.0, atol=1e-6)
    assert not np.allclose(a.sum(0), 1.0)  # over keys, not over heads
    close(a, ref_normalize(np.asarray(s, np.float64), "softmax"), 1e-6)


def test_none_is_identity():
    s = jnp.asarray(np.random.default_rng(4).standard_normal((H, T, T)), jnp.float32)
    np.testing.assert_array_equal(np.asarray(normalize_scores(s, "none")), np.asarray(s))


def test_rms_head_unit_rms_over_heads_without_parameters():
    s64 = np.random.default_rng(5).standard_normal((H, T, T)) * 3
    a = np.asarray(normalize_scores(jnp.asarray(s64, jnp.float32), "rms_head"), np.float64)
    rms = np.sqrt(np.mean(a**2, axis=0))  # over heads, for every (q, k)
    ms = np.mean(s64**2, axis=0)
    np.testing.assert_allclose(rms, np.sqrt(ms / (ms + EPS)), rtol=1e-5)  # = 1 up to eps
    np.testing.assert_allclose(rms, 1.0, atol=1e-4)
    close(a, ref_normalize(s64, "rms_head"), 1e-5)
    # no learnable scale: the normalisation adds no parameters to the module
    assert count_parameters(make_mha("linear+rms_head")) == count_parameters(make_mha("linear"))


def test_unknown_normalization_and_value_network_raise():
    with pytest.raises(ValueError, match="allowed"):
        normalize_scores(jnp.zeros((H, T, T)), "layer_norm")
    with pytest.raises(ValueError, match="allowed"):
        apply_value_network(jnp.zeros((H, T, T)), jnp.zeros((T, H, DV)), "swiglu")


# ---------------------------------------------------------------------------------------------
# value networks: the hypernetwork identity and the generated MLPs
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mixer", ["softmax", "linear", "linear+rms_head"])
def test_linear_value_network_is_linear_hypernetwork(mixer, x, bias):
    mha = make_mha(mixer, seed=7)
    P = p64(mha)
    x64 = x.astype(np.float64)
    a = ref_normalize(ref_scores(P, x64, bias), mha.normalization)
    out, code = mha(jnp.asarray(x), jnp.asarray(bias), inference=True)
    close(code, a)
    close(out, ref_linear(P, x64, a))


@pytest.mark.parametrize(
    "mixer", ["hyla", "hyla-rms_head", "hyla-rms_head+softmax", "hyla-nonlinearity",
              "hyla-nonlinearity-rms_head"],
)
def test_mlp_value_networks_are_generated_two_layer_networks(mixer, x, bias):
    mha = make_mha(mixer, seed=8)
    P = p64(mha)
    x64 = x.astype(np.float64)
    norm, value_network = MIXERS[mixer]
    a = ref_normalize(ref_scores(P, x64, bias), norm)
    out, code = mha(jnp.asarray(x), jnp.asarray(bias), inference=True)
    close(code, a)
    expected = ref_mlp(P, x64, a, relu=value_network == "mlp_relu")
    close(out, expected)
    # the ReLU matters for these weights (so relu vs. no relu is really distinguished)
    other = ref_mlp(P, x64, a, relu=value_network != "mlp_relu")
    assert np.max(np.abs(other - expected)) > 1e-2


def test_mlp_linear_is_not_standard_linear_attention(x, bias):
    """HYLA − nonlinearity is quadratic in the code, unlike linear attention (docs/methods.md#value-networks)."""
    lin = make_mha("linear", seed=9)
    mlp = with_params(make_mha("hyla-nonlinearity-rms_head", seed=9), lin)
    o1, _ = lin(jnp.asarray(x), jnp.asarray(bias), inference=True)
    o2, _ = mlp(jnp.asarray(x), jnp.asarray(bias), inference=True)
    assert np.max(np.abs(np.asarray(o1) - np.asarray(o2))) > 1e-2


# ---------------------------------------------------------------------------------------------
# causal mask
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("norm", ["softmax", "none", "rms_head"])
def test_causal_mask_codes(norm):
    mask = np.tril(np.ones((T, T), bool))
    s64 = np.random.default_rng(11).standard_normal((H, T, T)) * 2
    a = np.asarray(normalize_scores(jnp.asarray(s64, jnp.float32), norm, jnp.asarray(mask)))
    future = np.broadcast_to(~mask, a.shape)
    assert np.all(a[future] == 0.0)  # exactly zero weight / code on future keys
    if norm == "softmax":
        np.testing.assert_allclose(a.sum(-1), 1.0, atol=1e-6)
    close(a, ref_normalize(s64, norm, mask), 1e-5)


@pytest.mark.parametrize("mixer", sorted(MIXERS))
def test_causal_outputs_ignore_the_future(mixer, x, bias):
    mha = make_mha(mixer, seed=12)
    mask = jnp.tril(jnp.ones((T, T), bool))
    t = 2
    x2 = x.copy()
    x2[t + 1 :] += np.random.default_rng(13).standard_normal(x2[t + 1 :].shape).astype(np.float32)
    o1, c1 = mha(jnp.asarray(x), jnp.asarray(bias), jnp.asarray(mask), inference=True)
    o2, c2 = mha(jnp.asarray(x2), jnp.asarray(bias), jnp.asarray(mask), inference=True)
    np.testing.assert_allclose(np.asarray(o1)[: t + 1], np.asarray(o2)[: t + 1], atol=1e-6)
    assert np.max(np.abs(np.asarray(o1)[t + 1 :] - np.asarray(o2)[t + 1 :])) > 1e-3
    # the masked module equals the reference with the mask
    P = p64(mha)
    a = ref_normalize(ref_scores(P, x.astype(np.float64), bias), mha.normalization, np.asarray(mask))
    close(c1, a)
    close(o1, ref_output(P, x.astype(np.float64), a, mha.value_network))


def test_causal_transformer_ignores_the_future():
    model = random_model(ModelConfig(**dict(TINY, causal=True)), 0)
    rng = np.random.default_rng(14)
    x1 = rng.standard_normal((8, 5)).astype(np.float32)
    x2 = x1.copy()
    x2[4:] = rng.standard_normal((4, 5))
    o1, c1 = model(jnp.asarray(x1), inference=True)
    o2, _ = model(jnp.asarray(x2), inference=True)
    np.testing.assert_allclose(np.asarray(o1)[:4], np.asarray(o2)[:4], atol=1e-6)
    assert np.max(np.abs(np.asarray(o1)[4:] - np.asarray(o2)[4:])) > 1e-4
    assert np.all(np.asarray(c1)[:, :, ~np.tril(np.ones((8, 8), bool))] == 0.0)


# ---------------------------------------------------------------------------------------------
# attention dropout
# ---------------------------------------------------------------------------------------------


def recover_mask(P, x, a, out, keep):
    """Solve out_q - b^O = sum_k m_{q,k} c_{q,k} for the dropout mask m (linear value network).

    c_{q,k} = sum_h a_{h,q,k} W^O_h u_{h,k} / keep is the contribution of key k when kept.  With
    D > T keys the c_{q,k} are linearly independent, so m is identified; a mask shared by all
    heads gives m in {0, 1} exactly, a per-head mask would not fit.
    """
    _, _, wv, wo = head_mats(P)
    m = np.zeros((T, T))
    for q in range(T):
        cols = []
        for k in range(T):
            c = sum(a[h, q, k] * wo[h] @ (wv[h] @ x[k] + P["b_value"][h]) for h in range(H))
            cols.append(c / keep)
        C = np.stack(cols, axis=1)  # [D, Tk]
        sol, *_ = np.linalg.lstsq(C, np.asarray(out[q], np.float64) - P["b_out"], rcond=None)
        m[q] = sol
    return m


def test_dropout_one_mask_shared_by_heads(x, bias):
    rate = 0.5
    keep = 1.0 - rate
    lin = make_mha("linear", seed=20, dropout=rate)
    P = p64(lin)
    x64 = x.astype(np.float64)
    key = jax.random.key(42)
    out, code = lin(jnp.asarray(x), jnp.asarray(bias), key=key)
    a = ref_normalize(ref_scores(P, x64, bias), "none")
    close(code, a)  # the returned code is taken before dropout
    m = recover_mask(P, x64, a, np.asarray(out, np.float64), keep)
    np.testing.assert_allclose(m, np.round(m), atol=1e-3)
    m = np.round(m)
    assert set(np.unique(m)) <= {0.0, 1.0}
    assert 0 < m.sum() < T * T  # some pairs dropped, some kept
    close(out, ref_linear(P, x64, a * m[None] / keep))
    # the same key and shape give the same mask for the generated-MLP value networks
    for mixer in ("hyla", "hyla-nonlinearity"):
        mod = with_params(make_mha(mixer, seed=20, dropout=rate), lin)
        o, c = mod(jnp.asarray(x), jnp.asarray(bias), key=key)
        a2 = ref_normalize(ref_scores(P, x64, bias), "rms_head")
        close(c, a2)
        close(o, ref_mlp(P, x64, a2 * m[None] / keep, relu=mixer == "hyla"))


def test_dropout_inference_is_deterministic(x, bias):
    mha = make_mha("hyla", seed=21, dropout=0.5)
    xs, bs = jnp.asarray(x), jnp.asarray(bias)
    o_none, _ = mha(xs, bs, inference=True)
    o_k1, _ = mha(xs, bs, key=jax.random.key(1), inference=True)
    o_k2, _ = mha(xs, bs, key=jax.random.key(2), inference=True)
    np.testing.assert_array_equal(np.asarray(o_k1), np.asarray(o_none))
    np.testing.assert_array_equal(np.asarray(o_k2), np.asarray(o_none))
    # train mode: keys matter, and a key is required
    t1, _ = mha(xs, bs, key=jax.random.key(1))
    t2, _ = mha(xs, bs, key=jax.random.key(2))
    t1_again, _ = mha(xs, bs, key=jax.random.key(1))
    np.testing.assert_array_equal(np.asarray(t1_again), np.asarray(t1))  # same key, same mask
    assert np.max(np.abs(np.asarray(t1) - np.asarray(t2))) > 1e-3
    assert np.max(np.abs(np.asarray(t1) - np.asarray(o_none))) > 1e-3
    with pytest.raises(ValueError, match="key"):
        mha(xs, bs)


def test_dropout_rate_zero_train_equals_inference(x, bias):
    mha = make_mha("hyla", seed=22, dropout=0.0)
    xs, bs = jnp.asarray(x), jnp.asarray(bias)
    o_inf, c_inf = mha(xs, bs, inference=True)
    o_tr, c_tr = mha(xs, bs, key=jax.random.key(5), inference=False)
    o_tr2, _ = mha(xs, bs, inference=False)
    np.testing.assert_array_equal(np.asarray(o_tr), np.asarray(o_inf))
    np.testing.assert_array_equal(np.asarray(o_tr2), np.asarray(o_inf))
    np.testing.assert_array_equal(np.asarray(c_tr), np.asarray(c_inf))


def test_transformer_vmap_shared_key_shares_mask_over_batch():
    model = random_model(ModelConfig(**dict(TINY, attention_dropout=0.5)), 1)
    x1 = np.random.default_rng(15).standard_normal((8, 5)).astype(np.float32)
    xb = jnp.asarray(np.broadcast_to(x1, (4, 8, 5)))  # 4 identical sequences
    key = jax.random.key(9)
    keys = jax.random.split(jax.random.key(9), 4)

    @eqx.filter_jit  # one compilation for all four forward passes
    def forward(model, xb, key, keys):
        shared = jax.vmap(lambda s: model(s, key=key)[0])(xb)
        per_element = jax.vmap(lambda s, k: model(s, key=k)[0])(xb, keys)
        ref = model(xb[0], inference=True)[0]
        single = model(xb[0], key=key)[0]
        return shared, per_element, ref, single

    out, out2, ref, single = (np.asarray(a) for a in forward(model, xb, key, keys))
    # one shared mask: identical inputs give the same outputs (to rounding: under vmap, jax 0.7.2's
    # XLA:CPU sums batch elements in different orders, 1 ulp apart; different masks differ by > 1e-4)
    for b in range(1, 4):
        np.testing.assert_allclose(out[b], out[0], rtol=1e-6, atol=1e-6)
    assert np.max(np.abs(out[0] - ref)) > 1e-4  # dropout was active
    np.testing.assert_allclose(out[0], single, rtol=1e-5, atol=1e-6)
    # sanity of this test: per-element keys would give different outputs
    assert np.max(np.abs(out2[1] - out2[0])) > 1e-4


# ---------------------------------------------------------------------------------------------
# derivatives
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mixer,fused", [("hyla", True), ("hyla", False), ("hyla-nonlinearity", True),
                                         ("hyla-nonlinearity", False), ("linear", None), ("softmax", None)])
def test_gradient_and_tangent_match_float64_reference(mixer, fused, x, bias, monkeypatch):
    """Reverse-mode gradient and forward-mode tangent w.r.t. the input sequence against central
    differences of the float64 reference (x feeds the queries, keys and values, so every
    derivative of the scores, the normalisation and the value network is exercised).  HYLA is
    checked with both forms of its first generated layer's code gradient (fused: the CPU default;
    the einsum's own: the GPU default)."""
    monkeypatch.setattr(attention_module, "FUSED_CODE_GRADIENT", fused)
    mha = make_mha(mixer, seed=11, scale=0.3)
    P = p64(mha)
    norm, value_network = MIXERS[mixer]
    b64 = bias.astype(np.float64)
    rng = np.random.default_rng(12)
    g, dx = rng.standard_normal((T, D)), rng.standard_normal((T, D))

    def ref(x64):
        return ref_output(P, x64, ref_normalize(ref_scores(P, x64, b64), norm), value_network)

    def f(x32):
        return mha(x32, jnp.asarray(bias), inference=True)[0]

    grad_ref, tangent_ref = central_differences(ref, x.astype(np.float64), g, dx)
    grad = jax.grad(lambda x32: jnp.sum(f(x32) * jnp.asarray(g, jnp.float32)))(jnp.asarray(x))
    close(grad, grad_ref, tol=5e-4)
    _, tangent = jax.jvp(f, (jnp.asarray(x),), (jnp.asarray(dx, jnp.float32),))
    close(tangent, tangent_ref, tol=5e-4)


@pytest.mark.parametrize("value_network", ["mlp_relu", "mlp_linear"])
def test_fused_code_gradient_is_used_on_cpu_and_equals_the_einsums(value_network, monkeypatch):
    """On the CPU backend the first generated layer carries the custom JVP (its code gradient a
    fused multiply + sum over d_v); its value, VJP and JVP equal the plain einsum's."""
    keys = jax.random.split(jax.random.key(0), 5)
    code = jax.random.normal(keys[0], (4, 6, 6))
    values = jax.random.normal(keys[1], (6, 4, 3))
    g = jax.random.normal(keys[2], (6, 4, 3))
    tangents = (jax.random.normal(keys[3], code.shape), jax.random.normal(keys[4], values.shape))

    def run(fused):
        monkeypatch.setattr(attention_module, "FUSED_CODE_GRADIENT", fused)
        f = lambda c, v: apply_value_network(c, v, value_network)  # noqa: E731
        out, vjp = jax.vjp(f, code, values)
        jaxpr = str(jax.make_jaxpr(f)(code, values))
        return (out, *vjp(g), jax.jvp(f, (code, values), tangents)[1]), jaxpr

    fused, fused_jaxpr = run(None if jax.default_backend() == "cpu" else True)
    einsum, einsum_jaxpr = run(False)
    assert "_first_generated_layer_fused" in fused_jaxpr
    assert "_first_generated_layer_fused" not in einsum_jaxpr
    for a, b in zip(fused, einsum):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------------------------------------
# mixer names
# ---------------------------------------------------------------------------------------------


def test_every_mixer_and_official_name_resolves():
    assert len(MIXERS) == 8
    for name in MIXERS:
        assert resolve_mixer(name) == name
    assert set(OFFICIAL_NAMES) == set(OFFICIAL_TABLE)
    for official, parts in OFFICIAL_TABLE.items():
        ours = resolve_mixer(official)
        assert ours == OFFICIAL_NAMES[official]
        assert MIXERS[ours] == parts, official
        mha = MultiHeadAttention(D, H, H * DK, H * DV, official, key=jax.random.key(0))
        assert (mha.normalization, mha.value_network) == parts
        assert mha.attention_dropout == 0.1  # the official default, unless asked otherwise
    assert set(MIXERS.values()) == set(OFFICIAL_TABLE.values())


@pytest.mark.parametrize("bad", ["transformer2", "swiglu_hypatt", "HYLA", ""])
def test_unknown_mixer_raises_with_allowed_values(bad):
    with pytest.raises(ValueError) as err:
        resolve_mixer(bad)
    msg = str(err.value)
    assert "allowed" in msg and "hyla" in msg and "softmax" in msg and "linear_hypatt" in msg
    with pytest.raises(ValueError):
        MultiHeadAttention(D, H, H * DK, H * DV, bad, key=jax.random.key(0))
    with pytest.raises(ValueError):
        ModelConfig(mixer=bad)


def test_parameter_counts_identical_across_mixers():
    d = H * DK
    expected = 3 * (D * d + d) + (d * D + D)
    for name in list(MIXERS) + list(OFFICIAL_NAMES):
        mha = MultiHeadAttention(D, H, d, d, name, key=jax.random.key(0))
        assert count_parameters(mha) == expected, name


def test_invalid_head_dims_and_dropout_raise():
    with pytest.raises(ValueError, match="divisible"):
        MultiHeadAttention(D, 3, 8, 6, key=jax.random.key(0))
    with pytest.raises(ValueError, match="attention_dropout"):
        MultiHeadAttention(D, H, H * DK, H * DV, attention_dropout=1.0, key=jax.random.key(0))
