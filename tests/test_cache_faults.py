"""The run cache never lies: crash-consistent checkpoints, corrupt or foreign state named, one writer
per run folder, divergence recorded as a result (issue #22; the longer soak: benchmarks/cache_soak.py).

Every check compares against an independent reference: an uninterrupted run without a checkpoint.
The runs are the 1-layer, 16-wide fuzzy-logic run of tests/test_train.py (same spec, so the two
modules share its compilation through the persistent XLA cache).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hyla.checkpoint
import hyla.train
from hyla import runs
from hyla.runs import CorruptRunError, DivergedRunError, RunLockedError
from hyla.train import RunSpec, TrainConfig, Trainer
from hyla.transformer import ModelConfig

ROOT = Path(__file__).resolve().parents[1]
LIB = str(ROOT / "lib")

TRAIN = TrainConfig(steps=150, batch_size=32, lr=3e-3, warmup_steps=10, eval_every=50,
                    eval_size=64, eval_batch_size=32)
LOGIC = RunSpec(
    task="logic",
    task_args=dict(num_variables=4, num_terms=2, heldout_fraction=0.5, unknown_fraction=0.25,
                   seq_len=8),
    model=ModelConfig(num_layers=1, emb_dim=16, num_heads=4, qk_dim=8, v_dim=8, mlp_dim=32,
                      mixer="hyla", seq_len=8, token_dim=5, output_dim=1),
    train=TRAIN,
)
NAME = "tiny logic"

pytestmark = pytest.mark.xdist_group("hyla_train")

_CACHE_OPTS = ("jax_compilation_cache_dir", "jax_persistent_cache_min_compile_time_secs")


@pytest.fixture(scope="module", autouse=True)
def compilation_cache():
    """The library's persistent XLA cache (as in tests/test_train.py), restored afterwards."""
    from jax.experimental.compilation_cache import compilation_cache as cc

    old = {k: getattr(jax.config, k) for k in _CACHE_OPTS}
    runs.enable_compilation_cache()
    cc.reset_cache()
    yield
    for k, v in old.items():
        jax.config.update(k, v)
    cc.reset_cache()


@pytest.fixture(scope="module")
def trainer():
    """One Trainer of LOGIC (compiled once); ``fresh`` puts it back to its initial state."""
    t = Trainer(LOGIC)
    t.initial = jax.device_get((t.params, t.opt_state))
    return t


def fresh(t: Trainer) -> Trainer:
    """The trainer at initialisation (a copy of its initial parameters and optimiser state: the
    compiled chunk consumes its inputs). A run from a checkpoint must replace them by loading."""
    t.params, t.opt_state = jax.tree.map(jnp.array, t.initial)
    return t


@pytest.fixture(scope="module")
def reference(trainer):
    """The uninterrupted run, no checkpoint."""
    return fresh(trainer).run(None, log=None)


@pytest.fixture(scope="module")
def cached(trainer, reference, tmp_path_factory):
    """A cache folder holding LOGIC trained to the end (through load_or_train)."""
    cache = tmp_path_factory.mktemp("runs")
    res = runs.load_or_train(LOGIC, str(cache), name=NAME, log=None)
    assert not res.cached and res.records == reference.records
    return Path(runs.run_dir(LOGIC, str(cache)))


def leaves(model):
    return [np.asarray(x) for x in jax.tree.leaves(eqx.filter(model, eqx.is_array))]


def assert_same_run(res, ref):
    assert res.records == ref.records
    assert not res.diverged
    for a, b in zip(leaves(res.model), leaves(ref.model), strict=True):
        np.testing.assert_array_equal(a, b)


def committed_step(ckpt: Path) -> int | None:
    p = ckpt / "progress.json"
    return json.loads(p.read_text())["step"] if p.exists() else None


