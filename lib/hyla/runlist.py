"""The training runs of a set of figures: one list, each run once, with its cache state and cost.

``collect(figures, preset)`` reads :func:`hyla.presets.training_runs` (the presets are the one
source) and merges runs that several figures share (Fig. 5 and Table A1 reuse Fig. 4's base runs):
a run is identified by its cache folder ``<task>-<spec key>``.  ``status`` tells a finished run
(``cached``) from one cut off (``partial``: its folder exists) and one never started (``missing``).

``estimate_s`` is an ESTIMATE of a run's training time: the benchmark's measured steps/s for the
same task and mixer family (``benchmarks/cpu_results.json`` on the 2-core CPU; on one H100
``benchmarks/h100_2026-11-23/h100_logic_paper.json``, ``h100_logic_grid.log`` and
``figures/data/gpu_logs/call1_bench_h100.txt``), scaled from the nearest measured size and seed
count by the ratio of multiply-adds per step, plus the measured compilation time; evaluation is
not counted.  Tasks without a benchmark (lm, anchor, exchangeable) have no estimate (``None``).
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import json
import math
import os
from pathlib import Path

__all__ = ["Run", "collect", "status", "estimate_s", "benchmarks", "format_table"]

DEVICES = ("cpu", "h100")


@dataclasses.dataclass
class Run:
    """One training run: the figures that need it, its name (in the first figure), its spec."""

    figures: list[str]
    name: str
    spec: object  # hyla.train.RunSpec

    @property
    def folder(self) -> str:
        return f"{self.spec.task}-{self.spec.key()}"

    @property
    def label(self) -> str:
        return f"{self.figures[0]}: {self.name}"


def collect(figures, preset: str, steps: int = 0, num_seeds: int = 0) -> list[Run]:
    """The runs that the notebooks of ``figures`` train at ``preset``, each once, in figure order."""
    from hyla import presets

    runs: dict[str, Run] = {}
    for figure in figures:
        for name, spec in presets.training_runs(figure, preset, steps, num_seeds).items():
            run = Run([figure], name, spec)
            if run.folder in runs:
                if figure not in runs[run.folder].figures:
                    runs[run.folder].figures.append(figure)
            else:
                runs[run.folder] = run
    return list(runs.values())


def status(run: Run, cache_dir: str = "") -> str:
    """``cached`` (finished), ``partial`` (its folder exists: cut off, or training now), ``missing``;
    ``diverged`` / ``corrupt`` where ``runs.status`` says so."""
    from hyla import runs

    if hasattr(runs, "status"):
        state = runs.status(run.spec, cache_dir, run.name)
        if state not in ("done", "missing"):
            return state
    if runs.is_cached(run.spec, cache_dir):
        return "cached"
    return "partial" if os.path.isdir(runs.run_dir(run.spec, cache_dir)) else "missing"


# ------------------------------------------------------------------------------------------------
# Cost estimates from the benchmark's measured steps/s.

def _bench_dir() -> Path | None:
    from hyla.paths import repo_root

    root = repo_root()
    return root if root is not None and (root / "benchmarks").is_dir() else None


def _text_rows(path: Path) -> list[dict]:
    """Rows ``task method size seeds [seq_len] steps/s compile_s ...`` printed by throughput.py."""
    rows = []
    for line in path.read_text().splitlines():
        tok = line.split()
        if len(tok) < 6 or tok[0] not in ("logic", "raven"):
            continue
        seq = len(tok) >= 11 and tok[4].isdigit()
        values = tok[5:7] if seq else tok[4:6]
        rows.append(dict(task=tok[0], method=tok[1], size=tok[2], seeds=int(tok[3]),
                         seq_len=int(tok[4]) if seq else None, steps_per_s=float(values[0]),
                         compile_s=float(values[1])))
    return rows


@functools.lru_cache(maxsize=1)
def benchmarks() -> dict[str, list[dict]]:
    """``{device: [record]}`` of the committed throughput measurements (empty without a checkout)."""
    root = _bench_dir()
    out: dict[str, list[dict]] = {d: [] for d in DEVICES}
    if root is None:
        return out
    b = root / "benchmarks"
    sources = {"cpu": [b / "cpu_results.json"],
               "h100": [b / "h100_2026-11-23" / "h100_logic_paper.json",
                        b / "h100_2026-11-23" / "h100_logic_grid.log",
                        root / "figures" / "data" / "gpu_logs" / "call1_bench_h100.txt"]}
    for device, paths in sources.items():
        for path in paths:
            if not path.is_file():
                continue
            if path.suffix == ".json":
                data = json.loads(path.read_text())
                out[device] += data["records"] if isinstance(data, dict) else data
            else:
                out[device] += _text_rows(path)
    return out


@functools.lru_cache(maxsize=1)
def _throughput():
    """benchmarks/throughput.py as a module (its make_spec builds the measured configurations)."""
    root = _bench_dir()
    spec = importlib.util.spec_from_file_location("_hyla_bench_throughput",
                                                  root / "benchmarks" / "throughput.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def step_madds(spec) -> float:
    """Multiply-adds of one training step of one seed, up to a constant factor (a cost proxy):
    batch x layers x (seq_len x weights per layer + seq_len^2 x (qk + v) dims)."""
    m = spec.model
    per_layer = m.emb_dim * (2 * m.qk_dim + m.v_dim) + m.v_dim * m.emb_dim + 2 * m.emb_dim * m.mlp_dim
    return spec.train.batch_size * m.num_layers * (m.seq_len * per_layer
                                                   + m.seq_len ** 2 * (m.qk_dim + m.v_dim))


def _family(mixer: str) -> str:
    for base in ("hyla", "linear", "softmax"):
        if mixer.startswith(base):
            return base
    return "softmax"


def estimate_s(spec, device: str = "cpu") -> float | None:
    """ESTIMATED training seconds of ``spec`` on ``device`` (``cpu`` / ``h100``); see the module doc."""
    if device not in DEVICES:
        raise ValueError(f"device={device!r} is unknown; allowed: {', '.join(DEVICES)}")
    family = _family(spec.model.mixer)
    records = [r for r in benchmarks()[device] if r["task"] == spec.task and r["method"] == family
               and r.get("steps_per_s")]
    if not records:
        return None
    tp = _throughput()
    cost = step_madds(spec)
    seeds = len(spec.seeds)

    def reference(r):
        ref = tp.make_spec(r["task"], r["method"], r["size"], r["seeds"], r.get("seq_len"))
        return ref, abs(math.log(step_madds(ref) / cost)), abs(math.log(r["seeds"] / seeds))

    scored = [(r, *reference(r)) for r in records]
    r, ref, _, _ = min(scored, key=lambda x: (round(x[2], 1), x[3]))
    steps_per_s = r["steps_per_s"] * (step_madds(ref) / cost) * (r["seeds"] / seeds)
    return spec.train.steps / steps_per_s + float(r.get("compile_s") or 0.0)


# ------------------------------------------------------------------------------------------------

def _hours(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds / 3600:.2f}" if seconds >= 36 else f"{seconds / 3600:.3f}"


def format_table(runs: list[Run], cache_dir: str = "") -> str:
    """The ``--list-runs`` table, then totals per figure (the first figure that needs a run pays)."""
    header = ("figure", "run", "cache key", "steps", "seeds", "state", "est. CPU h", "est. H100 h")
    rows, per_figure = [], {}
    for run in runs:
        cpu, gpu = estimate_s(run.spec, "cpu"), estimate_s(run.spec, "h100")
        figure = run.figures[0] + (f" (+{len(run.figures) - 1})" if len(run.figures) > 1 else "")
        rows.append((figure, run.name, run.folder, str(run.spec.train.steps),
                     str(len(run.spec.seeds)), status(run, cache_dir), _hours(cpu), _hours(gpu)))
        total = per_figure.setdefault(run.figures[0], [0, 0.0, 0.0, 0, 0])
        total[0] += 1
        total[1] += cpu or 0.0
        total[2] += gpu or 0.0
        total[3] += cpu is None
        for other in run.figures[1:]:
            per_figure.setdefault(other, [0, 0.0, 0.0, 0, 0])[4] += 1
    widths = [max(len(r[j]) for r in (header, *rows)) for j in range(len(header))]
    line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    out = [line(header), line(tuple("-" * w for w in widths)), *map(line, rows), ""]
    out.append("per figure (runs shared with earlier figures counted there; estimates: training "
               "steps at the benchmark's steps/s scaled to the run's size, plus compilation):")
    for figure, (n, cpu, gpu, unknown, shared) in per_figure.items():
        note = f", {shared} more shared with earlier figures" if shared else ""
        if not n:
            cost = "nothing more to train"
        elif unknown == n:
            cost = "not estimated (no benchmark of this task)"
        else:
            cost = f"est. {_hours(cpu)} CPU h, {_hours(gpu)} H100 GPU-h"
            cost += f" ({unknown} run(s) without a benchmark not estimated)" if unknown else ""
        out.append(f"  {figure}: {n} run(s){note}; {cost}")
    cpu = sum(t[1] for t in per_figure.values())
    gpu = sum(t[2] for t in per_figure.values())
    unknown = sum(t[3] for t in per_figure.values())
    out.append(f"  all: est. {_hours(cpu)} CPU h, {_hours(gpu)} H100 GPU-h"
               + (f" ({unknown} run(s) without a benchmark not estimated)" if unknown else ""))
    states = [r[5] for r in rows]
    kinds = ("cached", "partial", "missing") + tuple(sorted(set(states) - {"cached", "partial", "missing"}))
    out.append(f"{len(runs)} run(s): " + ", ".join(f"{states.count(s)} {s}" for s in kinds))
    return "\n".join(out)
