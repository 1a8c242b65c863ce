"""The benchmark scripts run and report what issue 2 asks of them (tiny runs; not timings).

Most use the scripts' ``--size smoke`` (a one-layer model), which exists for these checks only."""

from __future__ import annotations

import json
import os
import pathlib
import sys

import pytest

BENCH = pathlib.Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))

import profile_step  # noqa: E402
import throughput  # noqa: E402

RECORD_KEYS = {"task", "method", "size", "seeds", "device", "steps_per_s", "compile_s", "gflops_per_s",
               "matmul_gflops_per_s"}


def test_throughput_json_records(capsys):
    throughput.main(["--task", "logic", "--method", "linear", "--size", "smoke", "--seeds", "1",
                     "--steps", "2", "--repeats", "3", "--json"])
    out = capsys.readouterr().out
    records = json.loads(out[out.index("["):])
    assert len(records) == 1
    (r,) = records
    assert RECORD_KEYS <= set(r)
    assert (r["task"], r["method"], r["size"], r["seeds"]) == ("logic", "linear", "smoke", 1)
    assert r["steps_per_s"] > 0 and r["compile_s"] > 0 and r["matmul_gflops_per_s"] > 0
    assert r["gflops_per_s"] > 0  # XLA's cost analysis counted the step's FLOPs


def test_profile_step_groups_kernels(tmp_path):
    path = tmp_path / "profile.json"
    profile_step.main(["--task", "logic", "--method", "hyla", "--size", "quick", "--steps", "2",
                       "--json", str(path)])
    (r,) = json.loads(path.read_text())["records"]
    kinds = r["kinds_ms_per_step"]
    # the trace holds the profiled steps' kernels, each counted once: they take most of the wall
    # time, and at most one wall time per CPU thread (counting the enclosing executor or Python
    # frames as well would exceed that)
    assert 0.5 * r["wall_ms_per_step"] < r["kernel_ms_per_step"] < (os.cpu_count() + 0.5) * r["wall_ms_per_step"]
    assert not any(k.startswith("$") or "Thunk" in k for k in kinds)
    assert any("dot" in k or "ynn" in k for k in kinds), kinds  # the matmuls are among them


def test_profile_step_rejects_bad_steps():
    with pytest.raises(ValueError, match="--steps"):
        profile_step.main(["--steps", "0"])


def test_fused_code_grad_compares_the_two_forms(tmp_path):
    import fused_code_grad as fcg

    import hyla.attention as attention

    path = tmp_path / "fcg.json"
    fcg.main(["--task", "logic", "--size", "smoke", "--repeats", "1", "--json", str(path)])
    (r,) = json.loads(path.read_text())["records"]
    assert set(r["ms_per_step"]) == {"einsum", "fused"} and r["fused_over_einsum_median"] > 0
    assert attention.FUSED_CODE_GRADIENT is None  # the switch is restored


def test_fused_code_grad_rejects_zero_repeats():
    import fused_code_grad as fcg

    with pytest.raises(ValueError, match="--repeats"):
        fcg.main(["--repeats", "0"])


def test_microbatch_grad_slices_compute_the_same_gradient(tmp_path):
    import microbatch_grad

    path = tmp_path / "mb.json"
    microbatch_grad.main(["--task", "logic", "--size", "smoke", "--slices", "1", "4", "--repeats", "1",
                          "--json", str(path)])
    one, four = json.loads(path.read_text())["records"]
    assert (one["slices"], four["slices"]) == (1, 4)
    assert one["grad_max_rel_diff_vs_first"] == {"linear": 0.0, "hyla": 0.0}
    assert 0 < max(four["grad_max_rel_diff_vs_first"].values()) < 1e-3  # rounding only
    with pytest.raises(ValueError, match="--slices"):
        microbatch_grad.main(["--slices", "0"])


def test_value_network_forms_agree(capsys):
    import value_network_forms

    value_network_forms.main(["--size", "logic", "--batch", "4", "--repeats", "1", "--calls", "1"])
    out = capsys.readouterr().out
    for name in value_network_forms.FORMS:
        assert name in out