def no_training(monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("this run must not train")

    monkeypatch.setattr(Trainer, "_call", refuse)


class Fault(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# 1. one atomic checkpoint
# ---------------------------------------------------------------------------------------------


def _write_points(trainer, tmp_path, monkeypatch) -> list[str]:
    seen = []
    monkeypatch.setattr(hyla.checkpoint, "between_writes", seen.append)
    fresh(trainer).run(str(tmp_path / "count"), log=None)
    monkeypatch.undo()
    return seen


def test_a_fault_between_any_two_writes_resumes_bit_identical(trainer, reference, tmp_path,
                                                              monkeypatch):
    """The run is stopped (an exception) after each write of the first, a middle and the last
    checkpoint in turn (the step-100 one repeats the step-50 one); a trainer at initialisation then
    resumes from the folder and must end bit-identical to the uninterrupted run, its folder holding
    one checkpoint and nothing else."""
    points = _write_points(trainer, tmp_path, monkeypatch)
    save = np.cumsum([p == "state written" for p in points])  # checkpoint of each write: 1..4
    assert save[-1] == 4 and {"state written", "progress staged", "committed"} <= set(points)
    assert sum(p.startswith("removed state-") for p in points) == 3  # each older state file
    steps = [1, *range(50, 151, 50)]
    for k in [k for k in range(1, len(points) + 1) if save[k - 1] != 3]:
        ckpt = tmp_path / f"fault{k}"
        calls = []

        def fault(point, calls=calls, k=k):
            calls.append(point)
            if len(calls) == k:
                raise Fault(point)

        monkeypatch.setattr(hyla.checkpoint, "between_writes", fault)
        with pytest.raises(Fault):
            fresh(trainer).run(str(ckpt), log=None)
        monkeypatch.undo()
        assert committed_step(ckpt) in (None, *steps), points[k - 1]
        res = fresh(trainer).run(str(ckpt), log=None)
        assert_same_run(res, reference)
        prog = json.loads((ckpt / "progress.json").read_text())
        assert prog["done"] is True and prog["step"] == 150
        assert sorted(os.listdir(ckpt)) == ["progress.json", prog["state"]], points[k - 1]


def test_a_failed_commit_of_progress_keeps_the_previous_checkpoint(trainer, reference, tmp_path,
                                                                   monkeypatch):
    """The write that replaces progress.json fails at the second checkpoint (whatever the state
    file's name): the folder must still resume to the uninterrupted run, not retrain steps 1..50
    on top of the step-50 parameters."""
    ckpt = tmp_path / "ckpt"
    real_replace, commits = os.replace, []

    def replace(src, dst, *a, **k):
        if str(dst).endswith("progress.json"):
            commits.append(dst)
            if len(commits) == 2:
                raise OSError("disk full (injected)")
        return real_replace(src, dst, *a, **k)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OSError, match="injected"):
        fresh(trainer).run(str(ckpt), log=None)
    monkeypatch.undo()
    assert committed_step(ckpt) == 1
    assert_same_run(fresh(trainer).run(str(ckpt), log=None), reference)


# ---------------------------------------------------------------------------------------------
# 2. corrupt or foreign state is named, never resumed from
# ---------------------------------------------------------------------------------------------


def _flip_byte(path: Path, at: float = 0.5):
    data = bytearray(path.read_bytes())
    data[int(len(data) * at)] ^= 0x40
    path.write_bytes(bytes(data))


def _flip_a_digit(path: Path):
    text = path.read_text()
    i = text.index('"value": ') + len('"value": ') + 3  # a digit of the first record's value
    assert text[i].isdigit()
    path.write_text(text[:i] + str((int(text[i]) + 1) % 10) + text[i + 1:])


def _to_format_1(folder: Path):
    """The folder as the checkpoint code before issue #22 wrote it: state.eqx, no checksums."""
    prog = json.loads((folder / "progress.json").read_text())
    (folder / prog["state"]).rename(folder / "state.eqx")
    old = {k: prog[k] for k in ("step", "done", "wall_time_s", "train_time_s", "records", "spec")}
    (folder / "progress.json").write_text(json.dumps(old))


def _state(folder: Path) -> Path:
    return folder / json.loads((folder / "progress.json").read_text())["state"]


DAMAGE = {
    "state checksum": (lambda d: _flip_byte(_state(d)), "checksum mismatch"),
    "state truncated": (lambda d: os.truncate(_state(d), 1000), "truncated"),
    "state missing": (lambda d: _state(d).unlink(), "missing"),
    "progress truncated": (lambda d: os.truncate(d / "progress.json", 500), "not valid JSON"),
    "progress value changed": (lambda d: _flip_a_digit(d / "progress.json"), "checksum"),
    "format-1 state truncated": (lambda d: (_to_format_1(d), os.truncate(d / "state.eqx", 1000)),
                                 "cannot be read"),
}


def _copy_run(src: Path, cache: Path, spec=LOGIC) -> Path:
    dst = Path(runs.run_dir(spec, str(cache)))
    shutil.copytree(src, dst)
    return dst


def _snapshot(folder: Path) -> dict:
    return {f: (folder / f).read_bytes() for f in sorted(os.listdir(folder))}


def _assert_named(err, folder: Path, problem: str):
    msg = str(err.value)
    for part in (repr(NAME), str(folder), problem, "use_cache=False", "--retrain",
                 f"delete the folder {folder}"):
        assert part in msg, (part, msg)


@pytest.mark.parametrize("damage", DAMAGE, ids=list(DAMAGE))
def test_damaged_checkpoint_raises_one_clear_error(damage, cached, tmp_path, monkeypatch):
    folder = _copy_run(cached, tmp_path)
    do, problem = DAMAGE[damage]
    do(folder)
    before = _snapshot(folder)
    assert runs.status(LOGIC, str(tmp_path)) == "corrupt"
    assert not runs.is_cached(LOGIC, str(tmp_path))
    no_training(monkeypatch)
    with pytest.raises(CorruptRunError) as err:
        runs.load_or_train(LOGIC, str(tmp_path), name=NAME, log=None)
    _assert_named(err, folder, problem)
    assert _snapshot(folder) == before  # nothing resumed, nothing rewritten


def test_a_damaged_partial_run_is_not_resumed(trainer, tmp_path, monkeypatch):
    folder = Path(runs.run_dir(LOGIC, str(tmp_path)))
    fresh(trainer).run(str(folder), stop_at=75, log=None)
    assert runs.status(LOGIC, str(tmp_path)) == "partial"
    _flip_byte(_state(folder), 0.9)
    before = _snapshot(folder)
    no_training(monkeypatch)
    with pytest.raises(CorruptRunError) as err:
        runs.load_or_train(LOGIC, str(tmp_path), name=NAME, log=None)
    _assert_named(err, folder, "checksum mismatch")
    assert _snapshot(folder) == before


def test_a_folder_holding_another_specs_run_is_named(cached, tmp_path, monkeypatch):
    other = LOGIC.replace(train=dataclasses.replace(TRAIN, lr=1e-3))
    folder = _copy_run(cached, tmp_path, spec=other)  # LOGIC's run in the folder of `other`
    assert runs.status(other, str(tmp_path)) == "corrupt"
    no_training(monkeypatch)
    with pytest.raises(CorruptRunError) as err:
        runs.load_or_train(other, str(tmp_path), name=NAME, log=None)
    _assert_named(err, folder, "another spec")
    assert "train.lr" in str(err.value)


def test_a_format_1_checkpoint_still_loads(cached, reference, tmp_path, monkeypatch):
    """Caches written before issue #22 (state.eqx + progress.json) load unchanged."""
    _to_format_1(_copy_run(cached, tmp_path))
    assert runs.is_cached(LOGIC, str(tmp_path))
    no_training(monkeypatch)
    res = runs.load_or_train(LOGIC, str(tmp_path), log=None)
    assert res.cached
    assert_same_run(res, reference)


# ---------------------------------------------------------------------------------------------
# 3. one writer per run folder
# ---------------------------------------------------------------------------------------------

_WORKER = r"""
import hashlib, json, sys
import equinox as eqx, jax, numpy as np
from hyla import runs
from hyla.train import RunSpec, TrainConfig
from hyla.transformer import ModelConfig

d = json.loads(sys.argv[1])
spec = RunSpec(d["task"], d["task_args"], ModelConfig(**d["model"]), TrainConfig(**d["train"]),
               tuple(d["seeds"]))
try:
    res = runs.load_or_train(spec, sys.argv[2], name="tiny logic", wait=sys.argv[3] == "wait",
                             log=lambda line: print(line, flush=True))
except runs.RunLockedError as e:
    print("LOCKED", e, flush=True)
    sys.exit(3)
params = [np.asarray(x) for x in jax.tree.leaves(eqx.filter(res.model, eqx.is_array))]
print("RESULT", json.dumps({"cached": res.cached, "records": res.records,
                            "params": hashlib.sha256(b"".join(p.tobytes() for p in params)).hexdigest()}))
"""


def _worker(cache: Path, wait: bool, out: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (LIB, os.environ.get("PYTHONPATH")))),
           "JAX_PLATFORMS": "cpu"}
    return subprocess.Popen(
        [sys.executable, "-c", _WORKER, json.dumps(LOGIC.to_dict()), str(cache),
         "wait" if wait else "no-wait"], env=env, stdout=out.open("w"), stderr=subprocess.STDOUT)


