"""Reproduce the figures: run the notebooks through papermill.

    python -m hyla.reproduce                      # every notebook, preset "quick"
    python -m hyla.reproduce --preset smoke       # seconds per notebook: checks that everything runs
    python -m hyla.reproduce --only fig02 figA2   # notebooks whose names start with these prefixes
    python -m hyla.reproduce --list               # list the notebooks and exit
    python -m hyla.reproduce --engine script      # no Jupyter: run the paired percent scripts
    python -m hyla.reproduce --list-runs --preset paper    # the training runs, their state and cost
    python -m hyla.reproduce --executor local --workers 2  # train the runs side by side first
    python -m hyla.reproduce --executor slurm --preset paper --cache-dir /shared/runs \
        --partition gpu --time 240 --gpus-per-job 1       # one SLURM job per run (submitit)
    python -m hyla.reproduce --replot                     # redraw figures from their saved data

Each notebook runs with parameters ``preset`` and ``out_dir`` in ``notebooks/`` as working directory;
the executed copies (with outputs) land in ``executed/<preset>/``. With ``--engine script`` (machines
without Jupyter, e.g. a bare GPU box) the paired ``.py`` script runs in a fresh Python process with the
parameters injected after its ``parameters`` cell, as papermill does, and its output is streamed.

With ``--executor local`` or ``slurm`` the runs the selected notebooks need (``hyla.runlist``, from
the presets) train first, in parallel (``hyla.executors``), and the notebooks then only read the
run cache; ``inline`` (the default) lets each notebook train its own runs. A failure does not stop
the others; the exit status is non-zero if any run or notebook failed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator, Sequence

__all__ = ["PRESETS", "find_notebooks", "select", "kernel_config", "run_notebook", "run_script",
           "inject_parameters", "main"]

PRESETS = ("smoke", "quick", "gpu", "paper")
KERNEL_NAME = "python3"


def find_notebooks(directory: Path) -> list[Path]:
    """``directory/*.ipynb`` sorted by name (checkpoint folders and hidden files excluded)."""
    return sorted(p for p in Path(directory).glob("*.ipynb") if not p.name.startswith("."))


def select(notebooks: Sequence[Path], prefixes: Sequence[str] | None) -> list[Path]:
    """Notebooks whose names start with any of ``prefixes`` (all when ``prefixes`` is empty/None).

    Raises ``ValueError`` naming the available notebooks when a prefix matches none.
    """
    if not prefixes:
        return list(notebooks)
    chosen: list[Path] = []
    unknown = []
    for prefix in prefixes:
        prefix = prefix[: -len(".ipynb")] if prefix.endswith(".ipynb") else prefix
        prefix = Path(prefix).name
        matches = [p for p in notebooks if p.stem.startswith(prefix)]
        if not matches:
            unknown.append(prefix)
        chosen.extend(p for p in matches if p not in chosen)
    if unknown:
        available = ", ".join(p.stem for p in notebooks) or "(none)"
        raise ValueError(f"no notebook matches {', '.join(map(repr, unknown))}; available: {available}")
    return sorted(chosen)


# Unix socket paths hold at most 104 (macOS) or 108 (Linux) bytes; below the temporary folder go
# "/hyla-kXXXXXXXX" (15) and Jupyter's "/k-<n>" (up to ~10).
_MAX_TMP_BASE = 64


@contextlib.contextmanager
def kernel_config() -> Iterator[object]:
    """traitlets ``Config`` for papermill's kernel: Unix sockets (IPC) in a fresh private folder.

    Over TCP (Jupyter's default) every kernel warns that it runs unencrypted, and two processes
    starting kernels at once can be handed the same free port ("Address already in use": papermill
    waits 60 s, then fails).  The private folder goes under the system's temporary folder, or /tmp
    when that path is too long for sockets; if neither will do, and on Windows (no Unix sockets),
    the default TCP stays.
    """
    from traitlets.config import Config

    base = tempfile.gettempdir()
    if len(base) > _MAX_TMP_BASE and os.path.isdir("/tmp"):
        base = "/tmp"
    if os.name == "nt" or len(base) > _MAX_TMP_BASE:
        yield Config()
        return
    sockets = tempfile.mkdtemp(prefix="hyla-k", dir=base)
    try:
        yield Config({"KernelManager": {"transport": "ipc", "ip": os.path.join(sockets, "k")}})
    finally:
        shutil.rmtree(sockets, ignore_errors=True)


def _default_root() -> Path:
    from .paths import repo_root

    root = repo_root()
    return root if root is not None else Path.cwd()


def _ensure_kernel_sees_this_hyla() -> None:
    """Prepend this package's parent folder to PYTHONPATH so the kernel imports the same hyla."""
    lib = str(Path(__file__).resolve().parent.parent)
    current = os.environ.get("PYTHONPATH", "")
    parts = [p for p in current.split(os.pathsep) if p]
    if lib not in parts:
        os.environ["PYTHONPATH"] = os.pathsep.join([lib, *parts])


def _check_kernel() -> None:
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(KERNEL_NAME)
    except NoSuchKernel:
        raise SystemExit(
            f"error: no Jupyter kernel named {KERNEL_NAME!r} for {sys.executable}; "
            "install the notebook extra: pip install -e '.[notebooks]' (it brings ipykernel)"
        ) from None


def run_notebook(
    notebook: Path,
    preset: str,
    out_dir: Path,
    executed_dir: Path,
    *,
    verbose: bool = False,
) -> tuple[str, float, str]:
    """Execute one notebook; return ``(status, seconds, message)`` with status ``"ok"`` or ``"failed"``."""
    import papermill

    executed_dir.mkdir(parents=True, exist_ok=True)
    output = executed_dir / notebook.name
    start = time.perf_counter()
    try:
        with kernel_config() as config:
            papermill.execute_notebook(
                str(notebook),
                str(output),
                parameters={"preset": preset, "out_dir": str(out_dir)},
                kernel_name=KERNEL_NAME,
                cwd=str(notebook.parent),
                progress_bar=False,
                log_output=False,
                stdout_file=sys.stdout if verbose else None,
                stderr_file=sys.stderr if verbose else None,
                config=config,
            )
    except Exception as err:  # noqa: BLE001 - report and go on with the next notebook
        seconds = time.perf_counter() - start
        ename = getattr(err, "ename", type(err).__name__)
        evalue = getattr(err, "evalue", str(err))
        first = str(evalue).strip().splitlines()[0] if str(evalue).strip() else ""
        return "failed", seconds, f"{ename}: {first} (see {output})"
    return "ok", time.perf_counter() - start, ""


def inject_parameters(script: str, parameters: dict) -> str:
    """The percent script with an assignment cell for ``parameters`` right after its ``parameters``
    cell (what papermill's injected-parameters cell does)."""
    lines = script.splitlines()
    starts = [i for i, ln in enumerate(lines) if ln.startswith("# %%")]
    tagged = [i for i in starts if "parameters" in lines[i]]
    if not tagged:
        raise ValueError("the script has no cell tagged 'parameters'")
    end = next((i for i in starts if i > tagged[0]), len(lines))
    cell = ["# %% tags=[\"injected-parameters\"]"] + [f"{k} = {v!r}" for k, v in parameters.items()]
    return "\n".join(lines[:end] + cell + [""] + lines[end:]) + "\n"


def run_script(notebook: Path, preset: str, out_dir: Path) -> tuple[str, float, str]:
    """Run the notebook's paired percent script (``.py``) with ``preset`` and ``out_dir`` injected,
    in a fresh Python process in the notebook's folder; output is streamed."""
    import subprocess

    script = notebook.with_suffix(".py")
    if not script.is_file():
        return "failed", 0.0, f"no paired script {script.name}"
    code = inject_parameters(script.read_text(), {"preset": preset, "out_dir": str(out_dir)})
    env = dict(os.environ, MPLBACKEND="Agg")
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], cwd=str(notebook.parent), env=env)
    seconds = time.perf_counter() - start
    if proc.returncode:
        return "failed", seconds, f"exit status {proc.returncode}"
    return "ok", seconds, ""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m hyla.reproduce",
        description="Run the figure notebooks through papermill and write figures, data and provenance.",
    )
    parser.add_argument(
        "--preset",
        default=None,
        help=f"one of {', '.join(PRESETS)} (default: quick; with --replot: each figure's largest tier)",
    )
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="PREFIX",
        help="run only notebooks whose names start with these prefixes, e.g. fig02 figA2",
    )
    parser.add_argument("--out", default="", metavar="DIR", help="figures folder (default: <repo>/figures; <repo>/figures/smoke for --preset smoke)")
    parser.add_argument("--list", action="store_true", help="list the notebooks and exit")
    parser.add_argument(
        "--notebooks", default="", metavar="DIR", help="folder of notebooks (default: <repo>/notebooks)"
    )
    parser.add_argument(
        "--executed",
        default="",
        metavar="DIR",
        help="folder for executed notebooks (default: <repo>/executed/<preset>)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="stream the notebooks' output")
    parser.add_argument("--engine", default="papermill", choices=("papermill", "script"),
                        help="papermill (default) or script: run the paired .py scripts without Jupyter")
    parser.add_argument("--replot", action="store_true",
                        help="redraw the figures from their saved data (hyla.figures.replot) and exit")
    parser.add_argument("--list-runs", action="store_true",
                        help="list the training runs the selected notebooks need (state, estimated cost) and exit")
    parser.add_argument("--cache-dir", default="", metavar="DIR",
                        help="run cache (default: $HYLA_CACHE or <repo>/.cache/runs); shared by all jobs")
    runs = parser.add_argument_group("executors: where the training runs train")
    runs.add_argument("--executor", default="inline", choices=_executors(),
                      help="inline (default): each notebook trains its runs; local: train them first in "
                           "worker processes, one per GPU or CPU share; slurm: one job per run (submitit)")
    runs.add_argument("--workers", type=int, default=0, metavar="N",
                      help="local: worker processes (default: one per GPU, else one per CPU core)")
    runs.add_argument("--log-dir", default="", metavar="DIR",
                      help="logs of the runs / submitit folder (default: <repo>/executed/<preset>/runs); "
                           "on a cluster it must be on a shared filesystem")
    runs.add_argument("--partition", default="", help="slurm: partition")
    runs.add_argument("--time", type=int, default=240, metavar="MIN", help="slurm: time limit per job, minutes")
    runs.add_argument("--gpus-per-job", type=int, default=1, metavar="N", help="slurm: GPUs per job (default 1)")
    runs.add_argument("--cpus-per-job", type=int, default=0, metavar="N", help="slurm: CPUs per job")
    runs.add_argument("--array-parallelism", type=int, default=0, metavar="N",
                      help="slurm: at most N jobs of the array at once")
    runs.add_argument("--sbatch", nargs="+", default=[], metavar="KEY=VALUE",
                      help="slurm: more sbatch options, e.g. account=abc qos=high constraint=h100")
    runs.add_argument("--max-requeues", type=int, default=20, metavar="N",
                      help="slurm: requeues of a job that hits its time limit (it resumes from its checkpoint)")
    runs.add_argument("--cluster", default="slurm", choices=("slurm", "local", "debug"),
                      help="slurm: submitit's executor (local: its LocalExecutor, jobs as local "
                           "subprocesses, for testing without SLURM)")
    runs.add_argument("--detach", action="store_true",
                      help="slurm: return after submitting; re-run the same command to assemble the notebooks")
    return parser


def _executors() -> tuple[str, ...]:
    from .executors import EXECUTORS

    return EXECUTORS


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)

    # Validate everything before running anything.
    if args.preset is not None and args.preset not in PRESETS:
        parser.error(f"unknown preset {args.preset!r}; choose one of: {', '.join(PRESETS)}")
    if args.replot:
        from . import figures

        return figures.replot(preset=args.preset, only=args.only or None, out_dir=args.out or "")
    args.preset = args.preset or "quick"
    if args.workers < 0:
        parser.error(f"--workers {args.workers}: expected a positive number (0: one per device)")
    if args.workers and args.executor != "local":
        parser.error("--workers applies to --executor local only")
    from . import executors

    try:
        executors.sbatch_options(args.sbatch)
    except ValueError as err:
        parser.error(str(err))
    if args.executor == "slurm":
        executors.import_submitit()
        if args.cluster == "slurm" and not shutil.which("sbatch"):
            parser.error("--executor slurm: no SLURM on this machine (sbatch not found); "
                         "--cluster local runs the jobs as local subprocesses")
    if args.cache_dir:  # the kernels, workers and jobs read $HYLA_CACHE (paths.cache_dir)
        args.cache_dir = str(Path(args.cache_dir).expanduser().resolve())
        os.environ["HYLA_CACHE"] = args.cache_dir
    root = _default_root()
    nb_dir = Path(args.notebooks).expanduser().resolve() if args.notebooks else root / "notebooks"
    notebooks = find_notebooks(nb_dir)
    if args.list:
        for nb in notebooks:
            print(nb.stem)
        if not notebooks:
            print(f"(no notebooks in {nb_dir})", file=sys.stderr)
        return 0
    if not notebooks:
        parser.error(f"no notebooks found in {nb_dir}")
    try:
        chosen = select(notebooks, args.only)
    except ValueError as err:
        parser.error(str(err))

    if args.list_runs:
        from . import runlist

        runs = runlist.collect(_figures_of(chosen), args.preset)
        print(f"preset {args.preset}: training runs of {len(chosen)} notebook(s)")
        print(runlist.format_table(runs, args.cache_dir))
        return 0

    from .paths import figures_dir

    out_dir = figures_dir(args.out, args.preset)
    executed_dir = (
        Path(args.executed).expanduser().resolve() if args.executed else root / "executed" / args.preset
    )
    _ensure_kernel_sees_this_hyla()
    if args.engine == "papermill":
        _check_kernel()

    results = []
    skip: dict[str, str] = {}
    before: dict = {}
    if args.executor != "inline":
        from .paths import cache_dir

        start = time.perf_counter()
        log_dir = (Path(args.log_dir).expanduser().resolve() if args.log_dir
                   else root / "executed" / args.preset / "runs")
        runs, outcomes, in_flight = executors.train_first(args, _figures_of(chosen), args.preset, log_dir)
        if in_flight:
            print("jobs submitted; re-run the same command when they are done to assemble the notebooks")
            return 0
        failed_runs = {o.folder for o in outcomes if o.state == "failed"}
        for run in runs:
            if run.folder in failed_runs:
                for figure in run.figures:
                    skip.setdefault(figure, f"needs a failed run: {run.name}")
        ok = sum(o.state == "done" for o in outcomes)
        results.append(("(training runs)", "ok" if not failed_runs else "failed",
                        time.perf_counter() - start, f"{ok}/{len(outcomes)} trained"))
        before = executors.cache_snapshot(cache_dir(args.cache_dir))

    print(f"hyla.reproduce: {len(chosen)} notebook(s), preset={args.preset}, figures -> {out_dir}", flush=True)
    width = max(len(nb.stem) for nb in chosen)
    for i, nb in enumerate(chosen, 1):
        print(f"[{i}/{len(chosen)}] {nb.stem:<{width}} ...", end=" " if not args.verbose else "\n", flush=True)
        if nb.stem in skip:
            status, seconds, message = "failed", 0.0, f"not run: {skip[nb.stem]}"
        elif args.engine == "script":
            status, seconds, message = run_script(nb, args.preset, out_dir)
        else:
            status, seconds, message = run_notebook(nb, args.preset, out_dir, executed_dir,
                                                    verbose=args.verbose)
        if args.verbose:
            print(f"[{i}/{len(chosen)}] {nb.stem:<{width}}", end=" ")
        print(f"{status} {seconds:.1f} s" + (f"  {message}" if message else ""), flush=True)
        results.append((nb.stem, status, seconds, status))

    if args.executor != "inline":
        _check_nothing_trained(before, args.cache_dir)
    print()
    header = ("notebook", "preset", "wall time", "status")
    rows = [(name, args.preset, _duration(seconds), note) for name, _, seconds, note in results]
    total = sum(r[2] for r in results)
    notebooks_run = [r for r in results if r[0] != "(training runs)"]
    rows.append(("total", args.preset, _duration(total),
                 f"{sum(r[1] == 'ok' for r in notebooks_run)}/{len(notebooks_run)} ok"))
    widths = [max(len(str(r[j])) for r in (header, *rows)) for j in range(4)]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    print(line(header))
    print(line(tuple("-" * w for w in widths)))
    for r in rows:
        print(line(r))
    failed = [name for name, status, _, _ in results if status != "ok"]
    if failed:
        print(f"\n{len(failed)} notebook(s) failed: {', '.join(failed)}; executed copies in {executed_dir}", file=sys.stderr)
        return 1
    return 0


def _figures_of(notebooks: Sequence[Path]) -> list[str]:
    """The preset figures among ``notebooks`` (a notebook's stem is its figure's name)."""
    from . import presets

    known = set(presets.figures())
    return [nb.stem for nb in notebooks if nb.stem in known]


def _check_nothing_trained(before: dict, cache: str) -> None:
    """Warn when the notebooks wrote runs to the cache: the run list missed what they train."""
    from .executors import trained_since
    from .paths import cache_dir

    changed = trained_since(before, cache_dir(cache))
    if changed:
        print(f"warning: the notebooks trained {len(changed)} run(s) the run list does not hold "
              f"(hyla.presets.training_runs is out of date): {', '.join(changed)}", file=sys.stderr)


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, sec = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {sec:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


if __name__ == "__main__":
    sys.exit(main())
