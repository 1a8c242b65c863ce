"""The training engine (docs/methods.md#optimiser, #training-loop): schedule, weight-decay mask, short runs, determinism,
resume, vmapped seeds, sharding over devices, and the run cache.

Compile time dominates these tests on a small CPU, so (a) runs of the same shapes share the
library's persistent XLA cache (`runs.enable_compilation_cache`), and (b) the 2-device runs start
in a subprocess when the module starts, so they overlap the other tests.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from hyla import runs
from hyla.train import (
    RunSpec,
    TrainConfig,
    Trainer,
    decay_mask,
    make_optimizer,
    make_schedule,
    train,
)
from hyla.transformer import ModelConfig, Transformer

LIB = str(Path(__file__).resolve().parents[1] / "lib")

TRAIN = TrainConfig(steps=150, batch_size=32, lr=3e-3, warmup_steps=10, eval_every=50,
                    eval_size=64, eval_batch_size=32)
SMALL = dict(num_layers=1, emb_dim=16, num_heads=4, qk_dim=8, v_dim=8, mlp_dim=32, mixer="hyla")
LOGIC = RunSpec(
    task="logic",
    task_args=dict(num_variables=4, num_terms=2, heldout_fraction=0.5, unknown_fraction=0.25,
                   seq_len=8),
    model=ModelConfig(**SMALL, seq_len=8, token_dim=5, output_dim=1),
    train=TRAIN,
)
RAVEN = RunSpec(
    task="raven",
    task_args=dict(num_features=2, num_values=8, heldout_fraction=0.25, permute_features=True),
    model=ModelConfig(**SMALL, seq_len=18, token_dim=8, output_dim=8),
    train=TRAIN,
)
TWO_SEEDS = LOGIC.replace(seeds=(0, 1))

# With pytest-xdist and `--dist loadgroup`, this module's tests (which share compiled runs) stay on
# one worker.
pytestmark = pytest.mark.xdist_group("hyla_train")


# ---------------------------------------------------------------------------------------------
# module fixtures: compilation cache, the sharded subprocess, shared runs
# ---------------------------------------------------------------------------------------------

_CACHE_OPTS = ("jax_compilation_cache_dir", "jax_persistent_cache_min_compile_time_secs",
               "jax_persistent_cache_min_entry_size_bytes")


@pytest.fixture(scope="module", autouse=True)
def compilation_cache():
    """Runs of identical shapes compile once: the library's persistent XLA cache (the one that
    `runs.load_or_train` switches on; $HYLA_XLA_CACHE moves it), restored afterwards."""
    from jax.experimental.compilation_cache import compilation_cache as cc

    old = {k: getattr(jax.config, k) for k in _CACHE_OPTS}
    runs.enable_compilation_cache()
    cc.reset_cache()
    yield
    for k, v in old.items():
        jax.config.update(k, v)
    cc.reset_cache()


_TWO_DEVICE_SCRIPT = r"""
import json, sys
import jax
from jax.sharding import NamedSharding, PartitionSpec
import hyla.train
from hyla.runs import enable_compilation_cache
from hyla.train import RunSpec, TrainConfig, train
from hyla.transformer import ModelConfig

enable_compilation_cache()
d = json.loads(sys.argv[1])
spec = RunSpec(d["task"], d["task_args"], ModelConfig(**d["model"]), TrainConfig(**d["train"]),
               tuple(d["seeds"]))


def describe(res):
    leaves = [x for x in jax.tree.leaves(res.model) if isinstance(x, jax.Array)]
    return dict(
        n_leaves=len(leaves),
        named=all(isinstance(x.sharding, NamedSharding) for x in leaves),
        seed_spec=all(getattr(x.sharding, "spec", None) == PartitionSpec("seed") for x in leaves),
        device_sets=sorted({len(x.sharding.device_set) for x in leaves}),
        shard_rows=sorted({s.data.shape[0] for x in leaves for s in x.addressable_shards}),
        records=res.records,
    )


