"""`omniroute load-inventory`: replace all on-hand from a CSV (a full snapshot from a WMS/ERP).

The file has the columns of `inventory.csv` (sku, node_id, disposition, qty), any order of
rows, one row per position; positions not in the file become 0. SKUs not in the catalog are
registered. Parsing is NumPy-vectorized per chunk of lines (str.split into one flat array,
`np.unique` for the id columns, `astype(int64)` for quantities), so millions of rows take
seconds. The first bad row stops the load with its line and field; nothing is changed then.

The load is one batch of source `load-inventory` (sequence = previous + 1): journaled as a
record of after-images (only the cells that change), then snapshotted, so recovery and the
sync status see it like any other batch. It runs against a stopped sidecar's state directory
(the directory lock says so otherwise).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from omniroute.errors import NetworkFileError
from omniroute.state.store import DISPOSITIONS
from omniroute.sync.ingest import Ingestor
from omniroute.sync.ledger import INT32_MAX, N_DISPOSITIONS, SKU_ID_PATTERN, BatchRecord

SOURCE_ID = "load-inventory"
_COLUMNS = ("sku", "node_id", "disposition", "qty")
_CHUNK_BYTES = 16 << 20


@dataclass
class LoadSummary:
    rows: int
    new_skus: int
    changed_cells: int
    version: int


def _chunks(path: Path) -> tuple[list[str], list[tuple[int, bytes]]]:
    """Header columns and (first line number, bytes of whole lines) chunks."""
    data = path.read_bytes()
    end = data.find(b"\n")
    header = (data if end < 0 else data[:end]).decode().strip().split(",")
    chunks = []
    line = 2
    offset = len(data) if end < 0 else end + 1
    while offset < len(data):
        stop = data.rfind(b"\n", offset, offset + _CHUNK_BYTES) + 1
        if stop <= offset or offset + _CHUNK_BYTES >= len(data):
            stop = len(data)
        chunk = data[offset:stop]
        chunks.append((line, chunk))
        line += chunk.count(b"\n")
        offset = stop
    return [c.strip() for c in header], chunks


def load_inventory(path: Path, state_dir: Path, *, network_dir: Path | None = None,
                   advance: Callable[[int], None] | None = None) -> LoadSummary:
    """Replace the on-hand of `state_dir` with the file's; returns what changed."""
    name = path.name
    header, chunks = _chunks(path)
    if sorted(header) != sorted(_COLUMNS):
        raise NetworkFileError(name, f"columns must be {', '.join(_COLUMNS)}", line=1)
    col = {c: header.index(c) for c in _COLUMNS}
    ingestor = Ingestor(state_dir, network_dir=network_dir, snapshots=False)
    try:
        ledger = ingestor.ledger
        sku_index = dict(ledger.sku_index)
        new_skus: list[str] = []
        parts: list[tuple[npt.NDArray[np.int64], ...]] = []
        rows = 0
        for first_line, chunk in chunks:
            lines = chunk.decode().splitlines()
            numbers = np.arange(first_line, first_line + len(lines))
            keep = np.array([bool(x.strip()) for x in lines], dtype=bool)
            lines = [x for x in lines if x.strip()]
            numbers = numbers[keep]
            cells = np.array(",".join(lines).split(","), dtype=object)
            if len(cells) != len(lines) * len(header):
                widths = np.array([x.count(",") + 1 for x in lines])
                bad = int(np.flatnonzero(widths != len(header))[0])
                raise NetworkFileError(name, f"expected {len(header)} cells",
                                       line=int(numbers[bad]))
            table = cells.reshape(len(lines), len(header))
            skus, nodes = table[:, col["sku"]], table[:, col["node_id"]]
            uniq, inverse = np.unique(skus.astype(str), return_inverse=True)
            idx = np.empty(len(uniq), dtype=np.int64)
            for i, sku in enumerate(uniq.tolist()):
                found = sku_index.get(sku)
                if found is None:
                    if not SKU_ID_PATTERN.match(sku):
                        bad = int(np.flatnonzero(inverse == i)[0])
                        raise NetworkFileError(name, f"invalid SKU id {sku!r}",
                                               line=int(numbers[bad]), field="sku")
                    found = sku_index[sku] = len(ledger.sku_ids) + len(new_skus)
                    new_skus.append(sku)
                idx[i] = found
            s_idx = idx[inverse]
            uniq, inverse = np.unique(nodes.astype(str), return_inverse=True)
            idx = np.array([ledger.node_index.get(n, -1) for n in uniq.tolist()], dtype=np.int64)
            if (idx < 0).any():
                bad = int(np.flatnonzero(idx[inverse] < 0)[0])
                raise NetworkFileError(name, f"unknown node {nodes[bad]!r}",
                                       line=int(numbers[bad]), field="node_id")
            n_idx = idx[inverse]
            uniq, inverse = np.unique(table[:, col["disposition"]].astype(str),
                                      return_inverse=True)
            idx = np.array([DISPOSITIONS.index(d) if d in DISPOSITIONS else -1
                            for d in uniq.tolist()], dtype=np.int64)
            if (idx < 0).any():
                bad = int(np.flatnonzero(idx[inverse] < 0)[0])
                value = table[bad, col["disposition"]]
                raise NetworkFileError(name, f"unknown disposition {value!r}",
                                       line=int(numbers[bad]), field="disposition")
            d_idx = idx[inverse]
            try:
                qty = table[:, col["qty"]].astype(str).astype(np.int64)
            except ValueError:
                bad = next(i for i, q in enumerate(table[:, col["qty"]].tolist())
                           if not str(q).strip().isdigit())
                raise NetworkFileError(name, "not a whole number", line=int(numbers[bad]),
                                       field="qty") from None
            out_of_range = (qty < 0) | (qty > INT32_MAX)
            if out_of_range.any():
                bad = int(np.flatnonzero(out_of_range)[0])
                raise NetworkFileError(name, f"must be 0 to {INT32_MAX}", line=int(numbers[bad]),
                                       field="qty")
            parts.append((d_idx, s_idx, n_idx, qty, numbers))
            rows += len(lines)
            if advance is not None:
                advance(len(chunk))
        if parts:
            d_all, s_all, n_all, q_all, line_all = (np.concatenate(column)
                                                    for column in zip(*parts, strict=True))
        else:
            d_all = s_all = n_all = q_all = line_all = np.zeros(0, dtype=np.int64)
        n_skus, n_nodes = len(ledger.sku_ids) + len(new_skus), len(ledger.node_ids)
        flat = (d_all * n_skus + s_all) * n_nodes + n_all
        order = np.argsort(flat, kind="stable")
        dup = np.flatnonzero(flat[order][1:] == flat[order][:-1])
        if len(dup):
            raise NetworkFileError(name, "duplicate position (sku, node_id, disposition)",
                                   line=int(line_all[order][dup[0] + 1]))
        new = np.zeros((N_DISPOSITIONS, n_skus, n_nodes), dtype=np.int32)
        new[d_all, s_all, n_all] = q_all
        old = np.zeros_like(new)
        old[:, :len(ledger.sku_ids), :] = ledger.on_hand[:, :len(ledger.sku_ids), :]
        cd, cs, cn = np.nonzero(new != old)
        previous = ledger.sources.get(SOURCE_ID)
        empty = b""
        record = BatchRecord(
            source_id=SOURCE_ID, sequence=1 if previous is None else previous.sequence + 1,
            applied_at_ns=time.time_ns(), event_ns=0, deltas=rows,
            first_new_sku=len(ledger.sku_ids), new_skus=new_skus,
            disposition=cd.astype(np.int8).tobytes(), sku=cs.astype(np.int32).tobytes(),
            node=cn.astype(np.int32).tobytes(), value=new[cd, cs, cn].tobytes(),
            supply_sku=empty, supply_node=empty, supply_day=empty, supply_qty=empty)
        pending = ingestor.submit_record(record)
        ingestor.wait(pending)
        ingestor.take_snapshot()
        return LoadSummary(rows=rows, new_skus=len(new_skus), changed_cells=len(cd),
                           version=pending.lsn)
    finally:
        ingestor.close()
