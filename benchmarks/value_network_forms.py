"""Forms of HYLA's value network on XLA:CPU: time of one attention layer's mixing, forward + backward.

HYLA costs more than linear attention per step on sRAVEN (1.29-1.45x, target 1.2x; RESULTS.md). This
script times, at the sRAVEN paper size (batch 128, T = 36, 16 heads, d_k = d_v = 4), the gradient of
scores -> normalisation -> value network for linear attention and for several equivalent ways of
writing HYLA's two generated layers

    hidden[q,k,d] = sum_h a[h,q,k] v[k,h,d],    y[q,h,d] = sum_k a[h,q,k] relu(hidden[q,k,d]),

checks that every form gives the library's result, and prints median milliseconds. The first layer
batches over the key k and the second over the query q, while the code a comes out of the score
matmul head-major; XLA:CPU's dots want their batch axes leading, so each form pays full-size
transposes of the [B, H, T, T] code (forward and backward) or slow non-matmul reductions.

    PYTHONPATH=lib python benchmarks/value_network_forms.py --repeats 7
    PYTHONPATH=lib python benchmarks/value_network_forms.py --repeats 7 --size logic   # B 128, T 16, H 8, d 2
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np

import hyla.attention as attention
from hyla.attention import RMS_EPS, apply_value_network, normalize_scores
from hyla.train import compiler_options

# batch, tokens, heads, head dim at paper size: sRAVEN (9 panels x 4 features) and fuzzy logic (N=16)
SIZES = {"raven": (128, 36, 16, 4), "logic": (128, 16, 8, 2)}


def _rms_minor(s, axis):
    return s * jax.lax.rsqrt(jnp.mean(s * s, axis=axis, keepdims=True) + RMS_EPS)


def linear(q, k, v):
    s = jnp.einsum("qhe,khe->hqk", q, k) / np.sqrt(q.shape[-1])
    return apply_value_network(s, v, "linear")


def _rms_head_code(q, k):
    """HYLA's code a[h, q, k]: scores normalised by RMSHead, as the library computes them."""
    s = jnp.einsum("qhe,khe->hqk", q, k) / np.sqrt(q.shape[-1])
    return normalize_scores(s, "rms_head")


def hyla_library(q, k, v):
    """The library's form (hyla.attention): two einsums on the head-major code (on CPU the first
    layer's code gradient is a fused multiply + sum, ``first_generated_layer``)."""
    return apply_value_network(_rms_head_code(q, k), v, "mlp_relu")


def _second_layer(a, hidden):
    return jnp.einsum("hqk,qkd->qhd", a, hidden)


def hyla_einsum_derivative(q, k, v):
    """The library's form with the einsum's own code gradient in the first layer (the GPU default;
    the library's CPU default computes that gradient as a fused multiply + sum)."""
    a = _rms_head_code(q, k)
    return _second_layer(a, jax.nn.relu(attention._first_generated_layer_einsum(a, v)))


@jax.custom_jvp
def _second_layer_fused(a, hidden):
    return _second_layer(a, hidden)


@_second_layer_fused.defjvp
def _second_layer_fused_jvp(primals, tangents):
    (a, hidden), (da, dhidden) = primals, tangents
    by_code = jnp.sum(da[:, :, :, None] * hidden[None], axis=2)  # [h, q, d]; transpose: sum over d
    return _second_layer(a, hidden), jnp.transpose(by_code, (1, 0, 2)) + _second_layer(a, dhidden)


def hyla_fused_both(q, k, v):
    """Both generated layers' code gradients (each a sum over only d_v terms) as fused multiply + sum."""
    a = _rms_head_code(q, k)
    return _second_layer_fused(a, jax.nn.relu(attention._first_generated_layer_fused(a, v)))


def hyla_head_minor(q, k, v):
    """Code stored [q, k, h]: RMS over the minor axis, first layer as multiply + minor-axis sum."""
    s = jnp.einsum("qhe,khe->qkh", q, k) / np.sqrt(q.shape[-1])
    a = _rms_minor(s, 2)
    hidden = jax.nn.relu(jnp.sum(a[:, :, None, :] * jnp.transpose(v, (0, 2, 1))[None], axis=-1))
    return jnp.einsum("qkh,qkd->qhd", a, hidden)


def hyla_two_layouts(q, k, v):
    """Scores computed twice, [h, q, k] and [h, k, q], so each layer's dot only swaps outer axes."""
    s_qk = jnp.einsum("qhe,khe->hqk", q, k) / np.sqrt(q.shape[-1])
    s_kq = jnp.einsum("khe,qhe->hkq", k, q) / np.sqrt(q.shape[-1])
    inv = jax.lax.rsqrt(jnp.mean(s_qk * s_qk, axis=0) + RMS_EPS)
    hidden = jax.nn.relu(jnp.einsum("hkq,khd->kqd", s_kq * inv.T, v))
    return jnp.einsum("hqk,kqd->qhd", s_qk * inv, hidden)