out = dict(n_devices=len(jax.devices()), sharded=describe(train(spec, log=None)),
           placement_notes=[hyla.train.Trainer(spec.replace(seeds=s)).placement_note
                            for s in ((0, 1), (0, 1, 2), (0,))])
# The same vmapped 2-seed program without sharding (all seeds on one device, one vmapped program:
# not the one-seed-at-a-time path the trainer takes on a single CPU device).
hyla.train._seed_sharding = lambda n_seeds: None
trainer = hyla.train.Trainer(spec)
trainer.seeds_one_by_one = False
out["unsharded"] = describe(trainer.run(log=None))
with open(sys.argv[2], "w") as f:
    json.dump(out, f)
"""


@pytest.fixture(scope="module", autouse=True)
def two_device_runs(request, tmp_path_factory):
    """The 2-seed runs, in a 2-device subprocess: one sharded over the devices (the default), one
    with sharding switched off.  Started with the module so that it overlaps the other tests,
    unless pytest-xdist may spread this module's tests over workers (``--dist load``, ``loadgroup``
    or ``worksteal``): then it starts when a test first needs it, so that a worker which runs none of
    the three tests that use it does not pay for it."""
    out = tmp_path_factory.mktemp("two_devices") / "result.json"
    env = dict(os.environ)
    env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=2").strip()
    env["JAX_PLATFORMS"] = "cpu"
    env["PYTHONPATH"] = LIB + os.pathsep + env.get("PYTHONPATH", "")
    procs, result = [], {}

    def start():
        if not procs:
            procs.append(subprocess.Popen(
                [sys.executable, "-c", _TWO_DEVICE_SCRIPT, json.dumps(TWO_SEEDS.to_dict()),
                 str(out)],
                env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            ))
        return procs[0]

    def get():
        if not result:
            proc = start()
            log, _ = proc.communicate(timeout=540)
            assert proc.returncode == 0, log[-3000:]
            result.update(json.loads(out.read_text()))
        return result

    # `make test` runs `--dist loadgroup`; this module has no group marks (and with pytest 9.2
    # xdist's groups do not take effect anyway), so its tests are spread as under `--dist load`.
    split_by_xdist = getattr(request.config.option, "dist", "no") in ("load", "loadgroup", "worksteal")
    if not split_by_xdist:
        start()
    yield get
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def logic_run():
    return train(LOGIC, log=None)


@pytest.fixture(scope="module")
def raven_run():
    return train(RAVEN, log=None)


@pytest.fixture(scope="module")
def fresh_cached_run(tmp_path_factory):
    """LOGIC trained again from scratch, through the run cache (first call: trains)."""
    cache = str(tmp_path_factory.mktemp("runs"))
    return cache, runs.load_or_train(LOGIC, cache_dir=cache, log=None)


def by_key(records):
    return {(r["step"], r["seed"], r["metric"]): r["value"] for r in records}


def array_leaves(model):
    return [np.asarray(x) for x in jax.tree.leaves(eqx.filter(model, eqx.is_array))]


# ---------------------------------------------------------------------------------------------
# schedule and optimiser
# ---------------------------------------------------------------------------------------------


def ref_schedule(step, steps, warmup, lr):
    """docs/methods.md#optimiser: linear 0 -> lr over `warmup`, cosine to 0.1 lr over steps - 2 warmup, flat."""
    if step < warmup:
        return lr * step / warmup
    length = steps - 2 * warmup
    t = min(step - warmup, length) / length
    return 0.1 * lr + 0.9 * lr * 0.5 * (1.0 + math.cos(math.pi * t))


@pytest.mark.parametrize("steps,warmup,lr",
                         [(100, 10, 2e-3), (61, 30, 1e-3), (500, 100, 3e-3), (20, 0, 1e-3)])
