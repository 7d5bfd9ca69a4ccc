"""The shared hold book: incremental arrays against their rebuild-from-ledger twin, several
handles (as several worker processes would hold), torn journal tails, and a holder SIGKILLed
inside the critical section."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omniroute.state.holds import (
    BUILD,
    HELD,
    STOCK,
    SUPPLY,
    ConfirmDone,
    ConfirmStart,
    HoldBook,
    HoldLine,
    NodeCapacity,
    NodeEnabled,
    Release,
    Reserve,
    router_dir,
)
from omniroute.state.journal import frame

NODES = ["DC-A", "DC-B", "STORE-C"]
LON = np.array([-87.6, -74.0, -122.4])  # UTC-6, UTC-5, UTC-8 by the mean-solar rule
DAY = 86_400.0
T0 = 1_780_000_000.0


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def open_book(state: Path, clock: Clock, sku_rows: int = 4) -> HoldBook:
    return HoldBook(state, node_ids=NODES, node_lon=LON,
                    daily_capacity=np.array([100, 50, 10], np.int64),
                    enabled=np.ones(3, np.uint8), sku_rows=sku_rows, clock=clock)


def reserve(book: HoldBook, rid: str, lines: list[HoldLine], expires: float = 0.0) -> int:
    with book.locked():
        return book.commit(Reserve(rid, "o-" + rid, book.now(), expires, lines))


def assert_matches_twin(book: HoldBook) -> None:
    """The arrays the hot path maintained equal the ledger's rebuild."""
    capacity, enabled = np.array([100, 50, 10], np.int64), np.ones(3, np.uint8)
    reserved, used, _day, cap, on = book.ledger.arrays(
        sku_rows=book.reserved.shape[0], now=book.now(), daily_capacity=capacity,
        enabled=enabled)
    np.testing.assert_array_equal(book.reserved, reserved)
    np.testing.assert_array_equal(book.capacity_used, used)
    np.testing.assert_array_equal(book.daily_capacity, cap)
    np.testing.assert_array_equal(book.enabled, on)


def test_reserve_release_confirm_move_the_arrays(tmp_path: Path) -> None:
    clock = Clock()
    book = open_book(tmp_path, clock)
    end = reserve(book, "r1", [HoldLine("1", 0, 0, 3, STOCK), HoldLine("2", 1, 2, 1, BUILD),
                               HoldLine("3", 2, 1, 4, SUPPLY, 20_000)])
    book.wait_durable(end)
    assert book.reserved[0, 0] == 3
    assert book.reserved[1, 2] == 0  # made-to-order: capacity, no stock
    assert book.capacity_used.tolist() == [3, 0, 1]
    assert book.ledger.promised == {(2, 1): 4}
    with book.locked():
        book.commit(Release("r1", ["2"], clock.now, False))
    assert book.capacity_used.tolist() == [3, 0, 0]
    with book.locked():
        book.commit(ConfirmStart("r1", ["1", "3"], clock.now, book.next_confirm_seq()))
    assert book.reserved[0, 0] == 3  # still held until the sidecar dropped on-hand
    with book.locked():
        book.commit(ConfirmDone(1, clock.now, ""))
    assert book.reserved[0, 0] == 0
    assert book.capacity_used.tolist() == [3, 0, 0]  # shipped units keep their capacity
    assert book.ledger.promised == {}
    assert_matches_twin(book)


def test_a_second_handle_sees_commits_and_recovers_them(tmp_path: Path) -> None:
    clock = Clock()
    first = open_book(tmp_path, clock)
    second = open_book(tmp_path, clock)
    reserve(first, "r1", [HoldLine("1", 0, 1, 2, STOCK)])
    # The arrays are shared memory: the other handle reads them at once ...
    assert second.reserved[0, 1] == 2
    # ... and its ledger catches up from the journal.
    second.catch_up()
    assert second.ledger.reservations["r1"].status == {"1": HELD}
    with second.locked():
        second.commit(NodeEnabled(2, False, "flooded", clock.now))
        second.commit(NodeCapacity(0, 7, clock.now))
    assert first.enabled.tolist() == [1, 1, 0]
    assert first.daily_capacity[0] == 7
    # A restart from the files alone rebuilds the same state.
    for name in os.listdir(router_dir(tmp_path)):
        if name.endswith(".data") or name == "holds.header":
            (router_dir(tmp_path) / name).unlink()
    third = open_book(tmp_path, clock)
    assert third.reserved[0, 1] == 2
    assert third.enabled.tolist() == [1, 1, 0]
    assert third.daily_capacity[0] == 7


