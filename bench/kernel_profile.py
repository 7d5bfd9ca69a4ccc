"""Line-level CPU profile of the routing kernel on the benchmark network (a developer tool).

    .venv/bin/python bench/kernel_profile.py [--orders 1000] [--mix five|mixed|one] [--seconds 8]

Routes one batch over and over on the 1,000-node x 100,000-SKU network of `conftest.py` while
`perf record` samples this process, then prints where the samples fell: per compiled function
(the kernels, numba's runtime, libc) and per source line of the kernels. perf alone cannot
name JIT code, so the kernels are compiled with debug info (`NUMBA_DEBUGINFO=1`, set here
before numba is imported) and each compiled library is also emitted as an object file, whose
line table (`objdump -dl`) maps a sample's offset in its function to a line.

Read the line figures as neighbourhoods, not exact lines: optimised code moves and merges
instructions, and a sample lands on the instruction after a stall. Function shares are exact.
Needs `perf` and `objdump` (Debian: linux-perf, binutils) and permission to sample one's own
process (`/proc/sys/kernel/perf_event_paranoid` at most 2).
"""

from __future__ import annotations

import os

os.environ.setdefault("NUMBA_DEBUGINFO", "1")  # before numba is imported, directly or not
# Compiled here, never loaded: cached kernels carry no debug info and no module to emit.
os.environ["OMNIROUTE_KERNEL_CACHE"] = "off"

import argparse
import bisect
import collections
import linecache
import re
import subprocess
import tempfile
import threading
import time
import warnings
from pathlib import Path
from typing import Any

from conftest import mixed_orders, random_orders, synthetic_state
from numba.core.errors import NumbaDebugInfoWarning

from omniroute.engine import Engine
from omniroute.engine import _kernels as kern
from omniroute.engine._numba import compiled_libraries

_FUNCTION = re.compile(r"^([0-9a-f]+) <(.+)>:$")
_SOURCE = re.compile(r"^(/\S+):(\d+)")
_INSTRUCTION = re.compile(r"^\s+([0-9a-f]+):")
_MANGLED_TAIL = re.compile(r"B\d+v\d+B.*$")  # numba's specialisation suffix


class LineTable:
    """Source location of every instruction offset of every function in some object files."""

    def __init__(self, objects: list[Path]) -> None:
        self._rows: dict[str, tuple[list[int], list[tuple[str, int]]]] = {}
        for obj in objects:
            listing = subprocess.run(["objdump", "-d", "-l", "--no-show-raw-insn", str(obj)],
                                     check=True, capture_output=True, text=True).stdout
            self._read(listing)

    def _read(self, listing: str) -> None:
        offsets: list[int] = []
        places: list[tuple[str, int]] = []
        base = 0
        place = ("?", 0)
        for line in listing.splitlines():
            if m := _FUNCTION.match(line):
                offsets, places = [], []
                self._rows[m.group(2)] = (offsets, places)
                base = int(m.group(1), 16)
                place = ("?", 0)
            elif m := _SOURCE.match(line):
                place = (m.group(1), int(m.group(2)))
            elif (m := _INSTRUCTION.match(line)) and self._rows:
                offsets.append(int(m.group(1), 16) - base)
                places.append(place)

    def place(self, function: str, offset: int) -> tuple[str, int]:
        offsets, places = self._rows.get(function, ([], []))
        i = bisect.bisect_right(offsets, offset) - 1
        return places[i] if i >= 0 else ("?", 0)


def _orders(mix: str, n: int) -> list[Any]:
    if mix == "five":
        return random_orders(n, seed=3)
    if mix == "mixed":
        return mixed_orders(n, seed=4)
    return random_orders(1, seed=11) * n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000, help="orders per kernel call")
    parser.add_argument("--mix", choices=["five", "mixed", "one"], default="five",
                        help="1,000 different 5-line orders, the retail mix, or one order")
    parser.add_argument("--seconds", type=float, default=8.0, help="sampling time")
    parser.add_argument("--top", type=int, default=40, help="source lines to print")
    args = parser.parse_args()
    # Debug info for generic numba internals cannot always be emitted; irrelevant here.
    warnings.filterwarnings("ignore", category=NumbaDebugInfoWarning)

    engine = Engine(synthetic_state())
    engine.warm_up()
    prepared = engine._preparer.prepare(_orders(args.mix, args.orders), batch=True)
    call = engine.kernel_args(prepared, engine._run(prepared))

    work = Path(tempfile.mkdtemp(prefix="omniroute-kernel-profile-"))
    starts: list[tuple[int, str]] = []
    objects = []
    for i, library in enumerate(compiled_libraries()):
        obj = work / f"library{i}.o"
        # Private numba API: the target machine that JIT-compiled the library emits the same
        # machine code as an object file, with its line table.
        obj.write_bytes(library._codegen._tm.emit_object(library._final_module))
        objects.append(obj)
        for fn in library.get_defined_functions():
            address = library.get_pointer_to_function(fn.name)
            if address:
                starts.append((address, fn.name))
    starts.sort()
    table = LineTable(objects)

    stop = threading.Event()

    def route_until_stopped() -> None:
        while not stop.is_set():
            kern.route_orders(*call)

    router = threading.Thread(target=route_until_stopped)
    router.start()
    data = work / "perf.data"
    try:
        time.sleep(0.5)
        subprocess.run(["perf", "record", "-q", "-F", "4000", "-p", str(os.getpid()),
                        "-o", str(data), "--", "sleep", str(args.seconds)], check=True)
    finally:
        stop.set()
        router.join()
    script = subprocess.run(["perf", "script", "-i", str(data), "-F", "ip,sym"], check=True,
                            capture_output=True, text=True).stdout
    addresses = [a for a, _ in starts]
    by_function: collections.Counter[str] = collections.Counter()
    by_line: collections.Counter[tuple[str, int]] = collections.Counter()
    total = 0
    for row in script.splitlines():
        fields = row.split(None, 1)
        if not fields:
            continue
        total += 1
        symbol = fields[1].strip() if len(fields) > 1 else "[unknown]"
        if symbol != "[unknown]":  # perf named it: libc, numpy, the interpreter
            by_function[symbol] += 1
            continue
        ip = int(fields[0], 16)
        i = bisect.bisect_right(addresses, ip) - 1
        if i < 0:
            by_function["[unknown]"] += 1
            continue
        address, name = starts[i]
        by_function[_MANGLED_TAIL.sub("", name)] += 1
        path, line = table.place(name, ip - address)
        if path != "?":  # numba's runtime (NRT_*) has no line table
            by_line[(path, line)] += 1
    print(f"{total} samples over {args.seconds:g} s, {args.orders} orders per call "
          f"({args.mix}); files in {work}")
    print("\nby function")
    for name, n in by_function.most_common(15):
        print(f"{100 * n / total:6.1f}%  {name[-90:]}")
    print("\nby kernel source line")
    for (path, line), n in by_line.most_common(args.top):
        text = linecache.getline(path, line).strip()
        print(f"{100 * n / total:6.1f}%  {Path(path).name}:{line:<5} {text[:80]}")


if __name__ == "__main__":
    main()
