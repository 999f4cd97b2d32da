"""TableSchema and the small records the engine returns (sync stats, status, routes)."""
import re
from typing import Iterable, List, NamedTuple, Optional, Sequence, Tuple, Union

# The original's Arrow type names, and what they mean as SQL declared types (rhei.h type map).
_ARROW_TYPES = {
    "int8": "BIGINT", "int16": "BIGINT", "int32": "BIGINT", "int64": "BIGINT",
    "uint8": "BIGINT", "uint16": "BIGINT", "uint32": "BIGINT", "uint64": "BIGINT",
    "float16": "DOUBLE", "float32": "DOUBLE", "float64": "DOUBLE", "float": "DOUBLE",
    "double": "DOUBLE", "halffloat": "DOUBLE",
    "utf8": "TEXT", "large_utf8": "TEXT", "string": "TEXT", "large_string": "TEXT",
    "utf8view": "TEXT", "string_view": "TEXT",
    "binary": "BLOB", "large_binary": "BLOB", "binary_view": "BLOB",
    "bool": "BOOLEAN", "boolean": "BOOLEAN",
    "date32": "DATE", "date32[day]": "DATE", "date64": "DATE", "date64[ms]": "DATE",
    "date": "DATE",
}
_DECIMAL = re.compile(r"^decimal(?:128|256)?\(\s*(\d+)\s*,\s*(-?\d+)\s*\)$")
_TIMESTAMP = re.compile(r"^timestamp\[(s|ms|us|ns)(?:\s*,\s*(?:tz\s*=\s*)?[^\]]*)?\]$")


def sql_type(t: str) -> str:
    """The SQL declared type for a type name: an Arrow name as the original spelt it
    (``int64``, ``float64``, ``utf8``, ``bool``, ``decimal128(12,2)``, ``date32``,
    ``timestamp[us]``, ``timestamp[us, tz=UTC]``…) or an SQL type, which passes unchanged."""
    if not isinstance(t, str):
        raise TypeError(f"a column type is a str, not {type(t).__name__}")
    key = t.strip().lower()
    if key in _ARROW_TYPES:
        return _ARROW_TYPES[key]
    m = _DECIMAL.match(key)
    if m:
        p, s = int(m.group(1)), int(m.group(2))
        if not 1 <= p <= 38 or not 0 <= s <= p:
            raise ValueError(f"decimal precision/scale out of range in {t!r}")
        return f"DECIMAL({p},{s})"
    if _TIMESTAMP.match(key) or key == "timestamp":
        return "TIMESTAMP"
    return t.strip()


class TableSchema:
    """A table's replication schema, as the original's ``TableSchema(name, fields, pk)``.

    ``columns`` is a sequence of ``(name, type)`` pairs; a type is an Arrow type name of the
    original (``"int64"``, ``"utf8"``, ``"decimal128(10,2)"``, ``"timestamp[us]"``…) or an SQL
    type (``"INTEGER"``, ``"DECIMAL(10,2)"``). ``primary_key`` lists the key columns (``None``:
    the table's declared primary key).
    """

    __slots__ = ("name", "columns", "primary_key")

    def __init__(self, name: str, columns: Optional[Iterable[Tuple[str, str]]] = None,
                 primary_key: Optional[Sequence[str]] = None):
        if not isinstance(name, str) or not name:
            raise ValueError("a table schema needs a table name")
        self.name = name
        self.columns: Optional[List[Tuple[str, str]]] = (
            None if columns is None else [(str(c), str(t)) for c, t in columns])
        if isinstance(primary_key, str):
            primary_key = [primary_key]
        self.primary_key: Optional[List[str]] = None if primary_key is None else list(primary_key)

    def sql_columns(self) -> Optional[List[Tuple[str, str]]]:
        """The columns with SQL declared types (what the engine receives)."""
        return None if self.columns is None else [(c, sql_type(t)) for c, t in self.columns]

    def __repr__(self) -> str:
        return f"TableSchema({self.name!r}, {self.columns!r}, {self.primary_key!r})"

    def __eq__(self, other) -> bool:
        return (isinstance(other, TableSchema) and self.name == other.name
                and self.columns == other.columns and self.primary_key == other.primary_key)


class SyncStats(NamedTuple):
    """What one sync_now() applied."""
    events: int
    inserted: int
    updated: int
    deleted: int
    last_position: int
    elapsed_us: int


class SyncStatus(NamedTuple):
    """Replication lag and the background sync's state (rhei_sync_status)."""
    head_position: int
    applied_position: int
    lag_events: int
    lag_ms: float
    running: bool
    cycles: int
    events_total: int
    last_cycle_us: int
    last_error_code: int
    last_error: str


class RouteInfo(NamedTuple):
    """Where a query would run and why (explain_route)."""
    side: str
    reason: str
    table: str


class RouteStats(NamedTuple):
    """Queries served per side since open; fallbacks are OLAP queries SQLite answered."""
    oltp: int
    olap: int
    fallbacks: int


class SidecarTableStatus(NamedTuple):
    """One followed table of the sidecar."""
    name: str
    watermark_us: int
    rows_applied: int
    last_cycle_us: int
    stopped: bool
    last_error_code: int
    last_error: str


SIDES = {None: 0, "auto": 0, "oltp": 1, "olap": 2, 0: 0, 1: 1, 2: 2}
SIDE_NAMES = {0: "auto", 1: "oltp", 2: "olap"}
CONSISTENCY = {None: 0, "eventual": 0, "strong": 1, 0: 0, 1: 1}

Schema = Union[TableSchema, str]
