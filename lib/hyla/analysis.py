"""Latent-code analyses (docs/methods.md#latent-analyses): extraction, linear probes, 2-D
embeddings, per-class similarity.

The latent code of a (query, key) pair in layer l is the H-vector a_{l, :, q, k}.

* Fuzzy logic: the code of the QUERY token attending to ITSELF, per layer -> [B, L, H].
* sRAVEN: for each query slot s of the missing panel (position 8K + s), the codes towards the same
  feature slot in the two visible panels of the bottom row (positions 6K + s and 7K + s) -> [B, L, K, H, 2].
  Read on UNPERMUTED problems (slot s is feature s in every column), each slot with its OWN rule as
  label (the official callback kept only the last slot, whose rule is the maximum rule index).
"""

from __future__ import annotations

import warnings

import equinox as eqx
import jax
import numpy as np
from jaxtyping import Array, Float


@eqx.filter_jit
def _codes(model, x):
    return jax.vmap(lambda t: model(t, inference=True)[1])(x)


def forward_codes(model, x: Float[Array, "B T Din"], batch_size: int = 1024) -> np.ndarray:
    """Per-layer codes a [B, L, H, T, T] of a batch in inference mode (chunked over the batch).

    Compiled once per model structure, so every seed of a method reuses one compilation.
    """
    return map_in_chunks(lambda xb: _codes(model, xb), x, batch_size)


