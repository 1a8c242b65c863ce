"""Exchangeable tokens given a latent variable (Zhang, Liu, Cai, Wang, Wang; RELATED.md §4).

Generative model (a finite mixture of categorical distributions):

    z ~ pi = Uniform{0..K-1},     x_1, ..., x_L | z  iid ~  Categorical(theta_z)  over V symbols,

with theta_z ~ Dirichlet(concentration * 1_V) drawn once from the task seed (numpy).  Given z the tokens are
i.i.d., so the sequence is exchangeable, and everything a downstream task can use is the exact
posterior (the "sufficient and minimal representation")

    log p(z | x_{1:L}) = log pi_z + sum_v n_v log theta_z[v] - logsumexp_z(...),   n_v = #{i: x_i = v}

and the posterior predictive p(x_{L+1} = v | x_{1:L}) = sum_z p(z | x_{1:L}) theta_z[v].

Sequences for the transformer: ``[READ, x_1, ..., x_L, PAD, ..., PAD]`` (length ``max_len + 1``;
READ = V, PAD = V + 1), the length L drawn uniformly from ``[min_len, max_len]`` per sequence (or
fixed by ``length=``).  The model reads the posterior off the READ position; no positional encoding
is used, so the model is permutation-invariant over the tokens as the data are.

"Attention with the right parameters" (:func:`bayes_attention`): one head whose query is the READ
token and whose score is the same for every real token.

* ``softmax``: normalised weights 1/L, values = one-hot(x_i) -> the empirical token frequencies
  n / L, i.e. the kernel mean embedding of the tokens (the conditional mean the theory says attention
  approximates); it converges to theta_z at the Monte-Carlo rate L^-1/2.
* ``linear`` (unnormalised): values = log theta_{.}[x_i] -> sum_i log theta_{.}[x_i], the exact
  log-likelihood of every z: with the log prior as output bias, the exact log posterior for every L.
* ``hyla`` (one head: the RMSHead code of a positive score is 1): values -log theta >= 0 pass the ReLU
  unchanged, the second generated layer sums them -> the same exact log posterior.
* ``softmax`` with the log-likelihood values AVERAGES them: log pi + (1/L) sum_i log theta_z[x_i],
  a posterior tempered by 1/L -- normalising over keys discards L, which the posterior needs.
"""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int, PRNGKeyArray

SPLITS = ("train",)


class ExchangeableBatch(NamedTuple):
    x: Int[Array, "B T"]  # [READ, tokens..., PAD...], T = max_len + 1
    z: Int[Array, " B"]  # latent of each sequence
    length: Int[Array, " B"]  # number of real tokens L
    counts: Float[Array, "B V"]  # n_v
    posterior: Float[Array, "B K"]  # exact p(z | x_{1:L})
    predictive: Float[Array, "B V"]  # exact p(x_{L+1} | x_{1:L})


def log_posterior(counts, log_theta, log_prior):
    """Exact log p(z | x) from token counts [..., V]: log pi + n . log theta, normalised over z."""
    logits = log_prior + counts @ log_theta.T
    return logits - jax.nn.logsumexp(logits, axis=-1, keepdims=True)


