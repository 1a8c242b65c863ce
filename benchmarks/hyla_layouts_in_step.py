"""HYLA's code in other layouts inside the real sRAVEN training step (a trial; the library keeps its form).

`value_network_forms.py` times one isolated attention layer, where some layouts of HYLA's code were
up to ~10 % faster than the library's head-major [h, q, k]. This script patches
`MultiHeadAttention.__call__` for HYLA (rms_head + mlp_relu, no mask) with one of those forms and
runs `mixer_cost.measure("raven")`: one-seed paper-size chunks of linear, softmax and HYLA timed in
alternation. Forms:

    library         no patch
    head_minor      code stored [q, k, h] (RMS over the minor axis), both layers as einsums
    head_minor_sum  the same, first generated layer as a broadcast multiply + minor-axis sum
    two_layouts     scores computed twice, [h, q, k] and [h, k, q], so each layer's dot only swaps
                    outer axes

    PYTHONPATH=lib:benchmarks python benchmarks/hyla_layouts_in_step.py head_minor 7

The patch changes HYLA's floating-point results (and takes no causal mask), so it is for timing only.
"""
import math
import statistics
import sys

import jax
import jax.numpy as jnp

import hyla.attention as att
from hyla.attention import RMS_EPS

FORMS = ("library", "head_minor", "head_minor_sum", "two_layouts")
FORM = sys.argv[1] if len(sys.argv) > 1 else "library"
if FORM not in FORMS:
    raise SystemExit(f"form={FORM!r}; allowed: {FORMS}")
orig_call = att.MultiHeadAttention.__call__


def call(self, x, bias=None, mask=None, *, key=None, inference=False):
    if not (self.normalization == "rms_head" and self.value_network == "mlp_relu" and mask is None):
        return orig_call(self, x, bias, mask, key=key, inference=inference)
    q, k, values = self._project(x)
    if FORM == "two_layouts":
        sc = 1 / math.sqrt(q.shape[-1])
        s_qk = jnp.einsum("qhe,khe->hqk", q, k) * sc
        s_kq = jnp.einsum("khe,qhe->hkq", k, q) * sc
        if bias is not None:
            s_qk = s_qk + bias
            s_kq = s_kq + jnp.transpose(bias, (0, 2, 1))
        inv = jax.lax.rsqrt(jnp.mean(s_qk * s_qk, axis=0) + RMS_EPS)
        a_qk, a_kq = s_qk * inv, s_kq * inv.T
        m_qk, m_kq = a_qk, a_kq
        if not inference and self.attention_dropout > 0.0:
            keep = 1.0 - self.attention_dropout
            dm = jax.random.bernoulli(key, keep, a_qk.shape[1:]).astype(a_qk.dtype) / keep
            m_qk, m_kq = a_qk * dm, a_kq * dm.T
        hidden = jax.nn.relu(jnp.einsum("hkq,khd->kqd", m_kq, values))
        y = jnp.einsum("hqk,kqd->qhd", m_qk, hidden)
        return jnp.einsum("qhe,hed->qd", y, self.w_out) + self.b_out, a_qk
    s = jnp.einsum("qhe,khe->qkh", q, k) / math.sqrt(q.shape[-1])
    if bias is not None:
        s = s + jnp.transpose(bias, (1, 2, 0))
    a = s * jax.lax.rsqrt(jnp.mean(s * s, axis=-1, keepdims=True) + RMS_EPS)
    mixed = a
    if not inference and self.attention_dropout > 0.0:
        keep = 1.0 - self.attention_dropout
        drop = jax.random.bernoulli(key, keep, a.shape[:2])
        mixed = a * (drop.astype(a.dtype) / keep)[:, :, None]
    if FORM == "head_minor_sum":
        hidden = jnp.sum(mixed[:, :, None, :] * jnp.transpose(values, (0, 2, 1))[None], axis=-1)
    else:
        hidden = jnp.einsum("qkh,khd->qkd", mixed, values)
    hidden = jax.nn.relu(hidden)
    y = jnp.einsum("qkh,qkd->qhd", mixed, hidden)
    out = jnp.einsum("qhe,hed->qd", y, self.w_out) + self.b_out
    return out, jnp.transpose(a, (2, 0, 1))


if FORM != "library":
    # The patched form computes the library's output and code (same dropout mask): checked first.
    mha = att.MultiHeadAttention(64, 16, 64, 64, "hyla", key=jax.random.key(0))
    x = jax.random.normal(jax.random.key(1), (36, 64))
    bias = 0.1 * jax.random.normal(jax.random.key(2), (16, 36, 36))
    for inference in (True, False):
        ref = orig_call(mha, x, bias, key=jax.random.key(3), inference=inference)
        new = call(mha, x, bias, key=jax.random.key(3), inference=inference)
        for r, n in zip(ref, new):
            assert jnp.allclose(r, n, rtol=1e-4, atol=1e-5), (FORM, inference, float(jnp.max(jnp.abs(r - n))))
    print(f"{FORM}: output and code equal the library's (inference and train mode)", flush=True)
    att.MultiHeadAttention.__call__ = call
import mixer_cost  # noqa: E402 (benchmarks/ on the path)

rec = mixer_cost.measure("raven", repeats=int(sys.argv[2]) if len(sys.argv) > 2 else 7)
s = rec["seconds"]
r = [h / l for h, l in zip(s["hyla"], s["linear"])]
print(FORM, "HYLA/linear median-of-ratios", round(statistics.median(r), 3),
      "ratio of medians", round(statistics.median(s["hyla"]) / statistics.median(s["linear"]), 3), flush=True)
