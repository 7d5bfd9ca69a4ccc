"""The kernel cache can only ever load kernels compiled from the sources in this checkout."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

from omniroute.engine import kernel_cache

ENGINE = Path(kernel_cache.__file__).parent
DECLARERS = {"kernel", "helper", "inline"}


def _declares_kernels(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text())):
        if (isinstance(node, ast.ImportFrom) and node.module == "omniroute.engine._numba"
                and DECLARERS & {alias.name for alias in node.names}):
            return True
    return False


def test_every_module_declaring_kernels_is_hashed() -> None:
    package = ENGINE.parent
    declaring = {path.relative_to(package).as_posix() for path in package.rglob("*.py")
                 if _declares_kernels(path)}
    assert declaring, "the scan found no kernel module: it is not looking where kernels live"
    hashed = {f"engine/{name}" for name in kernel_cache.KERNEL_SOURCES}
    assert declaring <= hashed, f"not in KERNEL_SOURCES: {sorted(declaring - hashed)}"


def test_an_edit_to_any_kernel_source_selects_another_directory(tmp_path: Path) -> None:
    for name in kernel_cache.KERNEL_SOURCES:
        shutil.copy(ENGINE / name, tmp_path / name)
    assert kernel_cache.key(tmp_path) == kernel_cache.key()
    seen = {kernel_cache.key()}
    for name in kernel_cache.KERNEL_SOURCES:
        original = (tmp_path / name).read_bytes()
        # A comment changes no semantics, but a hash cannot tell; a callee's edit must count.
        (tmp_path / name).write_bytes(original + b"\n# edited\n")
        seen.add(kernel_cache.key(tmp_path))
        (tmp_path / name).write_bytes(original)
    assert len(seen) == len(kernel_cache.KERNEL_SOURCES) + 1


def _import_engine(cache: str) -> subprocess.CompletedProcess[str]:
    code = ("import numba, omniroute.engine\n"
            "from omniroute.engine import _numba, kernel_cache\n"
            "print(_numba.FLAGS['cache'], kernel_cache.directory(), numba.config.CACHE_DIR)\n")
    env = {**os.environ, kernel_cache.ENV: cache}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def test_cache_directory_is_named_by_the_key(tmp_path: Path) -> None:
    done = _import_engine(str(tmp_path / "kernels"))
    assert done.returncode == 0, done.stderr
    expected = tmp_path / "kernels" / kernel_cache.key()
    assert done.stdout.split() == ["True", str(expected), str(expected)]
    assert expected.is_dir()


def test_off_compiles_in_every_process() -> None:
    done = _import_engine("off")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[:2] == ["False", "None"]


def test_a_named_directory_that_cannot_be_written_is_an_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    done = _import_engine(str(blocker / "kernels"))
    assert done.returncode != 0
    assert kernel_cache.ENV in done.stderr
    assert "cannot write" in done.stderr
