"""The dependency floors of pyproject.toml are the versions `make test-floors` pins."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _floors() -> dict[str, str]:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    out = {}
    for req in meta["dependencies"]:
        name, version = re.fullmatch(r"([A-Za-z0-9_.-]+)>=([0-9.]+)", req).groups()
        out[name.lower()] = version
    return out


def _pins() -> dict[str, str]:
    out = {}
    for line in (ROOT / "tools" / "floors.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = re.fullmatch(r"([A-Za-z0-9_.-]+)==([0-9.*]+)", line).groups()
            out[name.lower()] = version
    return out


def test_every_floor_is_pinned_at_the_floor():
    floors, pins = _floors(), _pins()
    assert set(floors) <= set(pins), f"floors without a pin in tools/floors.txt: {set(floors) - set(pins)}"
    for name, floor in floors.items():
        pin = pins[name]
        # a floor "2.0" is pinned as "2.0.*" (a patch release of 2.0), "0.7.2" as "0.7.2"
        assert pin == floor or pin == f"{floor}.*", f"{name}: floor {floor} but pinned {pin}"
    assert pins["jaxlib"] == pins["jax"]


def test_the_cuda_extra_keeps_the_jax_floor():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert meta["optional-dependencies"]["cuda12"] == [f"jax[cuda12]>={_floors()['jax']}"]
