"""Keeping CPython's cyclic garbage collector off the serving path of long-lived processes.

A serving process first builds a large, long-lived heap (the network, protobuf descriptors,
numba's dispatchers and type objects), then allocates only short-lived, mostly acyclic
objects per request, which reference counting frees anyway. A full collection walks the whole
long-lived heap every time; in a router worker on the demo network (132k tracked objects)
one took 79 ms here, on the request path of every call in flight. Freezing that heap once it
is built moves it out of the collector's view (a full collection then took under 0.1 ms);
cycles among new objects are still collected.
"""

from __future__ import annotations

import gc


def freeze_long_lived(*, gen0_threshold: int | None = None) -> None:
    """Collect, then freeze every object alive now, at the end of start-up.

    `gen0_threshold` also spaces young collections out (CPython's default is 700 allocations):
    for a process whose every request allocates thousands of objects.
    """
    gc.collect()
    gc.freeze()
    if gen0_threshold is not None:
        _, gen1, gen2 = gc.get_threshold()
        gc.set_threshold(gen0_threshold, gen1, gen2)