def _wait_for(path: Path, text: str, procs, timeout=120.0):
    t0 = time.monotonic()
    while text not in path.read_text():
        assert all(p.poll() is None for p in procs), path.read_text()
        assert time.monotonic() - t0 < timeout, path.read_text()
        time.sleep(0.05)


def _load_without_waiting(cache: Path) -> BaseException | None:
    """load_or_train(wait=False) from another thread (its own file handle on the lock)."""
    import threading

    raised = []

    def call():
        try:
            runs.load_or_train(LOGIC, str(cache), name=NAME, log=None, wait=False)
        except BaseException as e:  # noqa: BLE001
            raised.append(e)

    thread = threading.Thread(target=call)
    thread.start()
    thread.join()
    return raised[0] if raised else None


def test_two_processes_on_one_spec_train_it_once(reference, tmp_path):
    """Two processes start while the run's lock is held (here); once it is free, one trains and the
    other waits for it and loads its run; both return the uninterrupted run's numbers. A caller
    with wait=False is refused, told who holds the lock."""
    cache = tmp_path / "cache"
    folder = runs.run_dir(LOGIC, str(cache))
    outs = [tmp_path / f"worker{i}.txt" for i in range(2)]
    with hyla.checkpoint.run_lock(folder, name="holder"):
        procs = [_worker(cache, True, out) for out in outs]
        refused = _load_without_waiting(cache)
        for out in outs:
            _wait_for(out, "waiting for", procs)
    assert isinstance(refused, RunLockedError), refused
    for part in (f"pid {os.getpid()}", "'holder'", folder, "wait=True"):
        assert part in str(refused), (part, str(refused))
    for p in procs:
        assert p.wait(timeout=120) == 0
    results = [json.loads(o.read_text().split("RESULT ", 1)[1]) for o in outs]
    assert sorted(r["cached"] for r in results) == [False, True]  # exactly one trained
    digest = hashlib.sha256(b"".join(p.tobytes() for p in leaves(reference.model))).hexdigest()
    for r in results:
        assert r["records"] == json.loads(json.dumps(reference.records))
        assert r["params"] == digest


