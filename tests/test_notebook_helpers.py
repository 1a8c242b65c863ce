"""hyla.notebook: parameter capture and validation, Colab links, banner."""

from __future__ import annotations

import math
import os

import jax
import pytest

from hyla import notebook
from hyla.notebook import Range, capture_parameters, check_parameters

SCHEMA = {
    "preset": (str, ("smoke", "quick", "gpu", "paper")),
    "out_dir": (str, None),
    "seeds": (int, Range(1, 10)),
    "lr": (float, Range(0.0, 1.0)),
    "use_cache": (bool, None),
}


def _namespace():
    def helper():
        pass

    class Thing:
        pass

    return {
        "In": [""],
        "Out": {},
        "get_ipython": lambda: None,
        "exit": object(),  # IPython's exit/quit are callable objects; dropped by name anyway
        "quit": object(),
        "open": open,
        "_": None,
        "__name__": "__main__",
        "_i1": "preset = 'smoke'",
        "math": math,
        "os": os,
        "helper": helper,
        "Thing": Thing,
        "preset": "smoke",
        "out_dir": "",
        "seeds": 3,
        "lr": 0.5,
        "use_cache": True,
    }


def test_capture_parameters_keeps_only_user_values():
    assert capture_parameters(_namespace()) == {
        "preset": "smoke",
        "out_dir": "",
        "seeds": 3,
        "lr": 0.5,
        "use_cache": True,
    }


def test_capture_parameters_in_a_real_namespace():
    ns: dict = {}
    exec("import json\nfrom pathlib import Path\nx: int = 2\ny = 'a'\ndef f(): pass\n", ns)
    assert capture_parameters(ns) == {"x": 2, "y": "a"}


def test_valid_parameters_pass():
    given = capture_parameters(_namespace())
    assert check_parameters(given, SCHEMA) == given
    assert check_parameters({"lr": 1}, SCHEMA) == {"lr": 1}  # an int literal is a fine float


def test_misspelled_parameter_fails_naming_it_and_the_allowed_names():
    with pytest.raises(ValueError) as err:
        check_parameters({"presett": "smoke", "out_dir": ""}, SCHEMA)
    message = str(err.value)
    assert "'presett'" in message
    assert "did you mean 'preset'" in message
    for name in SCHEMA:
        assert name in message


def test_value_not_allowed_lists_allowed_values():
    with pytest.raises(ValueError) as err:
        check_parameters({"preset": "fast"}, SCHEMA)
    message = str(err.value)
    assert "'preset'" in message and "'fast'" in message
    for value in ("'smoke'", "'quick'", "'gpu'", "'paper'"):
        assert value in message


def test_wrong_type_names_parameter_and_type():
    with pytest.raises(ValueError, match=r"'seeds'.*type int.*str"):
        check_parameters({"seeds": "3"}, SCHEMA)
    with pytest.raises(ValueError, match=r"'seeds'.*type int.*bool"):
        check_parameters({"seeds": True}, SCHEMA)
    with pytest.raises(ValueError, match=r"'use_cache'.*type bool"):
        check_parameters({"use_cache": 1}, SCHEMA)


def test_out_of_range_names_parameter_and_range():
    with pytest.raises(ValueError, match=r"'seeds' = 11.*\[1, 10\]"):
        check_parameters({"seeds": 11}, SCHEMA)
    with pytest.raises(ValueError, match=r"'lr' = -0.1.*\[0.0, 1.0\]"):
        check_parameters({"lr": -0.1}, SCHEMA)
    assert 5 in Range(None, 10) and 11 not in Range(None, 10) and 10**9 in Range(0, None)
    with pytest.raises(ValueError):
        Range(2, 1)


def test_tuple_of_types_and_callable_allowed():
    schema = {"width": ((int, type(None)), None), "name": (str, lambda s: s.islower())}
    check_parameters({"width": None, "name": "abc"}, schema)
    with pytest.raises(ValueError, match="'name'"):
        check_parameters({"name": "ABC"}, schema)


