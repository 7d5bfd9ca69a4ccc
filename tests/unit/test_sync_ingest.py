"""The sidecar's durable core without gRPC: ledger semantics, journal, snapshots, recovery."""

from __future__ import annotations

import datetime as dt
import errno
import multiprocessing
import os
import random
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omniroute.errors import FailedPrecondition
from omniroute.state.journal import (
    Journal,
    JournalCorrupt,
    JournalFailed,
    read_journal,
    segments,
)
from omniroute.state.shared import SharedInventory, day_number
from omniroute.sync.ingest import Ingestor, list_snapshots
from omniroute.sync.ledger import (
    KIND_ADJUST,
    KIND_SET,
    Applied,
    DeltaColumns,
    Duplicate,
    Ledger,
    Rejected,
    SupplyColumns,
    delta_rows,
    empty_deltas,
    empty_supply,
)

SELLABLE, DAMAGED = 1, 2  # wire numbers of Disposition
ADD, CANCEL = 1, 2


def deltas(*rows: tuple[str, str, int, int, int]) -> DeltaColumns:
    """rows of (sku, node, disposition, kind, qty)."""
    return delta_rows([r[0] for r in rows], [r[1] for r in rows],
                      np.array([r[2] for r in rows], dtype=np.int64),
                      np.array([r[3] for r in rows], dtype=np.int64),
                      np.array([r[4] for r in rows], dtype=np.int64))


def supply(*rows: tuple[str, str, int, int, str]) -> SupplyColumns:
    """rows of (sku, node, action, qty, date)."""
    return SupplyColumns([r[0] for r in rows], [r[1] for r in rows],
                         np.array([r[2] for r in rows], dtype=np.int64),
                         np.array([r[3] for r in rows], dtype=np.int64), [r[4] for r in rows])


@pytest.fixture
def ingestor(tmp_path: Path) -> Iterator[Ingestor]:
    ing = Ingestor(tmp_path / "state", network_dir=None, snapshots=False)
    yield ing
    ing.close()


def cell(ing: Ingestor, sku: str, node: str, disposition: int = SELLABLE) -> int:
    ledger = ing.ledger
    return int(ledger.on_hand[disposition - 1, ledger.sku_index[sku], ledger.node_index[node]])


def submit(ing: Ingestor, source: str, seq: int, inv: DeltaColumns | None = None,
           sup: SupplyColumns | None = None) -> Applied | Duplicate | Rejected:
    pending = ing.submit(source, seq, inv or empty_deltas(), sup or empty_supply())
    ing.wait(pending)
    return pending.outcome


def test_adjust_set_and_duplicate(ingestor: Ingestor) -> None:
    node = ingestor.ledger.node_ids[0]
    sku = ingestor.ledger.sku_ids[0]
    before = cell(ingestor, sku, node)
    batch = deltas((sku, node, SELLABLE, KIND_ADJUST, 5), (sku, node, SELLABLE, KIND_ADJUST, -2))
    assert isinstance(submit(ingestor, "wms", 1, batch), Applied)
    assert cell(ingestor, sku, node) == before + 3
    # Retry of the same sequence (e.g. after a reconnect): acknowledged, not reapplied.
    assert isinstance(submit(ingestor, "wms", 1, batch), Duplicate)
    assert cell(ingestor, sku, node) == before + 3
    # SET then ADJUST in one batch apply in order.
    batch = deltas((sku, node, SELLABLE, KIND_SET, 10), (sku, node, SELLABLE, KIND_ADJUST, 1))
    assert isinstance(submit(ingestor, "wms", 2, batch), Applied)
    assert cell(ingestor, sku, node) == 11
    # Another source has its own sequence space.
    assert isinstance(submit(ingestor, "pos", 1, deltas((sku, node, DAMAGED, KIND_SET, 4))),
                      Applied)
    assert cell(ingestor, sku, node, DAMAGED) == 4
    assert ingestor.ledger.version == 3


def test_gap_accepted_and_late_batch_is_duplicate(ingestor: Ingestor) -> None:
    node = ingestor.ledger.node_ids[1]
    sku = ingestor.ledger.sku_ids[1]
    before = cell(ingestor, sku, node)
    one = deltas((sku, node, SELLABLE, KIND_ADJUST, 1))
    assert isinstance(submit(ingestor, "erp", 1, one), Applied)
    assert isinstance(submit(ingestor, "erp", 5, one), Applied)  # gap 2..4: accepted
    assert isinstance(submit(ingestor, "erp", 3, one), Duplicate)  # late: not applied
    assert cell(ingestor, sku, node) == before + 2
    assert ingestor.sources()["erp"].sequence == 5