def test_capacity_is_per_node_day(tmp_path: Path) -> None:
    # 12:00 UTC on a day: at every node of the test network it is the same local day.
    clock = Clock(T0 - T0 % DAY + 12 * 3600)
    book = open_book(tmp_path, clock)
    reserve(book, "r1", [HoldLine("1", 0, 0, 5, STOCK), HoldLine("2", 0, 2, 2, STOCK)])
    assert book.capacity_used.tolist() == [5, 0, 2]
    # 06:30 UTC the next day: past midnight at DC-A (UTC-6) and DC-B, not yet at STORE-C (UTC-8).
    clock.now += 18.5 * 3600
    with book.locked():
        pass
    assert book.capacity_used.tolist() == [0, 0, 2]
    # Releasing yesterday's units gives nothing back to today's DC-A counter.
    with book.locked():
        book.commit(Release("r1", ["1", "2"], clock.now, False))
    assert book.capacity_used.tolist() == [0, 0, 0]
    assert_matches_twin(book)


def test_torn_tail_is_dropped_and_the_arrays_rebuilt(tmp_path: Path) -> None:
    clock = Clock()
    book = open_book(tmp_path, clock)
    reserve(book, "r1", [HoldLine("1", 0, 0, 3, STOCK)])
    journal = router_dir(tmp_path) / "holds.journal"
    good = journal.stat().st_size
    # A writer died mid-record (half a frame on disk) after bumping the array in place.
    with journal.open("ab") as handle:
        handle.write(frame(0, b"\x95\xa7reserve" + b"x" * 40)[:20])
    book.reserved[0, 0] += 99
    fresh = open_book(tmp_path, clock)
    with fresh.locked():
        pass
    assert journal.stat().st_size == good
    assert fresh.reserved[0, 0] == 3
    assert_matches_twin(fresh)


def test_holder_killed_inside_the_critical_section(tmp_path: Path) -> None:
    clock = Clock()
    book = open_book(tmp_path, clock)
    reserve(book, "r1", [HoldLine("1", 0, 0, 3, STOCK)])
    pid = os.fork()
    if pid == 0:  # a worker that dies holding the lock, arrays half-updated, record torn
        try:
            child = open_book(tmp_path, clock)
            with child.locked():
                child._h[4] = 1  # H_DIRTY, as commit() sets it before touching anything
                child.reserved[0, 0] += 5
                with (router_dir(tmp_path) / "holds.journal").open("ab") as handle:
                    handle.write(b"\x10\x00\x00\x00partial")
                os.kill(os.getpid(), signal.SIGKILL)
        finally:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status)
    assert os.WTERMSIG(status) == signal.SIGKILL
    # The kernel released the flock with the process; the next holder repairs.
    with book.locked():
        end = book.commit(Reserve("r2", "o-2", clock.now, 0.0, [HoldLine("1", 0, 0, 1, STOCK)]))
    book.wait_durable(end)
    assert book.reserved[0, 0] == 4
    assert_matches_twin(book)
    assert set(open_book(tmp_path, clock).ledger.reservations) == {"r1", "r2"}


def test_arrays_grow_with_the_catalog(tmp_path: Path) -> None:
    clock = Clock()
    book = open_book(tmp_path, clock, sku_rows=2)
    other = open_book(tmp_path, clock, sku_rows=2)
    rows = book.reserved.shape[0]
    reserve(book, "r1", [HoldLine("1", rows + 5, 1, 2, STOCK)])
    assert book.reserved.shape[0] > rows + 5
    assert other.reserved[rows + 5, 1] == 2  # the other handle remaps the new generation


OPS = st.lists(st.tuples(st.sampled_from(["reserve", "release", "confirm", "day", "admin"]),
                         st.integers(0, 2), st.integers(0, 3), st.integers(1, 5),
                         st.sampled_from([STOCK, BUILD, SUPPLY])), max_size=40)


@settings(max_examples=60, deadline=None)
@given(ops=OPS)
def test_incremental_arrays_equal_the_rebuild(tmp_path_factory: pytest.TempPathFactory,
                                              ops: list[tuple[str, int, int, int, int]]) -> None:
    clock = Clock()
    book = open_book(tmp_path_factory.mktemp("holds"), clock)
    made: list[str] = []
    for n, (op, node, sku, qty, kind) in enumerate(ops):
        with book.locked():
            if op == "reserve":
                rid = f"r{n}"
                book.commit(Reserve(rid, rid, clock.now, 0.0, [
                    HoldLine("a", sku, node, qty, kind), HoldLine("b", 3 - sku, 2 - node, 1,
                                                                  STOCK)]))
                made.append(rid)
            elif op in ("release", "confirm") and made:
                res = book.ledger.reservations[made[qty % len(made)]]
                held = [lid for lid, s in res.status.items() if s == HELD]
                if held and op == "release":
                    book.commit(Release(res.record.reservation_id, held[:1], clock.now, False))
                elif held:
                    seq = book.next_confirm_seq()
                    book.commit(ConfirmStart(res.record.reservation_id, held, clock.now, seq))
                    book.commit(ConfirmDone(seq, clock.now, ""))
            elif op == "day":
                clock.now += qty * 7 * 3600
            elif op == "admin":
                book.commit(NodeCapacity(node, qty * 10, clock.now))
                book.commit(NodeEnabled(node, qty % 2 == 0, "", clock.now))
    with book.locked():  # rolls the day, as every holder does
        pass
    assert_matches_twin(book)
