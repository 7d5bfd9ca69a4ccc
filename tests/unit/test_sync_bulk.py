"""`omniroute load-inventory`: a full replacement of on-hand, durable, all or nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from omniroute.cli import main
from omniroute.errors import NetworkFileError
from omniroute.state.shared import SharedInventory
from omniroute.sync.bulk import load_inventory
from omniroute.sync.ingest import Ingestor


def test_load_replaces_on_hand_and_survives_restart(tmp_path: Path) -> None:
    state = tmp_path / "state"
    ingestor = Ingestor(state, network_dir=None, snapshots=False)
    nodes, skus = ingestor.ledger.node_ids, ingestor.ledger.sku_ids
    ingestor.close()
    rows = [f"{skus[0]},{nodes[0]},sellable,5", f"BULK-NEW,{nodes[1]},damaged,7",
            f"{skus[1]},{nodes[2]},in_transit,0"]
    csv = tmp_path / "inv.csv"
    csv.write_text("node_id,sku,disposition,qty\n" + "\n".join(
        ",".join([r.split(",")[1], r.split(",")[0], *r.split(",")[2:]]) for r in rows) + "\n")
    result = CliRunner().invoke(main, ["load-inventory", str(csv), "--state", str(state)])
    assert result.exit_code == 0, result.output
    assert "3 rows, 1 new SKUs" in result.output
    again = Ingestor(state, network_dir=None, snapshots=False)
    reader = SharedInventory.open(state)
    assert int(reader.on_hand.sum()) == 12
    assert reader.on_hand[0, 0, 0] == 5
    assert reader.on_hand[1, reader.sku_index("BULK-NEW"), 1] == 7
    assert again.sources()["load-inventory"].sequence == 1
    again.close()
    reader.close()


@pytest.mark.parametrize(("row", "field"), [
    ("X,NO-SUCH-NODE,sellable,1", "node_id"),
    ("X,{node},broken,1", "disposition"),
    ("X,{node},sellable,-1", "qty"),
    ("X,{node},sellable,abc", "qty"),
    ("bad sku,{node},sellable,1", "sku"),
])
def test_bad_row_changes_nothing(tmp_path: Path, row: str, field: str) -> None:
    state = tmp_path / "state"
    ingestor = Ingestor(state, network_dir=None, snapshots=False)
    node, version = ingestor.ledger.node_ids[0], ingestor.ledger.version
    ingestor.close()
    csv = tmp_path / "inv.csv"
    csv.write_text(f"sku,node_id,disposition,qty\nA,{node},sellable,1\n"
                   + row.format(node=node) + "\n")
    with pytest.raises(NetworkFileError) as error:
        load_inventory(csv, state)
    assert error.value.line == 3
    assert error.value.field == field
    again = Ingestor(state, network_dir=None, snapshots=False)
    assert again.ledger.version == version
    again.close()
