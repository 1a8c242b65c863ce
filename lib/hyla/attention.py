"""Multi-head attention as a hypernetwork (docs/methods.md#attention-as-a-hypernetwork).

For one sequence X = (x_1..x_T) and head h:

    q_{h,t} = W^Q_h x_t + b^Q_h,   k_{h,t} = W^K_h x_t + b^K_h,   u_{h,t} = W^V_h x_t + b^V_h
    s_{h,q,k} = <q_{h,q}, k_{h,k}> / sqrt(d_k) + beta_h(q, k)          (beta: relative-position bias)
    a = sigma(s)                                                        (the normalisation)

The *latent code* of a (query, key) pair is the H-vector a_{:,q,k}.  The value network turns it into
per-(q,k) weights:

    linear     out_q = sum_h W^O_h sum_k a_{h,q,k} u_{h,k} + b^O
                     = sum_k (sum_h a_{h,q,k} W^O_h W^V_h) x_k + ...    (a linear hypernetwork)
    mlp_relu   g_{q,k} = sum_h a_{h,q,k} u_{h,k};  out_q = sum_h W^O_h sum_k a_{h,q,k} ReLU(g_{q,k}) + b^O
    mlp_linear the same without the ReLU

Normalisations: ``softmax`` over keys, ``none`` (identity: the paper's "linear attention") and
``rms_head``: a / sqrt(mean_h a^2 + 1e-6) over the HEAD axis, no learnable scale.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, PRNGKeyArray

NORMALIZATIONS = ("softmax", "none", "rms_head")
VALUE_NETWORKS = ("linear", "mlp_relu", "mlp_linear")
RMS_EPS = 1e-6

# Every mixer of docs/methods.md#mixer-names under our names -> (normalisation, value network).
MIXERS: dict[str, tuple[str, str]] = {
    "softmax": ("softmax", "linear"),
    "linear": ("none", "linear"),
    "linear+rms_head": ("rms_head", "linear"),
    "hyla": ("rms_head", "mlp_relu"),
    "hyla-nonlinearity": ("rms_head", "mlp_linear"),
    "hyla-rms_head": ("none", "mlp_relu"),
    "hyla-nonlinearity-rms_head": ("none", "mlp_linear"),
    "hyla-rms_head+softmax": ("softmax", "mlp_relu"),
}

# The official `sequence_mixer` names (and config aliases) -> our names.
OFFICIAL_NAMES: dict[str, str] = {
    "softmax_attention": "softmax",
    "transformer": "softmax",
    "linear_attention": "linear",
    "linear_transformer": "linear",
    "linear_attention_rms_head": "linear+rms_head",
    "linear_hypatt": "hyla",
    "linear_hypatt_mlp_linear": "hyla-nonlinearity",
    "linear_hypatt_no_rms_head": "hyla-rms_head",
    "linear_hypatt_mlp_linear_no_rms_head": "hyla-nonlinearity-rms_head",
    "softmax_hypatt": "hyla-rms_head+softmax",
}

# Table A1 row names of the paper, for figures.
PAPER_NAMES: dict[str, str] = {
    "softmax": "Softmax attention",
    "linear": "Linear attention",
    "linear+rms_head": "Linear attention + RMSHead",
    "hyla": "HYLA",
    "hyla-nonlinearity": "HYLA − nonlinearity",
    "hyla-rms_head": "HYLA − RMSHead",
    "hyla-nonlinearity-rms_head": "HYLA − nonlinearity − RMSHead",
    "hyla-rms_head+softmax": "HYLA − RMSHead + softmax",
}


def resolve_mixer(name: str) -> str:
    """Our canonical mixer name for ``name`` (ours or an official alias); ValueError otherwise."""
    if name in MIXERS:
        return name
    if name in OFFICIAL_NAMES:
        return OFFICIAL_NAMES[name]
    raise ValueError(
        f"mixer={name!r} is unknown; allowed: {sorted(MIXERS)} "
        f"(official aliases: {sorted(OFFICIAL_NAMES)})"
    )


def mixer_parts(name: str) -> tuple[str, str]:
    """(normalisation, value network) of a mixer name."""
    return MIXERS[resolve_mixer(name)]


def normalize_scores(
    scores: Float[Array, "H Tq Tk"],
    normalization: str,
    mask: Bool[Array, "Tq Tk"] | None = None,
) -> Float[Array, "H Tq Tk"]:
    """sigma(S) (docs/methods.md#attention-normalisation), with the official masking conventions."""
    if normalization == "softmax":
        if mask is not None:
            scores = jnp.where(mask, scores, jnp.finfo(scores.dtype).min)
        return jax.nn.softmax(scores, axis=-1)
    if mask is not None:
        scores = jnp.where(mask, scores, 0.0)
    if normalization == "none":
        return scores
    if normalization == "rms_head":
        ms = jnp.mean(jnp.square(scores), axis=0, keepdims=True)
        return scores * jax.lax.rsqrt(ms + RMS_EPS)
    raise ValueError(f"normalization={normalization!r}; allowed: {NORMALIZATIONS}")


def _first_generated_layer_einsum(code, values):
    return jnp.einsum("hqk,khd->qkd", code, values)


@jax.custom_jvp
def _first_generated_layer_fused(code, values):
    return _first_generated_layer_einsum(code, values)


@_first_generated_layer_fused.defjvp
def _first_generated_layer_fused_jvp(primals, tangents):
    # Tangent in the code as a broadcast multiply + sum over heads, so that its transpose (the code
    # gradient sum_d dg[q,k,d] u[k,h,d], only d_v terms) is a fused multiply + sum over d.
    (code, values), (d_code, d_values) = primals, tangents
    by_code = jnp.sum(d_code[:, :, :, None] * jnp.transpose(values, (1, 0, 2))[:, None], axis=0)
    primal_out = _first_generated_layer_einsum(code, values)
    return primal_out, by_code + _first_generated_layer_einsum(code, d_values)


# None: the fused code gradient on the CPU backend only (read at trace time); True / False force it.
FUSED_CODE_GRADIENT: bool | None = None


def first_generated_layer(
    code: Float[Array, "H Tq Tk"], values: Float[Array, "Tk H dv"]
) -> Float[Array, "Tq Tk dv"]:
    """g[q,k,d] = sum_h a[h,q,k] u[k,h,d], HYLA's first generated layer before its nonlinearity.

    Same value and derivatives as the einsum.  On CPU the gradient w.r.t. the code, a contraction
    over only d_v terms, is computed as a fused multiply + sum (XLA:CPU runs it as a batched dot at
    ~1.5 GFLOP/s; the fused form made an sRAVEN paper-size step ~10 % faster,
    ``benchmarks/fused_code_grad.py``).  On GPU the einsum's own derivative is kept.
    """
    fused = FUSED_CODE_GRADIENT
    if fused is None:
        fused = jax.default_backend() == "cpu"
    return (_first_generated_layer_fused if fused else _first_generated_layer_einsum)(code, values)


def apply_value_network(
    code: Float[Array, "H Tq Tk"],
    values: Float[Array, "Tk H dv"],
    value_network: str,
) -> Float[Array, "Tq H dv"]:
    """Per-head outputs y_{q,h} before the output projection (docs/methods.md#value-networks)."""
    if value_network == "linear":
        return jnp.einsum("hqk,khd->qhd", code, values)
    if value_network in ("mlp_relu", "mlp_linear"):
        hidden = first_generated_layer(code, values)
        if value_network == "mlp_relu":
            hidden = jax.nn.relu(hidden)
        return jnp.einsum("hqk,qkd->qhd", code, hidden)  # second generated layer
    raise ValueError(f"value_network={value_network!r}; allowed: {VALUE_NETWORKS}")


def lecun_init(key, shape, in_axis=-2, out_axis=-1, init_rate: float | None = None):
    """LeCun truncated normal (±2 sigma, variance-corrected), std = fan_in^-1/2 (flax's default).

    With ``init_rate`` gamma the std is fan_in^-gamma instead (gamma = 0.5 is the default init).
    fan_in is the product of the contracted input dims (``in_axis``).
    """
    axes = (in_axis,) if isinstance(in_axis, int) else in_axis
    fan_in = math.prod(shape[a] for a in axes)
    scale = 1.0 if init_rate is None else fan_in ** (1.0 - 2.0 * init_rate)
    init = jax.nn.initializers.variance_scaling(
        scale, "fan_in", "truncated_normal", in_axis=in_axis, out_axis=out_axis
    )
    return init(key, shape, jnp.float32)


class MultiHeadAttention(eqx.Module):
    """Multi-head attention with a switchable normalisation and value network.

    ``__call__`` is unbatched (x: [T, D]); use ``jax.vmap`` over the batch.  Returns the output and
    the latent code a[h, q, k] (after normalisation, before dropout).
    """

    w_query: Float[Array, "D H dk"]
    b_query: Float[Array, "H dk"]
    w_key: Float[Array, "D H dk"]
    b_key: Float[Array, "H dk"]
    w_value: Float[Array, "D H dv"]
    b_value: Float[Array, "H dv"]
    w_out: Float[Array, "H dv D"]
    b_out: Float[Array, " D"]
    num_heads: int = eqx.field(static=True)
    normalization: str = eqx.field(static=True)
    value_network: str = eqx.field(static=True)
    attention_dropout: float = eqx.field(static=True)

    def __init__(
        self,
        emb_dim: int,
        num_heads: int,
        qk_dim: int,
        v_dim: int,
        mixer: str = "softmax",
        attention_dropout: float = 0.1,
        init_rate: float | None = None,
        *,
        key: PRNGKeyArray,
    ):
        """``qk_dim``/``v_dim`` are TOTAL dims over heads (per-head dims qk_dim/H, v_dim/H)."""
        if qk_dim % num_heads or v_dim % num_heads:
            raise ValueError(
                f"qk_dim={qk_dim} and v_dim={v_dim} must be divisible by num_heads={num_heads}"
            )
        if not 0.0 <= attention_dropout < 1.0:
            raise ValueError(f"attention_dropout={attention_dropout}; allowed: [0, 1)")
        self.normalization, self.value_network = mixer_parts(mixer)
        self.num_heads = num_heads
        self.attention_dropout = float(attention_dropout)
        dk, dv = qk_dim // num_heads, v_dim // num_heads
        kq, kk, kv, ko = jax.random.split(key, 4)
        proj = dict(in_axis=0, out_axis=(1, 2), init_rate=init_rate)
        self.w_query = lecun_init(kq, (emb_dim, num_heads, dk), **proj)
        self.w_key = lecun_init(kk, (emb_dim, num_heads, dk), **proj)
        self.w_value = lecun_init(kv, (emb_dim, num_heads, dv), **proj)
        self.w_out = lecun_init(ko, (num_heads, dv, emb_dim), (0, 1), 2, init_rate)
        self.b_query = jnp.zeros((num_heads, dk))
        self.b_key = jnp.zeros((num_heads, dk))
        self.b_value = jnp.zeros((num_heads, dv))
        self.b_out = jnp.zeros((emb_dim,))

    def _project(
        self, x: Float[Array, "T D"]
    ) -> tuple[Float[Array, "T H dk"], Float[Array, "T H dk"], Float[Array, "T H dv"]]:
        """Queries, keys and values by ONE matmul with the three kernels concatenated (the
        parameters stay separate); one larger matmul is cheaper than three small ones on CPU."""
        dk = self.w_query.shape[-1]
        w = jnp.concatenate([self.w_query, self.w_key, self.w_value], axis=-1)
        b = jnp.concatenate([self.b_query, self.b_key, self.b_value], axis=-1)
        qkv = jnp.einsum("td,dhe->the", x, w) + b
        return qkv[..., :dk], qkv[..., dk : 2 * dk], qkv[..., 2 * dk :]

    @staticmethod
    def _scores(q, k, bias):
        s = jnp.einsum("qhe,khe->hqk", q, k) / math.sqrt(q.shape[-1])
        return s if bias is None else s + bias

    def scores(
        self, x: Float[Array, "T D"], bias: Float[Array, "H T T"] | None = None
    ) -> Float[Array, "H T T"]:
        """Raw scores s_{h,q,k} = <q, k>/sqrt(d_k) + beta_h(q, k)."""
        q, k, _ = self._project(x)
        return self._scores(q, k, bias)

    def __call__(
        self,
        x: Float[Array, "T D"],
        bias: Float[Array, "H T T"] | None = None,
        mask: Bool[Array, "T T"] | None = None,
        *,
        key: PRNGKeyArray | None = None,
        inference: bool = False,
    ) -> tuple[Float[Array, "T D"], Float[Array, "H T T"]]:
        """Output [T, D] and latent code a [H, T, T].

        Attention dropout (train mode, ``key`` given) uses ONE Bernoulli mask of shape [Tq, Tk]
        shared by all heads; pass the same key to every batch element to also share it over the
        batch, as the official runs do.
        """
        q, k, values = self._project(x)
        code = normalize_scores(self._scores(q, k, bias), self.normalization, mask)
        mixed = code
        if not inference and self.attention_dropout > 0.0:
            if key is None:
                raise ValueError("attention dropout needs `key` in train mode (or inference=True)")
            keep = 1.0 - self.attention_dropout
            drop = jax.random.bernoulli(key, keep, code.shape[-2:])
            mixed = code * (drop.astype(code.dtype) / keep)
        y = apply_value_network(mixed, values, self.value_network)
        out = jnp.einsum("qhe,hed->qd", y, self.w_out) + self.b_out
        return out, code
