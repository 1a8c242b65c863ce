"""The transformer (docs/methods.md#transformer, #initialisation, #hyperparameters): parameter
counts, initialisation, block composition."""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from finite_differences import central_differences

from hyla.transformer import ModelConfig, Transformer, count_parameters

LOGIC = dict(num_layers=2, emb_dim=128, num_heads=8, qk_dim=16, v_dim=16, mlp_dim=256,
             seq_len=16, token_dim=5, output_dim=1)
RAVEN = dict(num_layers=4, emb_dim=128, num_heads=16, qk_dim=64, v_dim=64, mlp_dim=256,
             seq_len=36, token_dim=8, output_dim=8)
# the small transformer (same shapes as in test_attention.py: compiled ops are shared)
TINY = dict(num_layers=2, emb_dim=16, num_heads=4, qk_dim=8, v_dim=8, mlp_dim=32, seq_len=8,
            token_dim=5, output_dim=1, mixer="hyla")
# a vocabulary model whose blocks have the shapes of RAVEN's (their initialisers compile once)
VOCAB = dict(RAVEN, token_dim=None, vocab_size=64, output_dim=None, num_layers=1, causal=True)
TRUNC_STD = 0.87962566103423978  # std of a standard normal truncated to [-2, 2]


def shape_count(tree) -> int:
    """Floating-point scalars in a tree of arrays or ShapeDtypeStructs (independent of the lib)."""
    return int(sum(math.prod(leaf.shape) for leaf in jax.tree.leaves(tree)
                   if hasattr(leaf, "dtype") and jnp.issubdtype(leaf.dtype, jnp.floating)))


def abstract_model(**kw):
    cfg = ModelConfig(**kw)
    return eqx.filter_eval_shape(lambda: Transformer(cfg, key=jax.random.key(0)))


def block_formula(D, d, H, nb, mlp):
    """docs/methods.md#hyperparameters: 2*2D + 3(D d + d) + (d D + D) + H nb + (2 D mlp + mlp + D)."""
    return 2 * 2 * D + 3 * (D * d + d) + (d * D + D) + H * nb + (2 * D * mlp + mlp + D)


def model_formula(cfg: dict) -> int:
    D, out = cfg["emb_dim"], cfg["output_dim"]
    blocks = cfg["num_layers"] * block_formula(D, cfg["qk_dim"], cfg["num_heads"], cfg["seq_len"],
                                               cfg["mlp_dim"])
    return (cfg["token_dim"] * D + D) + blocks + 2 * D + (D * out + out)


# ---------------------------------------------------------------------------------------------
# parameter counts
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mixer", ["softmax", "linear", "hyla"])
@pytest.mark.parametrize(
    "cfg,expected",
    [(LOGIC, 151_009), (dict(LOGIC, seq_len=32), 151_265), (RAVEN, 402_824)],
    ids=["logic16", "logic32", "raven"],
)
def test_parameter_counts(cfg, expected, mixer):
    assert model_formula(cfg) == expected
    assert shape_count(abstract_model(**cfg, mixer=mixer)) == expected


def test_count_parameters_on_real_model(init_model):
    assert count_parameters(init_model) == 402_824
    assert count_parameters(init_model) == shape_count(init_model)
    vocab = Transformer(ModelConfig(**VOCAB), key=jax.random.key(0))
    D, V = VOCAB["emb_dim"], VOCAB["vocab_size"]
    blocks = block_formula(D, VOCAB["qk_dim"], VOCAB["num_heads"], VOCAB["seq_len"], VOCAB["mlp_dim"])
    assert count_parameters(vocab) == V * D + blocks + 2 * D  # tied head: no extra parameters


@pytest.mark.parametrize("cfg", [LOGIC, RAVEN], ids=["logic", "raven"])
def test_per_block_formula(cfg):
    model = abstract_model(**cfg)
    D, d, H, nb, M = (cfg[k] for k in ("emb_dim", "qk_dim", "num_heads", "seq_len", "mlp_dim"))
    assert len(model.blocks) == cfg["num_layers"]
    for block in model.blocks:
        assert shape_count(block) == block_formula(D, d, H, nb, M)
        assert shape_count(block.attention) == 3 * (D * d + d) + (d * D + D)
        assert shape_count(block.position) == H * nb
        assert shape_count(block.mlp) == 2 * D * M + M + D
        assert shape_count((block.ln_mixer, block.ln_mlp)) == 2 * 2 * D
    assert model.config.seq_len == nb


