"""hyla.analysis: probes against hand-made data, code extraction against explicit indexing, and the
reason the fuzzy-logic probe reads fixed-query sequences."""

import jax
import numpy as np
import pytest

from hyla import analysis
from hyla.presets.specs import logic_spec
from hyla.tasks.logic import FuzzyLogic
from hyla.transformer import Transformer


def test_probe_f1_separable_and_shuffled():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((400, 3))
    y = np.stack([x[:, 0] > 0.5, x[:, 1] < -0.5], axis=1).astype(int)  # two linearly separable labels
    assert analysis.probe_f1(x[:200], y[:200], x[200:], y[200:]) > 0.95
    shuffled = y[200:][rng.permutation(200)]
    assert analysis.probe_f1(x[:200], y[:200], x[200:], shuffled) < 0.6


def test_logic_query_codes_is_the_query_attending_to_itself():
    codes = np.random.default_rng(1).standard_normal((5, 2, 3, 7, 7))
    got = analysis.logic_query_codes(codes)
    assert got.shape == (5, 2, 3)
    np.testing.assert_array_equal(got[2, 1, 0], codes[2, 1, 0, 6, 6])


def _model(mixer):
    spec = logic_spec(mixer, num_examples=8, model="smoke")
    return Transformer(spec.model, key=jax.random.key(3))


@pytest.mark.parametrize("mixer", ["linear", "hyla", "softmax"])
def test_fixed_query_layer1_code(mixer):
    """With the query input fixed, the layer-1 self-score of a mixer without softmax depends on the
    query token alone, so it is the same for every sequence; softmax normalises over the context."""
    model, task = _model(mixer), FuzzyLogic(seq_len=8, seed=0)
    key = jax.random.key(4)
    fixed, _, _ = analysis.logic_split_codes(model, task, key, 64, "train", "fixed_query")
    free, _, _ = analysis.logic_split_codes(model, task, key, 64, "train")
    spread_fixed = np.ptp(fixed[:, 0], axis=0).max()
    assert np.ptp(free[:, 0], axis=0).max() > 1e-3  # random query inputs: the code varies
    if mixer == "softmax":
        assert spread_fixed > 1e-3
    else:
        assert spread_fixed < 1e-5


def test_logic_term_probe_per_layer():
    model, task = _model("hyla"), FuzzyLogic(seq_len=8, seed=0)
    keys = {s: jax.random.key(i) for i, s in enumerate(("train", "heldout_combos"))}
    f1 = analysis.logic_term_probe(model, task, keys, 256, "fixed_query")
    assert len(f1) == logic_spec("hyla", model="smoke").model.num_layers
    assert all(0.0 <= v <= 1.0 for v in f1)
