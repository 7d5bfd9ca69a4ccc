"""Fixtures for black-box tests of the real server process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from server_process import RunningServer, start_server, stop_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(tmp_path_factory.mktemp("serve"))
    yield running
    stop_server(running)
