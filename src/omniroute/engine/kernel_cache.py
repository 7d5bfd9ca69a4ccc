"""Where compiled kernels are kept between processes, and why a stale one is never loaded.

Compiling every kernel takes minutes on this project's 2-core machine (the wire kernel alone is
about 40 s, DESIGN section 7), once per process that routes: every server start, every test
run. numba's on-disk cache removes that, with two faults this module closes:

- numba checks only the source file of the function it saved, not the files of the functions
  it inlined or called (`route_wire` holds code from `_wire.py`, `_kernels.py` and
  `_search.py`), so an edit to a callee would load a stale caller. Here the cache directory is
  named by a hash of every kernel source file and of the compiler's versions: any edit selects
  a new, empty directory.
- numba writes cache files without a lock, and concurrent writers have crashed readers (numba
  issues 4807 and 10128). `exclusive()` holds an advisory lock on the directory while a process
  compiles or loads, so the first process compiles and saves and the ones waiting load.

`OMNIROUTE_KERNEL_CACHE` names the root directory (default `$XDG_CACHE_HOME/omniroute/kernels`,
else `~/.cache/omniroute/kernels`); `off` compiles in every process.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import platform
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import llvmlite  # type: ignore[import-untyped]
import numba
import numpy as np

log = logging.getLogger(__name__)

ENV = "OMNIROUTE_KERNEL_CACHE"

KERNEL_SOURCES = ("_numba.py", "_kernels.py", "_search.py", "_wire.py", "kernel_cache.py")
"""Engine modules whose code is compiled (tests check that every module declaring kernels is
listed); hashed into the cache directory's name."""

STALE_AFTER_S = 7 * 86400.0
"""Sibling directories (other versions of the sources) unused this long are removed."""

_directory: Path | None = None


def key(sources: Path = Path(__file__).parent) -> str:
    """A hash of the kernel sources (in `sources`) and of everything that compiles them."""
    digest = hashlib.sha256()
    for part in (sys.version, platform.machine(), numba.__version__, llvmlite.__version__,
                 np.__version__):
        digest.update(part.encode())
        digest.update(b"\0")
    for name in KERNEL_SOURCES:
        digest.update(name.encode())
        digest.update(b"\0")
        digest.update((sources / name).read_bytes())
    return digest.hexdigest()[:20]


def root() -> Path | None:
    """The cache's root directory, or None when `OMNIROUTE_KERNEL_CACHE=off`."""
    named = os.environ.get(ENV, "").strip()
    if named.lower() == "off":
        return None
    if named:
        return Path(named)
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(base) if base else Path.home() / ".cache") / "omniroute" / "kernels"


def enable() -> bool:
    """Point numba's cache at this version's directory; False (compile in every process) when
    caching is off or the directory cannot be written. Runs once, before any kernel is
    declared: numba fixes a function's cache location when it is decorated."""
    global _directory
    top = root()
    if top is None:
        return False
    directory = top / key()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / f".probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        if os.environ.get(ENV, "").strip():
            raise OSError(f"{ENV}={os.environ[ENV]!r}: cannot write {directory}: {exc}") from exc
        log.warning("kernel cache off: cannot write %s (%s); set %s to a writable directory",
                    directory, exc, ENV)
        return False
    numba.config.CACHE_DIR = str(directory)  # type: ignore[attr-defined]
    _directory = directory
    return True


def directory() -> Path | None:
    """This version's cache directory, or None when caching is off."""
    return _directory


@contextlib.contextmanager
def exclusive() -> Iterator[None]:
    """Hold the cache directory's lock (a no-op when caching is off); removes stale siblings."""
    if _directory is None:
        yield
        return
    with open(_directory / "compile.lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            os.utime(_directory)
            _remove_stale(_directory)
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _remove_stale(current: Path) -> None:
    cutoff = time.time() - STALE_AFTER_S
    for sibling in current.parent.iterdir():
        if sibling == current or not sibling.is_dir():
            continue
        with contextlib.suppress(OSError):
            if sibling.stat().st_mtime < cutoff:
                shutil.rmtree(sibling)