def test_suite_profile_summary_adds_up_the_process_records(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("suite_profile_summarize",
                                                  BENCH / "suite_profile" / "summarize.py")
    summarize = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(summarize)
    records = [
        dict(pid=1, argv="-m ipykernel_launcher -f k.json", wall_s=9.0, cpu_s=8.0,
             events={"/jax/core/compile/backend_compile_duration": 3.0},
             stages=[["trace", "_run_chunk", 1.5], ["compile", "jit(_run_chunk)", 3.0]]),
        dict(pid=2, argv="-c worker", wall_s=20.0, cpu_s=12.0,
             events={"/jax/compilation_cache/compile_time_saved_sec": 2.0},
             stages=[["trace", "_run_chunk", 0.5], ["lower", "jit(_evaluate)", 1.0]]),
    ]
    for r in records:
        (tmp_path / f"{r['pid']}.json").write_text(json.dumps(r))
    s = summarize.summarize(str(tmp_path))
    assert s["processes"] == 2 and s["cpu_s"] == 20.0
    assert s["roles"]["notebook kernels"] == {"processes": 1, "cpu_s": 8.0}
    assert s["stages_s"] == {"trace": 2.0, "compile": 3.0, "lower": 1.0}
    assert s["backend_compile_s"] == 3.0 and s["compile_time_saved_by_cache_s"] == 2.0
    assert s["top_functions"][0] == dict(stage="compile", function="jit(_run_chunk)", count=1, seconds=3.0)
    assert dict(stage="trace", function="_run_chunk", count=2, seconds=2.0) in s["top_functions"]
    with pytest.raises(SystemExit, match="no process records"):
        summarize.summarize(str(tmp_path / "empty"))


def test_official_throughput_needs_a_checkout_of_the_official_code(tmp_path, capsys):
    """The timing itself needs Flax and the official repository (a separate environment, never the
    test suite's); here only its refusal of bad arguments, before anything is imported or run."""
    import official_throughput

    with pytest.raises(SystemExit):
        official_throughput.main(["--official-dir", str(tmp_path)])
    assert "holds no hyla/experiment.py" in capsys.readouterr().err
    (tmp_path / "hyla").mkdir()
    (tmp_path / "hyla" / "experiment.py").write_text("")
    with pytest.raises(SystemExit):
        official_throughput.main(["--official-dir", str(tmp_path), "--repeats", "0"])
    assert "--repeats=0; allowed: an integer >= 1" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        official_throughput.main(["--official-dir", str(tmp_path), "--method", "hyla2"])
    assert "invalid choice: 'hyla2'" in capsys.readouterr().err
    # refused before touching this process: no empty `wandb` stand-in, no official code on the path
    assert "wandb" not in sys.modules or sys.modules["wandb"].__spec__ is not None
    assert str(tmp_path) not in sys.path


def test_official_comparison_pairs_alternating_runs(tmp_path, capsys):
    import official_throughput

    def run(scale, code):
        return [dict(task=t, method=m, size="paper", seeds=1, steps_per_s=scale * (i + 1), code=code)
                for i, (t, m) in enumerate((t, m) for t in ("logic", "raven")
                                           for m in ("softmax", "linear", "hyla"))]

    # ours: 2x, 3x, 4x the official rate in three alternating pairs; a quick-size row is ignored
    ours = [run(2.0, "ours") + [dict(task="logic", method="hyla", size="quick", seeds=1,
                                     steps_per_s=1e6)], run(6.0, "ours"), run(4.0, "ours")]
    official = [run(1.0, "official"), run(2.0, "official"), run(1.0, "official")]
    path = tmp_path / "runs.json"
    path.write_text(json.dumps({"ours": ours, "official": official}))
    rows = official_throughput.main(["--compare", str(path)])
    assert len(rows) == 6
    hyla = [r for r in rows if (r["task"], r["method"]) == ("raven", "hyla")][0]
    # raven hyla: ours 12, 36, 24 (median 24), official 6, 12, 6 (median 6); per pair 2, 3, 4
    assert hyla["ours"] == 6 * 4.0 and hyla["official"] == 6 * 1.0 and hyla["ratio"] == 4.0
    assert (hyla["pair_ratio_min"], hyla["pair_ratio_max"]) == (2.0, 4.0)
    assert "| raven | hyla | 24.00 | 6.00 | 4.00x | 2.00-4.00x |" in capsys.readouterr().out
    path.write_text(json.dumps({"ours": ours, "official": official[:2]}))
    with pytest.raises(ValueError, match="as many runs"):
        official_throughput.main(["--compare", str(path)])


@pytest.mark.slow
def test_make_figures_timing_alternates_modes_and_compares_csvs(tmp_path):
    """The `make figures` timing script: both modes per notebook, the first mode alternating, and the
    CSVs of the two modes compared byte for byte (fig03 at smoke trains nothing: a cheap check)."""
    import make_figures_timing

    out = tmp_path / "timing.json"
    assert make_figures_timing.main(["--preset", "smoke", "--only", "fig03_sraven_task",
                                     "--dir", str(tmp_path / "w"), "--json", str(out)]) == 0
    rec = json.loads(out.read_text())
    (row,) = rec["notebooks"]
    assert row["order"] == ["inline", "local"] and row["csv_identical"] and rec["all_csv_identical"]
    assert set(rec["totals_s"]) == {"inline", "local"} and rec["totals_s"]["inline"] > 0
    assert rec["complete"] and rec["selected"] == ["fig03_sraven_task"]
    assert (tmp_path / "w" / "local" / "figures" / "data" / "fig03_sraven_task.smoke.csv").is_file()
    table = make_figures_timing.markdown(rec).splitlines()
    assert table[2].startswith("| fig03_sraven_task | inline | ") and table[-1].endswith("| yes |")


@pytest.mark.slow
def test_make_figures_timing_whole_times_one_reproduce_per_mode(tmp_path):
    """`--whole 1`: one `hyla.reproduce` over the notebooks per mode, its notebooks' times parsed
    from its progress lines, the CSVs of both modes compared."""
    import make_figures_timing

    out = tmp_path / "whole.json"
    assert make_figures_timing.main(["--preset", "smoke", "--only", "fig03_sraven_task", "--whole", "1",
                                     "--dir", str(tmp_path / "w"), "--json", str(out)]) == 0
    rec = json.loads(out.read_text())
    (rnd,) = rec["rounds"]
    assert rnd["order"] == ["inline", "local"] and rec["complete"] and rec["all_csv_identical"]
    for mode in ("inline", "local"):
        assert set(rnd[mode]["notebooks_s"]) == {"fig03_sraven_task"}
        assert 0 < rnd[mode]["notebooks_s"]["fig03_sraven_task"] < rnd[mode]["seconds"]
    assert (tmp_path / "w" / "local-0" / "figures" / "data" / "fig03_sraven_task.smoke.csv").is_file()
    table = make_figures_timing.markdown(rec)
    assert f"| 1 | inline | {rnd['inline']['seconds']:.1f} s | {rnd['local']['seconds']:.1f} s |" in table
    assert "| fig03_sraven_task | " in table and "**no**" not in table
    with pytest.raises(SystemExit):
        make_figures_timing.main(["--whole", "-1"])
