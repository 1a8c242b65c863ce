"""The sRAVEN presets: paper values (docs/methods.md#hyperparameters, #figures), shared runs,
budgets, reference data."""

import jax
import pytest

from hyla import presets
from hyla.attention import MIXERS
from hyla.presets import raven
from hyla.transformer import Transformer, count_parameters

FIGS = ("fig03_sraven_task", "fig04_sraven_scaling", "fig05_sraven_latents", "figA4_sraven_training",
        "figA5_sraven_heldout_fraction", "figA6_sraven_depth_latents", "figA8_sraven_codes",
        "tabA1_sraven_ablations")


def test_all_figures_registered():
    for fig in FIGS:
        for p in presets.PRESETS:
            assert isinstance(presets.get(fig, p), dict)


def test_paper_base_run_is_the_official_config():
    spec = raven.scaling_spec("paper", "hyla")
    t, m = spec.train, spec.model
    assert spec.task == "raven"
    assert spec.task_args == dict(num_features=4, num_values=8, heldout_fraction=0.25, permute_features=True)
    assert (t.steps, t.batch_size, t.lr, t.weight_decay, t.warmup_steps, t.eval_size) == (
        156_250, 128, 1e-3, 0.1, 1000, 51_200)
    assert t.steps * t.batch_size == 20_000_000
    assert (m.num_layers, m.emb_dim, m.num_heads, m.qk_dim, m.v_dim, m.mlp_dim) == (4, 128, 16, 64, 64, 256)
    assert (m.seq_len, m.token_dim, m.output_dim, m.attention_dropout) == (36, 8, 8, 0.1)
    assert spec.seeds == (0, 1, 2)
    # docs/methods.md#hyperparameters: 402 824 parameters at width 1, depth 4 (identical for every mixer)
    assert count_parameters(Transformer(m, key=jax.random.key(0))) == 402_824


def test_paper_fig04_grid():
    specs = presets.get("fig04_sraven_scaling", "paper")["specs"]
    assert len(specs) == 3 * 3 * 3 * 3
    steps = {10_000_000: 78_125, 20_000_000: 156_250, 40_000_000: 312_500}
    for (method, depth, width, problems), s in specs.items():
        assert s.train.steps == steps[problems]
        assert s.model.num_layers == depth
        assert (s.model.emb_dim, s.model.num_heads, s.model.mlp_dim) == (128 * width, 16 * width, 256 * width)
        assert s.model.qk_dim // s.model.num_heads == 4


def test_single_head_keeps_total_dims():
    for p in presets.PRESETS:
        base = raven.scaling_spec(p, "hyla").model
        one = raven.scaling_spec(p, "hyla", num_heads=1).model
        assert one.num_heads == 1 and (one.qk_dim, one.v_dim) == (base.qk_dim, base.v_dim)


@pytest.mark.parametrize("preset", presets.PRESETS)
def test_shared_runs_have_identical_specs(preset):
    """Fig. 4's base runs are the runs of Fig. 5, A4, A6 (shallow), A8, Table A1 (and A5 at 25 %)."""
    f4 = presets.get("fig04_sraven_scaling", preset)
    d = raven.DEPTH[preset]
    p = f4["base_problems"]
    base = {m: f4["specs"][(m, d, 1, p)].key() for m in raven.METHODS}
    f5 = presets.get("fig05_sraven_latents", preset)
    assert {m: s.key() for m, s in f5["specs"].items()} == base
    assert f5["heads_specs"][("hyla", raven.UNIT[preset][1])].key() == (
        base["hyla"] if preset != "gpu" else raven.scaling_spec("gpu", "hyla", ablation=True).key())
    a4 = presets.get("figA4_sraven_training", preset)
    assert a4["specs"] == f4["specs"]
    assert presets.get("figA6_sraven_depth_latents", preset)["specs"][d].key() == base["hyla"]
    a8 = presets.get("figA8_sraven_codes", preset)
    assert {m: s.key() for m, s in a8["specs"].items()} == base
    tab = presets.get("tabA1_sraven_ablations", preset)["specs"]
    a5 = presets.get("figA5_sraven_heldout_fraction", preset)
    if preset == "gpu":  # the ablation schedule: Table A1, A5 at 25 % and Fig. 5C/D share runs
        for m in ("linear", "hyla"):
            assert a5["specs"][(m, 0.25)].key() == tab[m].key()
        assert f5["k_specs"][("hyla", 4)].key() == tab["hyla"].key()
    else:
        for m in tab:
            if m in base:
                assert tab[m].key() == base[m]
        for m in a5["methods"]:
            assert a5["specs"][(m, 0.25)].key() == base[m]


def test_smoke_is_tiny():
    for fig in FIGS:
        cfg = presets.get(fig, "smoke")
        for s in _specs(cfg):
            assert s.train.steps <= 30 and s.train.eval_size <= 128 and len(s.seeds) == 1


def test_gpu_budget_estimate():
    """At ~100 steps/s (estimate, docs/methods.md#official-cpu-reference) every gpu figure trains
    <= 10 minutes beyond Fig. 4's runs."""
    fig04 = {s.key() for s in _specs(presets.get("fig04_sraven_scaling", "gpu"))}
    assert sum(s.train.steps for s in _specs(presets.get("fig04_sraven_scaling", "gpu"))) <= 60_000
    for fig in FIGS:
        specs = {s.key(): s for s in _specs(presets.get(fig, "gpu")) if s.key() not in fig04}
        assert sum(s.train.steps for s in specs.values()) <= 60_000, fig


def test_paper_table_reference_data():
    assert set(raven.PAPER_TABLE_A1_SRAVEN) == set(MIXERS)
    assert raven.PAPER_TABLE_A1_SRAVEN["hyla"] == (69.13, 1.90)
    assert raven.PAPER_TABLE_A1_SRAVEN["softmax"] == (56.56, 1.05)
    assert raven.PAPER_TABLE_A1_SRAVEN["linear"] == (56.30, 1.11)
    assert raven.PAPER_TABLE_A1_SRAVEN["hyla-rms_head+softmax"] == (38.21, 2.98)


def _specs(obj):
    from hyla.train import RunSpec

    if isinstance(obj, RunSpec):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _specs(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _specs(v)