class ExchangeableMixture(eqx.Module):
    """The mixture task; ``sample`` is pure JAX (it runs inside the compiled training step)."""

    num_latents: int = eqx.field(static=True)
    vocab: int = eqx.field(static=True)
    min_len: int = eqx.field(static=True)
    max_len: int = eqx.field(static=True)
    log_theta: Float[Array, "K V"]
    log_prior: Float[Array, " K"]

    def __init__(self, num_latents: int = 4, vocab: int = 8, min_len: int = 1, max_len: int = 64,
                 concentration: float = 1.0, seed: int = 0):
        if not (isinstance(num_latents, int) and num_latents >= 2):
            raise ValueError(f"num_latents={num_latents!r}; allowed: an integer >= 2")
        if not (isinstance(vocab, int) and vocab >= 2):
            raise ValueError(f"vocab={vocab!r}; allowed: an integer >= 2")
        if not (1 <= min_len <= max_len):
            raise ValueError(f"need 1 <= min_len <= max_len, got {min_len}, {max_len}")
        if concentration <= 0:
            raise ValueError(f"concentration={concentration!r}; allowed: > 0")
        self.num_latents, self.vocab, self.min_len, self.max_len = num_latents, vocab, min_len, max_len
        rng = np.random.default_rng(seed)  # numpy: a fixed table, no compilation
        theta = np.clip(rng.dirichlet(np.full(vocab, float(concentration)), num_latents), 1e-6, None)
        theta = theta / theta.sum(-1, keepdims=True)
        self.log_theta = jnp.asarray(np.log(theta), jnp.float32)
        self.log_prior = jnp.full((num_latents,), -np.log(num_latents), jnp.float32)

    @property
    def read_token(self) -> int:
        return self.vocab

    @property
    def pad_token(self) -> int:
        return self.vocab + 1

    @property
    def vocab_size(self) -> int:
        """Ids the model embeds: V symbols, READ and PAD."""
        return self.vocab + 2

    def sample(self, key: PRNGKeyArray, batch_size: int, split: str = "train",
               length: int | None = None, pad: bool | int = True) -> ExchangeableBatch:
        """B sequences; ``length`` fixes L (else uniform in [min_len, max_len] per sequence).

        ``pad=True`` (the training format): max_len tokens after READ, PAD after the L real ones;
        ``pad=N``: N tokens after READ (N >= L); ``pad=False`` with a fixed ``length``: exactly L.
        """
        if split not in SPLITS:
            raise ValueError(f"split={split!r}; allowed: {SPLITS}")
        if pad is False and length is None:
            raise ValueError("pad=False needs a fixed length")
        t = self.max_len if pad is True else (int(length) if pad is False else int(pad))
        if length is not None and not 1 <= length <= t:
            raise ValueError(f"length={length} must be in [1, {t}] (the padded length)")
        # the fixed length is traced, so every length of one padded shape shares one compilation
        return self._sample(key, int(batch_size), t,
                            None if length is None else jnp.asarray(length, jnp.int32))

    @eqx.filter_jit
    def _sample(self, key, batch_size: int, t: int, length) -> ExchangeableBatch:
        kz, kx, kl = jax.random.split(key, 3)
        z = jax.random.categorical(kz, self.log_prior, shape=(batch_size,))
        tok = jax.random.categorical(kx, self.log_theta[z][:, None, :], shape=(batch_size, t))
        if length is None:
            n = jax.random.randint(kl, (batch_size,), self.min_len, min(self.max_len, t) + 1)
        else:
            n = jnp.full((batch_size,), length, jnp.int32)
        real = jnp.arange(t)[None, :] < n[:, None]
        tok = jnp.where(real, tok, self.pad_token)
        counts = jnp.sum(jax.nn.one_hot(tok, self.vocab) * real[..., None], axis=1)
        logp = log_posterior(counts, self.log_theta, self.log_prior)
        post = jnp.exp(logp)
        x = jnp.concatenate([jnp.full((batch_size, 1), self.read_token), tok], axis=1)
        return ExchangeableBatch(
            x=x.astype(jnp.int32), z=z.astype(jnp.int32), length=n.astype(jnp.int32),
            counts=counts, posterior=post, predictive=post @ jnp.exp(self.log_theta),
        )


# ----------------------------------------------------------------------------------------------
# attention with the right parameters


def one_hot_inputs(task: ExchangeableMixture, x: Int[Array, " T"]) -> Float[Array, "T D"]:
    """Token ids -> one-hot rows over the V symbols + READ + PAD (D = V + 2)."""
    return jax.nn.one_hot(x, task.vocab_size)


def bayes_attention(task: ExchangeableMixture, mixer: str, values: str | None = None,
                    softmax_read_score: float = -30.0):
    """A one-head :class:`hyla.attention.MultiHeadAttention` on one-hot inputs (D = V + 2).

    Scores: q_READ = 1 and k = 1 for the V symbols, so every real token gets the same score; PAD keys
    get 0 (adding nothing to the linear and HYLA sums) and, for softmax, READ and PAD keys get
    ``softmax_read_score`` (weight ~0).  ``values``:

    * ``"onehot"`` (softmax default): values one-hot(x_i) -> output (first V dims) = the empirical
      frequencies n / L, the kernel mean embedding of the tokens;
    * ``"loglik"`` (linear / HYLA default): values log theta_.[x_i] (HYLA: -log theta >= 0 through the
      ReLU, then negated by W^O), log prior as output bias -> output (first K dims) =
      log pi + sum_i log theta_.[x_i], the exact unnormalised log posterior, for linear attention
      and HYLA; for softmax the same values are AVERAGED: log pi + (1/L) sum_i log theta_.[x_i].
    """
    from hyla.attention import MultiHeadAttention

    if mixer not in ("softmax", "linear", "hyla"):
        raise ValueError(f"mixer={mixer!r}; allowed: softmax, linear, hyla")
    values = values or ("onehot" if mixer == "softmax" else "loglik")
    if values not in ("onehot", "loglik") or (values == "onehot" and mixer != "softmax"):
        raise ValueError(f"values={values!r} with mixer={mixer!r}; allowed: onehot (softmax), loglik")
    V, K, D = task.vocab, task.num_latents, task.vocab_size
    dv = V if values == "onehot" else K
    mha = MultiHeadAttention(D, 1, 1, dv, mixer, attention_dropout=0.0, key=jax.random.key(0))
    wq = np.zeros((D, 1, 1), np.float32)
    wq[task.read_token] = 1.0
    wk = np.zeros((D, 1, 1), np.float32)
    wk[:V] = 1.0
    if mixer == "softmax":
        wk[task.read_token] = softmax_read_score
        wk[task.pad_token] = softmax_read_score
    wv = np.zeros((D, 1, dv), np.float32)
    wo = np.zeros((1, dv, D), np.float32)
    bo = np.zeros((D,), np.float32)
    log_theta = np.asarray(task.log_theta)  # [K, V]
    if values == "onehot":
        wv[:V, 0, :] = np.eye(V)
        wo[0, :, :V] = np.eye(V)
    else:
        sign = -1.0 if mixer == "hyla" else 1.0  # HYLA: -log theta >= 0 passes the ReLU
        wv[:V, 0, :] = sign * log_theta.T
        wo[0, :, :K] = sign * np.eye(K)
        bo[:K] = np.asarray(task.log_prior)
    zeros = lambda a: jnp.zeros_like(a)  # noqa: E731
    return eqx.tree_at(
        lambda m: (m.w_query, m.w_key, m.w_value, m.w_out, m.b_query, m.b_key, m.b_value, m.b_out),
        mha,
        (jnp.asarray(wq), jnp.asarray(wk), jnp.asarray(wv), jnp.asarray(wo), zeros(mha.b_query),
         zeros(mha.b_key), zeros(mha.b_value), jnp.asarray(bo)),
    )


