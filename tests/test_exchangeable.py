"""Exchangeable mixture task (hyla.tasks.exchangeable): exact posterior vs a direct sum, sampling,
and the attention constructions with the right parameters."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hyla.objectives import make_objective
from hyla.tasks.exchangeable import (ExchangeableMixture, bayes_attention_readout, posterior_kl)


@pytest.fixture(scope="module")
def task():
    return ExchangeableMixture(num_latents=3, vocab=5, min_len=1, max_len=12, seed=2)


def direct_posterior(task, tokens):
    """p(z | x) by a direct product over tokens and sum over z, in plain Python floats."""
    theta = np.exp(np.asarray(task.log_theta, np.float64))
    joint = [1.0 / task.num_latents * math.prod(theta[z, t] for t in tokens)
             for z in range(task.num_latents)]
    total = sum(joint)
    return np.array([j / total for j in joint]), theta


def test_posterior_and_predictive_match_direct_sum(task):
    b = jax.tree.map(np.asarray, task.sample(jax.random.key(0), 64))
    x, n = b.x, b.length
    assert x.shape == (64, 13) and np.all(x[:, 0] == task.read_token)
    for i in range(64):
        toks = x[i, 1: 1 + n[i]]
        assert np.all(toks < task.vocab) and np.all(x[i, 1 + n[i]:] == task.pad_token)
        post, theta = direct_posterior(task, toks)
        np.testing.assert_allclose(np.asarray(b.posterior[i]), post, rtol=2e-4, atol=1e-6)
        np.testing.assert_allclose(np.asarray(b.predictive[i]), post @ theta, rtol=2e-4, atol=1e-6)
        np.testing.assert_array_equal(np.asarray(b.counts[i]), np.bincount(toks, minlength=5))


def test_posterior_is_exchangeable(task):
    b = task.sample(jax.random.key(1), 1, length=12)
    toks = np.asarray(b.x[0, 1:])
    p1, _ = direct_posterior(task, toks)
    p2, _ = direct_posterior(task, toks[::-1])
    np.testing.assert_allclose(p1, p2, rtol=1e-12)


def test_padding_modes(task):
    b = task.sample(jax.random.key(5), 4, length=3, pad=20)
    x = np.asarray(b.x)
    assert x.shape == (4, 21) and np.all(x[:, 4:] == task.pad_token) and np.all(x[:, 1:4] < 5)
    assert task.sample(jax.random.key(5), 4, length=30, pad=False).x.shape == (4, 31)
    with pytest.raises(ValueError, match="length"):
        task.sample(jax.random.key(5), 4, length=13)  # longer than max_len with pad=True
    with pytest.raises(ValueError, match="fixed length"):
        task.sample(jax.random.key(5), 4, pad=False)


def test_lengths_and_latents_cover_their_ranges(task):
    b = task.sample(jax.random.key(2), 5000)
    assert set(np.asarray(b.length).tolist()) == set(range(1, 13))
    freq = np.bincount(np.asarray(b.z), minlength=3) / 5000
    np.testing.assert_allclose(freq, 1 / 3, atol=0.03)
    # tokens given z follow theta_z
    fixed = task.sample(jax.random.key(3), 4000, length=12)
    theta = np.exp(np.asarray(task.log_theta))
    z, cnt = np.asarray(fixed.z), np.asarray(fixed.counts)
    for k in range(3):
        emp = cnt[z == k].sum(0) / cnt[z == k].sum()
        np.testing.assert_allclose(emp, theta[k], atol=0.02)


@pytest.mark.parametrize("mixer", ["linear", "hyla"])
def test_unnormalised_attention_computes_the_exact_posterior(task, mixer):
    readout = jax.jit(lambda x: bayes_attention_readout(task, mixer, x))
    for length in (1, 12):
        b = task.sample(jax.random.key(length), 32, length=length)
        logq = readout(b.x)
        np.testing.assert_allclose(np.exp(np.asarray(logq)), np.asarray(b.posterior), atol=1e-4)


def test_softmax_attention_computes_frequencies_and_tempered_posterior(task):
    b = task.sample(jax.random.key(9), 32, length=7)
    f = jax.jit(lambda x: bayes_attention_readout(task, "softmax", x))(b.x)
    np.testing.assert_allclose(np.asarray(f), np.asarray(b.counts) / 7, atol=1e-5)
    # with log-likelihood values softmax averages: log pi + (1/L) sum_i log theta
    logq = jax.jit(lambda x: bayes_attention_readout(task, "softmax", x, "loglik"))(b.x)
    lt = np.asarray(task.log_theta, np.float64)
    logits = np.asarray(b.counts, np.float64) @ lt.T / 7
    ref = np.exp(logits - logits.max(-1, keepdims=True))
    np.testing.assert_allclose(np.exp(np.asarray(logq)), ref / ref.sum(-1, keepdims=True), atol=1e-4)


def test_objective_loss_kl_and_model_check(task):
    obj = make_objective("exchangeable", num_latents=3, vocab=5, min_len=1, max_len=12)
    b = obj.make_task(2).sample(jax.random.key(4), 16)
    exact = jnp.log(b.posterior)
    m = obj.metrics(exact, b)
    assert abs(float(m["kl"])) < 1e-5 and abs(float(m["tv"])) < 1e-5
    uniform = jnp.full((16, 3), -jnp.log(3.0))
    p = np.asarray(b.posterior, np.float64)
    kl = np.mean(np.sum(np.where(p > 0, p * (np.log(np.where(p > 0, p, 1)) + np.log(3)), 0), -1))
    np.testing.assert_allclose(float(posterior_kl(b.posterior, uniform)), kl, rtol=1e-4)
    # the soft-label loss is minimised by the exact posterior
    assert float(obj.loss(exact, b)) < float(obj.loss(uniform, b))
    from hyla.transformer import ModelConfig

    good = ModelConfig(num_layers=1, emb_dim=8, num_heads=2, qk_dim=4, v_dim=4, mlp_dim=8, seq_len=13,
                       token_dim=None, vocab_size=7, output_dim=3, relative_position=False)
    obj.check_model(good)
    import dataclasses

    with pytest.raises(ValueError, match="positional"):
        obj.check_model(dataclasses.replace(good, relative_position=True))
    with pytest.raises(ValueError, match="vocab_size"):
        obj.check_model(dataclasses.replace(good, vocab_size=5))


@pytest.mark.parametrize("figure", ["ext02_exchangeability", "ext01_init_rate", "fig06_language_model"])
def test_every_preset_spec_passes_its_objective_check(figure):
    from hyla import presets

    def specs(obj):
        from hyla.train import RunSpec

        if isinstance(obj, RunSpec):
            yield obj
        elif isinstance(obj, dict):
            for v in obj.values():
                yield from specs(v)

    for p in presets.PRESETS:
        for spec in specs(presets.get(figure, p)):
            obj = make_objective(spec.task, **spec.task_args)
            obj.check_model(spec.model)
            assert spec.train.steps > 2 * spec.train.warmup_steps
