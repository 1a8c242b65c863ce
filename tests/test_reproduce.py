"""hyla.reproduce: argument validation (without executing anything) and a real run on throwaway notebooks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from hyla import reproduce

LIB = str(Path(reproduce.__file__).resolve().parent.parent)


def _write_notebook(path: Path, body: str) -> Path:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('preset: str = "quick"  # preset\nout_dir: str = ""  # output folder')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# throwaway"), params, nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


OK_BODY = (
    "from pathlib import Path\n"
    "import hyla\n"
    "Path(out_dir).mkdir(parents=True, exist_ok=True)\n"
    "Path(out_dir, 'tiny.' + preset + '.txt').write_text(preset + ' ' + str(Path.cwd().name))\n"
)


@pytest.fixture
def nb_dir(tmp_path):
    d = tmp_path / "notebooks"
    d.mkdir()
    for name in ("fig01_alpha", "fig02_beta", "figA2_gamma"):
        _write_notebook(d / f"{name}.ipynb", "raise RuntimeError('must not run')")
    return d


@pytest.fixture
def no_execution(monkeypatch):
    import papermill

    def boom(*args, **kwargs):
        raise AssertionError("a notebook was executed")

    monkeypatch.setattr(papermill, "execute_notebook", boom)


def _main(capsys, *argv):
    with pytest.raises(SystemExit) as exc:
        reproduce.main(list(argv))
    captured = capsys.readouterr()
    return exc.value.code, captured.out + captured.err


def test_unknown_preset_is_rejected_before_running(capsys, nb_dir, no_execution):
    code, out = _main(capsys, "--preset", "fastest", "--notebooks", str(nb_dir))
    assert code == 2
    assert "unknown preset 'fastest'" in out
    for preset in reproduce.PRESETS:
        assert preset in out


def test_unknown_only_prefix_lists_available(capsys, nb_dir, no_execution):
    code, out = _main(capsys, "--preset", "smoke", "--only", "fig09", "--notebooks", str(nb_dir))
    assert code == 2
    assert "'fig09'" in out
    for name in ("fig01_alpha", "fig02_beta", "figA2_gamma"):
        assert name in out


def test_list(capsys, nb_dir, no_execution):
    assert reproduce.main(["--list", "--notebooks", str(nb_dir)]) == 0
    assert capsys.readouterr().out.split() == ["fig01_alpha", "fig02_beta", "figA2_gamma"]


def test_select_by_prefix(nb_dir):
    notebooks = reproduce.find_notebooks(nb_dir)
    assert [p.stem for p in reproduce.select(notebooks, ["fig02"])] == ["fig02_beta"]
    assert [p.stem for p in reproduce.select(notebooks, ["figA2", "fig01"])] == ["fig01_alpha", "figA2_gamma"]
    assert [p.stem for p in reproduce.select(notebooks, ["fig0"])] == ["fig01_alpha", "fig02_beta"]
    assert [p.stem for p in reproduce.select(notebooks, ["fig02_beta.ipynb"])] == ["fig02_beta"]
    assert len(reproduce.select(notebooks, None)) == 3
    with pytest.raises(ValueError, match="available: fig01_alpha, fig02_beta, figA2_gamma"):
        reproduce.select(notebooks, ["figB"])


@pytest.mark.skipif(os.name == "nt", reason="Unix sockets only")
def test_kernel_config_uses_private_unix_sockets():
    with reproduce.kernel_config() as config:
        manager = config["KernelManager"]
        assert manager["transport"] == "ipc"
        folder = Path(manager["ip"]).parent
        assert folder.is_dir() and not any(folder.iterdir())
        assert len(manager["ip"]) + len("-12345678") < 100  # room for the socket names in a sun_path
    with reproduce.kernel_config() as other:
        assert Path(other["KernelManager"]["ip"]).parent != folder  # one private folder per kernel
    assert not folder.exists()  # removed afterwards


@pytest.mark.skipif(os.name == "nt", reason="Unix sockets only")
def test_kernel_config_avoids_a_temporary_folder_too_long_for_sockets(tmp_path, monkeypatch):
    deep = tmp_path / ("d" * 100)
    deep.mkdir()
    monkeypatch.setattr(reproduce.tempfile, "tempdir", str(deep))
    with reproduce.kernel_config() as config:
        ip = config["KernelManager"]["ip"] if "KernelManager" in config else None
        assert ip is None or (len(ip) < 100 and not ip.startswith(str(deep))), ip
    assert list(deep.iterdir()) == []  # nothing left in the long folder


def _run(*args, cwd):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([LIB, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return subprocess.run(
        [sys.executable, "-m", "hyla.reproduce", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=300,
    )


@pytest.mark.slow
def test_runs_a_throwaway_notebook(tmp_path):
    d = tmp_path / "notebooks"
    d.mkdir()
    _write_notebook(d / "tiny_ok.ipynb", OK_BODY)
    _write_notebook(d / "zzz_other.ipynb", "raise RuntimeError('not selected')")
    out, executed = tmp_path / "figs", tmp_path / "executed"
    proc = _run(
        "--preset", "smoke", "--only", "tiny", "--notebooks", str(d), "--out", str(out), "--executed", str(executed),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (out / "tiny.smoke.txt").read_text() == "smoke notebooks"  # parameters injected, cwd = notebooks/
    assert (executed / "tiny_ok.ipynb").is_file()
    assert not (executed / "zzz_other.ipynb").exists()
    lines = proc.stdout.splitlines()
    assert any(line.startswith("[1/1] tiny_ok") and " ok " in line for line in lines), proc.stdout
    assert any(line.split()[:2] == ["notebook", "preset"] for line in lines)  # the closing table
    assert any(line.startswith("tiny_ok") and "smoke" in line for line in lines)
    if os.name != "nt":  # the kernel talked over Unix sockets, not TCP (which warns on every kernel)
        assert "without encryption" not in proc.stderr, proc.stderr


@pytest.mark.slow
def test_a_failure_does_not_stop_the_others(tmp_path):
    d = tmp_path / "notebooks"
    d.mkdir()
    _write_notebook(d / "a_fails.ipynb", "raise RuntimeError('broken on purpose')")
    _write_notebook(d / "b_ok.ipynb", OK_BODY)
    out, executed = tmp_path / "figs", tmp_path / "executed"
    proc = _run("--preset", "smoke", "--notebooks", str(d), "--out", str(out), "--executed", str(executed), cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "failed" in proc.stdout and "broken on purpose" in proc.stdout
    assert (out / "tiny.smoke.txt").is_file()  # the second notebook still ran
    assert "a_fails" in proc.stderr


SCRIPT = '''# %% [markdown]
# title

# %% tags=["parameters"]
preset: str = "quick"  # scale
out_dir: str = ""  # folder

# %%
from pathlib import Path
Path(out_dir, "result.txt").write_text(preset)
'''


def test_inject_parameters_places_a_cell_after_the_parameters_cell():
    out = reproduce.inject_parameters(SCRIPT, {"preset": "gpu", "out_dir": "/x"})
    lines = out.splitlines()
    i = lines.index('# %% tags=["injected-parameters"]')
    assert lines[i + 1 : i + 3] == ["preset = 'gpu'", "out_dir = '/x'"]
    assert lines.index('preset: str = "quick"  # scale') < i < lines.index("from pathlib import Path")
    with pytest.raises(ValueError, match="parameters"):
        reproduce.inject_parameters("# %%\nx = 1\n", {"preset": "gpu"})


def test_script_engine_runs_the_paired_script(tmp_path):
    nb_dir, out = tmp_path / "notebooks", tmp_path / "out"
    nb_dir.mkdir(), out.mkdir()
    (nb_dir / "figX_demo.ipynb").write_text("{}")  # only the paired .py is run
    (nb_dir / "figX_demo.py").write_text(SCRIPT)
    (nb_dir / "figY_broken.ipynb").write_text("{}")
    (nb_dir / "figY_broken.py").write_text(SCRIPT.replace("from pathlib", "raise SystemExit(3)\nfrom pathlib"))
    code = reproduce.main(["--engine", "script", "--notebooks", str(nb_dir), "--out", str(out),
                           "--preset", "smoke"])
    assert (out / "result.txt").read_text() == "smoke"
    assert code == 1  # figY failed, figX still ran
