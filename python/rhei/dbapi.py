"""PEP 249 (DB-API 2.0) over Rhei, shaped like :mod:`sqlite3` so code ports by changing the
import: ``rhei.connect(path, **config)``, cursors, ``?`` and named parameters, executemany,
fetchone/fetchmany/fetchall, description, rowcount, ``with conn:`` commit/rollback.

Transactions are sqlite3's legacy ones: with ``isolation_level`` "" (the default), "DEFERRED",
"IMMEDIATE" or "EXCLUSIVE" a BEGIN is issued before the first INSERT/UPDATE/DELETE/REPLACE and
held until commit() or rollback(); ``isolation_level=None`` is autocommit. BEGIN, COMMIT and
ROLLBACK go to the engine through rhei_execute, which keeps the writer for the thread in
between, so a connection belongs to one thread at a time (threadsafety = 1).

Writes run on SQLite; SELECTs are routed (SQLite for point reads, DuckDB for analytics); a
PRAGMA runs on SQLite and its rows are returned, as sqlite3 returns the rows of any statement.
Reads inside an open transaction see its uncommitted writes (the engine serves them on the
writer). ``lastrowid`` is sqlite3's: None at first, set by execute() of an INSERT or REPLACE
(the rowid of its last row, read through rhei_execute_info while that statement still holds
the shared writer, so another thread's insert cannot replace it), left unchanged by other
statements and by executemany().
"""
import datetime as _dt
import re
import time as _time

from . import _errors, _rhei
from ._engine import open_sync
from ._errors import (DatabaseError, DataError, Error, IntegrityError, InterfaceError,
                      InternalError, NotSupportedError, OperationalError, ProgrammingError,
                      Warning)
from ._params import bind

apilevel = "2.0"
threadsafety = 1   # threads may share the module, not connections
paramstyle = "qmark"  # named (:name) is accepted as well

Date = _dt.date
Time = _dt.time
Timestamp = _dt.datetime
Binary = bytes


def DateFromTicks(ticks):
    return Date(*_time.gmtime(ticks)[:3])


def TimeFromTicks(ticks):
    return Time(*_time.gmtime(ticks)[3:6])


def TimestampFromTicks(ticks):
    return _dt.datetime.fromtimestamp(ticks, _dt.timezone.utc)


class _TypeObject(frozenset):
    """Compares equal to every rhei type name it covers (PEP 249 type objects)."""

    def __eq__(self, other):
        return other in self if isinstance(other, str) else frozenset.__eq__(self, other)

    def __ne__(self, other):
        return not self.__eq__(other)

    __hash__ = frozenset.__hash__


STRING = _TypeObject({"TEXT"})
BINARY = _TypeObject({"BLOB"})
NUMBER = _TypeObject({"INTEGER", "REAL", "DECIMAL", "BOOLEAN"})
DATETIME = _TypeObject({"DATE", "TIMESTAMP"})
ROWID = _TypeObject({"INTEGER"})

# _QUERY: a routed read (rhei_query). _DML/_INSERT: a write run by rhei_execute(_info) (the
# per-row fast path; _INSERT also sets lastrowid). _ROWS: a statement run on SQLite by
# rhei_execute_query whose rows are kept (PRAGMA). _DML_ROWS/_INSERT_ROWS: a write with
# RETURNING, run the same way. _OTHER: DDL, scripts and the rest, run by rhei_execute (DDL on
# a replicated table must go through it to keep replication in step).
_QUERY, _DML, _BEGIN, _END, _OTHER, _INSERT, _ROWS, _DML_ROWS, _INSERT_ROWS = range(9)
_WRITES = frozenset((_DML, _INSERT, _DML_ROWS, _INSERT_ROWS))
_kinds: dict = {}
_descs: dict = {}  # (names, types) -> description, shared by cursors
# One token of SQL: skipped (space, comment, string literal, quoted identifier), a bare word
# (group 1), a parenthesis (group 2), or any other character.
_TOKEN = re.compile(r"""\s+|--[^\n]*|/\*.*?(?:\*/|\Z)|'(?:[^']|'')*'?|"(?:[^"]|"")*"?"""
                    r"""|`(?:[^`]|``)*`?|\[[^\]]*\]?|([A-Za-z_][A-Za-z0-9_$]*)|([()])|.""", re.S)
