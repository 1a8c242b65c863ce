"""Soak test of the run cache (issue #22): random kills across many resume cycles, concurrent
writers, damaged files. Every final result is compared with an uninterrupted reference run.

    PYTHONPATH=lib python benchmarks/cache_soak.py            # 20 runs x 10 kills, 20 pairs, 20 damaged
    PYTHONPATH=lib python benchmarks/cache_soak.py --runs 2 --kills 3 --pairs 2 --damaged 2  # a quick look

* kill/resume cycles: each run trains a tiny fuzzy-logic spec (400 steps, a checkpoint every 10) in
  a fresh cache; a worker process is killed ``--kills`` times -- half with SIGKILL at a random moment
  after one of its next 3 checkpoints, half at a random write of one of its next 3 checkpoints
  ($HYLA_FAULT_AT: the process exits between two writes), each kill followed by a resume -- and a
  last worker resumes it to the end (a worker that finishes before its kill is checked too, and the
  run starts again in a fresh cache);
* concurrent writers: two workers start together on a fresh cache (in every other pair one of them
  is killed at a random moment); every survivor must return the reference, and in a pair without a
  kill exactly one of the two trains;
* damaged files: a finished run's state or progress file gets a flipped byte or is truncated; the
  next load must raise CorruptRunError naming the folder.

Workers are forked from a server that has imported hyla (``multiprocessing`` forkserver), so a worker
costs its tracing, not its imports; the XLA executables come from a persistent cache. Prints
``runs x kills tried: ..., wrong: N, wall: ... s`` (goal: wrong 0); exits 1 when something was wrong.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing as mp
import os
import platform
import random
import shutil
import signal
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

SPEC = dict(
    task="logic",
    task_args=dict(num_variables=4, num_terms=2, heldout_fraction=0.5, unknown_fraction=0.25,
                   seq_len=8),
    model=dict(num_layers=1, emb_dim=16, num_heads=4, qk_dim=8, v_dim=8, mlp_dim=32, mixer="hyla",
               seq_len=8, token_dim=5, output_dim=1),
    train=dict(steps=400, batch_size=16, lr=3e-3, warmup_steps=5, eval_every=400, eval_size=32,
               eval_batch_size=32, log_every=10),
    seeds=[0],
)
N_CHECKPOINTS = 40  # 400 steps / log_every 10
WRITES_PER_CHECKPOINT = 4  # state file, progress staged, committed, older state removed


# ---------------------------------------------------------------------------------------------
# the worker (a forked process)
# ---------------------------------------------------------------------------------------------

def work(cache: str, out: str, log: str, fault_at: int | None, use_cache: bool = True) -> None:
    """load_or_train(SPEC) into ``cache``; writes {"cached", "records", "params"} or the error to
    ``out`` (atomically), each progress line to ``log``."""
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    if fault_at:
        os.environ["HYLA_FAULT_AT"] = str(fault_at)
    import equinox as eqx
    import jax
    import numpy as np

    from hyla import runs
    from hyla.train import RunSpec, TrainConfig
    from hyla.transformer import ModelConfig

    spec = RunSpec(SPEC["task"], SPEC["task_args"], ModelConfig(**SPEC["model"]),
                   TrainConfig(**SPEC["train"]), tuple(SPEC["seeds"]))
    try:
        res = runs.load_or_train(spec, cache, name="soak", use_cache=use_cache,
                                 log=lambda line: print(line, flush=True))
        leaves = [np.asarray(x) for x in jax.tree.leaves(eqx.filter(res.model, eqx.is_array))]
        result = {"cached": res.cached, "records": res.records,
                  "params": hashlib.sha256(b"".join(x.tobytes() for x in leaves)).hexdigest()}
    except Exception as e:  # noqa: BLE001 -- reported to the parent
        result = {"error": type(e).__name__, "message": str(e)}
    with open(out + ".tmp", "w") as f:
        json.dump(result, f)
    os.replace(out + ".tmp", out)


# ---------------------------------------------------------------------------------------------
# the driver
# ---------------------------------------------------------------------------------------------

class Soak:
    def __init__(self, root: Path, seed: int):
        self.ctx = mp.get_context("forkserver")
        self.ctx.set_forkserver_preload(["hyla.runs", "equinox", "numpy"])
        self.root, self.rng, self.n = root, random.Random(seed), 0
        self.reference = None

    def _paths(self, tag: str):
        self.n += 1
        base = self.root / "io" / f"{self.n:05d}-{tag}"
        base.parent.mkdir(parents=True, exist_ok=True)
        return str(base) + ".json", str(base) + ".log"

    def start(self, cache: Path, tag: str, fault_at=None, use_cache=True):
        out, log = self._paths(tag)
        p = self.ctx.Process(target=work, args=(str(cache), out, log, fault_at, use_cache))
        p.start()
        return p, out, log

    @staticmethod
    def result(out: str):
        return json.loads(Path(out).read_text()) if os.path.exists(out) else None

    def run_to_end(self, cache: Path, tag: str, use_cache=True):
        p, out, _ = self.start(cache, tag, use_cache=use_cache)
        p.join()
        return self.result(out)

    def kill_after(self, p, log: str, lines: int, rng: random.Random) -> bool:
        """SIGKILL ``p`` a random few ms after its ``lines``-th checkpoint line; True if it died
        before finishing."""
        return self.kill_first([(p, log)], lines, rng) is not None

    @staticmethod
    def kill_first(workers, lines: int, rng: random.Random):
        """SIGKILL the first of ``workers`` ((process, log) pairs) to write ``lines`` checkpoint
        lines, a random few ms after it; that process if it died before finishing, else None."""
        victim = None
        while victim is None and any(p.is_alive() for p, _ in workers):
            for p, log in workers:
                text = Path(log).read_text() if os.path.exists(log) else ""
                if p.is_alive() and text.count(" step ") >= lines:
                    time.sleep(rng.uniform(0.0, 0.012))
                    os.kill(p.pid, signal.SIGKILL)
                    victim = p
                    break
            time.sleep(0.002)
        for p, _ in workers:
            p.join()
        return victim if victim is not None and victim.exitcode == -signal.SIGKILL else None

    def same(self, res) -> bool:
        ref = self.reference
        return (res is not None and "error" not in res and res["records"] == ref["records"]
                and res["params"] == ref["params"])

    # ---- scenarios (each in its own cache folder; run from a thread pool) ------------------
    def kill_cycles(self, i: int, kills: int) -> dict:
        rng = random.Random(self.rng.random() + i)
        cache = self.root / f"run{i:03d}"
        tried = killed = early = 0
        wrong = []
        while killed < kills and tried < 2 * kills:
            tried += 1
            if rng.random() < 0.5:  # exit between two writes of one of the next 3 checkpoints
                k = rng.randint(1, WRITES_PER_CHECKPOINT * 3)
                p, out, _ = self.start(cache, f"run{i}-fault{k}", fault_at=k)
                p.join()
                died = p.exitcode == 86
            else:  # SIGKILL a few ms after one of the next 3 checkpoints
                p, out, log = self.start(cache, f"run{i}-kill")
                died = self.kill_after(p, log, rng.randint(1, 3), rng)
            killed += died
            if not died:  # it finished first: a result to check, and a fresh cache to go on with
                early += 1
                res = self.result(out)
                if not self.same(res):
                    wrong.append(res)
                shutil.rmtree(cache)
        res = self.run_to_end(cache, f"run{i}-final")
        if not self.same(res):
            wrong.append(res)
        folder = next((d for d in cache.glob("logic-*") if d.is_dir()), None)
        stray = sorted(f for f in os.listdir(folder) if f != "progress.json"
                       and not f.startswith("state-")) if folder else []
        n_states = len(list(folder.glob("state-*"))) if folder else 0
        return {"tried": tried, "kills": killed, "early": early, "wrong": len(wrong),
                "leftovers": bool(stray) or n_states != 1, "detail": wrong or None}

    def pair(self, i: int) -> dict:
        rng = random.Random(self.rng.random() + 1000 + i)
        cache = self.root / f"pair{i:03d}"
        workers = [self.start(cache, f"pair{i}-a"), self.start(cache, f"pair{i}-b")]
        victim = None
        if i % 2:  # kill the one that trains, a random moment after a random checkpoint
            victim = self.kill_first([(p, log) for p, _, log in workers], rng.randint(1, 30), rng)
        for p, _, _ in workers:
            p.join()
        killed = victim is not None
        results = [self.result(out) for _, out, _ in workers]
        survivors = [self.result(out) for p, out, _ in workers if p is not victim]
        wrong = not all(self.same(r) for r in survivors)
        if not killed and not wrong:  # exactly one of them trained
            wrong = sorted(r["cached"] for r in results) != [False, True]
        if killed:  # the cache now holds the finished run
            wrong = wrong or not self.same(self.run_to_end(cache, f"pair{i}-check"))
        return {"killed": killed, "wrong": wrong, "detail": results if wrong else None}

    def damaged(self, i: int, source: Path) -> dict:
        rng = random.Random(self.rng.random() + 2000 + i)
        cache = self.root / f"damaged{i:03d}"
        shutil.copytree(source, cache)
        folder = next(d for d in cache.glob("logic-*") if d.is_dir())
        prog = json.loads((folder / "progress.json").read_text())
        target = folder / rng.choice(["progress.json", prog["state"]])
        data = bytearray(target.read_bytes())
        how = rng.choice(["flip", "truncate"])
        if how == "flip":
            data[rng.randrange(len(data))] ^= rng.choice([0x01, 0x40, 0x80])
        else:
            data = data[: rng.randrange(len(data))]
        target.write_bytes(bytes(data))
        res = self.run_to_end(cache, f"damaged{i}")
        ok = (res is not None and res.get("error") == "CorruptRunError"
              and str(folder) in res["message"] and "use_cache=False" in res["message"])
        return {"wrong": not ok, "what": f"{how} {target.name}", "detail": None if ok else res}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--kills", type=int, default=10,
                    help="workers killed before the end, per run (tried up to twice as often)")
    ap.add_argument("--pairs", type=int, default=20)
    ap.add_argument("--damaged", type=int, default=20)
    ap.add_argument("--lanes", type=int, default=os.cpu_count() or 2, help="scenarios at once")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", default="", help="work folder to keep (default: a temporary one)")
    args = ap.parse_args(argv)

    root = Path(args.keep or tempfile.mkdtemp(prefix="hyla-soak-"))
    os.environ.setdefault("HYLA_XLA_CACHE", str(root / "xla"))
    os.environ["HYLA_XLA_CACHE_MIN_S"] = "0"  # workers load every executable from the disk cache
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    t0 = time.perf_counter()
    soak = Soak(root, args.seed)
    soak.reference = soak.run_to_end(root / "reference", "reference", use_cache=False)
    assert soak.reference and "error" not in soak.reference, soak.reference
    first = soak.run_to_end(root / "source", "source")  # a finished run to damage
    assert soak.same(first), first
    print(f"reference ready ({time.perf_counter() - t0:.0f} s)", flush=True)

    with ThreadPoolExecutor(args.lanes) as pool:
        cycles = list(pool.map(lambda i: soak.kill_cycles(i, args.kills), range(args.runs)))
        print(f"kill/resume done ({time.perf_counter() - t0:.0f} s)", flush=True)
        pairs = list(pool.map(soak.pair, range(args.pairs)))
        damaged = list(pool.map(lambda i: soak.damaged(i, root / "source"), range(args.damaged)))
    wall = time.perf_counter() - t0

    kills = sum(c["kills"] for c in cycles)
    wrong = {"kill/resume": sum(c["wrong"] for c in cycles), "pairs": sum(p["wrong"] for p in pairs),
             "damaged": sum(d["wrong"] for d in damaged)}
    for item in [*cycles, *pairs, *damaged]:
        if item["wrong"]:
            print("WRONG:", json.dumps(item)[:2000])
    tried = sum(c["tried"] for c in cycles)
    print(f"kill/resume: {args.runs} runs, {tried} kills tried, {kills} of them killed the worker "
          f"before the end (a SIGKILL, or an exit between two writes), each followed by a resume "
          f"({sum(c['early'] for c in cycles)} workers finished first: checked, cache restarted); "
          f"wrong {wrong['kill/resume']}, folders with leftovers {sum(c['leftovers'] for c in cycles)}")
    print(f"concurrent writers: {args.pairs} pairs ({sum(p['killed'] for p in pairs)} with one "
          f"killed), wrong {wrong['pairs']}")
    kinds = sorted({d["what"].replace(d["what"].split()[-1], "state" if "state" in d["what"]
                                     else "progress") for d in damaged})
    print(f"damaged files: {args.damaged} ({', '.join(kinds)}), wrong {wrong['damaged']}")
    total = sum(wrong.values())
    print(f"runs x kills tried: {args.runs} x {tried / max(args.runs, 1):g} = {tried} ({kills} "
          f"killed), pairs: "
          f"{args.pairs}, damaged: {args.damaged}, wrong: {total}, wall: {wall:.0f} s "
          f"({args.lanes} lanes, {os.cpu_count()} CPUs, {platform.processor() or platform.machine()})")
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
