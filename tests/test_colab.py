"""Colab from one setting: pyproject's Repository URL makes every badge and install block."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tomllib
import types
from pathlib import Path

import pytest

from hyla import notebook

ROOT = Path(__file__).resolve().parent.parent
# HYLA_TEST_NOTEBOOKS points the tests at another folder (as in tests/test_notebooks.py).
NOTEBOOK_DIR = Path(os.environ.get("HYLA_TEST_NOTEBOOKS", ROOT / "notebooks"))
SCRIPTS = sorted(p for p in NOTEBOOK_DIR.glob("*.py") if "# %%" in p.read_text(encoding="utf-8"))
FORK = "https://github.com/some-fork/hyla-copy"


def _sync_tool():
    spec = importlib.util.spec_from_file_location("sync_notebooks", ROOT / "tools" / "sync_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SYNC = _sync_tool()


@pytest.fixture
def fork(monkeypatch):
    """Every Colab link and install line from FORK, as after editing pyproject's Repository URL."""
    monkeypatch.setattr(notebook, "repository_url", lambda: FORK)
    return FORK


def test_repository_url_is_pyprojects():
    with open(ROOT / "pyproject.toml", "rb") as f:
        url = tomllib.load(f)["project"]["urls"]["Repository"]
    assert notebook.repository_url() == url
    org, repo = notebook.github_repo(url)
    assert (notebook.COLAB_ORG, notebook.COLAB_REPO) == (org, repo)
    assert notebook.colab_url("x.ipynb") == (
        f"https://colab.research.google.com/github/{org}/{repo}/blob/{notebook.COLAB_BRANCH}/notebooks/x.ipynb")


def test_repository_url_from_installed_metadata(monkeypatch):
    from importlib import metadata

    try:
        entries = metadata.metadata("hyla").get_all("Project-URL")
    except metadata.PackageNotFoundError:
        pytest.skip("hyla is not installed in this environment")
    from hyla import paths

    monkeypatch.setattr(paths, "repo_root", lambda: None)  # as on Colab: no checkout
    notebook.repository_url.cache_clear()
    try:
        assert f"Repository, {notebook.repository_url()}" in entries
    finally:
        notebook.repository_url.cache_clear()


def test_github_repo():
    assert notebook.github_repo("https://github.com/a/b") == ("a", "b")
    assert notebook.github_repo("https://github.com/a/b.git/") == ("a", "b")
    for bad in ("https://gitlab.com/a/b", "https://github.com/a", "https://github.com/a/b/tree/main"):
        with pytest.raises(ValueError, match="GitHub"):
            notebook.github_repo(bad)


def test_links_follow_the_setting(fork):
    assert notebook.colab_url("f.ipynb").startswith("https://colab.research.google.com/github/some-fork/hyla-copy/")
    assert notebook.COLAB_ORG == "some-fork" and notebook.COLAB_REPO == "hyla-copy"
    assert SYNC.badge_line("f") == "# " + notebook.colab_badge("f.ipynb")
    assert f'"hyla[notebooks] @ git+{FORK}"' in "\n".join(SYNC.install_block())


@pytest.mark.parametrize("path", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_notebook_colab_lines_agree_with_pyproject(path):
    text = path.read_text(encoding="utf-8")
    synced, missing = SYNC.colab_lines(text, path.stem)
    assert not missing, f"{path.name}: no {', '.join(missing)}"
    assert synced == text, f"{path.name}: Colab badge or install block out of date; run: make sync-notebooks"


def _run_install_block(found: bool, colab: bool = True) -> list:
    """Execute the install block with a fake Colab module and a recording subprocess.run."""
    calls: list = []
    fake_sys = types.SimpleNamespace(modules={"google.colab": object()} if colab else {},
                                     executable=sys.executable)
    fake_subprocess = types.SimpleNamespace(run=lambda *a, **k: calls.append((a, k)))
    real_find_spec = importlib.util.find_spec
    importlib.util.find_spec = lambda name: (object() if found else None) if name == "hyla" else real_find_spec(name)
    try:
        exec("\n".join(SYNC.install_block()), {"sys": fake_sys, "subprocess": fake_subprocess})
    finally:
        importlib.util.find_spec = real_find_spec
    return calls


def test_install_block_installs_only_on_colab_without_hyla():
    assert _run_install_block(found=True) == []   # hyla importable: nothing to install
    assert _run_install_block(found=False, colab=False) == []   # not on Colab
    (args, kwargs), = _run_install_block(found=False)
    command = args[0]
    assert command[1:4] == ["-m", "pip", "install"] and kwargs == {"check": True}
    assert command[-1] == f"hyla[notebooks] @ git+{notebook.repository_url()}"
    # Colab's jax stays: no upgrade of what is already satisfied.
    assert not any(a.startswith(("-U", "--upgrade", "--force")) for a in command), command


def test_sync_rewrites_copies_and_check_fails_on_disagreement(tmp_path, fork, capsys):
    src = next(p for p in SCRIPTS if p.stem.startswith("fig03")) if SCRIPTS else None
    if src is None:
        pytest.skip("no notebook scripts")
    folder = tmp_path / "nb"
    folder.mkdir()
    shutil.copy(src, folder / src.name)
    assert SYNC.main(["--check", "--dir", str(folder)]) == 1   # badge and install still the original's
    assert "disagrees with pyproject.toml" in capsys.readouterr().err
    assert SYNC.main(["--no-colab", "--dir", str(folder)]) == 0   # notebooks only, the script untouched
    assert (folder / src.name).read_text(encoding="utf-8") == src.read_text(encoding="utf-8")
    assert SYNC.main(["--colab", "--dir", str(folder)]) == 0
    text = (folder / src.name).read_text(encoding="utf-8")
    assert SYNC.badge_line(src.stem) in text and f"git+{FORK}" in text
    assert (folder / src.name).with_suffix(".ipynb").is_file()
    assert SYNC.main(["--check", "--dir", str(folder)]) == 0
    assert SYNC.main(["--colab", "--dir", str(folder)]) == 0   # idempotent
    assert (folder / src.name).read_text(encoding="utf-8") == text
    assert _without_colab_lines(text) == _without_colab_lines(src.read_text(encoding="utf-8"))


def _without_colab_lines(text: str) -> list[str]:
    """The lines of a notebook script other than its badge line and install block."""
    out, in_block = [], False
    for line in text.splitlines():
        in_block = line.startswith(SYNC.INSTALL_PREFIX) or (in_block and line[:1] in (" ", "\t"))
        if not in_block and not line.startswith(SYNC.BADGE_PREFIX):
            out.append(line)
    return out


def test_check_fails_without_a_badge(tmp_path):
    folder = tmp_path / "nb"
    folder.mkdir()
    (folder / "x.py").write_text("# %% [markdown]\n# # x\n\n# %%\nimport sys\n", encoding="utf-8")
    assert SYNC.main(["--check", "--dir", str(folder)]) == 1
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "sync_notebooks.py"), "--check", "--dir",
                           str(folder)], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT / "lib")})
    assert proc.returncode == 1 and "no Colab badge line" in proc.stderr, proc.stderr