# ---------------------------------------------------------------------------------------------
# 4. divergence is a result
# ---------------------------------------------------------------------------------------------


def test_divergence_at_lr_1e3_is_recorded_and_raised(tmp_path, monkeypatch):
    spec = LOGIC.replace(train=dataclasses.replace(TRAIN, lr=1e3))
    cache = str(tmp_path)
    with pytest.raises(DivergedRunError) as err:
        runs.load_or_train(spec, cache, name=NAME, log=None)
    folder = runs.run_dir(spec, cache)
    prog = json.loads(Path(folder, "progress.json").read_text())
    assert prog["done"] is False
    [entry] = prog["diverged"]
    step = entry["step"]
    assert entry == {"seed": 0, "step": step, "lr": 1e3}
    msg = str(err.value)
    for part in (repr(NAME), f"seed 0 at step {step}", "lr 1000", folder, "allow_diverged=True"):
        assert part in msg, (part, msg)
    assert runs.status(spec, cache) == "diverged" and not runs.is_cached(spec, cache)
    no_training(monkeypatch)  # a diverged run is a finished result: it is not trained again
    res = runs.load_or_train(spec, cache, name=NAME, log=None, allow_diverged=True)
    assert res.diverged == {0: step}
    # independently of the trainer's check: the last record or the parameters are not finite,
    # every earlier train loss is, and nothing was trained or evaluated after that step
    losses = {r["step"]: r["value"] for r in res.records if r["metric"] == "train_loss"}
    assert max(r["step"] for r in res.records) == step < spec.train.steps
    assert all(np.isfinite(v) for s, v in losses.items() if s < step)
    assert not np.isfinite(losses[step]) or not all(np.isfinite(x).all() for x in leaves(res.model))
    with pytest.raises(DivergedRunError):
        runs.load_or_train(spec, cache, name=NAME, log=None)