# ---------------------------------------------------------------------------------------------
# initialisation
# ---------------------------------------------------------------------------------------------


def kernels_with_fan_in(model, cfg):
    """(name, array, fan_in) of every kernel, with the fan-ins of docs/methods.md#initialisation."""
    D = cfg["emb_dim"]
    out = [("embed_w", model.embed_w, cfg["token_dim"]), ("head_w", model.head_w, D)]
    for i, b in enumerate(model.blocks):
        out += [
            (f"block{i}.w_query", b.attention.w_query, D),
            (f"block{i}.w_key", b.attention.w_key, D),
            (f"block{i}.w_value", b.attention.w_value, D),
            (f"block{i}.w_out", b.attention.w_out, cfg["v_dim"]),
            (f"block{i}.mlp.w_in", b.mlp.w_in, D),
            (f"block{i}.mlp.w_out", b.mlp.w_out, cfg["mlp_dim"]),
        ]
    return out


INIT_CFG = RAVEN


@pytest.fixture(scope="module")
def init_model():
    return Transformer(ModelConfig(**INIT_CFG), key=jax.random.key(3))


def test_kernel_init_std_and_truncation(init_model):
    for name, w, fan_in in kernels_with_fan_in(init_model, INIT_CFG):
        w = np.asarray(w, np.float64)
        target = fan_in**-0.5
        tol = max(0.03, 5 * 0.6 / math.sqrt(w.size))
        assert abs(w.std() / target - 1.0) < tol, (name, w.std(), target)
        assert abs(w.mean()) < 5 * target / math.sqrt(w.size), name
        # LeCun truncated normal: +-2 sigma of the underlying normal, sigma = std / 0.8796
        bound = 2 * target / TRUNC_STD
        assert np.abs(w).max() <= bound * (1 + 1e-5), name
        assert np.abs(w).max() > 2 * target, name  # variance-corrected, not cut at 2 std
        if w.size >= 1000:
            assert np.abs(w).max() > 0.95 * bound, name  # truncated at the bound, not earlier


def test_biases_zero_and_layernorms(init_model):
    m = init_model
    zeros = [m.embed_b, m.head_b]
    for b in m.blocks:
        zeros += [b.attention.b_query, b.attention.b_key, b.attention.b_value, b.attention.b_out,
                  b.mlp.b_in, b.mlp.b_out]
    for z in zeros:
        np.testing.assert_array_equal(np.asarray(z), 0.0)
    lns = [m.ln_final] + [ln for b in m.blocks for ln in (b.ln_mixer, b.ln_mlp)]
    for ln in lns:
        assert isinstance(ln, eqx.nn.LayerNorm)
        assert ln.eps == 1e-6
        np.testing.assert_array_equal(np.asarray(ln.weight), 1.0)
        np.testing.assert_array_equal(np.asarray(ln.bias), 0.0)


def test_init_rate_gamma():
    cfg = dict(INIT_CFG, num_layers=1)  # same shapes as the init_model blocks
    gamma = 1.0
    model = Transformer(ModelConfig(**cfg, init_rate=gamma), key=jax.random.key(4))
    for name, w, fan_in in kernels_with_fan_in(model, cfg):
        w = np.asarray(w, np.float64)
        tol = max(0.03, 5 * 0.6 / math.sqrt(w.size))
        assert abs(w.std() / fan_in**-gamma - 1.0) < tol, (name, w.std(), fan_in**-gamma)
    # gamma = 1/2 is exactly the default LeCun init
    a = Transformer(ModelConfig(**cfg, init_rate=0.5), key=jax.random.key(4))
    b = Transformer(ModelConfig(**cfg), key=jax.random.key(4))
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-6, atol=0)


def test_vocab_embedding_init_std(vocab_model):
    e = np.asarray(vocab_model.embed_w, np.float64)
    D = VOCAB["emb_dim"]
    assert e.shape == (VOCAB["vocab_size"], D)
    assert abs(e.std() * math.sqrt(D) - 1.0) < 0.05  # Normal(0, 1/D)
    assert abs(e.mean()) < 4 / math.sqrt(D) / math.sqrt(e.size)