def test_bad_batch_changes_nothing(ingestor: Ingestor) -> None:
    ledger = ingestor.ledger
    node, sku = ledger.node_ids[2], ledger.sku_ids[2]
    on_hand = ledger.on_hand.copy()
    n_skus, version = len(ledger.sku_ids), ledger.version
    current = cell(ingestor, sku, node)
    batch = deltas(
        (sku, node, SELLABLE, KIND_ADJUST, 1),  # fine
        ("BRAND-NEW", node, SELLABLE, KIND_ADJUST, 1),  # fine on its own (new SKU)
        (sku, "NO-SUCH-NODE", SELLABLE, KIND_ADJUST, 1),
        (sku, node, 0, KIND_ADJUST, 1),  # unspecified disposition
        (sku, node, SELLABLE, 0, 1),  # unspecified kind
        (sku, node, SELLABLE, KIND_SET, -1),
        (sku, node, DAMAGED, KIND_ADJUST, -(10**6)),  # below zero
        ("bad sku", node, SELLABLE, KIND_ADJUST, 1),
    )
    bad_supply = supply((sku, node, ADD, 0, "2027-01-01"), (sku, node, ADD, 1, "2027-13-01"),
                        (sku, node, CANCEL, 5, "2030-01-01"), (sku, node, 0, 1, "2027-01-01"))
    outcome = submit(ingestor, "wms", 1, batch, bad_supply)
    assert isinstance(outcome, Rejected)
    got = {(e.supply, e.index, e.field) for e in outcome.errors}
    assert got == {(False, 2, "node_id"), (False, 3, "disposition"), (False, 4, "kind"),
                   (False, 5, "qty"), (False, 6, "qty"), (False, 7, "sku"),
                   (True, 0, "qty"), (True, 1, "available_date"), (True, 2, "qty"),
                   (True, 3, "action")}
    assert all(e.reason for e in outcome.errors)
    assert np.array_equal(ledger.on_hand, on_hand)
    assert (len(ledger.sku_ids), ledger.version) == (n_skus, version)
    assert "BRAND-NEW" not in ledger.sku_index
    assert "wms" not in ledger.sources
    assert cell(ingestor, sku, node) == current
    # The same sequence, fixed, is then accepted.
    fixed = deltas((sku, node, SELLABLE, KIND_ADJUST, 1))
    assert isinstance(submit(ingestor, "wms", 1, fixed), Applied)


def test_negative_midway_is_rejected(ingestor: Ingestor) -> None:
    node, sku = ingestor.ledger.node_ids[0], ingestor.ledger.sku_ids[0]
    assert isinstance(submit(ingestor, "s", 1, deltas((sku, node, SELLABLE, KIND_SET, 2))),
                      Applied)
    outcome = submit(ingestor, "s", 2, deltas((sku, node, SELLABLE, KIND_ADJUST, -3),
                                              (sku, node, SELLABLE, KIND_ADJUST, 5)))
    assert isinstance(outcome, Rejected)
    assert [(e.index, e.field) for e in outcome.errors] == [(0, "qty")]
    assert cell(ingestor, sku, node) == 2


def test_dictionary_encoded_columns(ingestor: Ingestor) -> None:
    """Columns as `InventoryDeltaColumns` sends them: ids once per batch, refs per delta."""
    ledger = ingestor.ledger
    n0, n1 = ledger.node_ids[0], ledger.node_ids[1]
    old = ledger.sku_ids[5]
    before = cell(ingestor, old, n1)
    first_new = len(ledger.sku_ids)

    def columns(sku_ids: list[str], sku_ref: list[int], node_ids: list[str],
                node_ref: list[int], qty: list[int], *, times: list[int] | None = None,
                ) -> DeltaColumns:
        n = len(qty)
        return DeltaColumns(sku_ids, np.array(sku_ref, dtype=np.int64), node_ids,
                            np.array(node_ref, dtype=np.int64),
                            np.full(n, SELLABLE, dtype=np.int64),
                            np.full(n, KIND_ADJUST, dtype=np.int64),
                            np.array(qty, dtype=np.int64),
                            np.array(times or [], dtype=np.int64))

    # The table lists NEW-B before NEW-A and repeats `old`, and holds an unused bad id; new
    # SKUs are numbered in order of their first delta.
    batch = columns(["NEW-B", old, "NEW-A", old, "not used"], [2, 1, 0, 3, 2],
                    [n1, n0], [1, 0, 0, 0, 1], [1, 2, 3, 4, 5], times=[10, 30, 20, 0, 0])
    assert isinstance(submit(ingestor, "col", 1, batch), Applied)
    assert ledger.sku_ids[first_new:] == ["NEW-A", "NEW-B"]
    assert cell(ingestor, "NEW-A", n0) == 1 + 5
    assert cell(ingestor, "NEW-B", n1) == 3
    assert cell(ingestor, old, n1) == before + 6
    assert "not used" not in ledger.sku_index
    # A ref outside its table is a bad delta with its index; nothing applies.
    version = ledger.version
    outcome = submit(ingestor, "col", 2, columns([old], [0, 1, 0], [n0], [0, 0, 3], [1, 1, 1]))
    assert isinstance(outcome, Rejected)
    assert [(e.index, e.field) for e in outcome.errors] == [(1, "sku_ref"), (2, "node_ref")]
    # Columns of different lengths reject the whole batch.
    for bad in (columns([old], [0, 0], [n0], [0], [1, 1]),
                columns([old], [0], [n0], [0], [1], times=[1, 2])):
        outcome = submit(ingestor, "col", 2, bad)
        assert isinstance(outcome, Rejected)
        assert [(e.index, e.field) for e in outcome.errors] == [(-1, "columns")]
    assert ledger.version == version
    assert cell(ingestor, old, n1) == before + 6


