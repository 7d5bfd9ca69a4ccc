"""Every kind of bad network file is rejected with the file, line and field that are wrong.

Each case copies the embedded demo network, corrupts one thing, and checks the error's
`file`, `line` (1 is the header; None where no single line is at fault) and `field`.
"""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from omniroute.config import load_network
from omniroute.errors import NetworkFileError
from omniroute.sim import embedded_network_dir

Mutation = Callable[[Path], None]


def _read(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))


def _write(path: Path, rows: list[list[str]]) -> None:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")


def set_cell(file: str, line: int, column: str, value: str) -> Mutation:
    """Set one cell; `line` counts from 1 at the header, as in the error."""
    def mutate(directory: Path) -> None:
        rows = _read(directory / file)
        rows[line - 1][rows[0].index(column)] = value
        _write(directory / file, rows)
    return mutate


def copy_cell(file: str, column: str, *, source: int, target: int) -> Mutation:
    """Give line `target` the value line `source` has in `column` (makes a duplicate key)."""
    def mutate(directory: Path) -> None:
        rows = _read(directory / file)
        index = rows[0].index(column)
        rows[target - 1][index] = rows[source - 1][index]
        _write(directory / file, rows)
    return mutate


def rename_column(file: str, old: str, new: str) -> Mutation:
    def mutate(directory: Path) -> None:
        rows = _read(directory / file)
        rows[0][rows[0].index(old)] = new
        _write(directory / file, rows)
    return mutate


def drop_column(file: str, column: str) -> Mutation:
    def mutate(directory: Path) -> None:
        rows = _read(directory / file)
        index = rows[0].index(column)
        _write(directory / file, [row[:index] + row[index + 1:] for row in rows])
    return mutate


def add_cell(file: str, line: int) -> Mutation:
    def mutate(directory: Path) -> None:
        rows = _read(directory / file)
        rows[line - 1].append("extra")
        _write(directory / file, rows)
    return mutate


def append_copy(file: str, line: int) -> Mutation:
    """Append a copy of one line at the end of the file (the duplicate is the last line)."""
    def mutate(directory: Path) -> None:
        rows = _read(directory / file)
        _write(directory / file, [*rows, rows[line - 1]])
    return mutate


def remove(file: str) -> Mutation:
    def mutate(directory: Path) -> None:
        (directory / file).unlink()
    return mutate


def empty(file: str) -> Mutation:
    def mutate(directory: Path) -> None:
        (directory / file).write_text("", encoding="utf-8")
    return mutate


def replace_text(file: str, old: str, new: str) -> Mutation:
    """Replace the first occurrence of `old` (which must exist) in a text file."""
    def mutate(directory: Path) -> None:
        text = (directory / file).read_text(encoding="utf-8")
        assert old in text, f"test setup: {old!r} not in {file}"
        (directory / file).write_text(text.replace(old, new, 1), encoding="utf-8")
    return mutate


def _line_of(file: str, text: str) -> int:
    """1-based line of the first line starting with `text` in the embedded network's file."""
    lines = (embedded_network_dir() / file).read_text(encoding="utf-8").splitlines()
    return next(i + 1 for i, line in enumerate(lines) if line.startswith(text))


def _last_line(file: str) -> int:
    return len((embedded_network_dir() / file).read_text(encoding="utf-8").splitlines())


