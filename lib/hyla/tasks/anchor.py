"""The anchor composite-function task of Zhang et al. (NeurIPS 2024; RELATED.md §2–§3).

A sequence holds ``seq_len`` tokens (default 9).  Noise tokens and key items are drawn from
``{item_min, ..., item_max - 1}`` (default 20..99); anchors are the tokens 1..4, each a shift

    g(x; 1) = x + 5,   g(x; 2) = x + 1,   g(x; 3) = x - 2,   g(x; 4) = x - 8.

Exactly one adjacent anchor pair (a1, a2) sits at positions (p + 1, p + 2); the token at p is the
*key item* x.  The target (read at the last position) is the composite g(g(x; a1); a2), i.e. the
*inferential* mapping x + s(a1) + s(a2) -- except for overridden pairs: by default (3, 4) maps to
x - 6 instead of x - 10 (the official generator adds +4).  Unseen pairs never appear in training.

* Paper main variant: ``unseen_pairs=((4, 3),)``; (4, 3) is then scored against the *inferential*
  target x - 10 (composition of the single-anchor maps) and the *symmetric* target x - 6 (the
  mapping of the mirrored seen pair (3, 4)).
* App. E / complexity-control variant: ``unseen_pairs=((3, 4), (4, 3))``.

Key-item split (official code): at key position p, item x is a *training* item if
x mod m != p mod m and a *test* item otherwise, with m = ``modulus`` (the public code passes
``seq_len``; the paper text says n - 2).

Splits (names by meaning):

* ``train``: seen pairs, training key items, training-mapping target (the only split trained on);
  with ``pool_size > 0`` the training split is a fixed pool of that many sequences drawn from the
  seed (a finite data set, as in the papers), otherwise fresh sequences every step.
* ``seen_test``: seen pairs, test key items -- "test accuracy on seen anchors".
* ``heldout``: the ``heldout_pair`` (default (4, 3)), training key items (as the complexity-control
  paper's headline metric), target = inferential; ``y_symmetric`` = symmetric target.
* ``heldout_test``: the held-out pair with test key items.
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Int, PRNGKeyArray

ANCHORS = (1, 2, 3, 4)
SHIFTS = {1: 5, 2: 1, 3: -2, 4: -8}
DEFAULT_OVERRIDES = {(3, 4): -6}
SPLITS = ("train", "seen_test", "heldout", "heldout_test")


class AnchorBatch(NamedTuple):
    x: Int[Array, "B T"]  # tokens
    y: Int[Array, " B"]  # the split's target (training mapping; inferential for held-out pairs)
    y_inferential: Int[Array, " B"]  # x + s(a1) + s(a2)
    y_symmetric: Int[Array, " B"]  # the training mapping of the mirrored pair (a2, a1)
    key_item: Int[Array, " B"]
    key_pos: Int[Array, " B"]  # position of the key item; anchors at key_pos + 1, key_pos + 2
    pair: Int[Array, "B 2"]


def inferential_offset(a1: int, a2: int) -> int:
    return SHIFTS[a1] + SHIFTS[a2]


def _as_pairs(pairs) -> tuple[tuple[int, int], ...]:
    out = tuple((int(a), int(b)) for a, b in pairs)
    for p in out:
        if p[0] not in ANCHORS or p[1] not in ANCHORS:
            raise ValueError(f"anchor pair {p}: anchors must be in {ANCHORS}")
    return out


class AnchorTask(eqx.Module):
    """The anchor task with its pair and key-item splits; stackable across seeds."""

    seq_len: int = eqx.field(static=True)
    item_min: int = eqx.field(static=True)
    item_max: int = eqx.field(static=True)
    modulus: int = eqx.field(static=True)
    vocab_size: int = eqx.field(static=True)
    offset: Int[Array, "5 5"]  # training mapping: target = x + offset[a1, a2]
    train_pairs: Int[Array, "P 2"]
    heldout_pairs: Int[Array, "1 2"]
    items: Int[Array, "2 Tp I"]  # [train|test range, key position, k] padded item lists
    counts: Int[Array, "2 Tp"]
    pool_x: Int[Array, "N T"]
    pool_y: Int[Array, " N"]

    def __init__(
        self,
        seq_len: int = 9,
        item_min: int = 20,
        item_max: int = 100,
        unseen_pairs=((4, 3),),
        heldout_pair=(4, 3),
        overrides=None,
        modulus: int | None = None,
        vocab_size: int = 201,
        pool_size: int = 0,
        seed: int = 0,
    ):
        if not (isinstance(seq_len, int) and seq_len >= 3):
            raise ValueError(f"seq_len={seq_len!r}; allowed: an integer >= 3 (key item + 2 anchors)")
        if not max(ANCHORS) < item_min < item_max:
            raise ValueError(f"items [{item_min}, {item_max}) must lie above the anchors {ANCHORS}")
        overrides = DEFAULT_OVERRIDES if overrides is None else {
            tuple(int(v) for v in k): int(o) for k, o in dict(overrides).items()}
        unseen = set(_as_pairs(unseen_pairs))
        heldout = _as_pairs([heldout_pair])[0]
        if heldout not in unseen:
            raise ValueError(f"heldout_pair={heldout} must be one of unseen_pairs={sorted(unseen)}")
        self.seq_len, self.item_min, self.item_max = seq_len, item_min, item_max
        self.modulus = seq_len if modulus is None else int(modulus)
        offset = np.zeros((5, 5), np.int32)
        for a1, a2 in itertools.product(ANCHORS, ANCHORS):
            offset[a1, a2] = overrides.get((a1, a2), inferential_offset(a1, a2))
        lo, hi = item_min + offset.min(), item_max - 1 + offset.max()
        if lo < 0 or hi >= vocab_size:
            raise ValueError(f"targets span [{lo}, {hi}]; vocab_size={vocab_size} must exceed {hi}")
        self.vocab_size = vocab_size
        self.offset = jnp.asarray(offset)
        seen = [p for p in itertools.product(ANCHORS, ANCHORS) if p not in unseen]
        self.train_pairs = jnp.asarray(np.array(seen, np.int32))
        self.heldout_pairs = jnp.asarray(np.array([heldout], np.int32))
        npos = seq_len - 2
        width = item_max - item_min
        items = np.zeros((2, npos, width), np.int32)
        counts = np.zeros((2, npos), np.int32)
        for pos in range(npos):
            for r, pick in enumerate((False, True)):  # 0: training items, 1: test items
                xs = [x for x in range(item_min, item_max)
                      if (x % self.modulus == pos % self.modulus) == pick]
                items[r, pos, : len(xs)] = xs
                counts[r, pos] = len(xs)
        if counts.min() == 0:
            raise ValueError(f"modulus={self.modulus} leaves a key position without items")
        self.items, self.counts = jnp.asarray(items), jnp.asarray(counts)
        if pool_size:
            b = self._draw(jax.random.key(seed), int(pool_size), self.train_pairs, 0)
            self.pool_x, self.pool_y = b.x, b.y
        else:
            self.pool_x = jnp.zeros((0, seq_len), jnp.int32)
            self.pool_y = jnp.zeros((0,), jnp.int32)

    # ------------------------------------------------------------------------------------------
    def _draw(self, key, batch_size: int, pairs, item_range: int) -> AnchorBatch:
        t = self.seq_len
        k_noise, k_pos, k_pair, k_item = jax.random.split(key, 4)
        noise = jax.random.randint(k_noise, (batch_size, t), self.item_min, self.item_max)
        pos = jax.random.randint(k_pos, (batch_size,), 0, t - 2)
        pair = pairs[jax.random.randint(k_pair, (batch_size,), 0, pairs.shape[0])]
        n = self.counts[item_range, pos]
        u = jnp.floor(jax.random.uniform(k_item, (batch_size,)) * n).astype(jnp.int32)
        item = self.items[item_range, pos, jnp.minimum(u, n - 1)]
        a1, a2 = pair[:, 0], pair[:, 1]
        ar = jnp.arange(t)[None, :]
        p = pos[:, None]
        x = jnp.where(ar == p, item[:, None],
                      jnp.where(ar == p + 1, a1[:, None], jnp.where(ar == p + 2, a2[:, None], noise)))
        shift = jnp.asarray([0, SHIFTS[1], SHIFTS[2], SHIFTS[3], SHIFTS[4]], jnp.int32)
        y_inf = item + shift[a1] + shift[a2]
        return AnchorBatch(
            x=x.astype(jnp.int32), y=(item + self.offset[a1, a2]).astype(jnp.int32),
            y_inferential=y_inf.astype(jnp.int32),
            y_symmetric=(item + self.offset[a2, a1]).astype(jnp.int32),
            key_item=item.astype(jnp.int32), key_pos=pos.astype(jnp.int32), pair=pair,
        )

    @eqx.filter_jit
    def sample(self, key: PRNGKeyArray, batch_size: int, split: str = "train") -> AnchorBatch:
        if split not in SPLITS:
            raise ValueError(f"split={split!r}; allowed: {SPLITS}")
        if split == "train" and self.pool_x.shape[-2] > 0:
            idx = jax.random.randint(key, (batch_size,), 0, self.pool_x.shape[-2])
            x, y = self.pool_x[idx], self.pool_y[idx]
            return _batch_from_tokens(self, x, y)
        if split in ("train", "seen_test"):
            b = self._draw(key, batch_size, self.train_pairs, 0 if split == "train" else 1)
            return b
        b = self._draw(key, batch_size, self.heldout_pairs, 0 if split == "heldout" else 1)
        return b._replace(y=b.y_inferential)


def _batch_from_tokens(task: AnchorTask, x, y) -> AnchorBatch:
    """Recover the batch fields of pooled sequences (the anchor pair is the only token < item_min)."""
    is_anchor = x < task.item_min
    pos = jnp.argmax(is_anchor, axis=-1) - 1  # first anchor at p + 1
    take = lambda i: jnp.take_along_axis(x, i[:, None], axis=-1)[:, 0]  # noqa: E731
    item, a1, a2 = take(pos), take(pos + 1), take(pos + 2)
    shift = jnp.asarray([0, SHIFTS[1], SHIFTS[2], SHIFTS[3], SHIFTS[4]], jnp.int32)
    return AnchorBatch(
        x=x, y=y, y_inferential=item + shift[a1] + shift[a2],
        y_symmetric=item + task.offset[a2, a1], key_item=item, key_pos=pos,
        pair=jnp.stack([a1, a2], -1),
    )


def init_std(emb_dim: int, init_rate: float | None) -> float:
    """sigma = d^-gamma of the embedding and the Q/K/V kernels (fan-in d); None: LeCun (gamma 0.5)."""
    return float(emb_dim ** -(0.5 if init_rate is None else init_rate))


# ----------------------------------------------------------------------------------------------
from hyla import metrics as _metrics  # noqa: E402
from hyla.objectives import Objective, register_objective  # noqa: E402


@register_objective("anchor")
class AnchorObjective(Objective):
    """Cross-entropy over the vocabulary at the last position; accuracy vs the split's target and
    vs the symmetric target (metrics ``<split>_accuracy``, ``<split>_symmetric_accuracy``,
    ``<split>_ce``; ``heldout_accuracy`` is the inferential accuracy on the held-out pair)."""

    splits = {"train": "train", "seen": "seen_test", "heldout": "heldout",
              "heldout_test": "heldout_test"}

    def make_task(self, seed: int) -> AnchorTask:
        return AnchorTask(**self.task_args, seed=seed)

    def check_model(self, cfg):
        seq_len = self.task_args.get("seq_len", 9)
        vocab = self.task_args.get("vocab_size", 201)
        self.check_seq_len(cfg, seq_len)
        if cfg.vocab_size != vocab or cfg.output_dim not in (None, vocab):
            raise ValueError(
                f"vocab_size={cfg.vocab_size}, output_dim={cfg.output_dim}; allowed: vocab_size="
                f"{vocab} with output_dim {vocab} or None"
            )

    def predict(self, model, batch, *, key=None, inference=True):
        out, _ = self.forward(model, batch, key=key, inference=inference)
        return out[:, -1, :]

    def loss(self, pred, batch):
        return _metrics.next_token_loss(pred, batch.y)

    def metrics(self, pred, batch):
        guess = jnp.argmax(pred, -1)
        return {
            "accuracy": jnp.mean(guess == batch.y),
            "symmetric_accuracy": jnp.mean(guess == batch.y_symmetric),
            "ce": _metrics.next_token_loss(pred, batch.y),
        }
