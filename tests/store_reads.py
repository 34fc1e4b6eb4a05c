"""Counting what a piece of code reads from the store: how "reads only what it shows" is asserted."""

from __future__ import annotations


def counted(store) -> list[tuple[str, int]]:
    """Wrap `store.query` so that every read is noted as (sql, rows returned); returns the growing list."""
    rows: list[tuple[str, int]] = []
    real = type(store).query

    def query(self, sql, params=()):
        found = real(self, sql, params)
        rows.append((sql, len(found)))
        return found

    store.query = query.__get__(store)
    return rows