_READ_WORDS = frozenset(("SELECT", "VALUES", "EXPLAIN", "SHOW", "DESCRIBE", "SUMMARIZE", "FROM",
                         "TABLE"))
_VERBS = frozenset(("SELECT", "VALUES", "INSERT", "REPLACE", "UPDATE", "DELETE"))
# The route codes of statements that are not reads; any other code is a read.
_NOT_READ = frozenset(getattr(_rhei, n) for n in dir(_rhei) if n.startswith("ROUTE_"))


def _words(sql):
    """The bare words of sql, upper-cased, each with its parenthesis depth; string literals,
    comments and quoted identifiers are skipped, so words inside them never count."""
    out, depth = [], 0
    for m in _TOKEN.finditer(sql):
        w, p = m.group(1, 2)
        if w is not None:
            out.append((depth, w.upper()))
        elif p == "(":
            depth += 1
        elif p == ")":
            depth -= 1
    return out


def _classify(sql, db):
    words = _words(sql)
    first = words[0][1] if words else ""  # "(SELECT 1)": the first word inside
    top = [w for d, w in words if d == 0]
    verb = first
    if first == "WITH":  # the statement's own verb follows its common table expressions
        verb = next((w for w in top if w in _VERBS), "")
    if verb in _READ_WORDS:
        return _QUERY
    if verb in ("INSERT", "REPLACE"):
        return _INSERT_ROWS if "RETURNING" in top else _INSERT
    if verb in ("UPDATE", "DELETE"):
        return _DML_ROWS if "RETURNING" in top else _DML
    if first == "BEGIN":
        return _BEGIN
    if first in ("COMMIT", "END") or (first == "ROLLBACK" and "TO" not in top):
        return _END
    # Anything else as the engine's router classifies it (PRAGMA, DDL, a DuckDB statement).
    try:
        code = db.explain_route(sql).run()[3]
    except Error:
        return None  # run by rhei_execute, which reports what is wrong; not remembered
    if code == _rhei.ROUTE_PRAGMA:
        return _ROWS
    if code == _rhei.ROUTE_WRITE:
        return _DML_ROWS if "RETURNING" in top else _DML
    return _OTHER if code in _NOT_READ else _QUERY


def _kind(sql, db):
    k = _kinds.get(sql)
    if k is not None:
        return k
    k = _classify(sql, db)
    if k is None:
        return _OTHER
    if len(_kinds) > 1024:
        _kinds.clear()
    _kinds[sql] = k
    return k


_SP = "rhei_dbapi_returning"


def _insert_returning(conn, db, sql, parameters):
    """(rows, lastrowid) of an INSERT ... RETURNING. rhei_execute_query does not report the
    rowid, so it is read by the next statement on the writer, which no other thread may use
    in between: inside the connection's transaction the writer is this thread's already;
    otherwise a savepoint makes it so until the rowid is read."""
    if conn._in_txn:
        r = db.run_execute_query(sql, parameters)
        return r, db.run_execute_query("SELECT last_insert_rowid()")[0][0]
    db.run_execute("SAVEPOINT " + _SP)
    try:
        r = db.run_execute_query(sql, parameters)
        rowid = db.run_execute_query("SELECT last_insert_rowid()")[0][0]
    except BaseException:
        try:
            db.run_execute(f"ROLLBACK TO {_SP}; RELEASE {_SP}")
        except Error:
            pass  # an error that ended the transaction already undid the savepoint
        raise
    db.run_execute("RELEASE " + _SP)
    return r, rowid


