"""The run list (hyla.runlist, presets.training_runs, --list-runs) and the executors (hyla.executors,
reproduce --executor): the list is what the notebooks train, and a figure's CSV is the same
whether its runs trained inline, in local workers or in submitit jobs."""

from __future__ import annotations

import ast
import dataclasses
import importlib.util
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

import pytest

try:  # submitit's logger binds sys.stderr when first imported: import it before a test captures
    import submitit  # noqa: F401  (stderr, or its handler writes to a closed capture buffer later)
except ImportError:
    pass

from hyla import executors, presets, reproduce, runlist, runs
from hyla.presets.specs import logic_spec
from hyla.train import RunSpec, TrainConfig

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
LIB = str(ROOT / "lib")


# ------------------------------------------------------------------------------------------------
# The run list is what each notebook trains.

def _training_code(cell: str) -> ast.Module:
    """The cell's top-level statements up to its last one that trains (calls load_or_train, or a
    helper of the cell that does)."""
    tree = ast.parse(cell)
    trainers = TRAINERS | {n.name for n in tree.body if isinstance(n, ast.FunctionDef)
                           and _trains(ast.unparse(n))}

    def trains(stmt):
        return not isinstance(stmt, ast.FunctionDef) and any(
            isinstance(n, ast.Call)
            and (getattr(n.func, "attr", None) in trainers or getattr(n.func, "id", None) in trainers)
            for n in ast.walk(stmt))

    last = max((i for i, s in enumerate(tree.body) if trains(s)), default=-1)
    return ast.Module(body=tree.body[: last + 1], type_ignores=[])


# What a notebook calls to train: runs.load_or_train, or notebook.train (which calls it per spec).
TRAINERS = {"load_or_train", "train"}


def _trains(code: str) -> bool:
    return "load_or_train(" in code or "notebook.train(" in code


def _trained_by_notebook(figure: str, preset: str, out_dir: str) -> list[tuple[str, str]]:
    """(name, spec key) of every load_or_train call of the notebook's paired script at ``preset``:
    its setup cells, then the training statements of its cells that train, with load_or_train
    recording instead of training."""
    code = reproduce.inject_parameters((NOTEBOOKS / f"{figure}.py").read_text(),
                                       {"preset": preset, "out_dir": out_dir})
    cells = re.split(r"^# %%.*$", code, flags=re.M)
    setup = next(i for i, c in enumerate(cells) if "notebook.setup(" in c or "presets.get(" in c)
    seen = []

    def record(spec, cache_dir="", name="", **kw):
        seen.append((name, spec.key()))
        result = mock.MagicMock()
        result.spec, result.cached = spec, True
        return result

    namespace = {"__name__": "__main__"}
    with mock.patch.object(runs, "load_or_train", record):
        for i, cell in enumerate(cells):
            if i <= setup:
                exec(compile(cell, figure, "exec"), namespace)
            elif _trains(cell):
                exec(compile(_training_code(cell), figure, "exec"), namespace)
    return seen