def test_schedule(steps, warmup, lr):
    cfg = TrainConfig(steps=steps, warmup_steps=warmup, lr=lr)
    sched = make_schedule(cfg)
    grid = np.arange(steps + 6)
    got = np.array([float(sched(int(t))) for t in grid])
    expected = np.array([ref_schedule(int(s), steps, warmup, lr) for s in grid])
    np.testing.assert_allclose(got, expected, rtol=2e-5, atol=1e-10)
    assert got[0] == (0.0 if warmup else pytest.approx(lr, rel=1e-6))
    assert got[warmup] == pytest.approx(lr, rel=1e-6)
    assert got[steps - warmup] == pytest.approx(0.1 * lr, rel=1e-6)
    assert got[steps - warmup - 1] > 0.1 * lr * (1 + 1e-6)  # cosine still running just before
    tail = got[steps - warmup :]  # the last `warmup` steps (and beyond): exactly constant
    assert np.all(tail == tail[0])
    assert tail[0] == pytest.approx(0.1 * lr, rel=1e-6)
    assert np.all(np.diff(got[: warmup + 1]) > 0) and np.all(np.diff(got[warmup:]) <= 0)


@pytest.mark.parametrize("steps,warmup", [(200, 100), (100, 100), (20, 100), (0, 0)])
def test_train_config_rejects_short_runs(steps, warmup):
    with pytest.raises(ValueError) as err:
        TrainConfig(steps=steps, warmup_steps=warmup)
    assert "steps" in str(err.value) and "warmup" in str(err.value)


def test_train_config_other_value_errors():
    TrainConfig(steps=201, warmup_steps=100)  # smallest valid
    with pytest.raises(ValueError, match="eval_size"):
        TrainConfig(steps=10, warmup_steps=1, eval_size=100, eval_batch_size=32)
    with pytest.raises(ValueError, match="batch_size"):
        TrainConfig(steps=10, warmup_steps=1, batch_size=0)


def test_eval_steps():
    assert TRAIN.eval_steps() == [1, 50, 100, 150]
    assert TrainConfig(steps=120, warmup_steps=10, eval_every=50).eval_steps() == [1, 50, 100, 120]
    assert TrainConfig(steps=30, warmup_steps=10, eval_every=1000).eval_steps() == [1, 30]
    log_spaced = TrainConfig(steps=1000, warmup_steps=10, eval_every=1000, eval_at=[10, 100, 100, 500])
    assert log_spaced.eval_at == (10, 100, 100, 500)
    assert log_spaced.eval_steps() == [1, 10, 100, 500, 1000]
    for bad in [(0,), (151,), (2.5,), (True,)]:
        with pytest.raises(ValueError, match=r"eval_at=.*allowed: integer steps from 1 to steps=150"):
            dataclasses.replace(TRAIN, eval_at=bad)
    # unused, eval_at stays out of the spec's hash: runs cached before it existed keep their keys
    assert "eval_at" not in LOGIC.to_dict()["train"]
    with_eval_at = LOGIC.replace(train=dataclasses.replace(TRAIN, eval_at=(3,)))
    assert with_eval_at.to_dict()["train"]["eval_at"] == (3,) and with_eval_at.key() != LOGIC.key()


@pytest.mark.parametrize("spec,field,value,allowed", [
    (LOGIC, "seq_len", 9, "allowed: seq_len=8"),
    (LOGIC, "token_dim", 4, "allowed: token_dim=5"),
    (RAVEN, "seq_len", 16, "allowed: seq_len=18"),
    (RAVEN, "output_dim", 5, "allowed: both 8"),
])
def test_a_model_the_task_cannot_feed_is_refused_before_compute(spec, field, value, allowed, monkeypatch):
    def no_compute(*args, **kwargs):
        raise AssertionError("compiled before the model was checked")

    monkeypatch.setattr(jax, "jit", no_compute)
    bad = spec.replace(model=dataclasses.replace(spec.model, **{field: value}))
    with pytest.raises(ValueError, match=f"{field}={value}.*{allowed}"):
        Trainer(bad)


