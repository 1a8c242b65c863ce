"""Pre-LN transformer of the official runs (docs/methods.md#transformer, #initialisation).

    Z = X + Mixer(LN_1(X))        Y = Z + MLP(LN_2(Z))        MLP = Dense -> GELU(tanh) -> Dense

Input: real-valued tokens through a Dense layer (fuzzy logic, sRAVEN) or a vocabulary embedding
(language models).  Output: a final LayerNorm and a Dense head (or, for vocabularies without an
``output_dim``, the tied embedding scaled by 1/sqrt(D)).  ``__call__`` is unbatched and returns the
outputs at every position together with the per-layer latent codes a[layer, h, q, k].
"""

from __future__ import annotations

import dataclasses
import functools
import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int, PRNGKeyArray

from hyla.attention import MultiHeadAttention, lecun_init, resolve_mixer
from hyla.position import RelativePositionBias

LN_EPS = 1e-6


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Sizes and switches of a transformer; ``qk_dim``/``v_dim`` are totals over heads."""

    num_layers: int = 2
    emb_dim: int = 128
    num_heads: int = 8
    qk_dim: int = 16
    v_dim: int = 16
    mlp_dim: int = 256
    mixer: str = "hyla"
    seq_len: int = 16
    token_dim: int | None = 5  # real-valued token input (None: use vocab_size)
    vocab_size: int | None = None  # integer token input
    output_dim: int | None = 1  # None with a vocabulary: tied embedding head
    attention_dropout: float = 0.1
    dropout: float = 0.0
    causal: bool = False
    relative_position: bool = True
    learned_position: bool = False  # absolute learned positions (the init-rate study)
    post_ln: bool = False  # post-LN blocks (the init-rate study); the paper uses pre-LN
    init_rate: float | None = None  # std = fan_in^-gamma for every kernel; None: LeCun

    def __post_init__(self):
        object.__setattr__(self, "mixer", resolve_mixer(self.mixer))
        for name in ("num_layers", "emb_dim", "num_heads", "qk_dim", "v_dim", "mlp_dim", "seq_len"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}={getattr(self, name)}; allowed: an integer >= 1")
        if (self.token_dim is None) == (self.vocab_size is None):
            raise ValueError("give exactly one of token_dim (real tokens) and vocab_size (ids)")
        if self.output_dim is None and self.vocab_size is None:
            raise ValueError("output_dim=None (tied embedding head) needs vocab_size")
        if self.init_rate is not None and not 0.0 < self.init_rate <= 2.0:
            raise ValueError(f"init_rate={self.init_rate}; allowed: (0, 2] or None")


class MLP(eqx.Module):
    w_in: Float[Array, "D M"]
    b_in: Float[Array, " M"]
    w_out: Float[Array, "M D"]
    b_out: Float[Array, " D"]

    def __init__(self, emb_dim: int, mlp_dim: int, init_rate=None, *, key: PRNGKeyArray):
        k1, k2 = jax.random.split(key)
        self.w_in = lecun_init(k1, (emb_dim, mlp_dim), init_rate=init_rate)
        self.w_out = lecun_init(k2, (mlp_dim, emb_dim), init_rate=init_rate)
        self.b_in = jnp.zeros((mlp_dim,))
        self.b_out = jnp.zeros((emb_dim,))

    def __call__(self, x: Float[Array, "T D"]) -> Float[Array, "T D"]:
        return jax.nn.gelu(x @ self.w_in + self.b_in, approximate=True) @ self.w_out + self.b_out


@functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
def _normalize(x: Float[Array, "T D"], eps: float) -> Float[Array, "T D"]:
    """(x - mean) / sqrt(var + eps) over the last axis, as ``eqx.nn.LayerNorm`` computes it."""
    mean = jnp.mean(x, axis=-1, keepdims=True)
    variance = jnp.maximum(0.0, jnp.mean(jnp.square(x - mean), axis=-1, keepdims=True))
    return (x - mean) * jax.lax.rsqrt(variance + eps)


@_normalize.defjvp
def _normalize_jvp(eps, primals, tangents):
    """The textbook derivative d xhat = (dx - mean(dx) - xhat mean(xhat dx)) / std.

    Mathematically the derivative autodiff would produce, but compact: its transpose (the backward
    pass) reads x-hat and two row statistics per layer.  Autodiff's own version is a long chain of
    elementwise terms that XLA:CPU fuses into every transposed copy of the residual-stream
    gradient, recomputing it once per weight gradient (~1/3 of a 4-layer training step).
    """
    (x,), (dx,) = primals, tangents
    mean = jnp.mean(x, axis=-1, keepdims=True)
    variance = jnp.maximum(0.0, jnp.mean(jnp.square(x - mean), axis=-1, keepdims=True))
    inv = jax.lax.rsqrt(variance + eps)
    xhat = (x - mean) * inv
    dxc = dx - jnp.mean(dx, axis=-1, keepdims=True)
    return xhat, inv * (dxc - xhat * jnp.mean(dxc * xhat, axis=-1, keepdims=True))


def _layer_norm(ln: eqx.nn.LayerNorm, x: Float[Array, "T D"]) -> Float[Array, "T D"]:
    """``jax.vmap(ln)(x)`` computed on the whole [T, D] array at once.

    Same arithmetic as ``eqx.nn.LayerNorm.__call__`` per token, but written over the last axis
    and with a compact derivative (``_normalize``): both make the training step much faster on
    CPU (benchmarks/RESULTS.md).
    """
    out = _normalize(x, ln.eps)
    if ln.use_weight:
        out = ln.weight * out
    if ln.use_bias:
        out = out + ln.bias
    return out


def _dropout(x, rate, key, inference):
    if inference or rate == 0.0:
        return x
    keep = jax.random.bernoulli(key, 1.0 - rate, x.shape)
    return jnp.where(keep, x / (1.0 - rate), 0.0)


class Block(eqx.Module):
    ln_mixer: eqx.nn.LayerNorm
    attention: MultiHeadAttention
    position: RelativePositionBias | None
    ln_mlp: eqx.nn.LayerNorm
    mlp: MLP
    dropout: float = eqx.field(static=True)
    post_ln: bool = eqx.field(static=True)

    def __init__(self, cfg: ModelConfig, *, key: PRNGKeyArray):
        ka, kp, km = jax.random.split(key, 3)
        self.ln_mixer = eqx.nn.LayerNorm(cfg.emb_dim, eps=LN_EPS)
        self.ln_mlp = eqx.nn.LayerNorm(cfg.emb_dim, eps=LN_EPS)
        self.attention = MultiHeadAttention(
            cfg.emb_dim, cfg.num_heads, cfg.qk_dim, cfg.v_dim, cfg.mixer,
            cfg.attention_dropout, cfg.init_rate, key=ka,
        )
        self.position = (
            RelativePositionBias(cfg.num_heads, cfg.seq_len, key=kp) if cfg.relative_position else None
        )
        self.mlp = MLP(cfg.emb_dim, cfg.mlp_dim, cfg.init_rate, key=km)
        self.dropout = cfg.dropout
        self.post_ln = cfg.post_ln

    def __call__(self, x, mask=None, *, key=None, inference=False):
        ka, k1, k2 = (None,) * 3 if key is None else jax.random.split(key, 3)
        t = x.shape[0]
        bias = None if self.position is None else self.position(t)
        ln1 = lambda y: _layer_norm(self.ln_mixer, y)  # noqa: E731
        ln2 = lambda y: _layer_norm(self.ln_mlp, y)  # noqa: E731
        if self.post_ln:
            h, code = self.attention(x, bias, mask, key=ka, inference=inference)
            x = ln1(x + _dropout(h, self.dropout, k1, inference))
            x = ln2(x + _dropout(self.mlp(x), self.dropout, k2, inference))
            return x, code
        h, code = self.attention(ln1(x), bias, mask, key=ka, inference=inference)
        x = x + _dropout(h, self.dropout, k1, inference)
        x = x + _dropout(self.mlp(ln2(x)), self.dropout, k2, inference)
        return x, code


class Transformer(eqx.Module):
    """Token input -> L blocks -> final LN -> head.  Unbatched; returns (outputs, codes)."""

    embed_w: Float[Array, "Din D"]
    embed_b: Float[Array, " D"] | None
    position_embedding: Float[Array, "T D"] | None
    blocks: tuple[Block, ...]
    ln_final: eqx.nn.LayerNorm | None
    head_w: Float[Array, "D O"] | None
    head_b: Float[Array, " O"] | None
    config: ModelConfig = eqx.field(static=True)

    def __init__(self, cfg: ModelConfig, *, key: PRNGKeyArray):
        ke, kpos, kh, *kb = jax.random.split(key, 3 + cfg.num_layers)
        self.config = cfg
        if cfg.token_dim is not None:
            self.embed_w = lecun_init(ke, (cfg.token_dim, cfg.emb_dim), init_rate=cfg.init_rate)
            self.embed_b = jnp.zeros((cfg.emb_dim,))
        else:  # embedding table, Normal(0, 1/D) as flax's default embed init (or fan^-gamma)
            std = cfg.emb_dim ** (-0.5 if cfg.init_rate is None else -cfg.init_rate)
            self.embed_w = std * jax.random.normal(ke, (cfg.vocab_size, cfg.emb_dim))
            self.embed_b = None
        self.position_embedding = (
            jax.random.normal(kpos, (cfg.seq_len, cfg.emb_dim)) * (cfg.emb_dim ** -0.5)
            if cfg.learned_position else None
        )
        self.blocks = tuple(Block(cfg, key=k) for k in kb)
        self.ln_final = None if cfg.post_ln else eqx.nn.LayerNorm(cfg.emb_dim, eps=LN_EPS)
        if cfg.output_dim is None:
            self.head_w, self.head_b = None, None
        else:
            self.head_w = lecun_init(kh, (cfg.emb_dim, cfg.output_dim), init_rate=cfg.init_rate)
            self.head_b = jnp.zeros((cfg.output_dim,))

    def embed(self, tokens: Float[Array, "T Din"] | Int[Array, " T"]) -> Float[Array, "T D"]:
        if self.embed_b is not None:
            h = tokens @ self.embed_w + self.embed_b
        else:
            h = self.embed_w[tokens]
        if self.position_embedding is not None:
            h = h + self.position_embedding[: h.shape[0]]
        return h

    def __call__(
        self,
        tokens: Float[Array, "T Din"] | Int[Array, " T"],
        *,
        key: PRNGKeyArray | None = None,
        inference: bool = False,
    ) -> tuple[Float[Array, "T O"], Float[Array, "L H T T"]]:
        """Outputs at every position and the latent codes of every layer.

        In train mode pass the SAME ``key`` to every batch element: attention dropout then draws
        one mask per layer shared over batch and heads, as the official runs do.
        """
        cfg = self.config
        x = self.embed(tokens)
        t = x.shape[0]
        mask = jnp.tril(jnp.ones((t, t), bool)) if cfg.causal else None
        keys = [None] * len(self.blocks) if key is None else jax.random.split(key, len(self.blocks))
        codes = []
        for block, k in zip(self.blocks, keys):
            x, code = block(x, mask, key=k, inference=inference)
            codes.append(code)
        if self.ln_final is not None:
            x = _layer_norm(self.ln_final, x)
        if self.head_w is None:
            out = x @ self.embed_w.T / math.sqrt(cfg.emb_dim)
        else:
            out = x @ self.head_w + self.head_b
        return out, jnp.stack(codes)


def count_parameters(model: eqx.Module) -> int:
    """Number of trainable scalars (inexact array leaves)."""
    leaves = jax.tree.leaves(eqx.filter(model, eqx.is_inexact_array))
    return int(sum(x.size for x in leaves))