def test_new_sku_and_supply_visible_to_reader(ingestor: Ingestor) -> None:
    node = ingestor.ledger.node_ids[3]
    reader = SharedInventory.open(ingestor.state_dir)
    assert reader.sku_index("FRESH-1") == -1
    outcome = submit(ingestor, "vendor", 1, deltas(("FRESH-1", node, SELLABLE, KIND_ADJUST, 7)),
                     supply(("FRESH-1", node, ADD, 5, "2027-02-01"),
                            ("FRESH-1", node, ADD, 3, "2027-02-01"),
                            ("FRESH-1", node, CANCEL, 2, "2027-02-01")))
    assert isinstance(outcome, Applied)
    idx = reader.sku_index("FRESH-1")
    assert idx == len(ingestor.ledger.sku_ids) - 1
    assert reader.on_hand[0, idx, 3] == 7
    node_idx, day, qty = reader.supply_rows(idx)
    assert node_idx.tolist() == [3]
    assert day.tolist() == [day_number(dt.date(2027, 2, 1))]
    assert qty.tolist() == [6]
    assert reader.version == ingestor.ledger.version
    reader.close()


def test_growth_remaps_readers(tmp_path: Path) -> None:
    ing = Ingestor(tmp_path / "state", network_dir=None, snapshots=False)
    reader = SharedInventory.open(ing.state_dir)
    generation = reader.generation
    capacity = reader.on_hand.shape[1]
    node = ing.ledger.node_ids[0]
    n_new = capacity - len(ing.ledger.sku_ids) + 10
    new = [f"GROW-{i}" for i in range(n_new)]
    batch = deltas(*((s, node, SELLABLE, KIND_ADJUST, 1) for s in new))
    many = supply(*((new[0], node, ADD, 1, f"2027-01-{d:02d}") for d in range(1, 21)))
    assert isinstance(submit(ing, "s", 1, batch, many), Applied)
    assert reader.sku_index(new[-1]) == len(ing.ledger.sku_ids) - 1
    assert reader.generation > generation
    assert reader.on_hand.shape[1] >= len(ing.ledger.sku_ids)
    assert reader.on_hand[0, reader.sku_index(new[-1]), 0] == 1
    assert len(reader.supply_rows(reader.sku_index(new[0]))[0]) == 20
    ing.close()
    reader.close()


def test_recovery_from_snapshot_and_journal(tmp_path: Path) -> None:
    state = tmp_path / "state"
    ing = Ingestor(state, network_dir=None, snapshots=False)
    node, sku = ing.ledger.node_ids[0], ing.ledger.sku_ids[0]
    for seq in range(1, 6):
        submit(ing, "s", seq, deltas((sku, node, SELLABLE, KIND_ADJUST, 1)))
    assert ing.take_snapshot() == 5
    for seq in range(6, 9):
        submit(ing, "s", seq, deltas(("NEW", node, SELLABLE, KIND_ADJUST, 2)),
               supply(("NEW", node, ADD, 4, "2027-03-03")))
    expected = ing.ledger.on_hand.copy(), dict(ing.ledger.supply), list(ing.ledger.sku_ids)
    ing.close()
    again = Ingestor(state, network_dir=None, snapshots=False)
    assert again.ledger.version == 8
    assert np.array_equal(again.ledger.on_hand[:, :len(expected[2])],
                          expected[0][:, :len(expected[2])])
    assert again.ledger.supply == expected[1]
    assert again.ledger.sku_ids == expected[2]
    assert again.sources()["s"].sequence == 8
    # Segments wholly covered by the snapshot are gone.
    assert all(first > 1 for first, _ in segments(state / "journal"))
    again.close()


