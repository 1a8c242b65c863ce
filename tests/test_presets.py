"""The `paper` tier of every figure holds the paper's exact values (docs/methods.md#hyperparameters, #figures)."""

import jax
import pytest

from hyla import presets
from hyla.train import RunSpec
from hyla.transformer import Transformer, count_parameters


def _specs(obj):
    """Every RunSpec inside a preset config (dicts, lists, tuples)."""
    if isinstance(obj, RunSpec):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _specs(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _specs(v)


FIGURES = presets.figures()


def test_every_figure_has_all_presets():
    assert "fig02_fuzzy_logic" in FIGURES
    for fig in FIGURES:
        for p in presets.PRESETS:
            assert isinstance(presets.get(fig, p), dict)


def test_unknown_preset_and_figure_raise():
    with pytest.raises(ValueError, match="preset"):
        presets.get("fig02_fuzzy_logic", "quik")
    with pytest.raises(ValueError, match="figure"):
        presets.get("fig99_nothing", "quick")


@pytest.mark.parametrize("figure", FIGURES)
def test_paper_tier_matches_spec(figure):
    for spec in _specs(presets.get(figure, "paper")):
        t, m = spec.train, spec.model
        if spec.task == "logic":
            assert (t.steps, t.batch_size, t.warmup_steps) == (50_000, 128, 100)
            assert t.lr in (1e-3, 3e-3) and t.weight_decay in (0.1, 0.03)
            assert t.eval_size == 16_000 and t.eval_every == 10_000
            assert spec.seeds == (0, 1, 2) or spec.seeds == (2024,)
            assert (m.num_layers, m.emb_dim, m.num_heads, m.qk_dim, m.v_dim, m.mlp_dim) == (
                2, 128, 8, 16, 16, 256)
            assert m.attention_dropout == 0.1 and m.seq_len == spec.task_args["seq_len"]
        elif spec.task == "raven":
            assert t.steps in (78_125, 156_250, 312_500)
            assert (t.batch_size, t.warmup_steps, t.eval_size) == (128, 1000, 51_200)
            assert t.lr in (1e-3, 3e-4) and t.weight_decay in (0.1, 0.3)
            assert spec.seeds == (0, 1, 2)
            w = m.emb_dim // 128
            assert m.num_layers in (4, 8, 16) and w in (1, 2, 4)
            if m.num_heads != 1:  # Fig. 5C's single head keeps the total qk/v dims (64)
                assert m.qk_dim // m.num_heads == 4 and m.v_dim // m.num_heads == 4
            assert m.qk_dim == m.v_dim == 64 * w
            assert m.attention_dropout == 0.1


def test_logic_paper_headline_parameter_count():
    cfg = presets.get("fig02_fuzzy_logic", "paper")
    assert cfg["num_examples"] == (16, 32, 64, 96)
    assert cfg["heldout_fractions"] == (0.3, 0.5, 0.7)
    spec = cfg["specs"][("hyla", 32, 0.7)]
    model = Transformer(spec.model, key=jax.random.key(0))
    assert count_parameters(model) == 151_265  # 151 009 + 2*8*(32-16), docs/methods.md#hyperparameters


def test_shared_runs_have_identical_specs():
    """fig02, figA3 and tabA1 read the same headline runs, so they share cache entries."""
    for p in presets.PRESETS:
        f2 = presets.get("fig02_fuzzy_logic", p)["specs"]
        tab = presets.get("tabA1_logic_ablations", p)["specs"]
        shared = [m for m in ("softmax", "linear", "hyla") if m in tab]
        assert "hyla" in shared
        for m in shared:
            assert f2[(m, 32, 0.7)].key() == tab[m].key()


def test_apply_overrides():
    spec = presets.get("fig02_fuzzy_logic", "quick")["specs"][("hyla", 32, 0.7)]
    s2 = presets.apply_overrides(spec, steps=200, num_seeds=2)
    assert s2.train.steps == 200 and s2.seeds == (0, 1) and s2.train.steps > 2 * s2.train.warmup_steps
    assert presets.apply_overrides(spec).key() == spec.key()


def test_paper_table_a1_logic_reference_data():
    """The paper's Table A1 fuzzy-logic column (reference data), one row per implemented mixer; the
    headline rows equal the numbers the claims quote."""
    from hyla.attention import MIXERS
    from hyla.presets import logic

    assert set(logic.PAPER_TABLE_A1_LOGIC) == set(MIXERS)
    assert logic.PAPER_TABLE_A1_LOGIC["hyla"] == (81.13, 7.77)
    assert logic.PAPER_TABLE_A1_LOGIC["softmax"] == (63.28, 2.31)
    assert logic.PAPER_TABLE_A1_LOGIC["linear"] == (59.89, 5.22)
    assert logic.PAPER_TABLE_A1_LOGIC["linear+rms_head"] == (68.93, 5.10)
    assert len(logic.PAPER_TABLE_A1_LOGIC_NOT_IMPLEMENTED) == 5
