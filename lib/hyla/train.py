"""The training engine (docs/methods.md#optimiser, docs/methods.md#training-loop).

* AdamW (b1 0.9, b2 0.999, eps 1e-8), weight decay on every parameter with ndim != 1, multiplied
  by the scheduled learning rate; schedule = optax warmup-cosine from 0 to ``lr`` with
  ``decay_steps = steps - warmup`` (optax counts warmup inside decay_steps, so the cosine ends
  ``warmup`` steps early and the last ``warmup`` steps run at 0.1 lr, exactly as the official runs).
* Every batch is drawn ON DEVICE inside the compiled step from ``fold_in(data_key, step)``.
* One compiled call advances all seeds by a chunk of steps (``lax.fori_loop`` with traced bounds, so
  every chunk length reuses one compilation); seeds are a vmapped leading axis, sharded over
  ``jax.devices()`` when their number divides the seed count.
* Between chunks the host checks that every seed's loss and parameters are finite, evaluates on
  named splits (deterministic eval sets), prints one progress line, and checkpoints; a run resumed
  from its checkpoint ends with the same numbers as an uninterrupted one.
* Divergence is a result: a seed whose chunk loss or parameters are not finite stops the whole run
  at that chunk end; the checkpoint records it as diverged (step, seed, lr), never as done, and
  ``RunResult.diverged`` names the seeds. (The other seeds stop there too: a run is one result.)
* Checkpoints are crash-consistent (see "checkpoints" below): ``progress.json`` is the one commit
  point and names, sizes and checksums its state file; a damaged or foreign checkpoint raises
  :class:`CorruptRunError` and is never resumed from. One process writes a run folder at a time
  (:func:`run_lock`, a file lock next to the folder).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import io
import json
import os
import time
from typing import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from hyla import checkpoint
from hyla.checkpoint import (CHECKPOINT_FORMAT, CorruptRunError, _commit_progress,
                             _remove_stale, _sha256, _write_durably, diverged_seeds, is_finished,
                             read_progress, read_state_bytes, run_lock)
from hyla.objectives import Objective, make_objective, stack_tasks
from hyla.transformer import ModelConfig, Transformer


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Optimisation and evaluation schedule of one run."""

    steps: int
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.1
    warmup_steps: int = 100
    eval_every: int = 1000
    eval_size: int = 2048
    eval_batch_size: int = 512
    log_every: int | None = None  # chunk length (progress line + checkpoint); None: eval_every
    eval_at: tuple[int, ...] = ()  # more evaluation steps, e.g. log-spaced (each in 1..steps)

    def __post_init__(self):
        if self.steps <= 2 * self.warmup_steps:
            raise ValueError(
                f"steps={self.steps} must be > 2 * warmup_steps={2 * self.warmup_steps}: the "
                "official warmup-cosine schedule has a cosine phase of steps - 2*warmup steps"
            )
        for name in ("batch_size", "eval_every", "eval_size", "eval_batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}={getattr(self, name)}; allowed: an integer >= 1")
        if self.warmup_steps < 0:
            raise ValueError(f"warmup_steps={self.warmup_steps}; allowed: an integer >= 0")
        object.__setattr__(self, "eval_at", tuple(self.eval_at))
        bad = [t for t in self.eval_at
               if not isinstance(t, (int, np.integer)) or isinstance(t, bool) or not 1 <= t <= self.steps]
        if bad:
            raise ValueError(f"eval_at={self.eval_at} has {bad}; allowed: integer steps from 1 to "
                             f"steps={self.steps}")
        if self.eval_size % self.eval_batch_size:
            raise ValueError(
                f"eval_size={self.eval_size} must be a multiple of "
                f"eval_batch_size={self.eval_batch_size}"
            )

    def eval_steps(self) -> list[int]:
        """After the first update, every ``eval_every`` updates and at the end (official), and at
        the steps listed in ``eval_at``."""
        return sorted({1, self.steps, *range(self.eval_every, self.steps + 1, self.eval_every),
                       *(int(t) for t in self.eval_at)})

    def chunk_ends(self) -> list[int]:
        every = self.log_every or self.eval_every
        return sorted({*self.eval_steps(), *range(every, self.steps + 1, every)})


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """Everything that determines a run's numbers; its hash names its cache folder."""

    task: str
    task_args: dict
    model: ModelConfig
    train: TrainConfig
    seeds: tuple[int, ...] = (0,)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        if not d["train"]["eval_at"]:  # left out when unused, so earlier runs keep their cache keys
            del d["train"]["eval_at"]
        return d

    def key(self) -> str:
        """Hash of the full specification and ``NUMERICS_VERSION`` (cache name of the run)."""
        import hashlib

        blob = json.dumps({"spec": self.to_dict(), "numerics": NUMERICS_VERSION},
                          sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def replace(self, **kw) -> "RunSpec":
        return dataclasses.replace(self, **kw)


# Bumped whenever a code change alters the floating-point results of a run (fused q/k/v projection,
# compact LayerNorm derivative, XLA:CPU options, seeds one by one on CPU; 3: HYLA's fused code
# gradient on CPU), so cached runs of older code are never reused.
NUMERICS_VERSION = 3


def make_schedule(cfg: TrainConfig) -> optax.Schedule:
    return optax.warmup_cosine_decay_schedule(
        init_value=0.0,
        peak_value=cfg.lr,
        warmup_steps=cfg.warmup_steps,
        decay_steps=cfg.steps - cfg.warmup_steps,
        end_value=0.1 * cfg.lr,
    )


def decay_mask(params):
    """True for every array with ndim != 1 (kernels, q/k/v biases [H, d], position tables)."""
    return jax.tree.map(lambda x: x.ndim != 1, params)


def make_optimizer(cfg: TrainConfig) -> optax.GradientTransformation:
    return optax.adamw(
        make_schedule(cfg), b1=0.9, b2=0.999, eps=1e-8,
        weight_decay=cfg.weight_decay, mask=decay_mask,
    )


@dataclasses.dataclass
class RunResult:
    spec: RunSpec
    model: Transformer  # stacked over seeds (leading axis)
    records: list[dict]  # tidy: {"step", "seed", "metric", "value"}
    wall_time_s: float
    train_time_s: float
    steps_per_s: float
    tasks: eqx.Module  # stacked over seeds
    cached: bool = False  # loaded finished from a checkpoint (the run cache), nothing trained
    # {seed: step} of the seeds whose loss or parameters were not finite at that chunk end; the run
    # stopped there (all seeds). Empty for a run that trained to the end.
    diverged: dict[int, int] = dataclasses.field(default_factory=dict)

    def model_for_seed(self, i: int) -> Transformer:
        return jax.tree.map(lambda x: x[i] if eqx.is_array(x) else x, self.model)

    def task_for_seed(self, i: int):
        return jax.tree.map(lambda x: x[i] if eqx.is_array(x) else x, self.tasks)

    def metric(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(steps [n], values [n, seeds]) of one metric."""
        return history_array(self.records, name, self.spec.seeds)

    def select_seeds(self, seeds: tuple[int, ...]) -> "RunResult":
        """The same run restricted to ``seeds`` (a subset of its seeds, in that order).

        On one CPU device every seed is trained on its own (``Trainer.seeds_one_by_one``), so seed
        s of a many-seed run is bit-identical to the one-seed run of s (tested).
        """
        missing = [s for s in seeds if s not in self.spec.seeds]
        if missing:
            raise ValueError(f"seeds={missing} not in this run; allowed: {list(self.spec.seeds)}")
        idx = jnp.array([self.spec.seeds.index(s) for s in seeds])
        take = lambda tree: jax.tree.map(lambda x: x[idx] if eqx.is_array(x) else x, tree)  # noqa: E731
        return dataclasses.replace(
            self, spec=self.spec.replace(seeds=tuple(seeds)), model=take(self.model),
            tasks=take(self.tasks), records=[r for r in self.records if r["seed"] in seeds],
            diverged={s: t for s, t in self.diverged.items() if s in seeds},
        )


def history_array(records, name, seeds) -> tuple[np.ndarray, np.ndarray]:
    rows = [r for r in records if r["metric"] == name]
    steps = sorted({r["step"] for r in rows})
    if not steps:
        raise KeyError(f"metric {name!r} not in history; have {sorted({r['metric'] for r in records})}")
    idx = {s: i for i, s in enumerate(steps)}
    sidx = {s: j for j, s in enumerate(seeds)}
    out = np.full((len(steps), len(seeds)), np.nan)
    for r in rows:
        out[idx[r["step"]], sidx[r["seed"]]] = r["value"]
    return np.array(steps), out


def _seed_sharding(n_seeds: int):
    devices = jax.devices()
    if len(devices) > 1 and n_seeds % len(devices) == 0:
        return NamedSharding(Mesh(np.array(devices), ("seed",)), PartitionSpec("seed"))
    return None


# XLA:CPU hands matmuls to the YNNPACK library; by default it also takes over elementwise and
# reduce fusions, which is slow for the small, strided reductions of attention (the RMSHead backward
# over the head axis, the relative-position table gradient).  Restricting YNNPACK to individual
# dots is faster for every mixer (see benchmarks/RESULTS.md).
_CPU_COMPILER_OPTIONS = {"xla_cpu_experimental_ynn_fusion_type": "LIBRARY_FUSION_TYPE_INDIVIDUAL_DOT"}
_compiler_options: dict | None = None


def compiler_options() -> dict:
    """XLA options of the compiled train/eval functions: the CPU options above when the backend is
    a CPU and this jaxlib knows them, else {}."""
    global _compiler_options
    if _compiler_options is None:
        _compiler_options = {}
        if jax.default_backend() == "cpu":
            try:
                f = jax.jit(lambda x: x + 1, compiler_options=_CPU_COMPILER_OPTIONS)
                f.lower(jnp.zeros(())).compile()
                _compiler_options = dict(_CPU_COMPILER_OPTIONS)
            except Exception:  # an older jax/jaxlib without these options
                pass
    return _compiler_options


@functools.partial(jax.jit, static_argnums=1)
def _seed_slice(tree, i: int):
    """Seed ``i`` of every leaf, keeping a seed axis of length 1 (one dispatch for the whole tree)."""
    return jax.tree.map(lambda a: a[i : i + 1], tree)


@jax.jit
def _concat_seeds(*trees):
    return jax.tree.map(lambda *xs: jnp.concatenate(xs), *trees)


def seed_keys(seed: int):
    """(init, data, dropout, eval) keys of one seed."""
    return jax.random.split(jax.random.key(seed), 4)


@jax.jit
def _finite_per_seed(params):
    """[seeds] bool: every parameter of the seed is finite (one reduction, outside the step)."""
    leaves = [jnp.isfinite(x).reshape(x.shape[0], -1).all(axis=1) for x in jax.tree.leaves(params)]
    return jnp.stack(leaves).all(axis=0)


class Trainer:
    """Compiled training and evaluation of one RunSpec, all seeds at once."""

    def __init__(self, spec: RunSpec):
        self.spec = spec
        self.objective: Objective = make_objective(spec.task, **spec.task_args)
        self.objective.check_model(spec.model)
        cfg = spec.train
        keys = jnp.stack([seed_keys(s) for s in spec.seeds])  # [S, 4]
        self.init_keys, self.data_keys, self.dropout_keys, self.eval_keys = (
            keys[:, i] for i in range(4)
        )
        self.tasks = stack_tasks([self.objective.make_task(s) for s in spec.seeds])
        self.optimizer = make_optimizer(cfg)
        # The initial parameters and optimiser state are made when first needed: a run restored
        # from a checkpoint (e.g. a finished run in the cache) never compiles the initialisation.
        shapes = eqx.filter_eval_shape(self._initial_state)
        self._params_like, self._opt_like = shapes[0], shapes[1]
        self.static = shapes[2]
        self.sharding = _seed_sharding(len(spec.seeds))
        if self.sharding is not None:
            put = lambda t: jax.device_put(t, self.sharding)  # noqa: E731
            self.tasks = put(self.tasks)
            self.data_keys, self.dropout_keys, self.eval_keys = put(
                (self.data_keys, self.dropout_keys, self.eval_keys)
            )
        # Seeds are a vmapped axis (sharded over devices) on accelerators. On a single CPU device
        # the compiled chunk is called once per seed on a one-seed slice instead: XLA:CPU runs the
        # batched small matmuls of a vmapped seed axis far below the rate of one seed at a time
        # (benchmarks/RESULTS.md). Same compiled function, same numbers per seed.
        self.seeds_one_by_one = (self.sharding is None and jax.default_backend() == "cpu"
                                 and len(spec.seeds) > 1)
        options = compiler_options() or None
        self._chunk = jax.jit(self._run_chunk, donate_argnums=(0, 1), compiler_options=options)
        self._eval = jax.jit(self._evaluate, compiler_options=options)

    @property
    def placement_note(self) -> str:
        """What run() says at its start when there are several devices but the seeds cannot be
        split evenly over them (they then run on one); empty otherwise."""
        n_dev, n_seeds = len(jax.devices()), len(self.spec.seeds)
        if self.sharding is not None or n_dev == 1 or n_seeds == 1:
            return ""
        return (f"{n_seeds} seeds on one of {n_dev} devices: sharding the seeds needs a seed count "
                f"divisible by {n_dev}")

    def _initial_state(self):
        """(params, optimiser state, static part) at initialisation, seeds stacked."""
        model = eqx.filter_jit(eqx.filter_vmap(lambda k: Transformer(self.spec.model, key=k)))(
            self.init_keys
        )
        params, static = eqx.partition(model, eqx.is_inexact_array)
        return params, jax.vmap(self.optimizer.init)(params), static

    def __getattr__(self, name):
        """``params`` and ``opt_state`` (seeds stacked) are initialised on first use, unless a
        checkpoint has set them already (called only for attributes not set yet)."""
        if name not in ("params", "opt_state"):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        params, opt_state, _ = self._initial_state()
        if self.sharding is not None:
            params, opt_state = jax.device_put((params, opt_state), self.sharding)
        self.params, self.opt_state = params, opt_state
        return getattr(self, name)

    # ---- compiled pieces -------------------------------------------------------------------
    def _loss(self, params, task, data_key, dropout_key):
        obj, cfg = self.objective, self.spec.train
        model = eqx.combine(params, self.static)
        batch = obj.sample(task, data_key, cfg.batch_size, "train")
        pred = obj.predict(model, batch, key=dropout_key, inference=False)
        return obj.loss(pred, batch)

    def _run_chunk(self, params, opt_state, tasks, data_keys, dropout_keys, start, stop):
        def one_seed(params, opt_state, task, dk, rk):
            def body(i, carry):
                p, o, total = carry
                loss, grads = jax.value_and_grad(self._loss)(
                    p, task, jax.random.fold_in(dk, i), jax.random.fold_in(rk, i)
                )
                updates, o = self.optimizer.update(grads, o, p)
                return optax.apply_updates(p, updates), o, total + loss

            p, o, total = jax.lax.fori_loop(start, stop, body, (params, opt_state, 0.0))
            return p, o, total / (stop - start)

        return jax.vmap(one_seed)(params, opt_state, tasks, data_keys, dropout_keys)

    def _evaluate(self, params, tasks, eval_keys):
        obj, cfg = self.objective, self.spec.train
        n_batches = cfg.eval_size // cfg.eval_batch_size

        def one_seed(params, task, ek):
            model = eqx.combine(params, self.static)
            out = {}
            for j, (prefix, split) in enumerate(obj.splits.items()):
                def one_batch(i, j=j, split=split):
                    k = jax.random.fold_in(jax.random.fold_in(ek, j), i)
                    batch = obj.sample(task, k, cfg.eval_batch_size, split)
                    return obj.predict(model, batch), batch

                preds, batches = jax.lax.map(one_batch, jnp.arange(n_batches))
                flat = lambda a: a.reshape(-1, *a.shape[2:])  # noqa: E731
                out.update(obj.eval_metrics(prefix, flat(preds), jax.tree.map(flat, batches)))
            return out

        return jax.vmap(one_seed)(params, tasks, eval_keys)

    def _call(self, fn, per_seed: tuple, shared: tuple = ()):
        """``fn(*per_seed, *shared)`` for all seeds at once, or -- ``seeds_one_by_one`` -- once per
        seed on one-seed slices of ``per_seed`` with the results concatenated along the seed axis."""
        if not self.seeds_one_by_one:
            return fn(*per_seed, *shared)
        outs = [fn(*_seed_slice(per_seed, i), *shared) for i in range(len(self.spec.seeds))]
        return _concat_seeds(*outs)

    # ---- host loop -------------------------------------------------------------------------
    def model(self) -> Transformer:
        return eqx.combine(self.params, self.static)

    def evaluate(self, step: int) -> list[dict]:
        metrics = jax.device_get(self._call(self._eval, (self.params, self.tasks, self.eval_keys)))
        return [
            {"step": step, "seed": seed, "metric": name, "value": float(vals[i])}
            for name, vals in sorted(metrics.items())
            for i, seed in enumerate(self.spec.seeds)
        ]

    def run(
        self,
        ckpt_dir: str | None = None,
        stop_at: int | None = None,
        log: Callable[[str], None] | None = print,
        name: str = "",
        wait: bool = True,
    ) -> RunResult:
        """Train to the end (or to ``stop_at``), resuming from ``ckpt_dir`` when it holds a
        checkpoint. Writing to ``ckpt_dir`` holds its lock (:func:`run_lock`; ``wait=False``: raise
        RunLockedError if another process holds it); a finished checkpoint is read without it."""
        name = name or self.spec.task
        if not ckpt_dir:
            return self._run(None, None, stop_at, log, name)
        prog = read_progress(ckpt_dir, self.spec, name)
        if is_finished(prog):
            return self._run(ckpt_dir, prog, stop_at, log, name)
        with run_lock(ckpt_dir, wait=wait, name=name, log=log):
            prog = read_progress(ckpt_dir, self.spec, name)  # another writer may have moved it on
            return self._run(ckpt_dir, prog, stop_at, log, name, writer=True)

    def _run(self, ckpt_dir, prog, stop_at, log, name, writer=False) -> RunResult:
        cfg, spec = self.spec.train, self.spec
        t_start = time.perf_counter()
        step, records, prev_wall, train_time, diverged = 0, [], 0.0, 0.0, {}
        if prog is not None:
            step, records, prev_wall, train_time = self._load(ckpt_dir, prog, name)
            diverged = diverged_seeds(prog)
            if "state" in prog and (writer or is_finished(prog)):  # no other writer: clean up
                with contextlib.suppress(OSError):  # (a read-only cache of finished runs is fine)
                    _remove_stale(ckpt_dir, keep=prog["state"])
            if log and step < cfg.steps and not diverged:
                log(f"[{name}] resuming at step {step}/{cfg.steps}")
        start_step = step
        note = self.placement_note
        if log and note and step < cfg.steps and not diverged:
            log(f"[{name}] {note}")
        evals = set(cfg.eval_steps())
        for end in cfg.chunk_ends():
            if end <= step or diverged:
                continue
            if stop_at is not None and end > stop_at:
                break
            t0 = time.perf_counter()
            self.params, self.opt_state, loss = self._call(
                self._chunk,
                (self.params, self.opt_state, self.tasks, self.data_keys, self.dropout_keys),
                (jnp.int32(step), jnp.int32(end)),
            )
            loss = np.asarray(jax.device_get(loss))
            finite = np.isfinite(loss) & np.asarray(jax.device_get(_finite_per_seed(self.params)))
            dt = time.perf_counter() - t0
            train_time += dt
            n = end - step
            step = end
            records += [
                {"step": step, "seed": s, "metric": "train_loss", "value": float(loss[i])}
                for i, s in enumerate(spec.seeds)
            ]
            line = f"[{name}] step {step}/{cfg.steps} train_loss {loss.mean():.4f}"
            diverged = {s: step for i, s in enumerate(spec.seeds) if not finite[i]}
            if diverged:
                line += (f" | diverged: seeds {sorted(diverged)} not finite (lr {cfg.lr:g}); the run "
                         "stops here, recorded as diverged")
            elif step in evals:
                new = self.evaluate(step)
                records += new
                line += "".join(
                    f" {m} {np.mean([r['value'] for r in new if r['metric'] == m]):.3f}"
                    for m in self._headline_metrics()
                )
            if not diverged:
                line += f" | {n / dt:.1f} steps/s"
            if ckpt_dir:
                self._save(ckpt_dir, step, records, prev_wall + time.perf_counter() - t_start,
                           train_time, diverged)
            if log:
                log(line)
        wall = prev_wall + time.perf_counter() - t_start
        return RunResult(
            spec=spec, model=self.model(), records=records, wall_time_s=wall,
            train_time_s=train_time, steps_per_s=step / max(train_time, 1e-9), tasks=self.tasks,
            cached=prog is not None and bool(prog["done"]) and step == start_step,
            diverged=diverged,
        )

    def _headline_metrics(self) -> list[str]:
        first = {"logic": "r2", "raven": "accuracy"}.get(self.spec.task)
        return [f"{p}_{first}" for p in self.objective.splits if first and p != "train"]

    def _save(self, ckpt_dir, step, records, wall, train_time, diverged=None):
        """Commit one checkpoint (see "checkpoints" above): state file, then progress.json."""
        os.makedirs(ckpt_dir, exist_ok=True)
        buf = io.BytesIO()
        eqx.tree_serialise_leaves(buf, (self.params, self.opt_state))
        data = buf.getvalue()
        state = f"state-{step:08d}.eqx"
        _write_durably(os.path.join(ckpt_dir, state), data)
        checkpoint.between_writes("state written")
        diverged = [{"seed": s, "step": t, "lr": self.spec.train.lr}
                    for s, t in sorted((diverged or {}).items())]
        prog = {"format": CHECKPOINT_FORMAT, "step": step,
                "done": step >= self.spec.train.steps and not diverged, "diverged": diverged,
                "wall_time_s": wall, "train_time_s": train_time, "records": records,
                "spec": self.spec.to_dict(), "key": self.spec.key(), "state": state,
                "state_bytes": len(data), "state_sha256": _sha256(data)}
        _commit_progress(ckpt_dir, prog)
        checkpoint.between_writes("committed")
        _remove_stale(ckpt_dir, keep=state)

    def _load(self, ckpt_dir, prog, name):
        """Restore parameters and optimiser state from a checked checkpoint (``read_progress``)."""
        data = read_state_bytes(ckpt_dir, prog, name)
        like = (self._params_like, self._opt_like)  # shapes only: no initialisation needed
        buf = io.BytesIO(data)
        try:
            self.params, self.opt_state = eqx.tree_deserialise_leaves(buf, like)
        except Exception as e:  # a format-1 state file (no checksum) truncated or foreign
            problem = str(e).strip().splitlines()[0] if str(e).strip() else ""
            raise CorruptRunError(name, ckpt_dir, f"{prog.get('state', 'state.eqx')} cannot be read "
                                  f"as this spec's parameters and optimiser state "
                                  f"({type(e).__name__}: {problem[:200]})") from None
        if buf.tell() != len(data):
            raise CorruptRunError(name, ckpt_dir, f"{prog.get('state', 'state.eqx')} has "
                                  f"{len(data) - buf.tell()} bytes more than this spec's state")
        if self.sharding is not None:
            self.params, self.opt_state = jax.device_put((self.params, self.opt_state), self.sharding)
        return prog["step"], prog["records"], prog["wall_time_s"], prog["train_time_s"]


def train(spec: RunSpec, ckpt_dir: str | None = None, **kw) -> RunResult:
    """Train ``spec`` (all seeds vmapped); see :meth:`Trainer.run`."""
    return Trainer(spec).run(ckpt_dir, **kw)
