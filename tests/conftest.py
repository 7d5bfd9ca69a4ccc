"""Shared pytest setup for every test directory."""

import sys
from pathlib import Path

# Test helpers live next to this file (naive.py slow twins, oracle.py, random_networks.py,
# server_process.py) and are imported by plain module name from tests/unit and
# tests/integration; make that work whatever the import mode or working directory.
sys.path.insert(0, str(Path(__file__).resolve().parent))
