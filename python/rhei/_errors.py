"""Exceptions: one class per engine result code, in the PEP 249 hierarchy.

Every exception carries the engine's message (``str(exc)``) and its code (``exc.code``, an
int; ``exc.code_name`` such as ``"RHEI_CONSTRAINT"``). Classes that match more than one PEP 249
category inherit from both, so code written for :mod:`sqlite3` keeps catching what it caught:
an SQL error is a :class:`ProgrammingError` (PEP 249) and an :class:`OperationalError`
(what sqlite3 raises for "no such table").
"""
from . import _rhei

_CODES = _rhei.error_codes()  # {code: (name, text)}


class Warning(Exception):  # noqa: A001 - the PEP 249 name
    """PEP 249 Warning (the engine raises none; defined for DB-API completeness)."""


class Error(Exception):
    """Base of every error the engine reports. ``code`` is the engine's result code."""

    code = 1

    @property
    def code_name(self) -> str:
        return _CODES.get(self.code, ("RHEI_ERROR", ""))[0]


class InterfaceError(Error):
    """Misuse of the binding itself (e.g. a closed cursor)."""


class DatabaseError(Error):
    """Errors reported by the engine."""


class DataError(DatabaseError):
    """A value could not be stored or converted."""


class OperationalError(DatabaseError):
    """The engine could not do the work: I/O, busy, disk full, interrupted, a side's error."""


class IntegrityError(DatabaseError):
    """A constraint was violated (RHEI_CONSTRAINT)."""


class InternalError(DatabaseError):
    """The engine found its own state inconsistent (RHEI_CORRUPT)."""


class ProgrammingError(DatabaseError):
    """Wrong use: bad SQL, wrong number of parameters, a closed engine, a bad argument."""


class NotSupportedError(DatabaseError):
    """An operation the engine does not offer."""


class TypeMismatch(DataError, ProgrammingError):
    """A value of the wrong type (RHEI_TYPE), including unsupported parameter types."""


class SQLError(ProgrammingError, OperationalError):
    """SQLite or DuckDB rejected the statement (RHEI_SQL)."""


class MisuseError(ProgrammingError):
    """The API was used wrongly (RHEI_MISUSE), e.g. a write sent to query()."""


class ConfigError(ProgrammingError):
    """An unknown configuration key or a malformed value (RHEI_CONFIG)."""


class NotFoundError(ProgrammingError, OperationalError):
    """A table or column the call names does not exist (RHEI_NOTFOUND)."""


class ExistsError(ProgrammingError):
    """Registered already with a different schema (RHEI_EXISTS)."""


class RangeError(DataError):
    """A value or moment out of range (RHEI_RANGE), e.g. a point-in-time read in the future."""


class Interrupted(OperationalError):
    """The read was interrupted (RHEI_INTERRUPTED): interrupt() or a cancelled task."""


class BusyError(OperationalError):
    """Another process holds the database lock (RHEI_BUSY)."""


class ReadOnlyError(OperationalError):
    """A write in pure sidecar mode (RHEI_READONLY)."""


class DiskFullError(OperationalError):
    """The disk is full (RHEI_FULL)."""


class SourceError(OperationalError):
    """The sidecar's source database failed (RHEI_SOURCE)."""


class NoMemory(OperationalError):
    """Out of memory (RHEI_NOMEM)."""


_BY_CODE = {
    1: DatabaseError, 2: NoMemory, 3: MisuseError, 4: ConfigError, 5: SQLError,
    6: NotFoundError, 7: TypeMismatch, 8: IntegrityError, 9: OperationalError,
    10: OperationalError, 11: OperationalError, 12: DiskFullError, 13: BusyError,
    14: ReadOnlyError, 15: InterfaceError, 16: RangeError, 17: Interrupted, 18: ExistsError,
    19: SourceError, 20: InternalError,
}


for _code, _cls in _BY_CODE.items():
    if "code" not in _cls.__dict__:
        _cls.code = _code  # the class's main code; instances set their own

_rhei._set_errors(DatabaseError, dict(_BY_CODE))

__all__ = [
    "Warning", "Error", "InterfaceError", "DatabaseError", "DataError", "OperationalError",
    "IntegrityError", "InternalError", "ProgrammingError", "NotSupportedError", "TypeMismatch",
    "SQLError", "MisuseError", "ConfigError", "NotFoundError", "ExistsError", "RangeError",
    "Interrupted", "BusyError", "ReadOnlyError", "DiskFullError", "SourceError", "NoMemory",
]
for _name in __all__:
    globals()[_name].__module__ = "rhei"