def test_eval_at_evaluates_there_without_changing_the_run(logic_run):
    """Extra evaluation steps split the compiled chunks elsewhere; the batches come from
    fold_in(key, step), so the history at the common steps and the trained model are unchanged."""
    res = train(LOGIC.replace(train=dataclasses.replace(TRAIN, eval_at=(3, 20, 75))), log=None)
    steps = sorted({r["step"] for r in res.records if r["metric"] == "heldout_r2"})
    assert steps == [1, 3, 20, 50, 75, 100, 150]
    common = {k: v for k, v in by_key(res.records).items() if k[0] in TRAIN.eval_steps()
              and k[2] != "train_loss"}  # train_loss: the mean over each chunk's steps
    want = {k: v for k, v in by_key(logic_run.records).items() if k[2] != "train_loss"}
    assert common == want
    for a, b in zip(array_leaves(res.model), array_leaves(logic_run.model)):
        np.testing.assert_array_equal(a, b)


DECAYED = {
    ".embed_w", ".head_w",
    ".blocks[0].attention.w_query", ".blocks[0].attention.w_key", ".blocks[0].attention.w_value",
    ".blocks[0].attention.w_out",
    # the q/k/v biases are [H, d] arrays (as flax's DenseGeneral biases of the official code), so
    # the ndim != 1 rule decays them too
    ".blocks[0].attention.b_query", ".blocks[0].attention.b_key", ".blocks[0].attention.b_value",
    ".blocks[0].position.table", ".blocks[0].mlp.w_in", ".blocks[0].mlp.w_out",
}
NOT_DECAYED = {
    ".embed_b", ".head_b", ".blocks[0].attention.b_out", ".blocks[0].mlp.b_in",
    ".blocks[0].mlp.b_out", ".blocks[0].ln_mixer.weight", ".blocks[0].ln_mixer.bias",
    ".blocks[0].ln_mlp.weight", ".blocks[0].ln_mlp.bias", ".ln_final.weight", ".ln_final.bias",
}


@pytest.fixture(scope="module")
def small_params():
    abstract = eqx.filter_eval_shape(lambda: Transformer(LOGIC.model, key=jax.random.key(0)))
    params = eqx.filter(abstract, lambda x: isinstance(x, jax.ShapeDtypeStruct))
    rng = np.random.default_rng(0)
    # random, non-zero everywhere (zero biases would not show decay)
    return jax.tree.map(
        lambda a: jnp.asarray(0.5 + rng.random(a.shape), jnp.float32), params)


def test_decay_mask_exactly_the_non_1d_arrays(small_params):
    mask = decay_mask(small_params)
    flat_mask = {jax.tree_util.keystr(p): m for p, m in jax.tree_util.tree_flatten_with_path(mask)[0]}
    flat_par = {jax.tree_util.keystr(p): x for p, x in
                jax.tree_util.tree_flatten_with_path(small_params)[0]}
    assert set(flat_mask) == set(flat_par) == DECAYED | NOT_DECAYED
    assert {k for k, m in flat_mask.items() if m} == DECAYED
    for k, x in flat_par.items():
        assert flat_mask[k] == (x.ndim != 1), k


