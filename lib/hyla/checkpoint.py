"""Checkpoints of a run that a kill cannot corrupt, the run folder's lock, and the errors that name
a damaged, foreign, diverged or locked run (docs/methods.md#training-loop).

A checkpoint is a state file ``state-<step>.eqx`` plus ``progress.json``, the single commit point:
the state is written and fsync'd first, then ``progress.json`` (holding the state file's name, size
and sha256, the spec and its key, and a checksum of itself) is written to a temporary name, fsync'd
and renamed over the old one, and the folder is fsync'd. A kill at any moment leaves the old or the
new checkpoint whole; ``read_progress`` / ``read_state_bytes`` check everything before a resume.
``between_writes`` is called after every write (tests replace it; ``$HYLA_FAULT_AT=k`` exits there).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import threading
import time
from typing import TYPE_CHECKING, Callable

import numpy as np

if TYPE_CHECKING:
    from hyla.train import RunSpec

# ---------------------------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------------------------

def _ways_out(ckpt_dir) -> str:
    return (f"Either retrain it (runs.load_or_train(..., use_cache=False), or `--retrain`), or "
            f"delete the folder {ckpt_dir} and run again.")


class CorruptRunError(RuntimeError):
    """A run folder whose checkpoint is damaged, or belongs to another spec: never resumed from."""

    def __init__(self, name: str, ckpt_dir, problem: str):
        self.name, self.ckpt_dir, self.problem = name, str(ckpt_dir), problem
        super().__init__(f"run {name!r} in {ckpt_dir}: {problem}. It is not loaded or resumed. "
                         + _ways_out(ckpt_dir))


class DivergedRunError(RuntimeError):
    """A run whose loss or parameters stopped being finite (``RunResult.diverged``): not a result."""

    def __init__(self, name: str, ckpt_dir, diverged: dict, lr: float):
        self.name, self.ckpt_dir, self.diverged, self.lr = name, ckpt_dir, dict(diverged), lr
        seeds = ", ".join(f"seed {s} at step {t}" for s, t in sorted(diverged.items()))
        where = f"recorded as diverged in {ckpt_dir}" if ckpt_dir else "not cached"
        super().__init__(
            f"run {name!r} diverged (lr {lr:g}): {seeds}: the training loss or the parameters were "
            f"not finite, so the run stopped there ({where}, never as done). It is not a result: "
            "lower the learning rate, or pass allow_diverged=True to get the run marked diverged. "
            + (_ways_out(ckpt_dir) if ckpt_dir else ""))


class RunLockedError(RuntimeError):
    """Another process holds the lock of the run folder (and the caller asked not to wait)."""


# ---------------------------------------------------------------------------------------------
# checkpoints
# ---------------------------------------------------------------------------------------------
# A run folder holds one committed checkpoint: ``progress.json`` (step, records, spec, and the name,
# size and sha256 of its state file, all under a checksum of its own) and that state file
# ``state-<step>.eqx`` (parameters and optimiser state). A checkpoint is written as
#   1. the new state file under a name no committed checkpoint uses (fsync'd),
#   2. ``progress.json.<pid>.tmp`` (fsync'd), 3. os.replace onto ``progress.json`` (the commit;
#   the folder is fsync'd), 4. the older state files removed.
# A process killed at any point leaves the old or the new checkpoint whole, never a mix; the files
# a killed writer leaves behind are removed by the next writer. ``between_writes`` is called after
# every write: the fault-injection tests make it raise, or exit the process.

PROGRESS = "progress.json"
CHECKPOINT_FORMAT = 2  # 1: state.eqx + progress.json replaced one after the other (read, not written)
_writes_seen = 0


def between_writes(point: str) -> None:
    """Fault-injection hook between two writes of a checkpoint. With $HYLA_FAULT_AT=k the process
    exits (status 86, like a kill) at the k-th call (1-based); tests also replace it."""
    global _writes_seen
    _writes_seen += 1
    at = os.environ.get("HYLA_FAULT_AT")
    if at and _writes_seen == int(at):
        os._exit(86)


def _fsync_dir(path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_durably(path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _canonical(obj) -> str:
    return json.dumps(obj, sort_keys=True, default=str)


def _commit_progress(ckpt_dir, prog: dict) -> None:
    """Write ``progress.json`` atomically and durably, with a checksum of its content."""
    body = _canonical(prog)
    text = _canonical({**prog, "checksum": _sha256(body.encode())})
    tmp = os.path.join(ckpt_dir, f"{PROGRESS}.{os.getpid()}.tmp")
    _write_durably(tmp, text.encode())
    between_writes("progress staged")
    os.replace(tmp, os.path.join(ckpt_dir, PROGRESS))
    _fsync_dir(ckpt_dir)


def _remove_stale(ckpt_dir, keep: str) -> None:
    """Remove what older or killed writers left: state files other than ``keep``, temporary files."""
    for f in sorted(os.listdir(ckpt_dir)):
        stale_state = f.startswith("state") and f.endswith(".eqx") and f != keep
        if stale_state or f.endswith(".tmp"):
            try:
                os.remove(os.path.join(ckpt_dir, f))
            except FileNotFoundError:
                pass
            between_writes(f"removed {f}")


def _spec_differences(a: dict, b: dict, prefix: str = "") -> list[str]:
    keys = sorted(set(a) | set(b)) if isinstance(a, dict) and isinstance(b, dict) else []
    if not keys:
        return [] if _canonical(a) == _canonical(b) else [prefix or "spec"]
    return [d for k in keys for d in _spec_differences(a.get(k), b.get(k), f"{prefix}{k}.")]


_REQUIRED = ("step", "done", "records", "spec", "wall_time_s", "train_time_s")


def read_progress(ckpt_dir, spec: RunSpec, name: str = "") -> dict | None:
    """The committed progress of ``ckpt_dir`` for ``spec``, checked (its checksum, its fields, its
    spec), or None when the folder holds no checkpoint. Raises CorruptRunError."""
    name = name or spec.task
    path = os.path.join(ckpt_dir, PROGRESS)
    try:
        with open(path, "rb") as f:
            text = f.read()
    except FileNotFoundError:
        return None
    bad = lambda problem: CorruptRunError(name, ckpt_dir, problem)  # noqa: E731
    try:
        prog = json.loads(text)
    except ValueError as e:
        raise bad(f"{PROGRESS} is not valid JSON ({e}); truncated or damaged") from None
    if not isinstance(prog, dict) or any(k not in prog for k in _REQUIRED):
        raise bad(f"{PROGRESS} lacks the fields {[k for k in _REQUIRED if k not in prog]}"
                  if isinstance(prog, dict) else f"{PROGRESS} is not a JSON object")
    checksum = prog.pop("checksum", None)
    if checksum is None and prog.get("format", 1) >= 2:
        raise bad(f"{PROGRESS} has no checksum")
    if checksum is not None and _sha256(_canonical(prog).encode()) != checksum:
        raise bad(f"{PROGRESS} does not match its checksum (damaged)")
    diffs = _spec_differences(prog["spec"], json.loads(_canonical(spec.to_dict())))
    if diffs or prog.get("key", spec.key()) != spec.key():
        raise bad(f"the folder holds the run of another spec (key {prog.get('key', '?')}, differing "
                  f"in {', '.join(d.rstrip('.') for d in diffs[:4]) or 'NUMERICS_VERSION'}), not "
                  f"this spec (key {spec.key()})")
    step, steps = prog["step"], spec.train.steps
    if not (isinstance(step, int) and 0 < step <= steps) or prog["done"] != (step == steps
                                                                             and not prog.get("diverged")):
        raise bad(f"{PROGRESS} records step {step!r} done={prog['done']!r} of a {steps}-step run")
    return prog


def is_finished(prog: dict | None) -> bool:
    """Nothing left to train: done, or diverged."""
    return prog is not None and bool(prog["done"] or prog.get("diverged"))


def diverged_seeds(prog: dict) -> dict[int, int]:
    """{seed: step} of a checkpoint's diverged seeds (format 1: seeds with a non-finite loss)."""
    if "diverged" in prog:
        return {int(d["seed"]): int(d["step"]) for d in prog["diverged"]}
    out = {}
    for r in sorted(prog["records"], key=lambda r: r["step"]):
        if r["metric"] == "train_loss" and not np.isfinite(r["value"]):
            out.setdefault(int(r["seed"]), int(r["step"]))
    return out


