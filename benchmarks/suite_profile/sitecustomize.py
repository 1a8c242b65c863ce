"""Per-process accounting of the test suite's time (loaded by Python at start-up from PYTHONPATH).

Every Python process that imports `hyla` (the pytest workers, the notebook kernels, the test
subprocesses) records JAX's own compile-stage timings -- tracing, lowering to MLIR, XLA backend
compilation, per compiled function -- and, at exit, its wall and CPU time, into
``$SUITE_PROFILE_OUT/<pid>.json``. `summarize.py` adds them up. Used by `run.sh`; not part of the
library.
"""

import atexit
import builtins
import json
import logging
import os
import re
import resource
import sys
import time

_OUT = os.environ.get("SUITE_PROFILE_OUT")
_T0 = time.time()
_events: dict[str, float] = {}
_stages: list[tuple[str, str, float]] = []
_STAGE = re.compile(r"Finished (XLA compilation of|tracing|jaxpr to MLIR module conversion) (.*?) "
                    r"(?:for jit )?in ([0-9.e-]+) sec")


class _StageLog(logging.Handler):
    """JAX logs every compile stage at DEBUG level ("Finished tracing _run_chunk for jit in 1.2 sec")."""

    def emit(self, record):
        m = _STAGE.match(record.getMessage())
        if m:
            kind = {"XLA compilation of": "compile", "tracing": "trace"}.get(m.group(1), "lower")
            _stages.append((kind, m.group(2)[:80], float(m.group(3))))


def _listen():
    import jax.monitoring

    jax.monitoring.register_event_duration_secs_listener(
        lambda name, secs, **_: _events.__setitem__(name, _events.get(name, 0.0) + secs))
    for name in ("jax._src.dispatch", "jax._src.interpreters.pxla", "jax._src.pjit"):
        log = logging.getLogger(name)
        log.setLevel(logging.DEBUG)
        log.addHandler(_StageLog())
        log.propagate = False


_import = builtins.__import__
_listening = []


def _import_hook(name, *args, **kwargs):
    module = _import(name, *args, **kwargs)
    # `hyla` imports jax first: once a hyla import returns, jax is fully initialised.
    if not _listening and name.startswith("hyla") and "jax" in sys.modules:
        _listening.append(True)
        _listen()
    return module


def _dump():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    record = dict(pid=os.getpid(), argv=" ".join(sys.argv)[:300], wall_s=time.time() - _T0,
                  cpu_s=usage.ru_utime + usage.ru_stime, events=_events, stages=_stages)
    with open(os.path.join(_OUT, f"{os.getpid()}.json"), "w") as f:
        json.dump(record, f)


if _OUT:
    builtins.__import__ = _import_hook
    atexit.register(_dump)
