"""Domain exceptions. No gRPC here: `api/errors.py` maps these to status codes in one place."""

from __future__ import annotations


class OmnirouteError(Exception):
    """Base of every error omniroute raises on purpose."""


class InvalidArgument(OmnirouteError):
    """A request or file field has a value omniroute cannot accept."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class NotFound(OmnirouteError):
    """A named entity (node, SKU, ruleset, reservation) does not exist."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class FailedPrecondition(OmnirouteError):
    """The request is well formed but the system is not in a state that allows it."""


class Unavailable(OmnirouteError):
    """The server cannot answer yet (still loading state or compiling kernels); retry."""


class Aborted(OmnirouteError):
    """A concurrent change kept invalidating the operation; the caller may retry."""


class ResourceExhausted(OmnirouteError):
    """A limit (array headroom, request size) was reached."""


class NetworkFileError(OmnirouteError):
    """A network data file is invalid. Names the file, the line (1 = header) and the field."""

    def __init__(self, file: str, message: str, *, line: int | None = None,
                 field: str | None = None) -> None:
        self.file = file
        self.line = line
        self.field = field
        self.message = message
        where = file
        if line is not None:
            where += f", line {line}"
        if field is not None:
            where += f", field '{field}'"
        super().__init__(f"{where}: {message}")