def bayes_attention_readout(task: ExchangeableMixture, mixer: str, x: Int[Array, "B T"],
                            values: str | None = None):
    """Output of :func:`bayes_attention` at the READ position for a batch: [B, V] frequencies
    (``values="onehot"``) or [B, K] normalised log posteriors (``"loglik"``)."""
    mha = bayes_attention(task, mixer, values)
    values = values or ("onehot" if mixer == "softmax" else "loglik")

    def one(xi):
        out, _ = mha(one_hot_inputs(task, xi), inference=True)
        return out[0]

    out = jax.lax.map(one, x)  # one sequence at a time: O(T^2) memory, not O(B T^2)
    if values == "onehot":
        return out[:, : task.vocab]
    logits = out[:, : task.num_latents]
    return logits - jax.nn.logsumexp(logits, axis=-1, keepdims=True)


def cme_l1_rate(task: ExchangeableMixture) -> float:
    """c with E||n/L - theta_z||_1 ~ c / sqrt(L) (central limit theorem, averaged over z uniform):
    c = mean_z sum_v sqrt(2 theta_zv (1 - theta_zv) / pi)."""
    theta = np.exp(np.asarray(task.log_theta, np.float64))
    return float(np.mean(np.sum(np.sqrt(2 * theta * (1 - theta) / np.pi), axis=-1)))


# ----------------------------------------------------------------------------------------------
from hyla.objectives import Objective, register_objective  # noqa: E402


def posterior_kl(p: Float[Array, "B K"], log_q: Float[Array, "B K"]) -> Float[Array, ""]:
    """Mean over the batch of KL(p || q) = sum_z p (log p - log q), with 0 log 0 = 0."""
    logp = jnp.log(jnp.where(p > 0, p, 1.0))
    return jnp.mean(jnp.sum(jnp.where(p > 0, p * (logp - log_q), 0.0), axis=-1))


@register_objective("exchangeable")
class ExchangeableObjective(Objective):
    """Soft-label cross-entropy between the exact posterior and the model's softmax at READ.

    Metrics: ``validation_kl`` (KL(exact || model), nats), ``validation_tv`` (total variation),
    ``validation_accuracy`` (argmax = true latent) and ``validation_bayes_accuracy`` (the exact
    posterior's argmax = true latent, the ceiling)."""

    splits = {"validation": "train"}

    def make_task(self, seed: int) -> ExchangeableMixture:
        return ExchangeableMixture(**self.task_args, seed=seed)

    def check_model(self, cfg):
        k = self.task_args.get("num_latents", 4)
        v = self.task_args.get("vocab", 8)
        max_len = self.task_args.get("max_len", 64)
        if cfg.vocab_size != v + 2 or cfg.output_dim != k:
            raise ValueError(
                f"vocab_size={cfg.vocab_size}, output_dim={cfg.output_dim}; allowed: vocab_size={v + 2}"
                f" (symbols + READ + PAD), output_dim={k}"
            )
        if cfg.seq_len != max_len + 1:
            raise ValueError(f"model seq_len={cfg.seq_len}; the task produces {max_len + 1}")
        if cfg.causal or cfg.relative_position or cfg.learned_position:
            raise ValueError("use a non-causal model without positional encodings (exchangeable tokens)")

    def predict(self, model, batch, *, key=None, inference=True):
        out, _ = self.forward(model, batch, key=key, inference=inference)
        return jax.nn.log_softmax(out[:, 0, :], axis=-1)

    def loss(self, pred, batch):
        return -jnp.mean(jnp.sum(batch.posterior * pred, axis=-1))

    def metrics(self, pred, batch):
        return {
            "kl": posterior_kl(batch.posterior, pred),
            "tv": 0.5 * jnp.mean(jnp.sum(jnp.abs(jnp.exp(pred) - batch.posterior), axis=-1)),
            "accuracy": jnp.mean(jnp.argmax(pred, -1) == batch.z),
            "bayes_accuracy": jnp.mean(jnp.argmax(batch.posterior, -1) == batch.z),
        }
