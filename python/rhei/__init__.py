"""Rhei for Python: an embeddable HTAP engine (SQLite for writes and point reads, DuckDB for
analytics, change capture keeping DuckDB equal to SQLite).

Async, as the original::

    import anyio, rhei

    async def main():
        async with await rhei.open(oltp_path="my.db") as engine:
            await engine.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, total INTEGER)")
            await engine.register_table(
                rhei.TableSchema("orders", [("id", "int64"), ("total", "int64")], ["id"]))
            await engine.execute("INSERT INTO orders VALUES (1, 99)")
            await engine.sync_now()
            result = await engine.query("SELECT SUM(total) FROM orders")

    anyio.run(main)          # asyncio or trio (anyio.run(main, backend="trio"))

Synchronous, PEP 249 (DB-API 2.0), shaped like sqlite3::

    conn = rhei.connect("my.db")
    with conn:
        conn.execute("INSERT INTO orders VALUES (?, ?)", (2, 10))
    conn.execute("SELECT * FROM orders").fetchall()

Results (:class:`Result`) are sequences of tuples with ``column_names``, ``column_types``,
``side`` ('oltp' or 'olap'), ``to_pylist()``, and the Arrow PyCapsule interface
(``__arrow_c_stream__``, ``__arrow_c_schema__``) for pyarrow, polars, pandas and DuckDB.
A Result is materialised; ``query_arrow()`` gives an :class:`ArrowStream` instead, which
DuckDB produces batch by batch as the consumer pulls it (memory stays bounded).
Values map exactly: int, float, str, bytes, bool, decimal.Decimal (DECIMAL),
datetime.date (DATE), UTC-aware datetime.datetime in microseconds (TIMESTAMP), None.

Errors are :class:`Error` subclasses per engine code (IntegrityError, TypeMismatch,
OperationalError, ProgrammingError...), carrying the engine's message and ``code``.
"""
from . import _rhei
from ._engine import Engine, SyncEngine, open, open_sync
from ._errors import *  # noqa: F401,F403
from ._errors import __all__ as _error_names
from ._types import (RouteInfo, RouteStats, SidecarTableStatus, SyncStats, SyncStatus,
                     TableSchema, sql_type)
from .dbapi import (BINARY, DATETIME, NUMBER, ROWID, STRING, Binary, Connection, Cursor,
                    Date, DateFromTicks, Time, TimeFromTicks, Timestamp, TimestampFromTicks,
                    apilevel, connect, paramstyle, threadsafety)

Result = _rhei.Result
ArrowStream = _rhei.ArrowStream
__version__ = _rhei.RHEI_VERSION
version, sqlite_version, duckdb_version = _rhei.versions()


def config_keys():
    """The engine's configuration keys (``sidecar.*`` keys are passed as ``sidecar={...}``)."""
    return _rhei.config_keys()


def set_max_workers(n: int) -> int:
    """Cap the worker threads that run async calls (default 16); returns the old cap."""
    return _rhei.set_max_workers(n)


__all__ = [
    "open", "open_sync", "connect", "Engine", "SyncEngine", "Connection", "Cursor", "Result",
    "ArrowStream",
    "TableSchema", "sql_type", "SyncStats", "SyncStatus", "RouteInfo", "RouteStats",
    "SidecarTableStatus", "config_keys", "set_max_workers", "apilevel", "threadsafety",
    "paramstyle", "STRING", "BINARY", "NUMBER", "DATETIME", "ROWID", "Date", "Time",
    "Timestamp", "Binary", "DateFromTicks", "TimeFromTicks", "TimestampFromTicks",
    "version", "sqlite_version", "duckdb_version",
] + list(_error_names)