@pytest.mark.parametrize("figure", presets.figures())
def test_run_list_is_what_the_notebook_trains(figure, tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    for preset in presets.PRESETS:
        listed = presets.training_runs(figure, preset)
        seen = _trained_by_notebook(figure, preset, str(tmp_path))
        assert {k for _, k in seen} == {s.key() for s in listed.values()}, (figure, preset)
        assert set(listed) <= {n for n, _ in seen}, (figure, preset)  # the notebook's run names


def _spec_keys(value) -> set[str]:
    if isinstance(value, RunSpec):
        return {value.key()}
    if isinstance(value, dict):
        return set().union(*map(_spec_keys, value.values())) if value else set()
    return set()


def test_list_runs_matches_the_paper_sweeps(capsys, tmp_path):
    counts = {f: len(presets.training_runs(f, "paper")) for f in presets.figures()}
    c = {f: presets.get(f, "paper") for f in presets.figures()}
    fig02, fig04, a5 = c["fig02_fuzzy_logic"], c["fig04_sraven_scaling"], c["figA5_sraven_heldout_fraction"]
    assert counts["fig02_fuzzy_logic"] == len(fig02["methods"]) * len(fig02["num_examples"]) * len(fig02["heldout_fractions"]) == 36
    grid = len(fig04["methods"]) * len(fig04["depths"]) * len(fig04["widths"])
    assert counts["fig04_sraven_scaling"] == grid * len(fig04["problems"]) == 81
    assert counts["figA4_sraven_training"] == grid == 27  # the largest budget only
    assert counts["figA5_sraven_heldout_fraction"] == len(a5["methods"]) * len(a5["fractions"]) == 15
    ext = c["ext01_init_rate"]
    phase = len(ext["phase_gammas"]) * (len(ext["depths"]) + 2 * len(ext["extension_depths"]))
    assert counts["ext01_init_rate"] == len(ext["gammas"]) + phase + len(ext["wd_gammas"]) * len(ext["weight_decays"])
    for figure in presets.figures():  # every other figure: every distinct spec of its config
        if figure != "figA4_sraven_training":
            assert counts[figure] == len(_spec_keys(c[figure])), figure

    assert reproduce.main(["--list-runs", "--preset", "paper", "--cache-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    union = set().union(*(_spec_keys(presets.training_runs(f, "paper")) for f in presets.figures()))
    rows = [ln for ln in out.splitlines() if re.search(r"\s(logic|raven|lm|anchor|exchangeable)-[0-9a-f]{16}\s", ln)]
    assert len(rows) == len(union) < sum(counts.values())  # shared runs listed once
    assert f"{len(union)} run(s): 0 cached, 0 partial, {len(union)} missing" in out
    assert "est. CPU h" in out and "est. H100 h" in out
    shared = [ln for ln in rows if ln.startswith("fig04_sraven_scaling (+")]
    assert shared, "fig04's base runs are shared with fig05 / figA4 / tabA1 and listed once"


def test_estimate_of_a_benchmarked_configuration_is_its_measurement():
    records = [r for r in runlist.benchmarks()["h100"]
               if (r["task"], r["method"], r["seeds"], r.get("seq_len")) == ("logic", "hyla", 3, 16)]
    assert records, "benchmarks/h100_2026-11-23/h100_logic_paper.json holds logic hyla 3 seeds"
    spec = runlist._throughput().make_spec("logic", "hyla", "paper", 3, 16)
    expected = spec.train.steps / records[0]["steps_per_s"] + records[0]["compile_s"]
    assert runlist.estimate_s(spec, "h100") == pytest.approx(expected)
    bigger = spec.replace(model=dataclasses.replace(spec.model, num_layers=2 * spec.model.num_layers))
    assert runlist.estimate_s(bigger, "h100") > runlist.estimate_s(spec, "h100")
    assert runlist.estimate_s(presets.training_runs("fig06_language_model", "paper")["hyla LM"]) is None
    with pytest.raises(ValueError, match="allowed: cpu, h100"):
        runlist.estimate_s(spec, "tpu")


# ------------------------------------------------------------------------------------------------
# Command-line checks before any compute.

def _main_error(capsys, *argv) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        reproduce.main(list(argv))
    captured = capsys.readouterr()
    return exc.value.code, captured.out + captured.err


def test_bad_executor_options_are_rejected_before_running(capsys, monkeypatch):
    code, out = _main_error(capsys, "--executor", "ray")
    assert code == 2 and "'inline', 'local', 'slurm'" in out
    code, out = _main_error(capsys, "--workers", "2")
    assert code == 2 and "--executor local only" in out
    code, out = _main_error(capsys, "--executor", "local", "--workers", "-1")
    assert code == 2 and "--workers -1" in out
    code, out = _main_error(capsys, "--executor", "slurm", "--sbatch", "account")
    assert code == 2 and "KEY=VALUE" in out
    if importlib.util.find_spec("submitit") is not None:
        monkeypatch.setattr(reproduce.shutil, "which", lambda name: None)
        code, out = _main_error(capsys, "--executor", "slurm", "--preset", "smoke")
        assert code == 2 and "sbatch not found" in out and "--cluster local" in out
    monkeypatch.setitem(sys.modules, "submitit", None)  # not installed
    code, out = _main_error(capsys, "--executor", "slurm", "--preset", "smoke")
    assert "pip install -e '.[cluster]'" in str(code) + out


def test_replot_calls_hyla_figures(monkeypatch):
    from hyla import figures

    calls = []
    monkeypatch.setattr(figures, "replot", lambda **kw: calls.append(kw) or 3)
    assert reproduce.main(["--replot"]) == 3
    assert reproduce.main(["--replot", "--preset", "smoke", "--only", "figA3", "fig02", "--out", "x"]) == 3
    assert calls == [dict(preset=None, only=None, out_dir=""),
                     dict(preset="smoke", only=["figA3", "fig02"], out_dir="x")]


def test_submitit_is_imported_lazily():
    code = ("import sys, hyla.reproduce, hyla.executors, hyla.runlist; hyla.reproduce._parser(); "
            "assert 'submitit' not in sys.modules and 'jax' not in sys.modules, sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True, env=dict(os.environ, PYTHONPATH=LIB))


def test_local_slots_split_the_devices(monkeypatch):
    monkeypatch.setattr(executors, "_gpu_ids", lambda: [])
    monkeypatch.setattr(executors, "_cores", lambda: [0, 1, 2, 3])
    assert executors.local_slots(2) == [{"cores": [0, 1]}, {"cores": [2, 3]}]
    assert executors.local_slots(0) == [{"cores": [c]} for c in range(4)]
    # Fewer runs than workers: fewer workers, and the cores split among those.
    assert executors.local_slots(2, runs=1) == [{"cores": [0, 1, 2, 3]}]
    assert executors.local_slots(0, runs=2) == [{"cores": [0, 1]}, {"cores": [2, 3]}]
    assert executors.local_slots(2, runs=5) == executors.local_slots(2)
    monkeypatch.setattr(executors, "_gpu_ids", lambda: ["0", "1", "2"])
    assert executors.local_slots(0) == [{"gpu": "0"}, {"gpu": "1"}, {"gpu": "2"}]
    assert executors.local_slots(0, runs=2) == [{"gpu": "0"}, {"gpu": "1"}]


def test_longest_first_orders_by_estimated_cost():
    from hyla import runlist

    runs = runlist.collect(["fig04_sraven_scaling", "fig02_fuzzy_logic", "ext02_exchangeability"], "quick")
    ordered = executors.longest_first(runs)
    assert sorted(r.folder for r in ordered) == sorted(r.folder for r in runs)
    est = [runlist.estimate_s(r.spec, "cpu") for r in ordered]
    known = [e for e in est if e is not None]
    assert known == sorted(known, reverse=True) and len(known) >= 6
    # The fuzzy-logic runs (about 80 s on the 2-core CPU) go before the sRAVEN ones (about 20 s).
    assert [r.spec.task for r in ordered[:3]] == ["logic"] * 3


# ------------------------------------------------------------------------------------------------
# Executors: same CSV as inline; the notebooks then train nothing; failures and preemption.

FIGURE = "figA3_logic_metrics"  # two runs at smoke, a quick notebook


@pytest.fixture
def env(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (LIB, os.environ.get("PYTHONPATH", "")) if p))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("HYLA_CACHE", os.environ.get("HYLA_CACHE", ""))  # restored afterwards
    monkeypatch.setenv("HYLA_XLA_CACHE", os.environ.get("HYLA_XLA_CACHE") or str(ROOT / ".cache" / "xla"))


@pytest.mark.slow
def test_local_and_submitit_executors_give_the_inline_csv(tmp_path, env, monkeypatch):
    pytest.importorskip("submitit")
    modes = {"inline": [], "local": ["--executor", "local", "--workers", "2"],
             "submitit": ["--executor", "slurm", "--cluster", "local", "--gpus-per-job", "0"]}
    writes: dict[str, dict] = {}
    original = reproduce.run_script

    def run_script(nb, preset, out_dir):  # the notebook step: record what it wrote to the cache
        cache = os.environ["HYLA_CACHE"]
        before = executors.cache_snapshot(cache)
        result = original(nb, preset, out_dir)
        after = executors.cache_snapshot(cache)
        writes[Path(cache).name] = {p: v for p, v in after.items() if before.get(p) != v}
        return result

    monkeypatch.setattr(reproduce, "run_script", run_script)
    listed = {r.folder for r in runlist.collect([FIGURE], "smoke")}
    csvs = {}
    for mode, extra in modes.items():
        cache, out = tmp_path / f"cache-{mode}", tmp_path / f"out-{mode}"
        argv = ["--engine", "script", "--preset", "smoke", "--only", FIGURE, "--out", str(out),
                "--cache-dir", str(cache), "--log-dir", str(tmp_path / f"logs-{mode}"), *extra]
        assert reproduce.main(argv) == 0, mode
        csvs[mode] = (out / "data" / f"{FIGURE}.smoke.csv").read_bytes()
        folders = {p.name for p in cache.iterdir() if p.is_dir()}
        assert folders == listed, mode  # inline: the notebook trained exactly the listed runs
        if mode != "inline":
            assert writes[cache.name] == {}, f"{mode}: the notebook wrote to the cache"
    assert csvs["local"] == csvs["inline"]
    assert csvs["submitit"] == csvs["inline"]


def _tiny_spec(steps: int, **task) -> RunSpec:
    train = TrainConfig(steps=steps, batch_size=8, lr=3e-3, warmup_steps=2, eval_every=steps,
                        log_every=20, eval_size=64, eval_batch_size=64)
    spec = logic_spec("softmax", num_examples=8, model="smoke", train=train, seeds=(0,))
    return spec.replace(task_args={**spec.task_args, **task}) if task else spec


def _without_times(progress: dict) -> dict:
    return {k: v for k, v in progress.items() if "time" not in k and k != "checksum"}


def _preempt(job) -> None:
    """Send the job's task process the preemption / time-out signal, as SLURM does (submitit's
    LocalJob._interrupt signals the local controller process instead, which does not forward it)."""
    import signal

    children = Path(f"/proc/{job._process.pid}/task/{job._process.pid}/children")
    pids = children.read_text().split()
    assert pids, "the job's task process is not running"
    for pid in pids:
        os.kill(int(pid), signal.SIGUSR2)


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds the task process in /proc")
def test_a_preempted_job_resumes_identical_and_a_failing_job_is_reported(tmp_path, env):
    pytest.importorskip("submitit")
    good, bad = _tiny_spec(1000), _tiny_spec(40, bogus_argument=1)
    cache, ref_cache = tmp_path / "cache", tmp_path / "reference"
    items = [runlist.Run(["test"], "preempted", good), runlist.Run(["test"], "broken", bad)]
    lines: list[str] = []
    pairs = executors.submit(items, str(cache), tmp_path / "jobs", cluster="local", gpus_per_job=0,
                             timeout_min=10, progress=lines.append)
    job = pairs[0][0]
    progress = Path(runs.run_dir(good, str(cache))) / "progress.json"
    deadline = time.monotonic() + 120
    while not progress.exists() and time.monotonic() < deadline and not job.done():
        time.sleep(0.02)
    _preempt(job)
    outcomes = executors.wait(pairs, poll_s=0.2, progress=lines.append)

    by_label = {o.label: o for o in outcomes}
    assert by_label["test: preempted"].state == "done", lines
    failed = by_label["test: broken"]
    assert failed.state == "failed" and failed.job_id
    assert Path(failed.log).is_file() and "bogus_argument" in Path(failed.log).read_text()
    assert any(ln.startswith("[") and "failed" in ln and failed.log in ln for ln in lines), lines
    log = job.stdout()
    assert "preempted: requeueing after this checkpoint" in log and "resuming at step" in log, log

    runs.load_or_train(good, str(ref_cache), log=None)  # uninterrupted, in this process
    ended, reference = (Path(runs.run_dir(good, str(c))) for c in (cache, ref_cache))
    ended_progress, reference_progress = (json.loads((d / "progress.json").read_text())
                                          for d in (ended, reference))
    assert _without_times(ended_progress) == _without_times(reference_progress)
    state = ended_progress.get("state", "state.eqx")
    assert (ended / state).read_bytes() == (reference / state).read_bytes()


def test_a_failing_local_worker_run_is_reported_with_its_log(tmp_path):
    log = tmp_path / "logs" / "broken.log"
    res = executors._worker_task(_tiny_spec(40, bogus_argument=1), str(tmp_path / "cache"), "broken", str(log))
    assert res["state"] == "failed" and "bogus_argument" in res["message"]
    assert "Traceback" in log.read_text() and "bogus_argument" in log.read_text()
    out = executors.Outcome("fig: broken", "logic-x", "failed", job_id="pid 1", log=str(log), message="E")
    assert out.line(1, 2) == f"[1/2] failed  fig: broken  job pid 1  log {log}: E"
