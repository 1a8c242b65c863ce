"""Shared pytest configuration."""

from __future__ import annotations

import os

# Compilation dominates the test suite on a small CPU (a smoke notebook spent ~3/4 of its time in
# XLA), and most of that is LLVM optimising code that then runs for a few dozen steps. The tests
# therefore compile with XLA's backend optimisation level 0 and XLA:CPU's older loop emitters
# instead of its fusion emitters: together ~3x faster compilation of a training chunk (measured:
# 5.8 s -> 2.5 s -> 1.0 s for a smoke model), slower code, the same math. Every test computes and
# checks with the same setting; the figures (`make figures`) use XLA's defaults (there these flags
# make training slower). The setting reaches the notebook kernels and subprocesses through the
# environment. HYLA_TEST_XLA_OPT=1 keeps XLA's defaults (to test exactly what the figures run).
_FAST_COMPILE = "--xla_backend_optimization_level=0 --xla_cpu_use_fusion_emitters=false"
_flags = os.environ.get("XLA_FLAGS", "")
if os.environ.get("HYLA_TEST_XLA_OPT", "") in ("", "0") and "xla_backend_optimization_level" not in _flags:
    os.environ["XLA_FLAGS"] = f"{_flags} {_FAST_COMPILE}".strip()


# The library's persistent XLA cache (`hyla.runs.enable_compilation_cache`) normally stores only
# compilations of at least 1 s. At -O0 almost every compilation is quicker than that, so the tests
# store all of them: notebook kernels and test processes compiling the same program (a shared smoke
# run's evaluation, an analysis function) then compile it once (notebook smoke runs: 174 -> 156 s).
os.environ.setdefault("HYLA_XLA_CACHE_MIN_S", "0")


def pytest_collection_modifyitems(config, items):
    # Start the long tests (papermill notebook runs, marked `slow`) first, so that with
    # `pytest -n 2` they overlap with the quick ones instead of trailing at the end.
    items.sort(key=lambda item: 0 if item.get_closest_marker("slow") else 1)  # stable sort


def pytest_report_header(config):
    flags = os.environ.get("XLA_FLAGS", "")
    return f"XLA_FLAGS={flags!r} (tests compile fast; HYLA_TEST_XLA_OPT=1 for XLA's defaults)"
