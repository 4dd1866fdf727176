"""Typed errors. Every message says what was received and what was allowed."""

from __future__ import annotations

from typing import Any


class ZkMarginError(Exception):
    """Base class of every error zkmargin reports to a user (CLI exit code 1).

    Every subclass pickles (whatever its constructor takes), so an error raised in a worker
    process or on a Dask worker reaches the user intact, not as a broken pool.
    """

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore, (type(self), str(self), dict(self.__dict__)))


def _restore(cls: type[ZkMarginError], message: str, state: dict[str, Any]) -> ZkMarginError:
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    err.__dict__.update(state)
    return err


class InputError(ZkMarginError):
    """A bad value in an input file, located by file, row, column and value.

    ``row`` is 1-based with the CSV header as row 1 (JSON Lines: line number);
    ``column`` is the CSV column / JSON key; ``path`` a JSON path inside a params file.
    """

    def __init__(
        self,
        file: str,
        reason: str,
        *,
        row: int | None = None,
        column: str | None = None,
        path: str | None = None,
        value: object = None,
    ) -> None:
        self.file = file
        self.row = row
        self.column = column
        self.path = path
        self.value = value
        self.reason = reason
        where = [file]
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        if path is not None:
            where.append(f"field {path}")
        shown = f": value {value!r}" if value is not None else ""
        super().__init__(f"{', '.join(where)}{shown}: {reason}")

    @property
    def detail(self) -> str:
        """The message without the file name: row, column or field, value and reason."""
        text = str(self)
        return text[len(self.file):].lstrip(", :") if text.startswith(self.file) else text


class ValueRangeError(ValueError):
    """A decimal that does not parse or does not fit; carries no location (callers add it)."""