def test_non_finite_parameters_of_one_seed_stop_the_run(tmp_path):
    """A finite loss with non-finite parameters is caught too, and charged to that seed only."""

    def chunk(self, params, opt_state, tasks, data_keys, dropout_keys, start, stop):
        bad = jax.tree.map(lambda x: x.at[-1].set(jnp.inf), params)  # the last seed's
        return bad, opt_state, jnp.zeros(len(data_keys))

    spec = LOGIC.replace(seeds=(3, 4))
    t = Trainer(spec)
    t._chunk = jax.jit(chunk.__get__(t))
    t.seeds_one_by_one = False
    res = t.run(str(tmp_path / "run"), log=None)
    assert res.diverged == {4: 1}
    assert json.loads((tmp_path / "run" / "progress.json").read_text())["diverged"] == [
        {"seed": 4, "step": 1, "lr": TRAIN.lr}]


@pytest.mark.slow
def test_a_notebook_stops_on_a_diverged_run(tmp_path, monkeypatch):
    """figA3 at preset smoke, whose first cached run diverged: the notebook stops with the
    DivergedRunError naming that run, draws nothing."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from hyla import presets
    from hyla.reproduce import kernel_config

    method, spec = next(iter(presets.get("figA3_logic_metrics", "smoke")["specs"].items()))
    spec = presets.apply_overrides(spec, 0, 0)
    name = f"{method} N={spec.task_args['seq_len']} held-out={spec.task_args['heldout_fraction']:.0%}"

    def nan_chunk(self, params, opt_state, tasks, data_keys, dropout_keys, start, stop):
        return params, opt_state, jnp.full(len(data_keys), jnp.nan)

    cache = tmp_path / "cache"
    with monkeypatch.context() as m:  # the notebook's real smoke spec, trained to NaN in here
        m.setattr(Trainer, "_run_chunk", nan_chunk)
        res = runs.load_or_train(spec, str(cache), name=name, log=None, allow_diverged=True)
    assert res.diverged
    env = {"PYTHONPATH": os.pathsep.join(filter(None, (LIB, os.environ.get("PYTHONPATH")))),
           "MPLBACKEND": "Agg",
           "HYLA_XLA_CACHE": os.environ.get("HYLA_XLA_CACHE") or str(ROOT / ".cache" / "xla")}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    nb = ROOT / "notebooks" / "figA3_logic_metrics.ipynb"
    out_dir = tmp_path / "figures"
    with kernel_config() as config, pytest.raises(PapermillExecutionError) as err:
        papermill.execute_notebook(
            str(nb), str(tmp_path / nb.name), kernel_name="python3", cwd=str(nb.parent),
            progress_bar=False, config=config,
            parameters={"preset": "smoke", "out_dir": str(out_dir), "cache_dir": str(cache)})
    assert err.value.ename == "DivergedRunError"
    assert repr(name) in err.value.evalue and "diverged" in err.value.evalue
    assert not any(out_dir.glob("**/*.png"))
