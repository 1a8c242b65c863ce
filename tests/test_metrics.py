"""Losses and metrics (docs/methods.md#losses-and-metrics) on hand-made batches with numbers computed by hand."""

from __future__ import annotations

import types

import jax.numpy as jnp
import numpy as np
import pytest

from hyla import metrics
from hyla.objectives import make_objective


def test_r2_per_sequence_by_hand():
    # three sequences of T = 4 targets; the query target is the last one
    targets = np.array([[0.0, 1.0, 0.0, 1.0],   # mean 0.5, population variance 0.25
                        [1.0, 1.0, 3.0, 3.0],   # mean 2,   variance 1
                        [2.0, 2.0, 2.0, 6.0]])  # mean 3,   variance 3
    base_var = np.array([0.25, 1.0, 3.0])
    np.testing.assert_allclose(targets.var(axis=1), base_var)
    y = targets[:, -1]                           # [1, 3, 6]
    pred = np.array([0.5, 3.0, 3.0])             # squared errors 0.25, 0, 9
    # per sequence: 1 - 0.25/0.25 = 0, 1 - 0/1 = 1, 1 - 9/3 = -2  ->  mean -1/3
    got = metrics.r2_per_sequence(jnp.asarray(pred), jnp.asarray(y), jnp.asarray(base_var))
    assert float(got) == pytest.approx(-1.0 / 3.0, rel=1e-6)
    # pooled: SSE = 9.25, mean(y) = 10/3, SST = (7/3)^2 + (1/3)^2 + (8/3)^2 = 114/9
    pooled = metrics.r2_pooled(jnp.asarray(pred), jnp.asarray(y))
    assert float(pooled) == pytest.approx(1.0 - 9.25 / (114.0 / 9.0), rel=1e-6)
    # the two definitions differ (docs/methods.md#official-code-conventions)
    assert abs(float(got) - float(pooled)) > 0.1


def test_r2_pooled_second_example():
    y = np.array([1.0, 2.0, 3.0, 6.0])
    pred = np.array([1.0, 3.0, 3.0, 4.0])  # SSE 0 + 1 + 0 + 4 = 5; mean 3; SST 4 + 1 + 0 + 9 = 14
    assert float(metrics.r2_pooled(jnp.asarray(pred), jnp.asarray(y))) == pytest.approx(9 / 14, rel=1e-6)
    assert float(metrics.mse(jnp.asarray(pred), jnp.asarray(y))) == pytest.approx(5 / 4, rel=1e-6)
    assert float(metrics.r2_pooled(jnp.asarray(y), jnp.asarray(y))) == 1.0


def np_log_softmax(z):
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def test_cross_entropy_matches_numpy_log_softmax():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((5, 3, 8)) * 3
    y = rng.integers(0, 8, (5, 3))
    logp = np_log_softmax(logits)
    expected = -np.mean([logp[b, k, y[b, k]] for b in range(5) for k in range(3)])
    got = metrics.cross_entropy(jnp.asarray(logits, jnp.float32), jnp.asarray(y))
    assert float(got) == pytest.approx(expected, rel=1e-5)
    # uniform logits give log F
    assert float(metrics.cross_entropy(jnp.zeros((2, 3, 8)), jnp.zeros((2, 3), int))) == pytest.approx(np.log(8), rel=1e-6)
    # next-token loss: the same quantity over [B, T, V]
    got_lm = metrics.next_token_loss(jnp.asarray(logits, jnp.float32), jnp.asarray(y))
    assert float(got_lm) == pytest.approx(expected, rel=1e-5)


def test_all_features_vs_per_feature_accuracy():
    # B = 4 problems, K = 2 features, F = 3 values: argmax per (b, k) is written down directly
    argmax = np.array([[0, 1],   # y [0, 1]: both right
                       [2, 1],   # y [2, 0]: one right
                       [1, 1],   # y [0, 0]: none right
                       [2, 2]])  # y [2, 2]: both right
    y = np.array([[0, 1], [2, 0], [0, 0], [2, 2]])
    logits = np.full((4, 2, 3), -1.0)
    for b in range(4):
        for k in range(2):
            logits[b, k, argmax[b, k]] = 2.0
    acc = metrics.accuracy_all_features(jnp.asarray(logits), jnp.asarray(y))
    per = metrics.accuracy_per_feature(jnp.asarray(logits), jnp.asarray(y))
    assert float(acc) == pytest.approx(2 / 4)  # problems 0 and 3
    assert float(per) == pytest.approx(5 / 8)  # 2 + 1 + 0 + 2 features right


def test_objectives_wire_the_metrics():
    """The task objectives score the right positions with the right metric functions."""
    logic = make_objective("logic", num_variables=4, seq_len=8)
    batch = types.SimpleNamespace(y=jnp.asarray([1.0, 3.0, 6.0]), base_var=jnp.asarray([0.25, 1.0, 3.0]))
    pred = jnp.asarray([0.5, 3.0, 3.0])
    m = logic.eval_metrics("heldout", pred, batch)
    assert set(m) == {"heldout_r2", "heldout_pooled_r2", "heldout_mse"}
    assert float(m["heldout_r2"]) == pytest.approx(-1.0 / 3.0, rel=1e-6)
    assert float(logic.loss(pred, batch)) == pytest.approx(9.25 / 3, rel=1e-6)
    out = jnp.arange(3 * 8 * 1, dtype=jnp.float32).reshape(3, 8, 1)
    fake_model = lambda x, key=None, inference=True: (x, None)  # noqa: E731
    got = logic.predict(fake_model, types.SimpleNamespace(x=out))
    np.testing.assert_array_equal(np.asarray(got), np.asarray(out[:, -1, 0]))  # the query token

    raven = make_objective("raven", num_features=2)
    outr = jnp.asarray(np.random.default_rng(1).standard_normal((3, 18, 8)), jnp.float32)
    got = raven.predict(fake_model, types.SimpleNamespace(x=outr))
    np.testing.assert_array_equal(np.asarray(got), np.asarray(outr[:, -2:, :]))  # last K tokens
    y = jnp.asarray([[0, 1], [2, 0], [0, 0]])
    mr = raven.eval_metrics("heldout", got, types.SimpleNamespace(y=y))
    assert set(mr) == {"heldout_accuracy", "heldout_feature_accuracy", "heldout_ce"}