def test_colab_links_point_at_the_notebook():
    url = notebook.colab_url("fig02_fuzzy_logic.ipynb")
    org, repo = notebook.github_repo(notebook.repository_url())  # pyproject's Repository (tests/test_colab.py)
    assert url == f"https://colab.research.google.com/github/{org}/{repo}/blob/main/notebooks/fig02_fuzzy_logic.ipynb"
    assert url in notebook.colab_badge("fig02_fuzzy_logic.ipynb")
    assert "Open In Colab" in notebook.colab_badge("x.ipynb")


def test_in_colab_is_false_here(monkeypatch):
    monkeypatch.delenv("COLAB_RELEASE_TAG", raising=False)
    assert notebook.in_colab() is False
    monkeypatch.setenv("COLAB_RELEASE_TAG", "release-colab_20250101")
    assert notebook.in_colab() is True


def test_banner_prints_one_line(capsys):
    notebook.banner("smoke", "fig02_fuzzy_logic")
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert "fig02_fuzzy_logic" in out and "preset=smoke" in out


@pytest.mark.skipif(jax.default_backend() != "cpu", reason="the note is for CPU runs")
def test_banner_notes_gpu_and_paper_presets_on_cpu(capsys):
    for preset in ("gpu", "paper"):
        notebook.banner(preset, "fig02_fuzzy_logic")
        lines = capsys.readouterr().out.splitlines()
        assert len(lines) == 2 and lines[1].startswith(f"note: preset '{preset}' is sized for"), lines
        assert "'quick'" in lines[1]
    notebook.banner("quick", "fig02_fuzzy_logic")
    assert "note:" not in capsys.readouterr().out


def _notebook_globals(**params):
    ns = {"__name__": "__main__", "sys": os, "preset": "smoke", "out_dir": "", "cache_dir": "", "steps": 0,
          "num_seeds": 0, "FIGURE": "figA3_logic_metrics"}
    ns.update(params)
    return ns


def test_setup_checks_parameters_and_returns_the_preset_config(capsys):
    from hyla import presets

    config = notebook.setup("figA3_logic_metrics", _notebook_globals())
    assert config.keys() == presets.get("figA3_logic_metrics", "smoke").keys()
    assert "figA3_logic_metrics | preset=smoke" in capsys.readouterr().out
    with pytest.raises(ValueError, match="presett"):  # a misspelled parameter, before any compute
        notebook.setup("figA3_logic_metrics", _notebook_globals(presett="quick"))
    with pytest.raises(ValueError, match="preset"):
        notebook.setup("figA3_logic_metrics", _notebook_globals(preset="fast"))
    with pytest.raises(ValueError, match="FIGURE"):  # FIGURE is exempt only when it names this figure
        notebook.setup("fig02_fuzzy_logic", _notebook_globals())
    with pytest.raises(ValueError, match="corpus"):  # a figure's own parameter needs its schema entry
        notebook.setup("figA3_logic_metrics", _notebook_globals(corpus="x"))
    notebook.setup("figA3_logic_metrics", _notebook_globals(corpus="x"), {"corpus": (str, None)})


def test_train_applies_overrides_and_labels_runs(monkeypatch):
    from hyla import presets, runs

    spec = presets.get("figA3_logic_metrics", "smoke")["specs"]["hyla"]
    seen = []
    monkeypatch.setattr(runs, "load_or_train", lambda s, cache_dir, name="", **kw: seen.append((s, name)) or s)
    out = notebook.train({("hyla", 32): spec}, "", steps=7, num_seeds=1)
    (s, name), = seen
    assert out == {("hyla", 32): s} and name == "hyla 32"
    assert s.train.steps == 7 and s.seeds == (0,) and spec.train.steps != 7
    notebook.train({"hyla": spec}, "", name=notebook.logic_run_name)
    assert seen[-1][1] == "hyla N=32 held-out=70%"
