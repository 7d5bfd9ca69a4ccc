"""The Dockerfile, the wheel and the CI entry point, checked by reading them (no Docker engine
runs here): what they copy and run must exist."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from omniroute.cli import main
from omniroute.engine import kernel_cache

ROOT = Path(__file__).resolve().parents[2]


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text()
    text = re.sub(r"\\\n", " ", text)  # join continuation lines
    instructions = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
    return instructions


def exec_form(rest: str) -> list[str]:
    value = json.loads(rest)  # Docker's exec form is a JSON array
    assert isinstance(value, list), rest
    return [str(v) for v in value]


def test_dockerfile_copies_files_that_exist_and_are_not_ignored() -> None:
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    copies = [rest for keyword, rest in dockerfile_instructions()
              if keyword == "COPY" and not rest.startswith("--from")]
    assert copies
    for rest in copies:
        *sources, _destination = shlex.split(rest)
        for source in sources:
            assert (ROOT / source).exists(), f"Dockerfile copies missing {source}"
            assert source not in ignored, f".dockerignore drops {source}"


def test_dockerfile_shape() -> None:
    instructions = dockerfile_instructions()
    bases = [rest.split()[0] for keyword, rest in instructions if keyword == "FROM"]
    assert len(bases) >= 2, "multi-stage"
    assert all(base.startswith("python:3.11-slim") for base in bases)
    users = [rest for keyword, rest in instructions if keyword == "USER"]
    assert users
    assert users[-1] not in {"root", "0"}
    env = " ".join(rest for keyword, rest in instructions if keyword == "ENV")
    assert f"{kernel_cache.ENV}=" in env
    exposed = {int(p) for keyword, rest in instructions if keyword == "EXPOSE"
               for p in rest.split()}
    defaults = {p.name: p.default for p in main.commands["serve"].params}
    assert exposed == {defaults["port"], defaults["sync_port"], defaults["metrics_port"]}


def test_dockerfile_runs_commands_that_exist() -> None:
    instructions = dict(reversed(dockerfile_instructions()))  # first occurrence wins below
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    entrypoint = exec_form(instructions["ENTRYPOINT"])
    assert entrypoint == ["omniroute"]
    assert "omniroute" in scripts
    cmd = exec_form(instructions["CMD"])
    healthcheck = instructions["HEALTHCHECK"].split("CMD", 1)[1].strip()
    for argv in (cmd, exec_form(healthcheck)[1:]):
        # --help after the arguments still parses them, so an unknown option fails here.
        result = CliRunner().invoke(main, [*argv, "--help"])
        assert result.exit_code == 0, result.output


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme.split("\n## ")[0]
    assert "make test" in (ROOT / ".ci" / "run").read_text()


@pytest.mark.slow
def test_wheel_ships_the_demo_network_and_stubs(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "-w", str(tmp_path), str(ROOT)], check=True)
    (wheel,) = tmp_path.glob("omniroute-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("omniroute/sim/demo_network/nodes.csv", "omniroute/sim/demo_network/rules.toml",
                   "omniroute/v1/router_pb2.py", "omniroute/v1/router_pb2.pyi",
                   "omniroute/py.typed"):
        assert needed in names, f"wheel lacks {needed}"