def chunk_size(n: int, elements_per_item: int, budget: int = 2**28) -> int:
    """Items per chunk when each item's largest intermediate has ``elements_per_item`` elements
    (attention: H * T * T): the largest power of two whose chunk stays within ``budget`` elements
    (2**28 float32 = 1 GiB), at least 1, and ``n`` itself when the whole batch fits."""
    if n < 1 or elements_per_item < 1:
        raise ValueError(f"n={n}, elements_per_item={elements_per_item}; allowed: integers >= 1")
    if n * elements_per_item <= budget:
        return n
    return 1 << max(0, (budget // elements_per_item).bit_length() - 1)


def map_in_chunks(fn, batch, chunk: int) -> np.ndarray:
    """``fn(batch)`` computed on slices of ``chunk`` items along the leading axis of every leaf of
    ``batch``, concatenated (host memory): the same per-item results, without materialising the
    whole batch's intermediates (e.g. [B, H, T, T] attention at long T). One chunk when ``chunk``
    covers the batch, so the results are then exactly those of one call."""
    n = len(jax.tree.leaves(batch)[0])
    if chunk >= n:
        return np.asarray(fn(batch))
    return np.concatenate([np.asarray(fn(jax.tree.map(lambda a: a[i : i + chunk], batch)))
                           for i in range(0, n, chunk)])


def logic_query_codes(codes: Float[np.ndarray, "B L H T T"]) -> np.ndarray:
    """The query token attending to itself: [B, L, H]."""
    return codes[..., -1, -1]


def logic_split_codes(model, task, key, size: int, split: str, input_dist: str = "uniform"):
    """(codes [B, L, H] of the query attending to itself, multi-hot terms [B, 2^V], batch) of
    ``size`` sequences of one fuzzy-logic ``split``.

    ``input_dist="fixed_query"`` fixes the query input x_q for every sequence (the official
    in-training probe's data, docs/methods.md#latent-codes), so the code varies with the task and
    the context only.
    """
    from hyla.tasks.logic import terms_to_multi_hot

    batch = task.sample(key, size, split, input_dist=input_dist)
    codes = logic_query_codes(forward_codes(model, batch.x))
    return codes, np.asarray(terms_to_multi_hot(batch.terms, task.num_terms_total)), batch


def logic_term_probe(model, task, keys: dict, size: int, input_dist: str = "uniform") -> list[float]:
    """Fig. 2B: per layer, the term-probe F1 (``probe_f1``) fitted on codes of training tasks and
    scored on held-out combinations; ``keys``: {"train", "heldout_combos"} -> PRNG key."""
    train, heldout = (
        logic_split_codes(model, task, keys[s], size, s, input_dist) for s in ("train", "heldout_combos")
    )
    return term_probe_per_layer(train, heldout)


def term_probe_per_layer(train: tuple, heldout: tuple) -> list[float]:
    """Per layer, ``probe_f1`` fitted on ``train`` and scored on ``heldout`` (both as returned by
    ``logic_split_codes``)."""
    (ctr, ytr, _), (cte, yte, _) = train, heldout
    return [probe_f1(ctr[:, l], ytr, cte[:, l], yte) for l in range(ctr.shape[1])]


def raven_slot_codes(codes: Float[np.ndarray, "B L H T T"], num_features: int) -> np.ndarray:
    """[B, L, K, H, 2]: query slot s -> the same slot in panels 7 and 8 (bottom row)."""
    k = num_features
    s = np.arange(k)
    q = 8 * k + s
    keys = np.stack([6 * k + s, 7 * k + s], axis=-1)  # [K, 2]
    out = codes[:, :, :, q[:, None], keys]  # [B, L, H, K, 2]
    return np.moveaxis(out, 3, 2)


def _standardise(train, test):
    mu, sd = train.mean(0), train.std(0) + 1e-8
    return (train - mu) / sd, (test - mu) / sd


def probe_f1(
    train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray, C: float = 1.0
) -> float:
    """Mean F1 over labels of one L2 logistic regression per binary label (codes standardised).

    ``train_y``/``test_y`` are multi-hot [N, M]; labels constant in the training set are skipped.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score

    xtr, xte = _standardise(train_x, test_x)
    scores = []
    for j in range(train_y.shape[1]):
        if len(np.unique(train_y[:, j])) < 2 or test_y[:, j].sum() == 0:
            continue
        clf = LogisticRegression(C=C, max_iter=500).fit(xtr, train_y[:, j])
        scores.append(f1_score(test_y[:, j], clf.predict(xte), zero_division=0.0))
    return float(np.mean(scores)) if scores else float("nan")


def decode_accuracy(
    train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray, C: float = 1.0
) -> float:
    """Accuracy of a multinomial L2 logistic regression fitted on train, scored on test."""
    from sklearn.linear_model import LogisticRegression

    xtr, xte = _standardise(train_x, test_x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = LogisticRegression(C=C, max_iter=500).fit(xtr, train_y)
    return float((clf.predict(xte) == test_y).mean())


def embed_2d(x: np.ndarray, seed: int = 0, method: str = "tsne", perplexity: float = 30.0) -> np.ndarray:
    """2-D embedding of codes [N, d]: t-SNE (scikit-learn, PCA init) or PCA."""
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    x = (x - x.mean(0)) / (x.std(0) + 1e-8)
    if method == "pca":
        return PCA(2, random_state=seed).fit_transform(x)
    if method != "tsne":
        raise ValueError(f"method={method!r}; allowed: 'tsne', 'pca'")
    perplexity = min(perplexity, max(2.0, (len(x) - 1) / 3))
    return TSNE(2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(x)


def class_mean_cosine(x: np.ndarray, labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Cosine similarity [C, C] between per-class mean codes (NaN rows for absent classes)."""
    means = np.full((num_classes, x.shape[1]), np.nan)
    for c in range(num_classes):
        if np.any(labels == c):
            means[c] = x[labels == c].mean(0)
    unit = means / np.linalg.norm(means, axis=1, keepdims=True)
    return unit @ unit.T


def ridge_r2(train_x, train_y, test_x, test_y, l2: float = 1.0) -> float:
    """The official in-training probe: ridge regression per target, mean R^2 over targets."""
    xtr = np.concatenate([train_x, np.ones((len(train_x), 1))], 1)
    xte = np.concatenate([test_x, np.ones((len(test_x), 1))], 1)
    w = np.linalg.solve(xtr.T @ xtr + l2 * np.eye(xtr.shape[1]), xtr.T @ train_y)
    pred = xte @ w
    ss_res = ((test_y - pred) ** 2).sum(0)
    ss_tot = ((test_y - test_y.mean(0)) ** 2).sum(0)
    ok = ss_tot > 0
    return float(np.mean(1 - ss_res[ok] / ss_tot[ok]))


def neighbour_kappa(x: Float[np.ndarray, "N D"], labels: np.ndarray, k: int = 10) -> float:
    """Chance-corrected agreement of each code's ``k`` nearest neighbours with its label.

    Codes are standardised per dimension; neighbours are Euclidean, the point itself excluded.
    ``agreement`` is the fraction of neighbours sharing the label, ``chance = sum_c p_c^2`` over the
    label frequencies p_c, and kappa = (agreement - chance) / (1 - chance): 0 no more clustering than
    chance, 1 every neighbour shares the label.
    """
    from sklearn.neighbors import NearestNeighbors

    z = (x - x.mean(0)) / (x.std(0) + 1e-8)
    idx = NearestNeighbors(n_neighbors=k + 1).fit(z).kneighbors(z, return_distance=False)[:, 1:]
    agree = float((labels[idx] == labels[:, None]).mean())
    _, counts = np.unique(labels, return_counts=True)
    chance = float(((counts / counts.sum()) ** 2).sum())
    return (agree - chance) / (1 - chance)


__all__ = [
    "forward_codes", "logic_query_codes", "logic_split_codes", "logic_term_probe",
    "term_probe_per_layer", "raven_slot_codes", "probe_f1", "decode_accuracy", "embed_2d",
    "class_mean_cosine", "ridge_r2", "neighbour_kappa"
]