class Cursor:
    """A DB-API cursor. Results are fetched whole from the engine, then handed out."""

    arraysize = 1

    def __init__(self, connection):
        self.connection = connection
        self.rowcount = -1
        self.lastrowid = None
        self.row_factory = connection.row_factory
        self._result = None
        self._desc = None
        self._pos = 0
        self._closed = False

    def _check(self):
        if self._closed:
            raise ProgrammingError("cannot operate on a closed cursor")
        self.connection._check()

    @property
    def description(self):
        """7-item sequences (name, type_code, None...) of the last query's columns, or None.
        Built on first access: most point reads never look."""
        d = self._desc
        if d is None:
            r = self._result
            if r is None:
                return None
            key = (r.column_names, r.column_types)
            d = _descs.get(key)
            if d is None:
                d = tuple((n, t, None, None, None, None, None) for n, t in zip(*key))
                if len(_descs) > 256:
                    _descs.clear()
                _descs[key] = d
            self._desc = d
        return d

    def execute(self, sql, parameters=()):
        """Run one statement; SELECTs make rows available to fetch*()."""
        # The per-statement path: the statement runs on this thread through the run_*
        # methods (no Call object), and the connection's state is read from its fields.
        if self._closed:
            raise ProgrammingError("cannot operate on a closed cursor")
        conn = self.connection
        db = conn._db
        if db.closed:
            raise ProgrammingError("cannot operate on a closed connection")
        k = _kinds.get(sql)
        if k is None:
            k = _kind(sql, db)
        self._result = self._desc = None
        self._pos = 0
        if k == _QUERY:
            if type(parameters) is not tuple:
                sql, parameters = bind(sql, parameters)
            self._result = db.run_query(sql, parameters)
            self.rowcount = -1
            return self
        if k == _INSERT or k == _DML:
            if conn._isolation is not None and not conn._in_txn:
                conn._begin()
            if type(parameters) is not tuple:
                sql, parameters = bind(sql, parameters)
            if k == _INSERT:  # the rowid is read before another thread can use the writer
                self.rowcount, self.lastrowid = db.run_execute_info(sql, parameters)
            else:
                self.rowcount = db.run_execute(sql, parameters)
            return self
        sql, parameters = bind(sql, parameters)
        self.rowcount = -1
        if k == _ROWS:  # sqlite3 returns the rows of any statement: PRAGMA's too
            r = db.run_execute_query(sql, parameters)
            if r.column_names:  # no columns: a statement without rows (PRAGMA x = 1)
                self._result = r
            return self
        if k == _DML_ROWS or k == _INSERT_ROWS:
            if conn._isolation is not None and not conn._in_txn:
                conn._begin()
            if k == _DML_ROWS:
                r = db.run_execute_query(sql, parameters)
            else:
                r, self.lastrowid = _insert_returning(conn, db, sql, parameters)
            self.rowcount = len(r)  # RETURNING gives one row per row changed
            if r.column_names:
                self._result = r
            return self
        db.run_execute(sql, parameters)
        if k == _BEGIN:
            conn._in_txn = True
        elif k == _END:
            conn._in_txn = False
        return self

    def executemany(self, sql, seq_of_parameters):
        """Run one INSERT/UPDATE/DELETE per parameter set (in the implicit transaction)."""
        self._check()
        conn = self.connection
        if _kind(sql, conn._db) not in _WRITES:
            raise ProgrammingError("executemany() is for INSERT, UPDATE, DELETE and REPLACE")
        self._result = self._desc = None
        if conn.isolation_level is not None and not conn._in_txn:
            conn._begin()
        self.rowcount = conn._engine.executemany(sql, seq_of_parameters)
        return self

    def executescript(self, script):
        """Commit, then run several statements in one text."""
        self._check()
        self.connection.commit()
        self.connection._db.run_execute(script)
        return self

    def _rows(self, n):
        r = self._result
        if r is None:
            return []
        rows = r.fetch(self._pos, self._pos + n)
        self._pos += len(rows)
        f = self.row_factory
        return [f(self, row) for row in rows] if f is not None else rows

    def fetchone(self):
        if self._closed or self.connection._db.closed:
            self._check()
        r = self._result
        if r is None:
            return None
        pos = self._pos
        if pos >= len(r):
            return None
        row = r[pos]
        self._pos = pos + 1
        f = self.row_factory
        return f(self, row) if f is not None else row

    def fetchmany(self, size=None):
        self._check()
        return self._rows(self.arraysize if size is None else size)

    def fetchall(self):
        self._check()
        r = self._result
        return self._rows(len(r) - self._pos if r is not None else 0)

    def __iter__(self):
        return self

    def __next__(self):
        row = self.fetchone()
        if row is None:
            raise StopIteration
        return row

    @property
    def result(self):
        """The current rhei.Result (rows, side, Arrow export), or None."""
        return self._result

    def close(self):
        self._closed = True
        self._result = self._desc = None

    def setinputsizes(self, sizes):
        pass

    def setoutputsize(self, size, column=None):
        pass