CASES: list[tuple[str, Mutation, str, int | None, str | None]] = [
    # (id, corruption, file, line, field)
    ("missing file", remove("skus.csv"), "skus.csv", None, None),
    ("missing rules", remove("rules.toml"), "rules.toml", None, None),
    ("empty file", empty("inventory.csv"), "inventory.csv", 1, None),
    ("unknown column", rename_column("nodes.csv", "priority", "prio"), "nodes.csv", 1, "prio"),
    ("missing column", drop_column("skus.csv", "hazmat"), "skus.csv", 1, "hazmat"),
    ("wrong cell count", add_cell("supply.csv", 3), "supply.csv", 3, None),
    ("bad int", set_cell("nodes.csv", 4, "daily_capacity_units", "12x"),
     "nodes.csv", 4, "daily_capacity_units"),
    ("fractional int", set_cell("nodes.csv", 5, "processing_days", "1.5"),
     "nodes.csv", 5, "processing_days"),
    ("negative qty", set_cell("inventory.csv", 5, "qty", "-1"), "inventory.csv", 5, "qty"),
    ("zero supply qty", set_cell("supply.csv", 2, "qty", "0"), "supply.csv", 2, "qty"),
    ("negative cost", set_cell("nodes.csv", 3, "handling_cost", "-2.50"),
     "nodes.csv", 3, "handling_cost"),
    ("bad node kind", set_cell("nodes.csv", 2, "kind", "warehouse"), "nodes.csv", 2, "kind"),
    ("bad sku kind", set_cell("skus.csv", 7, "kind", "bundle"), "skus.csv", 7, "kind"),
    ("bad disposition", set_cell("inventory.csv", 3, "disposition", "lost"),
     "inventory.csv", 3, "disposition"),
    ("bad capability", set_cell("nodes.csv", 3, "capabilities", "ship|teleport"),
     "nodes.csv", 3, "capabilities"),
    ("bad bool", set_cell("skus.csv", 2, "hazmat", "maybe"), "skus.csv", 2, "hazmat"),
    ("bad enabled", set_cell("nodes.csv", 9, "enabled", "yes"), "nodes.csv", 9, "enabled"),
    ("bad date", set_cell("supply.csv", 2, "available_date", "2026-13-01"),
     "supply.csv", 2, "available_date"),
    ("non-ISO date", set_cell("supply.csv", 4, "available_date", "12/01/2026"),
     "supply.csv", 4, "available_date"),
    ("lat out of range", set_cell("nodes.csv", 6, "lat", "91.5"), "nodes.csv", 6, "lat"),
    ("lon out of range", set_cell("postal.csv", 10, "lon", "-181.0"), "postal.csv", 10, "lon"),
    ("lat not a number", set_cell("postal.csv", 12, "lat", "north"), "postal.csv", 12, "lat"),
    ("blank id", set_cell("skus.csv", 8, "sku", ""), "skus.csv", 8, "sku"),
    ("id with a separator", set_cell("nodes.csv", 8, "node_id", "DC|X"),
     "nodes.csv", 8, "node_id"),
    ("star with named channels", set_cell("nodes.csv", 2, "channels", "*|web"),
     "nodes.csv", 2, "channels"),
    ("digital node that ships", set_cell("nodes.csv", _last_line("nodes.csv"), "capabilities",
                                         "ship|gift_card"),
     "nodes.csv", _last_line("nodes.csv"), "capabilities"),
    ("duplicate node_id", copy_cell("nodes.csv", "node_id", source=2, target=3),
     "nodes.csv", 3, "node_id"),
    ("duplicate sku", copy_cell("skus.csv", "sku", source=4, target=5), "skus.csv", 5, "sku"),
    ("duplicate postal code", copy_cell("postal.csv", "postal_code", source=20, target=21),
     "postal.csv", 21, "postal_code"),
    ("duplicate inventory position", append_copy("inventory.csv", 2),
     "inventory.csv", _last_line("inventory.csv") + 1, None),
    ("inventory unknown node", set_cell("inventory.csv", 4, "node_id", "DC-NOWHERE"),
     "inventory.csv", 4, "node_id"),
    ("inventory unknown sku", set_cell("inventory.csv", 6, "sku", "NO-SUCH-SKU"),
     "inventory.csv", 6, "sku"),
    ("supply unknown node", set_cell("supply.csv", 3, "node_id", "STORE-NOWHERE-01"),
     "supply.csv", 3, "node_id"),
    ("supply unknown sku", set_cell("supply.csv", 5, "sku", "NO-SUCH-SKU"),
     "supply.csv", 5, "sku"),
    ("rules not TOML", replace_text("rules.toml", 'currency = "USD"', "currency = USD"),
     "rules.toml", _line_of("rules.toml", "currency"), None),
    ("rules unknown field", replace_text("rules.toml", "split_penalty = 3.0",
                                         "split_penalti = 3.0"),
     "rules.toml", None, "rulesets.default.split_penalti"),
    ("rules missing field", replace_text("rules.toml", "max_shipments = 3\n", ""),
     "rules.toml", None, "rulesets.default.max_shipments"),
    ("rules wrong type", replace_text("rules.toml", "priority = 0.5", 'priority = "high"'),
     "rules.toml", None, "rulesets.stores_last.weights.priority"),
    ("rules negative safety stock", replace_text("rules.toml", "dc = 5", "dc = -5"),
     "rules.toml", None, "rulesets.default.safety_stock.marketplace.dc"),
    ("rules bad currency", replace_text("rules.toml", '"USD"', '"usd"'),
     "rules.toml", None, "currency"),
    ("transit table of wrong length",
     replace_text("rules.toml", "ground = [1, 1, 2, 3, 3, 4, 5, 5]", "ground = [1, 1, 2, 3]"),
     "rules.toml", None, "carrier.transit_days.ground"),
    ("rate table of wrong length", replace_text("rules.toml", "per_kg = [3.00, 3.40, ",
                                                "per_kg = [3.40, "),
     "rules.toml", None, "carrier.rates.two_day.per_kg"),
    ("zone bands not increasing", replace_text("rules.toml", "max_km = 482.8", "max_km = 200.0"),
     "rules.toml", None, "carrier.zones[2].max_km"),
    ("last zone band too short", replace_text("rules.toml", "max_km = inf", "max_km = 5000.0"),
     "rules.toml", None, "carrier.zones[7].max_km"),
    ("promise for unlisted level",
     replace_text("rules.toml", "ground = 6", "ground = 6\nfreight = 9"),
     "rules.toml", None, "carrier.promise_days.freight"),
    ("channel mapped to unknown ruleset", replace_text("rules.toml", 'web = "default"',
                                                       'web = "defualt"'),
     "rules.toml", None, "channels.web"),
    ("unknown node kind", replace_text("rules.toml", 'marketplace = ["dc", "vendor", "digital"]',
                                       'marketplace = ["dc", "vendr", "digital"]'),
     "rules.toml", None, "rulesets.default.channel_node_kinds.marketplace"),
]


