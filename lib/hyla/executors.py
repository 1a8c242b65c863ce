"""Where the training runs of ``python -m hyla.reproduce`` train: inline, local workers, SLURM.

* ``inline``: nothing here; each notebook trains its runs itself, one after another.
* ``local``: :func:`run_local` trains the runs in worker processes (``concurrent.futures``, spawn
  context), one per local device: one GPU each (``CUDA_VISIBLE_DEVICES``) on a GPU host, else a
  share of the CPU cores each (the process is pinned to its cores, so XLA:CPU sizes its thread
  pool to them).
* ``slurm``: :func:`run_slurm` submits one job per run (a job array) with submitit; a preempted or
  timed-out job requeues and resumes from the run's last checkpoint in the shared cache.

Every run goes through ``runs.load_or_train``, so its numbers are the same wherever it trains and
the notebooks then only read the cache.  Nothing here imports JAX or submitit at import time.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path

__all__ = ["EXECUTORS", "Outcome", "TrainJob", "train_run", "local_slots", "longest_first", "run_local",
           "import_submitit", "submit", "wait", "run_slurm", "sbatch_options", "cache_snapshot",
           "trained_since", "train_first"]

EXECUTORS = ("inline", "local", "slurm")
CLUSTERS = ("slurm", "local", "debug")  # submitit's: SLURM, LocalExecutor, DebugExecutor


@dataclasses.dataclass
class Outcome:
    """How one run ended: ``done`` / ``failed`` (or ``running`` / ``pending`` when detached)."""

    label: str
    folder: str
    state: str
    seconds: float = 0.0
    job_id: str = ""
    log: str = ""
    message: str = ""

    def line(self, i: int, n: int) -> str:
        text = f"[{i}/{n}] {self.state:<7} {self.label}"
        if self.state == "done":
            text += f"  {self.seconds:.1f} s"
        if self.job_id:
            text += f"  job {self.job_id}"
        if self.state == "failed":
            text += f"  log {self.log}" + (f": {self.message}" if self.message else "")
        return text


# ------------------------------------------------------------------------------------------------
# The job body, the same for local workers and SLURM jobs.

def train_run(spec, cache_dir: str, name: str, log_path: str = "") -> dict:
    """Train (or load) one run into ``cache_dir``; the output goes to ``log_path`` when given.
    Returns ``{"seconds", "cached"}``; raises what training raises."""
    from hyla import runs

    t0 = time.perf_counter()
    with contextlib.ExitStack() as stack:
        if log_path:
            Path(log_path).parent.mkdir(parents=True, exist_ok=True)
            f = stack.enter_context(open(log_path, "a", buffering=1))
            stack.enter_context(contextlib.redirect_stdout(f))
            stack.enter_context(contextlib.redirect_stderr(f))
        print(f"[{name}] {spec.task}-{spec.key()} pid {os.getpid()} "
              f"{time.strftime('%Y-%m-%d %H:%M:%S')}", flush=True)
        result = runs.load_or_train(spec, cache_dir, name=name,
                                    log=lambda s: print(s, flush=True))
    return {"seconds": time.perf_counter() - t0, "cached": bool(result.cached)}


class TrainJob:
    """A submitit job training one run; on preemption or time-out it requeues itself (submitit's
    checkpointing) and the requeued job resumes from the run's last checkpoint in the cache.

    The preemption signal is deferred to the end of the current training chunk (right after its
    checkpoint is written), so that the job never stops halfway through writing a checkpoint.
    """

    def __init__(self, spec, cache_dir: str, name: str):
        self.spec, self.cache_dir, self.name = spec, str(cache_dir), name

    def __call__(self) -> dict:
        from hyla import runs

        pending: list = []
        handler, sig = _preemption_handler()
        if handler is not None:
            signal.signal(sig, lambda signum, frame: pending.append((signum, frame)))

        def log(line: str) -> None:
            print(line, flush=True)
            if pending and handler is not None:  # a chunk and its checkpoint are complete
                print(f"[{self.name}] preempted: requeueing after this checkpoint", flush=True)
                handler(*pending[0])

        t0 = time.perf_counter()
        try:
            result = runs.load_or_train(self.spec, self.cache_dir, name=self.name, log=log)
        finally:
            if handler is not None:
                signal.signal(sig, handler)
        return {"seconds": time.perf_counter() - t0, "cached": bool(result.cached)}

    def checkpoint(self, *args, **kwargs):
        import submitit

        return submitit.helpers.DelayedSubmission(self, *args, **kwargs)


def _preemption_handler():
    """submitit's handler of the preemption / time-out signal in this process, and the signal."""
    if "submitit" not in sys.modules:
        return None, None
    from submitit.core.job_environment import JobEnvironment

    sig = JobEnvironment._usr_sig()
    handler = signal.getsignal(sig)
    return (handler, sig) if callable(handler) else (None, None)