# ---------------------------------------------------------------------------------------------
# forward pass = hand-written composition
# ---------------------------------------------------------------------------------------------


def np_layernorm(x, ln):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + 1e-6) * np.asarray(ln.weight, np.float64) + np.asarray(ln.bias, np.float64)


def np_gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))


def np_mlp(x, mlp):
    f = lambda a: np.asarray(a, np.float64)  # noqa: E731
    return np_gelu_tanh(x @ f(mlp.w_in) + f(mlp.b_in)) @ f(mlp.w_out) + f(mlp.b_out)


def random_model(cfg: ModelConfig, seed: int) -> Transformer:
    """A Transformer of ``cfg`` with random weights everywhere (LayerNorm affines and biases
    included), built without running its initialiser (eval_shape, then numpy draws): the
    forward-pass tests need no init, and skipping it saves compiling the initialisers."""
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


@pytest.fixture(scope="module")
def tiny_model():
    return random_model(ModelConfig(**TINY), 6)


@pytest.fixture(scope="module")
def tokens():
    return np.random.default_rng(8).standard_normal((TINY["seq_len"], TINY["token_dim"])).astype(np.float32)


def test_pre_ln_block_composition(tiny_model):
    block = tiny_model.blocks[0]
    x = np.random.default_rng(9).standard_normal((TINY["seq_len"], TINY["emb_dim"]))
    t = x.shape[0]
    h, code = block.attention(jnp.asarray(np_layernorm(x, block.ln_mixer), jnp.float32),
                              block.position(t), None, inference=True)
    z = x + np.asarray(h, np.float64)
    y = z + np_mlp(np_layernorm(z, block.ln_mlp), block.mlp)
    got, got_code = block(jnp.asarray(x, jnp.float32), inference=True)
    np.testing.assert_allclose(np.asarray(got), y, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(np.asarray(got_code), np.asarray(code), rtol=1e-5, atol=1e-6)
    # the GELU is the tanh approximation (the exact erf GELU differs measurably here)
    erf = np.vectorize(math.erf)
    gelu_erf = lambda v: 0.5 * v * (1 + erf(v / math.sqrt(2)))  # noqa: E731
    m = block.mlp
    pre = np_layernorm(z, block.ln_mlp) @ np.asarray(m.w_in, np.float64) + np.asarray(m.b_in)
    y_erf = z + gelu_erf(pre) @ np.asarray(m.w_out, np.float64) + np.asarray(m.b_out)
    assert np.max(np.abs(y_erf - y)) > 1e-5


def test_transformer_composition_and_code_shape(tiny_model, tokens):
    m = tiny_model
    x = tokens.astype(np.float64) @ np.asarray(m.embed_w, np.float64) + np.asarray(m.embed_b)
    codes = []
    for block in m.blocks:
        x, c = block(jnp.asarray(x, jnp.float32), None, inference=True)
        codes.append(np.asarray(c))
        x = np.asarray(x, np.float64)
    y = np_layernorm(x, m.ln_final) @ np.asarray(m.head_w, np.float64) + np.asarray(m.head_b)
    out, code = m(jnp.asarray(tokens), inference=True)
    assert out.shape == (TINY["seq_len"], TINY["output_dim"])
    L, H, T = TINY["num_layers"], TINY["num_heads"], TINY["seq_len"]
    assert code.shape == (L, H, T, T)
    np.testing.assert_allclose(np.asarray(out), y, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(np.asarray(code), np.stack(codes), rtol=1e-4, atol=2e-5)
    # batched over a leading axis with vmap
    outs, codes_b = jax.vmap(lambda s: m(s, inference=True))(jnp.stack([tokens, tokens]))
    assert outs.shape == (2, T, TINY["output_dim"]) and codes_b.shape == (2, L, H, T, T)


@pytest.fixture(scope="module")
def vocab_model():
    return Transformer(ModelConfig(**VOCAB), key=jax.random.key(10))


def test_vocabulary_input_and_tied_head(vocab_model):
    m = vocab_model
    V, D = VOCAB["vocab_size"], VOCAB["emb_dim"]
    assert m.head_w is None and m.embed_b is None and m.embed_w.shape == (V, D)
    ids = np.array([3, 0, 63, 4, 4, 1, 9, 3])
    T = len(ids)
    out, code = m(jnp.asarray(ids), inference=True)
    assert out.shape == (T, V) and code.shape == (1, VOCAB["num_heads"], T, T)
    e = np.asarray(m.embed_w, np.float64)
    x, _ = m.blocks[0](jnp.asarray(e[ids], jnp.float32), jnp.tril(jnp.ones((T, T), bool)),
                       inference=True)
    y = np_layernorm(np.asarray(x, np.float64), m.ln_final) @ e.T / math.sqrt(D)
    np.testing.assert_allclose(np.asarray(out), y, rtol=1e-4, atol=1e-4)
    # a vocabulary with an explicit output head
    out2, _ = Transformer(ModelConfig(**dict(VOCAB, output_dim=3)), key=jax.random.key(10))(
        jnp.asarray(ids), inference=True)
    assert out2.shape == (T, 3)


# ---------------------------------------------------------------------------------------------
# config validation
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kw,match",
    [
        (dict(num_layers=0), "num_layers"),
        (dict(emb_dim=0), "emb_dim"),
        (dict(num_heads=0), "num_heads"),
        (dict(mlp_dim=0), "mlp_dim"),
        (dict(seq_len=0), "seq_len"),
        (dict(token_dim=5, vocab_size=10), "token_dim"),
        (dict(token_dim=None, vocab_size=None), "token_dim"),
        (dict(output_dim=None), "vocab_size"),
        (dict(init_rate=0.0), "init_rate"),
        (dict(init_rate=2.5), "init_rate"),
        (dict(mixer="nope"), "allowed"),
    ],
)
def test_model_config_value_errors(kw, match):
    with pytest.raises(ValueError, match=match):
        ModelConfig(**kw)


def test_model_config_resolves_official_mixer_name():
    assert ModelConfig(mixer="linear_hypatt").mixer == "hyla"
    assert ModelConfig(mixer="transformer").mixer == "softmax"
    assert ModelConfig().attention_dropout == 0.1  # official default, explicit option
    model = Transformer(ModelConfig(num_layers=1, emb_dim=8, num_heads=2, qk_dim=4, v_dim=4, mlp_dim=8,
                                    seq_len=4, token_dim=3, output_dim=1, attention_dropout=0.0),
                        key=jax.random.key(0))
    assert model.blocks[0].attention.attention_dropout == 0.0


def test_layer_norm_value_and_compact_derivative_match_float64_reference():
    """hyla.transformer._layer_norm (custom JVP) against LayerNorm written out in float64 numpy:
    the value, a forward-mode tangent and the reverse-mode gradient of a random projection."""
    from hyla.transformer import _layer_norm

    rng = np.random.default_rng(0)
    T, D, eps = 5, 7, 1e-6
    x = rng.normal(size=(T, D)) * 3.0 + 1.0
    w, b = rng.normal(size=D), rng.normal(size=D)
    ln = eqx.nn.LayerNorm(D, eps=eps)
    ln = eqx.tree_at(lambda m: (m.weight, m.bias), ln, (jnp.asarray(w, jnp.float32), jnp.asarray(b, jnp.float32)))

    def ref(x):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + eps) * w + b

    f = lambda x: _layer_norm(ln, x)  # noqa: E731
    x32 = jnp.asarray(x, jnp.float32)
    np.testing.assert_allclose(np.asarray(f(x32)), ref(x), atol=1e-5)
    # derivatives by central differences of the float64 reference
    dx, g = rng.normal(size=(T, D)), rng.normal(size=(T, D))
    grad_ref, jvp_ref = central_differences(ref, x, g, dx)
    _, jvp = jax.jvp(f, (x32,), (jnp.asarray(dx, jnp.float32),))
    np.testing.assert_allclose(np.asarray(jvp), jvp_ref, atol=2e-4)
    grad = jax.grad(lambda x: jnp.sum(f(x) * jnp.asarray(g, jnp.float32)))(x32)
    np.testing.assert_allclose(np.asarray(grad), grad_ref, atol=2e-4)
