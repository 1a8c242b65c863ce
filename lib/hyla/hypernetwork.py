"""The hypernetwork view of multi-head attention, written out explicitly (paper Fig. 1, A1;
docs/methods.md#attention-as-a-hypernetwork, #value-networks).

Float64 numpy references, written independently of ``hyla.attention`` (which uses fused einsums):

* :func:`multihead_attention` and :func:`hyla` -- the paper's Algorithm 1 (multi-head softmax
  attention) and Algorithm 2 (hypernetwork linear attention), line for line parallel so that
  Fig. A1 can show them side by side;
* :func:`latent_code` -- a[h, q, k] under any normalisation (softmax over keys, none, RMS over heads);
* :func:`linear_hypernetwork_weights` -- W_{q,k} = sum_h a_{h,q,k} W^O_h W^V_h, the per-(query, key)
  value network that multi-head attention generates, and :func:`mha_as_hypernetwork`, which applies
  it: out_q = sum_k W_{q,k} x_k + sum_k sum_h a_{h,q,k} W^O_h b^V_h + b^O;
* :func:`hyla_mlp_weights` and :func:`hyla_as_mlp` -- HYLA's per-(query, key) two-layer MLP:
  out_q = sum_k W2_{q,k} relu(W1_{q,k} x_k + b1_{q,k}) + b^O with W1 = sum_h a W^V_h,
  b1 = sum_h a b^V_h, W2 = sum_h a W^O_h.

Parameters are read from a :class:`hyla.attention.MultiHeadAttention` with :func:`head_params`, in
the orientation of the maths: W^Q_h, W^K_h [d_k, D], W^V_h [d_v, D], W^O_h [D, d_v].  No masks
(the synthetic tasks are non-causal).
"""

from __future__ import annotations

import numpy as np

RMS_EPS = 1e-6  # RMSHead's epsilon (docs/methods.md#attention-normalisation)

__all__ = [
    "RMS_EPS",
    "head_params",
    "with_random_biases",
    "multihead_attention",
    "hyla",
    "scores",
    "latent_code",
    "linear_hypernetwork_weights",
    "mha_as_hypernetwork",
    "hyla_mlp_weights",
    "hyla_as_mlp",
]


def head_params(attn) -> dict[str, np.ndarray]:
    """Per-head float64 matrices of an attention module: W_Q, W_K [H, dk, D], W_V [H, dv, D],
    W_O [H, D, dv], biases b_Q, b_K [H, dk], b_V [H, dv], b_O [D]."""
    f = lambda a: np.asarray(a, dtype=np.float64)  # noqa: E731
    return {
        "W_Q": f(attn.w_query).transpose(1, 2, 0),
        "b_Q": f(attn.b_query),
        "W_K": f(attn.w_key).transpose(1, 2, 0),
        "b_K": f(attn.b_key),
        "W_V": f(attn.w_value).transpose(1, 2, 0),
        "b_V": f(attn.b_value),
        "W_O": f(attn.w_out).transpose(0, 2, 1),
        "b_O": f(attn.b_out),
    }


def with_random_biases(attn, seed: int = 0, scale: float = 0.5):
    """A copy of ``attn`` whose four biases are non-zero Normal(0, scale^2) draws (fresh modules
    start with zero biases, which would hide bias terms from a check)."""
    import equinox as eqx
    import jax.numpy as jnp

    rng = np.random.default_rng(seed)
    names = ("b_query", "b_key", "b_value", "b_out")
    new = [jnp.asarray(scale * rng.standard_normal(getattr(attn, n).shape), jnp.float32) for n in names]
    return eqx.tree_at(lambda m: [getattr(m, n) for n in names], attn, new)


# ---------------------------------------------------------------------------------------------------
# Fig. A1: the two algorithms, line for line


def _project(p, x):
    q = np.einsum("hed,td->hte", p["W_Q"], x) + p["b_Q"][:, None]
    k = np.einsum("hed,td->hte", p["W_K"], x) + p["b_K"][:, None]
    v = np.einsum("hed,td->hte", p["W_V"], x) + p["b_V"][:, None]
    return q, k, v  # [H, T, d]


def scores(p, x, bias=None):
    """s[h, q, k] = <q_{h,q}, k_{h,k}> / sqrt(d_k) + bias[h, q, k]."""
    q, k, _ = _project(p, np.asarray(x, np.float64))
    s = np.einsum("hqe,hke->hqk", q, k) / np.sqrt(q.shape[-1])
    return s if bias is None else s + np.asarray(bias, np.float64)