def test_torn_final_record_is_dropped(tmp_path: Path) -> None:
    state = tmp_path / "state"
    ing = Ingestor(state, network_dir=None, snapshots=False)
    node, sku = ing.ledger.node_ids[0], ing.ledger.sku_ids[0]
    for seq in (1, 2):
        submit(ing, "s", seq, deltas((sku, node, SELLABLE, KIND_ADJUST, 1)))
    value = cell(ing, sku, node)
    ing.close()
    _, last = segments(state / "journal")[-1]
    data = last.read_bytes()
    # A crash in the middle of writing record 3: a header and part of the payload.
    with last.open("ab") as handle:
        handle.write(data[: len(data) // 2 + 20])
    again = Ingestor(state, network_dir=None, snapshots=False)
    assert again.ledger.version == 2
    assert cell(again, sku, node) == value
    assert last.stat().st_size == len(data)  # truncated back to the last whole record
    submit(again, "s", 3, deltas((sku, node, SELLABLE, KIND_ADJUST, 1)))
    again.close()
    assert [lsn for lsn, _ in read_journal(state / "journal")] == [1, 2, 3]


def test_failed_fsync_fails_every_waiter_and_reports_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    failures: list[BaseException] = []
    journal = Journal(tmp_path, next_lsn=1, on_failure=failures.append)
    journal.append(1, b"ok")
    journal.wait_durable(1)

    def broken(fd: int) -> None:
        raise OSError(errno.EIO, "injected I/O error")

    monkeypatch.setattr(os, "fdatasync", broken)
    journal.append(2, b"lost")
    with pytest.raises(JournalFailed):
        journal.wait_durable(2)
    assert journal.durable_lsn == 1
    assert len(failures) == 1
    assert isinstance(failures[0], OSError)
    assert journal.failed is failures[0]
    with pytest.raises(JournalFailed):
        journal.append(3, b"never")
    monkeypatch.undo()
    journal.close()
    # Record 2 may or may not have reached the disk (it was never acked); 3 never did.
    assert [lsn for lsn, _ in read_journal(tmp_path)] in ([1], [1, 2])


def test_corruption_before_the_tail_is_an_error(tmp_path: Path) -> None:
    journal = Journal(tmp_path, next_lsn=1, segment_bytes=64)
    for lsn in range(1, 5):
        journal.append(lsn, b"x" * 100)
    journal.wait_durable(4)
    journal.close()
    first = segments(tmp_path)[0][1]
    raw = bytearray(first.read_bytes())
    raw[20] ^= 0xFF
    first.write_bytes(bytes(raw))
    with pytest.raises(JournalCorrupt):
        list(read_journal(tmp_path))


def test_group_commit_shares_fsyncs(tmp_path: Path) -> None:
    journal = Journal(tmp_path, next_lsn=1)
    for lsn in range(1, 2001):
        journal.append(lsn, b"y" * 50)
    journal.wait_durable(2000)
    assert journal.records == 2000
    assert journal.fsyncs < 200
    journal.close()
    assert len(list(read_journal(tmp_path))) == 2000


def test_one_writer_per_state_dir(ingestor: Ingestor) -> None:
    with pytest.raises(FailedPrecondition):
        Ingestor(ingestor.state_dir, network_dir=None, snapshots=False)


def test_periodic_snapshots(tmp_path: Path) -> None:
    ing = Ingestor(tmp_path / "state", network_dir=None, snapshot_interval_s=0.1)
    node, sku = ing.ledger.node_ids[0], ing.ledger.sku_ids[0]
    submit(ing, "s", 1, deltas((sku, node, SELLABLE, KIND_ADJUST, 1)))
    deadline = time.monotonic() + 5
    while list_snapshots(ing.state_dir)[-1][0] < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list_snapshots(ing.state_dir)[-1][0] == 1
    ing.close()


def _reader_process(state_dir: str, sku: str, want: int, result: multiprocessing.Queue) -> None:
    reader = SharedInventory.open(Path(state_dir))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        idx = reader.sku_index(sku)
        if idx >= 0 and int(reader.on_hand[0, idx, 0]) == want:
            result.put((os.getpid(), reader.version))
            return
        time.sleep(0.005)
    result.put(None)


def test_other_process_sees_writes(ingestor: Ingestor) -> None:
    context = multiprocessing.get_context("spawn")
    result: multiprocessing.Queue = context.Queue()
    process = context.Process(target=_reader_process,
                              args=(str(ingestor.state_dir), "XPROC", 42, result))
    process.start()
    node = ingestor.ledger.node_ids[0]
    submit(ingestor, "s", 1, deltas(("XPROC", node, SELLABLE, KIND_ADJUST, 40)))
    submit(ingestor, "s", 2, deltas(("XPROC", node, SELLABLE, KIND_ADJUST, 2)))
    got = result.get(timeout=30)
    process.join(10)
    assert got is not None
    assert got[0] != os.getpid()
    assert got[1] == 2


# -- the vectorised ledger against a plain-Python twin ---------------------------------------

NODES = ["N0", "N1", "N2"]
KNOWN_SKUS = ["K0", "K1"]


def naive_ingest(stock: dict[tuple[int, str, str], int], rows: list[tuple[str, str, int, int,
                                                                          int]]
                 ) -> tuple[dict[tuple[int, str, str], int] | None, set[int]]:
    """Apply rows one by one: the new stock, or None and the indices of the bad rows. Rows
    with a bad field take no part; a row whose result is below zero is bad."""
    after = dict(stock)
    bad: set[int] = set()
    for i, (sku, node, disposition, kind, qty) in enumerate(rows):
        if node not in NODES or not 1 <= disposition <= 6 or kind not in (KIND_ADJUST,
                                                                            KIND_SET):
            bad.add(i)
            continue
        if kind == KIND_SET and qty < 0:
            bad.add(i)
            continue
        key = (disposition, sku, node)
        value = qty if kind == KIND_SET else after.get(key, 0) + qty
        if value < 0:
            bad.add(i)  # and later deltas of the cell count from there (the ledger's rule)
        after[key] = value
    return (None, bad) if bad else (after, bad)


ROWS = st.lists(st.tuples(st.sampled_from([*KNOWN_SKUS, "NEW0", "NEW1"]),
                          st.sampled_from([*NODES, "NOPE"]), st.sampled_from([1, 2, 2, 0]),
                          st.sampled_from([KIND_ADJUST, KIND_ADJUST, KIND_SET, 0]),
                          st.integers(-4, 6)), max_size=30)


@settings(max_examples=300, deadline=None)
@given(st.lists(ROWS, min_size=1, max_size=4), st.randoms(use_true_random=False))
def test_ledger_matches_naive_twin(batches: list[list[tuple[str, str, int, int, int]]],
                                   rnd: random.Random) -> None:
    ledger = Ledger(node_ids=list(NODES), sku_ids=list(KNOWN_SKUS),
                    on_hand=np.zeros((6, 4, len(NODES)), dtype=np.int32), supply={})
    ledger.on_hand[0, 0, :] = 3
    stock = {(1, "K0", n): 3 for n in NODES}
    for seq, rows in enumerate(batches, start=1):
        # Dictionary-encode in a shuffled table order with a repeated entry.
        table = sorted({r[0] for r in rows}, key=lambda _: rnd.random())
        table += table[:1]
        refs = [len(table) - 1 if table and r[0] == table[0] and rnd.random() < 0.5
                else table.index(r[0]) for r in rows]
        columns = DeltaColumns(table, np.array(refs, dtype=np.int64), [r[1] for r in rows],
                               np.arange(len(rows), dtype=np.int64),
                               np.array([r[2] for r in rows], dtype=np.int64),
                               np.array([r[3] for r in rows], dtype=np.int64),
                               np.array([r[4] for r in rows], dtype=np.int64))
        catalog = list(ledger.sku_ids)
        outcome = ledger.ingest("s", seq, columns, empty_supply(), event_ns=0, now_ns=1)
        expected, bad = naive_ingest(stock, rows)
        if expected is None:
            assert isinstance(outcome, Rejected)
            assert {e.index for e in outcome.errors} == bad
            continue
        assert isinstance(outcome, Applied)
        stock = expected
        # New SKUs are registered in order of first appearance.
        assert ledger.sku_ids[len(catalog):] == [
            k for k in dict.fromkeys(r[0] for r in rows) if k not in catalog]
        got = {(d + 1, ledger.sku_ids[s], NODES[n]): int(ledger.on_hand[d, s, n])
               for d in range(6) for s in range(len(ledger.sku_ids)) for n in range(len(NODES))
               if ledger.on_hand[d, s, n]}
        assert got == {k: v for k, v in stock.items() if v}
