"""Byte- or character-level language modelling on an offline corpus (Fig. 6 substitute,
docs/methods.md#language-modelling).

The paper's Fig. 6 trains ~50M-parameter decoder-only models on C4 for 130B tokens; neither C4 nor
the repository's WikiText pipeline is reachable offline (docs/methods.md#language-modelling).  This
module trains the same three mixers as causal language models on a text file that is available
locally -- by default the Python documentation that ships with CPython (``pydoc_data.topics``,
~465 000 characters) -- so the comparison is qualitative and labelled as a substitute.

* Text -> tokens: ``level="byte"`` (UTF-8 bytes, vocabulary 256, any file) or ``level="char"``
  (one id per distinct character, sorted).  For ASCII text both give the same sequence.
* Split: the first 90 % of the token stream is ``train``, the last 10 % ``validation`` (contiguous,
  so no window straddles both).
* A batch is B random windows of ``seq_len + 1`` consecutive tokens drawn ON DEVICE:
  ``x = window[:-1]``, ``y = window[1:]`` (next-token targets at every position).
* Objective ``"lm"``: mean next-token cross-entropy over all positions (nats per token = nats per
  character for ASCII text).  Metrics ``validation_loss``, ``validation_accuracy`` and, on training
  windows with the same protocol, ``train_eval_loss`` / ``train_accuracy`` (``train_loss`` is kept
  for the engine's running mean of the training minibatch loss, with dropout).
"""

from __future__ import annotations

import functools
import hashlib
import os
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Int, PRNGKeyArray

from hyla import metrics
from hyla.objectives import Objective, register_objective
from hyla.transformer import ModelConfig

LEVELS = ("byte", "char")
SPLITS = ("train", "validation")
BYTE_VOCAB = 256


def default_corpus_text() -> str:
    """CPython's bundled documentation topics (``pydoc_data.topics``), in sorted-key order."""
    from pydoc_data import topics

    return "\n\n".join(topics.topics[k] for k in sorted(topics.topics))


def load_text(corpus: str = "") -> str:
    """The text of ``corpus``: a local file path (UTF-8), or ``""`` for :func:`default_corpus_text`."""
    if not corpus:
        return default_corpus_text()
    path = os.path.expanduser(corpus)
    if not os.path.isfile(path):
        raise ValueError(f"corpus={corpus!r} is not a file; give a local text file or '' (pydoc_data)")
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def encode(text: str, level: str = "byte") -> tuple[np.ndarray, int]:
    """(token ids, vocabulary size).  ``byte``: UTF-8 bytes; ``char``: sorted distinct characters."""
    if level == "byte":
        return np.frombuffer(text.encode("utf-8"), dtype=np.uint8).copy(), BYTE_VOCAB
    if level == "char":
        chars = sorted(set(text))
        index = {c: i for i, c in enumerate(chars)}
        dtype = np.uint8 if len(chars) <= 256 else np.int32
        return np.fromiter((index[c] for c in text), dtype=dtype, count=len(text)), len(chars)
    raise ValueError(f"level={level!r}; allowed: {LEVELS}")


@functools.lru_cache(maxsize=8)
def encoded_corpus(corpus: str = "", level: str = "byte") -> tuple[np.ndarray, int, str]:
    """(token ids, vocabulary size, sha256 fingerprint of the ids) of a corpus; cached per process."""
    ids, vocab = encode(load_text(corpus), level)
    digest = hashlib.sha256(ids.tobytes() + f"|{level}|{vocab}".encode()).hexdigest()[:16]
    ids.setflags(write=False)
    return ids, vocab, digest


def corpus_fingerprint(corpus: str = "", level: str = "byte") -> str:
    """A short hash of the encoded corpus; run specs carry it so an edited file is a new run."""
    return encoded_corpus(corpus, level)[2]


def split_point(num_tokens: int, validation_fraction: float) -> int:
    """Index of the first validation token: the first ``1 - validation_fraction`` is training."""
    return int(round(num_tokens * (1.0 - validation_fraction)))


class LMBatch(NamedTuple):
    x: Int[Array, "B T"]  # input tokens
    y: Int[Array, "B T"]  # next tokens (x shifted left by one)
    start: Int[Array, " B"]  # index of each window's first token in its split