def test_adamw_decays_only_masked_params(small_params):
    cfg = TrainConfig(steps=100, warmup_steps=10, lr=1e-2, weight_decay=0.1)
    opt = make_optimizer(cfg)
    params = small_params
    state = opt.init(params)
    zeros = jax.tree.map(jnp.zeros_like, params)

    @jax.jit
    def step(p, state):
        upd, state = opt.update(zeros, state, p)
        return optax.apply_updates(p, upd), state

    # update 0 runs at lr(0) = 0: nothing moves
    p1, state = step(params, state)
    for a, b in zip(jax.tree.leaves(p1), jax.tree.leaves(params)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    # update 1 at lr(1) = lr / warmup: kernels shrink by (1 - lr(1) wd), 1-D params do not move
    p2, state = step(p1, state)
    lr1 = cfg.lr / cfg.warmup_steps
    flat1 = jax.tree_util.tree_flatten_with_path(p1)[0]
    flat2 = jax.tree_util.tree_flatten_with_path(p2)[0]
    for (path, a), (_, b) in zip(flat1, flat2):
        a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
        if jax.tree_util.keystr(path) in DECAYED:
            np.testing.assert_allclose(b, a * (1 - lr1 * cfg.weight_decay), rtol=1e-6)
            assert np.all(np.abs(b) < np.abs(a))
        else:
            np.testing.assert_array_equal(b, a)


# ---------------------------------------------------------------------------------------------
# short runs
# ---------------------------------------------------------------------------------------------


def test_logic_loss_falls(logic_run):
    steps, loss = logic_run.metric("train_loss")
    assert list(steps) == TRAIN.eval_steps()
    assert np.all(np.isfinite(loss))
    assert loss[-1, 0] < 0.1 * loss[0, 0], loss[:, 0]


def test_raven_loss_falls(raven_run):
    steps, loss = raven_run.metric("train_loss")
    assert np.all(np.isfinite(loss))
    assert loss[-1, 0] < loss[0, 0] - 0.15, loss[:, 0]
    assert loss[-1, 0] < math.log(8) + 0.02  # at or below the uniform-guess loss


def test_eval_records(logic_run, raven_run):
    want = TRAIN.eval_steps()
    for res, names in [
        (logic_run, ["heldout_r2", "unknown_terms_r2", "train_r2", "heldout_pooled_r2",
                     "train_loss"]),
        (raven_run, ["heldout_accuracy", "heldout_feature_accuracy", "train_loss"]),
    ]:
        have = {r["metric"] for r in res.records}
        assert set(names) <= have
        for name in names:
            rows = [r for r in res.records if r["metric"] == name]
            assert sorted(r["step"] for r in rows) == want, name
            assert all(r["seed"] == 0 and math.isfinite(r["value"]) for r in rows), name
    acc = [r["value"] for r in raven_run.records if r["metric"] == "heldout_accuracy"]
    assert all(0.0 <= a <= 1.0 for a in acc)


def test_determinism(logic_run, fresh_cached_run):
    _, again = fresh_cached_run  # the same spec trained again from scratch
    assert again.cached is False
    assert again.records == logic_run.records
    for a, b in zip(array_leaves(again.model), array_leaves(logic_run.model)):
        np.testing.assert_array_equal(a, b)


def test_resume_from_checkpoint(logic_run, tmp_path):
    ckpt = tmp_path / "ckpt"
    half = Trainer(LOGIC).run(str(ckpt), stop_at=75, log=None)
    assert max(r["step"] for r in half.records) == 50
    prog = json.loads((ckpt / "progress.json").read_text())
    assert prog["step"] == 50 and prog["done"] is False
    lines = []
    full = Trainer(LOGIC).run(str(ckpt), log=lines.append)  # a NEW trainer resumes
    assert any("resuming at step 50" in line for line in lines)
    assert full.records == logic_run.records
    for a, b in zip(array_leaves(full.model), array_leaves(logic_run.model)):
        np.testing.assert_array_equal(a, b)
    assert json.loads((ckpt / "progress.json").read_text())["done"] is True


def test_vmapped_seeds_equal_single_seed_runs(logic_run, two_device_runs):
    info = two_device_runs()["unsharded"]  # seeds (0, 1) in one vmapped run, on one device
    assert info["device_sets"] == [1]
    seed1 = train(LOGIC.replace(seeds=(1,)), log=None)
    both = by_key(info["records"])
    single = {**by_key(logic_run.records), **by_key(seed1.records)}
    assert set(both) == set(single)
    keys = sorted(both)
    np.testing.assert_allclose([both[k] for k in keys], [single[k] for k in keys],
                               rtol=1e-5, atol=1e-6)
    # the two seeds really are different runs
    s0 = {(st, m): v for (st, seed, m), v in both.items() if seed == 0}
    s1 = {(st, m): v for (st, seed, m), v in both.items() if seed == 1}
    assert any(abs(s0[k] - s1[k]) > 1e-3 for k in s0)


def test_seeds_one_by_one_equal_single_seed_runs_exactly_and_vmapped_closely(logic_run, two_device_runs):
    """On one CPU device the trainer calls the compiled chunk once per seed (a one-seed slice):
    seed 0 of a two-seed run is then bit-identical to the one-seed run; the vmapped path (the
    subprocess's unsharded run: both seeds in one vmapped program) agrees to float tolerance."""
    one = Trainer(TWO_SEEDS)
    assert one.seeds_one_by_one
    res_one = one.run(log=None)
    vmapped = two_device_runs()["unsharded"]
    assert vmapped["device_sets"] == [1]
    a, b, single = by_key(res_one.records), by_key(vmapped["records"]), by_key(logic_run.records)
    assert {k: v for k, v in a.items() if k[1] == 0} == single
    # ... so one seed of a many-seed run stands for the one-seed run (RunResult.select_seeds)
    sub = res_one.select_seeds((0,))
    assert sub.spec == logic_run.spec and sub.records == logic_run.records
    for x, y in zip(array_leaves(sub.model), array_leaves(logic_run.model)):
        np.testing.assert_array_equal(x, y)
    assert [r["seed"] for r in res_one.select_seeds((1,)).records] == [1] * len(single)
    with pytest.raises(ValueError, match="seeds"):
        res_one.select_seeds((5,))
    keys = sorted(a)
    assert set(a) == set(b)
    np.testing.assert_allclose([a[k] for k in keys], [b[k] for k in keys], rtol=1e-5, atol=1e-6)
    assert any(abs(a[k] - a[(k[0], 1, k[2])]) > 1e-3 for k in keys if k[1] == 0)


def test_sharded_over_two_devices(two_device_runs):
    info = two_device_runs()
    assert info["n_devices"] == 2
    sharded = info["sharded"]
    assert sharded["n_leaves"] > 0 and sharded["named"] and sharded["seed_spec"]
    assert sharded["device_sets"] == [2]  # every parameter lives on both devices
    assert sharded["shard_rows"] == [1]  # one seed per device
    # 3 seeds do not split over 2 devices: the run says so (once, at its start) instead of
    # silently using one device; 2 seeds (sharded) and 1 seed have nothing to say
    assert info["placement_notes"] == [
        "", "3 seeds on one of 2 devices: sharding the seeds needs a seed count divisible by 2", ""]
    a, b = by_key(sharded["records"]), by_key(info["unsharded"]["records"])
    assert set(a) == set(b)
    keys = sorted(a)
    np.testing.assert_allclose([a[k] for k in keys], [b[k] for k in keys], rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------------------------------------
# run cache
# ---------------------------------------------------------------------------------------------


def test_load_or_train_cache(fresh_cached_run, monkeypatch):
    cache, first = fresh_cached_run
    assert first.cached is False
    assert runs.is_cached(LOGIC, cache)
    assert os.path.basename(runs.run_dir(LOGIC, cache)).startswith("logic-")

    def no_training(*a, **k):
        raise AssertionError("a cached run must not train")

    monkeypatch.setattr(Trainer, "_run_chunk", no_training)
    second = runs.load_or_train(LOGIC, cache_dir=cache, log=None)
    assert second.cached is True
    assert second.records == first.records
    assert second.train_time_s == first.train_time_s
    for a, b in zip(array_leaves(second.model), array_leaves(first.model)):
        np.testing.assert_array_equal(a, b)

    # a spec that differs in one field gets its own folder
    others = [
        LOGIC.replace(train=dataclasses.replace(TRAIN, lr=1e-3)),
        LOGIC.replace(seeds=(1,)),
        LOGIC.replace(model=dataclasses.replace(LOGIC.model, mixer="softmax")),
        LOGIC.replace(task_args={**LOGIC.task_args, "heldout_fraction": 0.3}),
    ]
    dirs = {runs.run_dir(s, cache) for s in others} | {runs.run_dir(LOGIC, cache)}
    assert len(dirs) == len(others) + 1
    assert not any(runs.is_cached(s, cache) for s in others)
    assert runs.run_dir(LOGIC.replace(), cache) == runs.run_dir(LOGIC, cache)  # stable