# ------------------------------------------------------------------------------------------------
# Local: one worker process per device.

def _gpu_ids() -> list[str]:
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [g for g in visible.split(",") if g.strip() and g.strip() != "-1"]
    if shutil.which("nvidia-smi"):
        try:
            out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.SubprocessError):
            return []
        return [str(i) for i, line in enumerate(out.stdout.splitlines()) if line.startswith("GPU ")]
    return []


def _cores() -> list[int]:
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def local_slots(workers: int = 0, runs: int = 0) -> list[dict]:
    """One dict per worker: ``{"gpu": id}`` on a GPU host, else ``{"cores": [...]}`` (the CPU
    cores split evenly; ``workers`` 0 = one per GPU, or one per core).  With ``runs`` given, at
    most that many workers, and the cores split among those: one run to train gets every core,
    not the share of a worker that would have had a neighbour."""
    gpus, cores = _gpu_ids(), _cores()
    n = workers or len(gpus or cores)
    n = max(1, min(n, runs) if runs else n)
    if gpus:
        return [{"gpu": gpus[i % len(gpus)]} for i in range(n)]
    share = max(1, len(cores) // n)
    return [{"cores": [cores[(i * share + j) % len(cores)] for j in range(share)]} for i in range(n)]


def longest_first(runs_) -> list:
    """``runs_`` by estimated cost, longest first (``hyla.runlist.estimate_s`` on the CPU; a run
    without a benchmark by its steps x seeds x multiply-adds per step at the median rate of the
    estimated ones).  The pool hands runs out in this order, so the last to finish are short ones
    and no worker idles long at the end (longest-processing-time-first scheduling)."""
    from hyla import runlist

    madds = [runlist.step_madds(r.spec) * r.spec.train.steps * len(r.spec.seeds) for r in runs_]
    est = [runlist.estimate_s(r.spec, "cpu") for r in runs_]
    rates = sorted(m / e for m, e in zip(madds, est) if e)
    rate = rates[len(rates) // 2] if rates else 1.0
    cost = [e if e is not None else m / rate for m, e in zip(madds, est)]
    order = sorted(range(len(runs_)), key=lambda i: -cost[i])  # stable: ties keep figure order
    return [runs_[i] for i in order]


def _init_worker(queue) -> None:
    """Runs in a fresh worker before it imports JAX: claim a slot, pin to its GPU or cores."""
    slot = queue.get()
    if "gpu" in slot:
        os.environ["CUDA_VISIBLE_DEVICES"] = str(slot["gpu"])
    elif hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, slot["cores"])
    os.environ["HYLA_WORKER_SLOT"] = repr(slot)


def _worker_task(spec, cache_dir: str, name: str, log_path: str) -> dict:
    try:
        out = train_run(spec, cache_dir, name, log_path)
        return {"state": "done", "pid": os.getpid(), **out}
    except BaseException as err:  # noqa: BLE001 - report it; the other runs go on
        with open(log_path, "a") as f:
            traceback.print_exc(file=f)
        first = (str(err).strip().splitlines() or [""])[0]
        return {"state": "failed", "pid": os.getpid(), "message": f"{type(err).__name__}: {first}"}


def _log_path(log_dir: Path, run) -> str:
    return str(Path(log_dir) / f"{run.folder}.log")


def run_local(runs_, cache_dir: str, log_dir: Path, workers: int = 0, progress=print) -> list[Outcome]:
    """Train ``runs_`` (:class:`hyla.runlist.Run`) in local worker processes; one line per run."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    slots = local_slots(workers, runs=len(runs_))
    runs_ = longest_first(runs_)
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    for slot in slots:
        queue.put(slot)
    outcomes: list[Outcome] = []
    with ProcessPoolExecutor(len(slots), mp_context=ctx, initializer=_init_worker,
                             initargs=(queue,)) as pool:
        futures = {pool.submit(_worker_task, r.spec, str(cache_dir), r.name, _log_path(log_dir, r)): r
                   for r in runs_}
        for future in as_completed(futures):
            run = futures[future]
            try:
                res = future.result()
            except BrokenProcessPool as err:  # a worker died (killed, out of memory)
                res = {"state": "failed", "pid": "?", "message": f"worker died: {err}"}
            out = Outcome(run.label, run.folder, res["state"], res.get("seconds", 0.0),
                          job_id=f"pid {res['pid']}" if res["state"] == "failed" else "",
                          log=_log_path(log_dir, run), message=res.get("message", ""))
            outcomes.append(out)
            progress(out.line(len(outcomes), len(runs_)))
    return outcomes


# ------------------------------------------------------------------------------------------------
# SLURM (or submitit's LocalExecutor / DebugExecutor) through submitit.

def import_submitit():
    """submitit, or SystemExit saying how to install it."""
    try:
        import submitit
    except ImportError:
        raise SystemExit("error: --executor slurm needs submitit: pip install -e '.[cluster]'") from None
    return submitit


_RUNNING = {"RUNNING", "COMPLETING"}


def submit(runs_, cache_dir: str, folder: Path, *, cluster: str = "slurm", partition: str = "",
           timeout_min: int = 240, gpus_per_job: int = 1, cpus_per_job: int = 0,
           sbatch: dict | None = None, array_parallelism: int = 0, max_requeues: int = 20,
           progress=print) -> list:
    """Submit one :class:`TrainJob` per run (one job array); returns ``[(job, run)]``, including
    jobs of an earlier call that SLURM still holds (those runs are not submitted twice).
    A job that hits its time limit requeues up to ``max_requeues`` times (preemptions: always)."""
    if cluster not in CLUSTERS:
        raise ValueError(f"cluster={cluster!r} is unknown; allowed: {', '.join(CLUSTERS)}")
    submitit = import_submitit()
    Path(folder).mkdir(parents=True, exist_ok=True)
    executor = submitit.AutoExecutor(folder=str(folder), cluster=cluster,
                                     **{f"{c}_max_num_timeout": max_requeues for c in ("slurm", "local")})
    params = dict(name="hyla", timeout_min=timeout_min, gpus_per_node=gpus_per_job)
    if cpus_per_job:
        params["cpus_per_task"] = cpus_per_job
    if cluster == "slurm":
        params.update(slurm_partition=partition or None, slurm_additional_parameters=dict(sbatch or {}))
        if array_parallelism:
            params["slurm_array_parallelism"] = array_parallelism
    executor.update_parameters(**{k: v for k, v in params.items() if v is not None})
    earlier = _jobs_in_flight(executor, Path(folder)) if cluster == "slurm" else {}
    todo = [r for r in runs_ if r.folder not in earlier]
    jobs = []
    if todo:
        with executor.batch():
            jobs = [executor.submit(TrainJob(r.spec, str(cache_dir), r.name)) for r in todo]
        with open(Path(folder) / JOBS_FILE, "a") as f:
            f.writelines(f"{j.job_id}\t{r.folder}\n" for j, r in zip(jobs, todo))
    for job, run in zip(jobs, todo):
        progress(f"submitted job {job.job_id}  {run.label}  (log {job.paths.stdout})")
    by_folder = {r.folder: r for r in runs_}
    for run_folder, job in earlier.items():
        progress(f"in flight: job {job.job_id}  {by_folder[run_folder].label}  (submitted earlier)")
    return [*zip(jobs, todo), *((j, by_folder[f]) for f, j in earlier.items())]


def wait(pairs, poll_s: float = 15.0, progress=print) -> list[Outcome]:
    """Wait for the ``[(job, run)]`` of :func:`submit`: a line when a job starts running and one
    when it ends (``done``, or ``failed`` with its job id and log path)."""
    outcomes: list[Outcome] = []
    waiting, seen_running, n = dict(pairs), set(), len(pairs)
    while waiting:
        for job in list(waiting):
            run = waiting[job]
            if not job.done():
                if job.job_id not in seen_running and job.state in _RUNNING:
                    seen_running.add(job.job_id)
                    progress(f"[{len(outcomes)}/{n}] running {run.label}  job {job.job_id}")
                continue
            del waiting[job]
            err = job.exception()
            if err is None:
                out = Outcome(run.label, run.folder, "done", job.result()["seconds"], str(job.job_id))
            else:
                lines = [ln for ln in str(err).strip().splitlines() if ln.strip()]
                out = Outcome(run.label, run.folder, "failed", job_id=str(job.job_id),
                              log=str(job.paths.stderr), message=lines[-1] if lines else type(err).__name__)
            outcomes.append(out)
            progress(out.line(len(outcomes), n))
        if waiting:
            time.sleep(poll_s)
    return outcomes


def run_slurm(runs_, cache_dir: str, folder: Path, *, detach: bool = False, poll_s: float = 15.0,
              progress=print, **options) -> list[Outcome]:
    """:func:`submit` then :func:`wait`; with ``detach`` return after submitting (``pending``)."""
    pairs = submit(runs_, cache_dir, folder, progress=progress, **options)
    if detach:
        return [Outcome(r.label, r.folder, "pending", job_id=str(j.job_id), log=str(j.paths.stdout))
                for j, r in pairs]
    return wait(pairs, poll_s, progress)


JOBS_FILE = "jobs.tsv"  # job id <tab> run folder, one line per submitted job
_IN_FLIGHT = {"PENDING", "RUNNING", "REQUEUED", "CONFIGURING", "COMPLETING", "RESIZING", "SUSPENDED"}


def _jobs_in_flight(executor, folder: Path) -> dict:
    """``{run folder: job}`` of jobs submitted by an earlier (detached) call that SLURM still
    holds, so that a re-run waits for them instead of submitting the runs twice."""
    path = folder / JOBS_FILE
    if not path.is_file():
        return {}
    latest = dict(line.split("\t")[::-1] for line in path.read_text().split("\n") if "\t" in line)
    out = {}
    for run_folder, job_id in latest.items():
        job = executor._executor.job_class(folder=folder, job_id=job_id)
        with contextlib.suppress(Exception):  # sacct unavailable: treat the job as over
            if job.state in _IN_FLIGHT:
                out[run_folder] = job
    return out


def sbatch_options(items) -> dict:
    """``["account=abc", "qos=high"]`` -> ``{"account": "abc", "qos": "high"}`` (sbatch options)."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--sbatch {item!r}: expected KEY=VALUE, e.g. account=abc")
        out[key.lstrip("-").replace("-", "_")] = value
    return out


