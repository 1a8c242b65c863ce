"""Language-modelling task (hyla.lm): corpus, split, windows, objective, causality."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hyla import lm
from hyla.objectives import make_objective
from hyla.transformer import ModelConfig, Transformer


@pytest.fixture(scope="module")
def text_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "tiny.txt"
    rng = np.random.default_rng(0)
    words = ["alpha", "beta", "gamma", "delta", "épsilon", "zeta"]
    path.write_text(" ".join(rng.choice(words, 400)) + "\n", encoding="utf-8")
    return str(path)


def test_default_corpus_is_pydoc_topics():
    from pydoc_data import topics

    text = lm.default_corpus_text()
    assert len(text) > 100_000  # ~465k characters on CPython 3.11
    assert topics.topics[sorted(topics.topics)[0]] in text
    ids, vocab, fp = lm.encoded_corpus("", "byte")
    assert vocab == 256 and len(ids) == len(text.encode("utf-8")) and len(fp) == 16


@pytest.mark.parametrize("level", ["byte", "char"])
def test_encoding_round_trips(text_file, level):
    text = lm.load_text(text_file)
    ids, vocab = lm.encode(text, level)
    if level == "byte":
        assert bytes(ids.astype(np.uint8)).decode("utf-8") == text
    else:
        chars = sorted(set(text))
        assert vocab == len(chars) and "".join(chars[i] for i in ids) == text


def test_split_and_windows_are_contiguous_slices(text_file):
    ids, _, _ = lm.encoded_corpus(text_file, "char")
    task = lm.TextCorpus(text_file, "char", seq_len=16, validation_fraction=0.1)
    cut = lm.split_point(len(ids), 0.1)
    np.testing.assert_array_equal(np.asarray(task.train), ids[:cut])
    np.testing.assert_array_equal(np.asarray(task.validation), ids[cut:])
    assert len(task.validation) == len(ids) - cut and abs(cut / len(ids) - 0.9) < 0.01
    for split, offset in (("train", 0), ("validation", cut)):
        b = task.sample(jax.random.key(1), 64, split)
        x, y, s = (np.asarray(a) for a in (b.x, b.y, b.start))
        assert x.shape == y.shape == (64, 16)
        stream = np.asarray(task.tokens(split))
        for i in range(64):
            window = ids[offset + s[i]: offset + s[i] + 17]  # a slice of the whole corpus
            assert len(window) == 17 and s[i] + 17 <= len(stream)
            np.testing.assert_array_equal(x[i], window[:-1])
            np.testing.assert_array_equal(y[i], window[1:])


def test_starts_cover_the_split(text_file):
    task = lm.TextCorpus(text_file, "char", seq_len=8)
    s = np.asarray(task.sample(jax.random.key(2), 20_000, "validation").start)
    n = len(task.validation)
    assert s.min() == 0 and s.max() == n - 9  # the last window ends at the last token


def test_sample_jits_and_stacks_over_seeds(text_file):
    obj = make_objective("lm", corpus=text_file, level="char", seq_len=8)
    from hyla.objectives import stack_tasks

    tasks = stack_tasks([obj.make_task(s) for s in (0, 1)])
    keys = jax.random.split(jax.random.key(0), 2)
    b = jax.jit(jax.vmap(lambda t, k: t.sample(k, 4, "train")))(tasks, keys)
    assert b.x.shape == (2, 4, 8)


def test_errors(text_file):
    with pytest.raises(ValueError, match="not a file"):
        lm.load_text("/nonexistent/file.txt")
    with pytest.raises(ValueError, match="level"):
        lm.encode("abc", "word")
    with pytest.raises(ValueError, match="seq_len"):
        lm.TextCorpus(text_file, "char", seq_len=10_000)
    with pytest.raises(ValueError, match="changed"):
        make_objective("lm", corpus=text_file, level="char", seq_len=8, fingerprint="0" * 16)


def _cfg(vocab, mixer="hyla", causal=True, seq_len=8, num_layers=2):
    return ModelConfig(num_layers=num_layers, emb_dim=16, num_heads=4, qk_dim=8, v_dim=8, mlp_dim=32,
                       mixer=mixer, seq_len=seq_len, token_dim=None, vocab_size=vocab,
                       output_dim=None, causal=causal)


def test_check_model(text_file):
    obj = make_objective("lm", corpus=text_file, level="char", seq_len=8)
    obj.check_model(_cfg(obj.vocab_size))
    with pytest.raises(ValueError, match="causal"):
        obj.check_model(_cfg(obj.vocab_size, causal=False))
    with pytest.raises(ValueError, match="vocab_size"):
        obj.check_model(_cfg(obj.vocab_size - 1))
    with pytest.raises(ValueError, match="seq_len"):
        obj.check_model(_cfg(obj.vocab_size, seq_len=9))


@pytest.mark.parametrize("mixer", ["softmax", "linear", "hyla"])
def test_causal_lm_outputs_ignore_later_tokens(mixer):
    import equinox as eqx

    model = eqx.filter_jit(lambda k: Transformer(_cfg(40, mixer, num_layers=1), key=k))(jax.random.key(3))
    rng = np.random.default_rng(4)
    x1 = rng.integers(0, 40, 8)
    x2 = np.stack([x1] * 7)
    for t in range(7):  # row t: tokens after t replaced
        x2[t, t + 1:] = rng.integers(0, 40, 7 - t)
    run = jax.jit(jax.vmap(lambda x: model(x, inference=True)[0]))
    o1, o2 = np.asarray(run(jnp.asarray(x1[None]))[0]), np.asarray(run(jnp.asarray(x2)))
    for t in range(7):
        np.testing.assert_allclose(o1[: t + 1], o2[t, : t + 1], atol=1e-5)
        assert np.max(np.abs(o1[t + 1:] - o2[t, t + 1:])) > 1e-6  # later outputs do change


def test_loss_and_metrics_against_numpy(text_file):
    obj = make_objective("lm", corpus=text_file, level="char", seq_len=8)
    task = obj.make_task(0)
    batch = task.sample(jax.random.key(5), 4, "validation")
    logits = jax.random.normal(jax.random.key(6), (4, 8, obj.vocab_size))
    lg, y = np.asarray(logits, np.float64), np.asarray(batch.y)
    logp = lg - np.log(np.exp(lg).sum(-1, keepdims=True))
    ce = -np.mean(np.take_along_axis(logp, y[..., None], -1))
    np.testing.assert_allclose(float(obj.loss(logits, batch)), ce, rtol=1e-5)
    m = obj.eval_metrics("validation", logits, batch)
    np.testing.assert_allclose(float(m["validation_loss"]), ce, rtol=1e-5)
    np.testing.assert_allclose(float(m["validation_accuracy"]), np.mean(lg.argmax(-1) == y))
    assert set(obj.eval_metrics("train", logits, batch)) == {"train_eval_loss", "train_accuracy"}


def test_fig06_presets():
    from hyla import presets

    paper = presets.get("fig06_language_model", "paper")["specs"]["hyla"]
    m, t = paper.model, paper.train
    # paper Table A3 (docs/methods.md#language-modelling): 6 layers, D 512, 8 heads, kqv 64 per
    # head, MLP 2048, batch 256, tied head
    assert (m.num_layers, m.emb_dim, m.num_heads, m.qk_dim // m.num_heads, m.mlp_dim) == (6, 512, 8, 64, 2048)
    assert t.batch_size == 256 and m.output_dim is None and m.causal and paper.task == "lm"
    for p in presets.PRESETS:
        cfg = presets.get("fig06_language_model", p)
        keys = {s.key() for s in cfg["specs"].values()}
        assert set(cfg["specs"]) == {"softmax", "linear", "hyla"} and len(keys) == 3
        models = {(s.model.num_layers, s.model.emb_dim, s.train) for s in cfg["specs"].values()}
        assert len(models) == 1  # the mixers differ in nothing else