class TextCorpus(eqx.Module):
    """Encoded train / validation token streams; ``sample`` draws random windows on device.

    The token arrays are fields, so corpora of several seeds stack (the engine vmaps over seeds);
    the seed does not change the corpus or the split, only the windows drawn.
    """

    train: Int[Array, " N"]
    validation: Int[Array, " M"]
    seq_len: int = eqx.field(static=True)
    vocab_size: int = eqx.field(static=True)

    def __init__(self, corpus: str = "", level: str = "byte", seq_len: int = 64,
                 validation_fraction: float = 0.1):
        if not (isinstance(seq_len, int) and seq_len >= 1):
            raise ValueError(f"seq_len={seq_len!r}; allowed: an integer >= 1")
        if not 0.0 < validation_fraction < 1.0:
            raise ValueError(f"validation_fraction={validation_fraction!r}; allowed: (0, 1)")
        ids, vocab, _ = encoded_corpus(corpus, level)
        cut = split_point(len(ids), validation_fraction)
        for name, n in (("train", cut), ("validation", len(ids) - cut)):
            if n < seq_len + 1:
                raise ValueError(
                    f"the {name} split has {n} tokens, fewer than seq_len + 1 = {seq_len + 1}; "
                    "use a larger corpus or a smaller seq_len"
                )
        self.train = jnp.asarray(ids[:cut])
        self.validation = jnp.asarray(ids[cut:])
        self.seq_len = seq_len
        self.vocab_size = vocab

    def tokens(self, split: str) -> Int[Array, " N"]:
        if split not in SPLITS:
            raise ValueError(f"split={split!r}; allowed: {SPLITS}")
        return self.train if split == "train" else self.validation

    @eqx.filter_jit
    def sample(self, key: PRNGKeyArray, batch_size: int, split: str = "train") -> LMBatch:
        """B windows of seq_len + 1 consecutive tokens, starts uniform over the split."""
        stream = self.tokens(split)
        t = self.seq_len
        n = stream.shape[-1]
        start = jax.random.randint(key, (batch_size,), 0, n - t, dtype=jnp.int32)
        window = stream[start[:, None] + jnp.arange(t + 1)].astype(jnp.int32)
        return LMBatch(x=window[:, :-1], y=window[:, 1:], start=start)


@register_objective("lm")
class LMObjective(Objective):
    """Causal next-token cross-entropy on a text corpus (task args: corpus, level, seq_len,
    validation_fraction, fingerprint)."""

    splits = {"validation": "validation", "train": "train"}

    def __init__(self, corpus: str = "", level: str = "byte", seq_len: int = 64,
                 validation_fraction: float = 0.1, fingerprint: str | None = None):
        super().__init__(corpus=corpus, level=level, seq_len=seq_len,
                         validation_fraction=validation_fraction, fingerprint=fingerprint)
        self.corpus, self.level, self.seq_len = corpus, level, seq_len
        self.validation_fraction = validation_fraction
        if fingerprint is not None and fingerprint != corpus_fingerprint(corpus, level):
            raise ValueError(
                f"corpus {corpus or 'pydoc_data.topics'!r} has changed since this run spec was made "
                f"(fingerprint {corpus_fingerprint(corpus, level)} != {fingerprint}); rebuild the spec"
            )

    @property
    def vocab_size(self) -> int:
        return encoded_corpus(self.corpus, self.level)[1]

    def make_task(self, seed: int) -> TextCorpus:
        return TextCorpus(self.corpus, self.level, self.seq_len, self.validation_fraction)

    def check_model(self, cfg: ModelConfig) -> None:
        if cfg.vocab_size is None or cfg.vocab_size < self.vocab_size:
            raise ValueError(
                f"model vocab_size={cfg.vocab_size}; the corpus needs vocab_size >= {self.vocab_size}"
            )
        if cfg.output_dim not in (None, cfg.vocab_size):
            raise ValueError(f"output_dim={cfg.output_dim}; allowed: None (tied) or {cfg.vocab_size}")
        if not cfg.causal:
            raise ValueError("a language model needs causal=True (else it reads the token it predicts)")
        self.check_seq_len(cfg, self.seq_len)

    def predict(self, model, batch, *, key=None, inference=True):
        out, _ = self.forward(model, batch, key=key, inference=inference)
        return out  # [B, T, V]

    def loss(self, pred, batch):
        return metrics.next_token_loss(pred, batch.y)

    def metrics(self, pred, batch):
        return {
            "loss": metrics.next_token_loss(pred, batch.y),
            "accuracy": jnp.mean(jnp.argmax(pred, -1) == batch.y),
        }

    def eval_metrics(self, prefix, pred, batch):
        out = super().eval_metrics(prefix, pred, batch)
        if prefix == "train":  # the engine's `train_loss` is the running training-batch loss
            out["train_eval_loss"] = out.pop("train_loss")
        return out