def _softmax(s, axis):
    e = np.exp(s - s.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def multihead_attention(p, x, bias=None):
    """Algorithm 1: multi-head softmax attention of one sequence x [T, D]."""
    q, k, v = _project(p, x)                                    # [H, T, d] per head
    s = np.einsum("hqe,hke->hqk", q, k) / np.sqrt(q.shape[-1])  # scores
    s = s if bias is None else s + bias                        # relative-position bias
    a = _softmax(s, axis=2)                                    # normalise over KEYS
    y = np.einsum("hqk,hkd->hqd", a, v)                        # linear value network per head
    return np.einsum("hqd,hed->qe", y, p["W_O"]) + p["b_O"]    # output projection


def hyla(p, x, bias=None):
    """Algorithm 2: hypernetwork linear attention (HYLA) of one sequence x [T, D]."""
    q, k, v = _project(p, x)                                    # [H, T, d] per head
    s = np.einsum("hqe,hke->hqk", q, k) / np.sqrt(q.shape[-1])  # scores
    s = s if bias is None else s + bias                        # relative-position bias
    a = s / np.sqrt(np.mean(s**2, axis=0) + RMS_EPS)           # normalise over HEADS
    g = np.maximum(np.einsum("hqk,hkd->qkd", a, v), 0.0)       # value network layer 1 + ReLU
    y = np.einsum("hqk,qkd->hqd", a, g)                        # layer 2, mixed by the code again
    return np.einsum("hqd,hed->qe", y, p["W_O"]) + p["b_O"]    # output projection


# ---------------------------------------------------------------------------------------------------
# The hypernetwork view, one (query, key) pair at a time


def latent_code(p, x, normalization: str, bias=None) -> np.ndarray:
    """a[h, q, k]: softmax over keys, ``none`` (identity) or ``rms_head`` (RMS over heads)."""
    s = scores(p, x, bias)
    if normalization == "softmax":
        return _softmax(s, axis=2)
    if normalization == "none":
        return s
    if normalization == "rms_head":
        return s / np.sqrt(np.mean(s**2, axis=0, keepdims=True) + RMS_EPS)
    raise ValueError(f"normalization={normalization!r}; allowed: 'softmax', 'none', 'rms_head'")


def linear_hypernetwork_weights(p, code) -> np.ndarray:
    """W[q, k] = sum_h a[h, q, k] W^O_h W^V_h, shape [Tq, Tk, D, D] (a linear hypernetwork whose
    basis is the H rank-d_v matrices W^O_h W^V_h)."""
    basis = np.einsum("hev,hvd->hed", p["W_O"], p["W_V"])  # [H, D, D]
    return np.einsum("hqk,hed->qked", np.asarray(code, np.float64), basis)


def mha_as_hypernetwork(p, x, normalization: str = "softmax", bias=None) -> np.ndarray:
    """Multi-head attention with a linear value network, computed as sum_k W_{q,k} x_k + biases,
    with an explicit loop over (query, key) pairs."""
    x = np.asarray(x, np.float64)
    a = latent_code(p, x, normalization, bias)
    w = linear_hypernetwork_weights(p, a)
    bias_basis = np.einsum("hev,hv->he", p["W_O"], p["b_V"])  # [H, D]: W^O_h b^V_h
    t_q, t_k = a.shape[1:]
    out = np.tile(p["b_O"], (t_q, 1))
    for q in range(t_q):
        for k in range(t_k):
            out[q] += w[q, k] @ x[k] + a[:, q, k] @ bias_basis
    return out


def hyla_mlp_weights(p, code):
    """HYLA's generated two-layer MLP per (q, k): W1 [Tq, Tk, dv, D], b1 [Tq, Tk, dv], W2 [Tq, Tk, D, dv]."""
    a = np.asarray(code, np.float64)
    w1 = np.einsum("hqk,hvd->qkvd", a, p["W_V"])
    b1 = np.einsum("hqk,hv->qkv", a, p["b_V"])
    w2 = np.einsum("hqk,hdv->qkdv", a, p["W_O"])
    return w1, b1, w2


def hyla_as_mlp(p, x, normalization: str = "rms_head", bias=None, nonlinearity: bool = True) -> np.ndarray:
    """HYLA (and its ablations) as an explicit per-(query, key) MLP, summed over keys:
    out_q = sum_k W2_{q,k} phi(W1_{q,k} x_k + b1_{q,k}) + b^O, phi = ReLU or identity."""
    x = np.asarray(x, np.float64)
    a = latent_code(p, x, normalization, bias)
    w1, b1, w2 = hyla_mlp_weights(p, a)
    t_q, t_k = a.shape[1:]
    out = np.tile(p["b_O"], (t_q, 1))
    for q in range(t_q):
        for k in range(t_k):
            hidden = w1[q, k] @ x[k] + b1[q, k]
            if nonlinearity:
                hidden = np.maximum(hidden, 0.0)
            out[q] += w2[q, k] @ hidden
    return out