class Connection:
    """A DB-API connection over one Rhei engine (``conn.engine`` for replication calls)."""

    Warning = Warning
    Error = Error
    InterfaceError = InterfaceError
    DatabaseError = DatabaseError
    DataError = DataError
    OperationalError = OperationalError
    IntegrityError = IntegrityError
    InternalError = InternalError
    ProgrammingError = ProgrammingError
    NotSupportedError = NotSupportedError

    def __init__(self, engine, isolation_level=""):
        self._engine = engine
        self._db = engine._db
        self._in_txn = False
        self.isolation_level = isolation_level
        self.row_factory = None

    @property
    def engine(self):
        """The SyncEngine: register_table, sync_now, sync_status, explain_route..."""
        return self._engine

    @property
    def in_transaction(self):
        return self._in_txn

    @property
    def isolation_level(self):
        return self._isolation

    @isolation_level.setter
    def isolation_level(self, value):
        if value is not None and value.upper() not in ("", "DEFERRED", "IMMEDIATE",
                                                       "EXCLUSIVE"):
            raise ValueError(f"invalid isolation_level {value!r}")
        if value is None and getattr(self, "_in_txn", False):
            self.commit()
        self._isolation = value
        self._begin_sql = f"BEGIN {value or ''}".strip()

    def _check(self):
        if self._db.closed:
            raise ProgrammingError("cannot operate on a closed connection")

    def _begin(self):
        self._db.run_execute(self._begin_sql)
        self._in_txn = True

    def cursor(self, factory=Cursor):
        self._check()
        return factory(self)

    def execute(self, sql, parameters=()):
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql, seq_of_parameters):
        return self.cursor().executemany(sql, seq_of_parameters)

    def executescript(self, script):
        return self.cursor().executescript(script)

    def commit(self):
        self._check()
        if self._in_txn:
            self._db.run_execute("COMMIT")
            self._in_txn = False

    def rollback(self):
        self._check()
        if self._in_txn:
            self._in_txn = False
            self._db.run_execute("ROLLBACK")

    def close(self):
        """Roll back what is not committed and close the engine (final sync cycle)."""
        if self._db.closed:
            return
        try:
            if self._in_txn:
                self._in_txn = False
                self._db.run_execute("ROLLBACK")
        except Error:
            pass  # closing drops an open transaction either way
        finally:
            self._engine.close()

    def interrupt(self):
        self._engine.interrupt()

    def query_arrow(self, sql, parameters=(), *, hint=None, consistency=None):
        """A routed read as a :class:`rhei.ArrowStream` (not materialised; see
        SyncEngine.query_arrow). Reads inside an open transaction see its writes."""
        self._check()
        return self._engine.query_arrow(sql, parameters, hint=hint, consistency=consistency)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.commit()
        else:
            self.rollback()
        return False

    def __del__(self):
        try:
            if not self._db.closed and self._in_txn:
                self.rollback()
        except Exception:
            pass


def connect(database=None, *, isolation_level="", config_file=None, **config):
    """Open a DB-API connection: ``rhei.connect("app.db")``. ``database`` is the SQLite file
    (oltp_path); other keywords are the engine's configuration (see rhei.open)."""
    engine = open_sync(database, config_file=config_file, **config)
    return Connection(engine, isolation_level)


__all__ = ["connect", "Connection", "Cursor", "apilevel", "threadsafety", "paramstyle",
           "STRING", "BINARY", "NUMBER", "DATETIME", "ROWID", "Date", "Time", "Timestamp",
           "Binary", "DateFromTicks", "TimeFromTicks", "TimestampFromTicks"] + _errors.__all__