def hyla_broadcast(q, k, v):
    """Both layers as broadcast multiply + sum (no dots), query-major code."""
    s = jnp.einsum("qhe,khe->qhk", q, k) / np.sqrt(q.shape[-1])
    a = _rms_minor(s, 1)
    hidden = jax.nn.relu(jnp.sum(a[:, :, None, :] * jnp.transpose(v, (1, 2, 0))[None], axis=1))
    return jnp.einsum("qhk,qdk->qhd", a, hidden)


def hyla_factored(q, k, v):
    """No code-sized value network: with a = w[q,k] s and s = q.k / sqrt(d_k), the first layer is
    g = w * (Q[q,(h e)] @ M[(h e),(k d)]), M = k[k,h,e] v[k,h,d], and the second layer
    sum_e Q[q,h,e] sum_k k[k,h,e] (w r)[q,k,d]: dense matmuls over h*e; only w needs the scores.
    (With a relative-position bias two batch-independent bias terms are added; they are left out
    here as in the other forms.)"""
    t, h, e = q.shape
    qs = q / np.sqrt(e)
    s = jnp.einsum("qhe,khe->hqk", qs, k)
    w = jax.lax.rsqrt(jnp.mean(s * s, axis=0) + RMS_EPS)  # [q, k]
    m = (k[:, :, :, None] * v[:, :, None, :]).reshape(t, h * e, v.shape[-1])
    g = jnp.einsum("qc,kcd->qkd", qs.reshape(t, h * e), m)
    rho = w[:, :, None] * jax.nn.relu(w[:, :, None] * g)
    return jnp.einsum("qhe,qhed->qhd", qs, jnp.einsum("khe,qkd->qhed", k, rho))


FORMS = {"linear": linear, "hyla (library)": hyla_library, "hyla einsum deriv.": hyla_einsum_derivative,
         "hyla fused both": hyla_fused_both, "hyla head-minor": hyla_head_minor,
         "hyla two layouts": hyla_two_layouts, "hyla broadcast": hyla_broadcast,
         "hyla factored": hyla_factored}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--calls", type=int, default=10, help="calls per timed repeat")
    p.add_argument("--size", choices=sorted(SIZES), default="raven", help="task whose paper size is used")
    p.add_argument("--batch", type=int, default=None, help="batch size (default: the paper's 128)")
    args = p.parse_args(argv)
    B, T, H, E = SIZES[args.size]
    B = args.batch or B
    kq, kk, kv = jax.random.split(jax.random.key(0), 3)
    q, k, v = (jax.random.normal(key, (B, T, H, E)) for key in (kq, kk, kv))
    ref = jax.vmap(hyla_library)(q[:4], k[:4], v[:4])
    compiled = {}
    for name, f in FORMS.items():
        if name.startswith("hyla"):
            err = float(jnp.max(jnp.abs(jax.vmap(f)(q[:4], k[:4], v[:4]) - ref)))
            assert err < 1e-4, (name, err)
            g_ref = jax.grad(lambda q: jnp.sum(jax.vmap(hyla_library)(q, k[:4], v[:4]) ** 2))(q[:4])
            g = jax.grad(lambda q: jnp.sum(jax.vmap(f)(q, k[:4], v[:4]) ** 2))(q[:4])
            assert float(jnp.max(jnp.abs(g - g_ref))) < 1e-3 * float(jnp.max(jnp.abs(g_ref))), name
        cot = jax.vmap(f)(q, k, v)

        def loss(q, k, v, f=f, cot=cot):
            return jnp.sum(jax.vmap(f)(q, k, v) * cot)

        compiled[name] = jax.jit(jax.grad(loss, (0, 1, 2))).lower(q, k, v).compile(compiler_options())
    times = {name: [] for name in FORMS}
    for _ in range(args.repeats):  # interleaved, so machine load hits every form alike
        for name, c in compiled.items():
            jax.block_until_ready(c(q, k, v))
            t = time.perf_counter()
            for _ in range(args.calls):
                out = c(q, k, v)
            jax.block_until_ready(out)
            times[name].append((time.perf_counter() - t) / args.calls * 1e3)
    base = np.median(times["linear"])
    print(f"# jax {jax.__version__}, {jax.devices()[0].device_kind}; one layer, B={B}, T={T}, H={H}, d={E}")
    for name, ts in times.items():
        print(f"{name:18s} {np.median(ts):7.2f} ms  ({np.median(ts) / base:4.1f}x linear)")


if __name__ == "__main__":
    main()