def read_state_bytes(ckpt_dir, prog: dict, name: str) -> bytes:
    """The state file of a checkpoint, checked against its recorded size and sha256."""
    state = prog.get("state", "state.eqx")
    try:
        with open(os.path.join(ckpt_dir, state), "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise CorruptRunError(name, ckpt_dir, f"its state file {state} is missing") from None
    if "state_sha256" in prog:
        if len(data) != prog["state_bytes"]:
            raise CorruptRunError(name, ckpt_dir, f"{state} is truncated or damaged: {len(data)} "
                                  f"bytes, {PROGRESS} records {prog['state_bytes']}")
        if _sha256(data) != prog["state_sha256"]:
            raise CorruptRunError(name, ckpt_dir, f"{state} does not match the sha256 recorded in "
                                  f"{PROGRESS} (checksum mismatch: damaged)")
    return data


# ---------------------------------------------------------------------------------------------
# one writer per run folder
# ---------------------------------------------------------------------------------------------

_held_locks: dict = {}


def _lock_owner(lock_path: str) -> str:
    try:
        with open(lock_path + ".owner") as f:
            o = json.load(f)
        return f"pid {o['pid']} on host {o['host']} (run {o['name']!r}, since {o['since']})"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process (its pid and host are not recorded)"


@contextlib.contextmanager
def run_lock(ckpt_dir, wait: bool = True, name: str = "", log: Callable[[str], None] | None = None):
    """Hold the lock of a run folder: one writer per folder, across processes and hosts (a file lock,
    ``<folder>.lock``, from the ``filelock`` library; ``<folder>.lock.owner`` says who holds it).
    Waits for another holder, or with ``wait=False`` raises RunLockedError naming it. Re-entrant
    within a thread."""
    import filelock

    path = os.path.abspath(ckpt_dir) + ".lock"
    key = (path, threading.get_ident())
    if key in _held_locks:
        yield
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    lock = filelock.FileLock(path)
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        owner = _lock_owner(path)
        if not wait:
            raise RunLockedError(f"run {name!r} in {ckpt_dir} is being written by {owner}; wait "
                                 f"for it (wait=True), or stop that process") from None
        if log:
            log(f"[{name}] waiting for {ckpt_dir}: locked by {owner}")
        lock.acquire()
    _held_locks[key] = lock
    try:
        owner = {"pid": os.getpid(), "host": socket.gethostname(), "name": name,
                 "since": time.strftime("%Y-%m-%d %H:%M:%S")}
        with open(path + ".owner", "w") as f:
            json.dump(owner, f)
        yield
    finally:
        del _held_locks[key]
        with contextlib.suppress(OSError):
            os.remove(path + ".owner")
        lock.release()
