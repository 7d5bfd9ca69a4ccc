"""The one place that sets numba flags (STYLE habit 3) and compiles kernels (habit 4).

Kernels are declared lazily with their explicit signatures recorded here; `compile_all()`
compiles each for exactly that signature at start-up (`Engine.warm_up`), so importing the
package stays fast and the first request never pays for compilation.

Flags and why:

- `nogil=True`: router threads (and the batch path) run kernels without holding the GIL.
  Entry points declared with `holds_gil=True` keep it instead: a call of ~10 us that lets the
  GIL go must take it back behind the server's other threads, and for small unary Routes
  (wire.py) that wait was longer than the call (server-side mean per Route 54-65 us
  releasing it, 43-48 us holding it; closed-loop ratio to echo 0.67-0.82x and 0.84-0.89x;
  three runs each, alternated, on a 2-core VM whose ratios spread by +-0.07 run to run).
- `cache`: compiled kernels are kept on disk (`kernel_cache.py`) because compiling them takes
  minutes; the cache's directory is keyed by the kernel sources, so it is never stale.
- `fastmath=False`: distances must agree with the NumPy table and the slow twins; reassociation
  would move costs by ulps and zone edges by a band.
- `error_model="numpy"`: division by zero yields inf instead of raising; kernels never divide
  by a value they have not checked, and the check-free division is faster.
- `boundscheck=False`: wrappers validate shapes and ids before calling (STYLE habit 2).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
from llvmlite import ir  # type: ignore[import-untyped]
from numba import carray, njit, types  # type: ignore[attr-defined]
from numba.core import cgutils
from numba.core.compiler import Flags
from numba.cpython.unsafe.numbers import trailing_zeros
from numba.extending import intrinsic

from omniroute.engine import kernel_cache

FLAGS: dict[str, Any] = {
    "nogil": True,
    "cache": kernel_cache.enable(),
    "fastmath": False,
    "error_model": "numpy",
    "boundscheck": False,
}

_REGISTRY: list[tuple[Any, Any, bool]] = []

# Type shorthands for explicit signatures: C-contiguous arrays only (wrappers make them so).
i8_1 = types.int8[::1]
u8_1 = types.uint8[::1]
i32_1 = types.int32[::1]
i64_1 = types.int64[::1]
f64_1 = types.float64[::1]
i8_2 = types.int8[:, ::1]
u8_2 = types.uint8[:, ::1]
i32_2 = types.int32[:, ::1]
i64_2 = types.int64[:, ::1]
f64_2 = types.float64[:, ::1]
i32_3 = types.int32[:, :, ::1]
u64_2 = types.uint64[:, ::1]
i64 = types.int64
f64 = types.float64
void = types.void


def kernel(restype: Any, *argtypes: Any, serving: bool = True, holds_gil: bool = False
           ) -> Callable[[Callable[..., Any]], Any]:
    """Declare an entry kernel with its explicit signature; compiled by `compile_all`.

    `serving=False` marks entry points only tests and tools call (the router inlines their
    code): start-up skips them, `compile_all(everything=True)` includes them. `holds_gil=True`
    keeps the GIL for the call (see `FLAGS`); such a kernel is its own function, never a
    second dispatcher of another's: numba's disk cache tells a function's compilations apart
    by signature, not by flags.
    """

    def decorate(fn: Callable[..., Any]) -> Any:
        dispatcher = njit(**{**FLAGS, "nogil": not holds_gil})(fn)
        _REGISTRY.append((dispatcher, restype(*argtypes), serving))
        return dispatcher

    return decorate


def helper(fn: Callable[..., Any]) -> Any:
    """A kernel-internal function, compiled as its own function and called."""
    return njit(**FLAGS)(fn)


def inline(fn: Callable[..., Any]) -> Any:
    """A small kernel-internal function inlined at numba IR level into each caller.

    Measured: a non-inlined helper taking seven arrays costs ~100 ns per call (NRT reference
    counting of every array argument), 50x its work; inlined, the counting disappears.
    """
    return njit(inline="always", **FLAGS)(fn)


def compile_all(*, everything: bool = False) -> None:
    """Compile every serving kernel (or every kernel) for its signature (idempotent): loaded
    from the kernel cache when it holds them, else compiled and saved there."""
    todo = [(dispatcher, signature) for dispatcher, signature, serving in _REGISTRY
            if (serving or everything) and signature.args not in dispatcher.overloads]
    if not todo:
        return
    with kernel_cache.exclusive():
        for dispatcher, signature in todo:
            dispatcher.compile(signature)


def compiled_libraries() -> list[Any]:
    """The code libraries of every compiled kernel, each once (bench/kernel_profile.py maps
    profiler samples to source lines through them)."""
    libraries: dict[int, Any] = {}
    for dispatcher, _, _ in _REGISTRY:
        for result in dispatcher.overloads.values():
            libraries.setdefault(id(result.library), result.library)
    return list(libraries.values())


def line_tables_only() -> None:
    """Compile what follows with source line tables only (bench/kernel_profile.py, with
    `NUMBA_DEBUGINFO=1`): numba's full debug info marks every function noinline, so min/max,
    reference counts and helpers would show up as calls the served kernels do not make.
    Variable lifetimes stay extended (numba sets that with debug info whatever the default),
    which can move where references are released. Private numba API (an option's default),
    used as numba's CUDA line info uses the option."""
    Flags.options["dbg_directives_only"]._default = True


def kernels_holding_gil() -> set[str]:
    """Names of the entry kernels that keep the GIL while they run (`holds_gil=True`)."""
    return {dispatcher.py_func.__name__ for dispatcher, _, _ in _REGISTRY
            if not dispatcher.targetoptions["nogil"]}


def compiled_signatures() -> dict[str, int]:
    """Kernel name -> number of compiled specializations (tests assert no silent recompiles)."""
    return {dispatcher.py_func.__name__: len(dispatcher.overloads)
            for dispatcher, _, _ in _REGISTRY}


@intrinsic
def _prefetch(typingctx: Any, array: Any, index: Any) -> Any:
    """`prefetch(a, i)`: ask the CPU to start loading the cache line of 1-D `a[i]` (a hint; no
    fault, no effect on results). `i` must be in range (no wraparound, no bounds check).

    The batch kernel issues it for the next order's inventory rows: they are cold (a random
    SKU's row of a [sku, node] array), and a scan that waits for each row's first lines was a
    fifth of a cold order's kernel time.
    """
    sig = types.void(array, index)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        array_type = signature.args[0]
        ary = context.make_array(array_type)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(  # type: ignore[no-untyped-call]
            context, builder, array_type, ary, [args[1]], wraparound=False)
        i8_ptr = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fn_type = ir.FunctionType(ir.VoidType(), [i8_ptr, i32, i32, i32])
        fn = cgutils.get_or_insert_function(  # type: ignore[no-untyped-call]
            builder.module, fn_type, "llvm.prefetch.p0")
        # read (0), high temporal locality (3), data cache (1)
        builder.call(fn, [builder.bitcast(ptr, i8_ptr), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return sig, codegen


prefetch: Any = _prefetch
"""Kernels call `prefetch(a, i)`; typed `Any` because mypy sees numba's intrinsic protocol."""

lowest_set_bit: Any = trailing_zeros
"""`lowest_set_bit(w)`: index of the lowest set bit of a non-zero integer (one `tzcnt`)."""


@intrinsic
def _address_as(typingctx: Any, address: Any, dtype: Any) -> Any:
    """`address_as(a, np.int64)`: the integer address `a` as a pointer to that dtype."""
    pointer = types.CPointer(dtype.dtype)  # type: ignore[no-untyped-call]
    sig = pointer(address, dtype)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.inttoptr(args[0], context.get_value_type(pointer))

    return sig, codegen


address_as: Any = _address_as
"""Kernels call `carray(address_as(a, np.float64), shape)` to view an array by its address:
a table of addresses is one argument where its arrays would be dozens, and numba's dispatcher
pays about 80 ns per argument (measured: 2.5 us for 32 arrays, the whole of a small kernel's
work). Whoever builds such a table keeps its arrays alive for as long as it is used."""


def address_table(arrays: list[npt.NDArray[Any]], slots: tuple[tuple[str, type, int], ...]
                  ) -> npt.NDArray[np.int64]:
    """The address table of `arrays`, read by `view1` / `view2` / `view3`: slot k is
    `[address, dim0, dim1, dim2]` at `4 k`. Each array is checked against its slot (name,
    dtype, rank): the kernel views memory by address, so a wrong dtype, rank or layout would
    read garbage."""
    if len(arrays) != len(slots):
        raise ValueError(f"{len(arrays)} arrays for {len(slots)} slots")
    if any(ndim > 3 for _, _, ndim in slots):
        raise ValueError("a table slot holds an array of rank 3 at most")
    table = np.zeros(4 * len(slots), np.int64)
    for k, (array, (name, dtype, ndim)) in enumerate(zip(arrays, slots, strict=True)):
        if array.dtype != dtype or array.ndim != ndim or not array.flags.c_contiguous:
            raise ValueError(f"{name} is {array.dtype}{array.shape} "
                             f"(C-contiguous: {array.flags.c_contiguous}), "
                             f"expected a C-contiguous {np.dtype(dtype)} array of rank {ndim}")
        table[4 * k] = array.ctypes.data
        table[4 * k + 1:4 * k + 1 + ndim] = array.shape
    return table


@inline
def view1(table, k, dtype):  # type: ignore[no-untyped-def]
    """Slot k of an `address_table` as the 1-D array of `dtype` it was built from."""
    return carray(address_as(table[4 * k], dtype), (table[4 * k + 1],))


@inline
def view2(table, k, dtype):  # type: ignore[no-untyped-def]
    return carray(address_as(table[4 * k], dtype), (table[4 * k + 1], table[4 * k + 2]))


@inline
def view3(table, k, dtype):  # type: ignore[no-untyped-def]
    return carray(address_as(table[4 * k], dtype),
                  (table[4 * k + 1], table[4 * k + 2], table[4 * k + 3]))