def train_first(args, figures, preset: str, log_dir: Path) -> tuple[list, list, bool]:
    """Train the runs of ``figures`` at ``preset`` with ``args.executor`` (``hyla.reproduce``'s
    options); returns (every run, the outcomes, whether jobs are still in flight)."""
    from hyla import runlist

    todo_all = runlist.collect(figures, preset)
    todo = [r for r in todo_all if runlist.status(r, args.cache_dir) != "cached"]
    log_dir.mkdir(parents=True, exist_ok=True)
    print(f"hyla.reproduce: {len(todo_all)} training run(s), {len(todo_all) - len(todo)} cached; "
          f"{len(todo)} to train with --executor {args.executor} (logs: {log_dir})", flush=True)
    if not todo:
        return todo_all, [], False
    progress = lambda line: print(line, flush=True)  # noqa: E731
    if args.executor == "local":
        outcomes = run_local(todo, args.cache_dir, log_dir, args.workers, progress=progress)
    else:
        outcomes = run_slurm(
            todo, args.cache_dir, log_dir, cluster=args.cluster, partition=args.partition,
            timeout_min=args.time, gpus_per_job=args.gpus_per_job, cpus_per_job=args.cpus_per_job,
            sbatch=sbatch_options(args.sbatch), array_parallelism=args.array_parallelism,
            max_requeues=args.max_requeues, detach=args.detach, progress=progress)
    in_flight = any(o.state in ("pending", "running") for o in outcomes)
    return todo_all, outcomes, in_flight


def cache_snapshot(cache_dir) -> dict[str, tuple[int, int]]:
    """``{relative path: (size, mtime_ns)}`` of every file in the run cache except lock files (to
    check that a step trained nothing)."""
    root = Path(cache_dir)
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file() and ".lock" not in p.name}


def trained_since(before: dict, cache_dir) -> list[str]:
    """The run folders whose files changed since ``before`` (a :func:`cache_snapshot`)."""
    after = cache_snapshot(cache_dir)
    return sorted({p.split(os.sep)[0] for p, v in after.items() if before.get(p) != v})
