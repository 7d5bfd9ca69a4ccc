"""Line-level CPU profile of the routing kernel on the benchmark network (a developer tool).

    .venv/bin/python bench/kernel_profile.py [--orders 1000] [--mix five|mixed|one] [--seconds 8]

Routes one batch over and over on the 1,000-node x 100,000-SKU network of `conftest.py` while
`perf record` samples this process, then prints where the samples fell: per compiled function
(the kernels, numba's runtime, libc) and per source line of the kernels. perf alone cannot
name JIT code, so the kernels are compiled here (never loaded from the kernel cache) with
line tables (`NUMBA_DEBUGINFO=1`, set before numba is imported, in numba's directives-only
mode so inlining stays as in the optimised build), and each compiled library is also emitted
as an object file, whose line table maps a sample's offset in its function to a line.

Read the line figures as neighbourhoods, not exact lines: optimised code moves and merges
instructions, and a sample lands on the instruction after a stall. Function shares are exact.

The object file is the same module compiled again, and its machine code need not be the code
that ran: on 2026-12-07 (numba 0.68) route_orders' two builds shared 6% of their bytes and
parted ways at its 231st instruction, so offsets into one named lines of the other. The tool
checks each sampled function: where the object's instruction at a sampled offset is not the
one that ran, it says so, leaves that function out of the line table and prints its hottest
instructions as they ran instead (disassembled from memory: the sample lands after a stalled
instruction, so read the one before it too).

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
import ctypes
import functools
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
from omniroute.engine._numba import compiled_libraries, line_tables_only

_FUNCTION = re.compile(r"^([0-9a-f]+) <(.+)>:$")
_ROW = re.compile(r"^(\S+\.py)\s+(\d+)\s+(0x[0-9a-f]+|\d+)\b")  # objdump's decoded lines
_MANGLED_TAIL = re.compile(r"B\d+v\d+B.*$")  # numba's specialisation suffix
_INSTRUCTION = re.compile(r"^\s+([0-9a-f]+):\s+(\S.*)$")  # objdump --no-show-raw-insn rows
_SOURCES = Path(kern.__file__).parent


@functools.cache  # asked once per line-table row: tens of thousands of rows, a few files
def _source(name: str) -> str:
    """A line table's file name (no directory) as a path: the kernels' own modules, or as is
    (numba's inlined library code)."""
    return str(_SOURCES / name) if (_SOURCES / name).exists() else name


class LineTable:
    """Source location of every instruction offset of every function in some object files.

    Functions start where `objdump -d` says; lines come from the DWARF line table
    (`objdump --dwarf=decodedline`), the only debug information a line-tables-only build has.
    Both are offsets in the object's one code section. Line 0 marks code of no source line.
    """

    def __init__(self, objects: list[Path]) -> None:
        self._start: dict[str, tuple[int, int]] = {}  # function -> (object, start)
        self.instructions: dict[str, dict[int, str]] = {}
        """function -> offset -> mnemonic, as the object has them"""
        self._rows: list[tuple[list[int], list[tuple[str, int]]]] = []
        for k, obj in enumerate(objects):
            listing = subprocess.run(["objdump", "-d", "--no-show-raw-insn", str(obj)],
                                     check=True, capture_output=True, text=True).stdout
            function = ""
            for line in listing.splitlines():
                if m := _FUNCTION.match(line):
                    function = m.group(2)
                    self._start[function] = (k, int(m.group(1), 16))
                    self.instructions[function] = {}
                elif function and (m := _INSTRUCTION.match(line)):
                    offset = int(m.group(1), 16) - self._start[function][1]
                    self.instructions[function][offset] = m.group(2).split()[0]
            decoded = subprocess.run(["objdump", "--wide", "--dwarf=decodedline", str(obj)],
                                     check=True, capture_output=True, text=True).stdout
            # By address only: rows sharing one keep their table order, the last one applying.
            rows = sorted(((int(m.group(3), 0), _source(m.group(1)), int(m.group(2)))
                           for m in map(_ROW.match, decoded.splitlines()) if m),
                          key=lambda row: row[0])
            self._rows.append(([r[0] for r in rows], [(r[1], r[2]) for r in rows]))

    def place(self, function: str, offset: int) -> tuple[str, int]:
        if function not in self._start:
            return ("?", 0)
        k, start = self._start[function]
        addresses, places = self._rows[k]
        i = bisect.bisect_right(addresses, start + offset) - 1
        if i < 0 or places[i][1] == 0:
            return ("?", 0)
        return places[i]


def _ran(address: int, size: int, work: Path) -> dict[int, str]:
    """Offset -> instruction text of the machine code at `address` (read from this process)."""
    blob = work / "ran.bin"
    blob.write_bytes(ctypes.string_at(address, size))
    listing = subprocess.run(["objdump", "-D", "-b", "binary", "-m", "i386:x86-64",
                              "--no-show-raw-insn", str(blob)],
                             check=True, capture_output=True, text=True).stdout
    code = {}
    for line in listing.splitlines():
        if m := _INSTRUCTION.match(line):
            code[int(m.group(1), 16)] = re.sub(r"\s*<.*>$", "", m.group(2))
    return code


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

    line_tables_only()
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
            kern.route_by_table(*call)

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
    by_offset: collections.defaultdict[tuple[int, str], collections.Counter[int]] = (
        collections.defaultdict(collections.Counter))
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
        by_offset[(address, name)][ip - address] += 1
    # Each sampled kernel's object code against the code that ran, at the sampled offsets.
    mismatched: list[tuple[str, dict[int, str], collections.Counter[int]]] = []
    for (address, name), offsets in by_offset.items():
        listed = table.instructions.get(name)
        if not listed:
            continue  # numba's runtime (NRT_*): no line table
        ran = _ran(address, max(listed) + 16, work)
        same = sum(n for off, n in offsets.items()
                   if off in listed and ran.get(off, "").split(" ")[0] == listed[off])
        if same < 0.99 * sum(offsets.values()):
            mismatched.append((name, ran, offsets))
            continue
        for off, n in offsets.items():
            path, line = table.place(name, off)
            if path != "?":
                by_line[(path, line)] += n
    print(f"{total} samples over {args.seconds:g} s, {args.orders} orders per call "
          f"({args.mix}); files in {work}")
    print("\nby function")
    for name, n in by_function.most_common(15):
        print(f"{100 * n / total:6.1f}%  {name[-90:]}")
    print("\nby kernel source line")
    for (path, line), n in by_line.most_common(args.top):
        text = linecache.getline(path, line).strip()
        print(f"{100 * n / total:6.1f}%  {Path(path).name}:{line:<5} {text[:80]}")
    mismatched.sort(key=lambda entry: -sum(entry[2].values()))
    for name, ran, offsets in mismatched:
        if sum(offsets.values()) < 0.01 * total:
            continue
        print(f"\n{_MANGLED_TAIL.sub('', name)[-60:]}: its object code is not the code that ran, "
              "so no source lines; hottest instructions as they ran (offset: previous "
              "instruction / sampled one)")
        order = sorted(ran)
        position = {off: i for i, off in enumerate(order)}
        for off, n in offsets.most_common(args.top):
            i = position.get(off, 0)
            before = ran[order[i - 1]] if i > 0 else "?"
            print(f"{100 * n / total:6.1f}%  {off:#7x}: {before[:45]:45s} / "
                  f"{ran.get(off, '?')[:45]}")


if __name__ == "__main__":
    main()