@pytest.fixture
def network_copy(tmp_path: Path) -> Path:
    directory = tmp_path / "network"
    shutil.copytree(embedded_network_dir(), directory)
    return directory


def test_the_unmodified_copy_loads(network_copy: Path) -> None:
    assert load_network(network_copy).nodes


@pytest.mark.parametrize(("corrupt", "file", "line", "field"),
                         [pytest.param(*case[1:], id=case[0]) for case in CASES])
def test_bad_file_names_file_line_and_field(network_copy: Path, corrupt: Mutation, file: str,
                                            line: int | None, field: str | None) -> None:
    corrupt(network_copy)
    with pytest.raises(NetworkFileError) as caught:
        load_network(network_copy)
    error = caught.value
    assert (error.file, error.line, error.field) == (file, line, field), str(error)
    assert str(error).startswith(file)
    assert error.message


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(NetworkFileError, match="does not exist"):
        load_network(tmp_path / "nowhere")


def test_header_only_postal_file_is_rejected(network_copy: Path) -> None:
    (network_copy / "postal.csv").write_text("postal_code,lat,lon\n", encoding="utf-8")
    with pytest.raises(NetworkFileError) as caught:
        load_network(network_copy)
    assert caught.value.file == "postal.csv"


def test_columns_may_come_in_any_order(network_copy: Path) -> None:
    rows = _read(network_copy / "skus.csv")
    _write(network_copy / "skus.csv", [row[::-1] for row in rows])
    network = load_network(network_copy)
    assert network.skus == load_network(embedded_network_dir()).skus
