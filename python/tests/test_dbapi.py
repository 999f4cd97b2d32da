"""PEP 249 conformance points, and sqlite3-shaped behaviour so code ports by one import."""
import datetime as dt
import decimal
import threading
import time

import pytest

import rhei


@pytest.fixture
def conn(db_path):
    c = rhei.connect(db_path)
    try:
        yield c
    finally:
        c.close()


def test_module_globals():
    assert rhei.apilevel == "2.0"
    assert rhei.threadsafety in (0, 1, 2, 3)
    assert rhei.paramstyle in ("qmark", "named")
    for name in ("Warning", "Error", "InterfaceError", "DatabaseError", "DataError",
                 "OperationalError", "IntegrityError", "InternalError", "ProgrammingError",
                 "NotSupportedError"):
        assert issubclass(getattr(rhei, name), Exception)
    assert issubclass(rhei.IntegrityError, rhei.DatabaseError)
    assert issubclass(rhei.DatabaseError, rhei.Error)
    assert rhei.Date(2024, 1, 2) == dt.date(2024, 1, 2)
    assert rhei.Binary(b"x") == b"x"
    assert rhei.TimestampFromTicks(0) == dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    assert rhei.DateFromTicks(86400) == dt.date(1970, 1, 2)


def test_cursor_basics(conn):
    cur = conn.cursor()
    cur.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, x REAL)")
    assert cur.description is None
    cur.execute("INSERT INTO t VALUES (?, ?, ?)", (1, "a", 1.5))
    assert cur.rowcount == 1
    cur.executemany("INSERT INTO t VALUES (?, ?, ?)", [(i, f"n{i}", i / 2) for i in range(2, 12)])
    assert cur.rowcount == 10
    conn.commit()
    cur.execute("SELECT id, name, x FROM t ORDER BY id")
    assert [d[0] for d in cur.description] == ["id", "name", "x"]
    assert all(len(d) == 7 for d in cur.description)
    assert cur.description[0][1] == rhei.NUMBER and cur.description[1][1] == rhei.STRING
    assert cur.description[1][1] != rhei.NUMBER
    assert cur.rowcount == -1
    assert cur.fetchone() == (1, "a", 1.5)
    assert cur.fetchmany(2) == [(2, "n2", 1.0), (3, "n3", 1.5)]
    cur.arraysize = 3
    assert len(cur.fetchmany()) == 3
    rest = cur.fetchall()
    assert [r[0] for r in rest] == list(range(7, 12))
    assert cur.fetchone() is None and cur.fetchall() == []
    assert [r[0] for r in conn.execute("SELECT id FROM t WHERE id < 4 ORDER BY id")] == [1, 2, 3]
    cur.close()
    with pytest.raises(rhei.ProgrammingError):
        cur.execute("SELECT 1")


def test_named_parameters(conn):
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT)")
    conn.execute("INSERT INTO t VALUES (:id, :a, :b)", {"id": 1, "a": "x", "b": "y"})
    conn.execute("INSERT INTO t VALUES (@id, $a, :a)", {"id": 2, "a": "z"})
    conn.executemany("INSERT INTO t VALUES (:id, :a, 'k')", [{"id": 3, "a": "p"},
                                                              {"id": 4, "a": "q"}])
    conn.commit()
    rows = conn.execute("SELECT * FROM t WHERE id >= :lo AND a <> ':not_a_param' ORDER BY id",
                        {"lo": 1}).fetchall()
    assert rows == [(1, "x", "y"), (2, "z", "z"), (3, "p", "k"), (4, "q", "k")]
    with pytest.raises(rhei.ProgrammingError, match="missing|supply"):
        conn.execute("SELECT * FROM t WHERE id = :missing", {"other": 1})


def test_implicit_transaction_commit_and_rollback(db_path, conn):
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    conn.execute("INSERT INTO t VALUES (1)")
    assert conn.in_transaction
    conn.rollback()
    assert not conn.in_transaction
    assert conn.execute("SELECT COUNT(*) FROM t").fetchone() == (0,)
    conn.execute("INSERT INTO t VALUES (2)")
    conn.commit()
    assert conn.execute("SELECT id FROM t").fetchall() == [(2,)]


def test_context_manager_commits_or_rolls_back(conn):
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    with conn:
        conn.execute("INSERT INTO t VALUES (1)")
    assert not conn.in_transaction
    with pytest.raises(rhei.IntegrityError):
        with conn:
            conn.execute("INSERT INTO t VALUES (2)")
            conn.execute("INSERT INTO t VALUES (1)")
    assert conn.execute("SELECT id FROM t").fetchall() == [(1,)]


def test_autocommit_mode(db_path):
    c = rhei.connect(db_path, isolation_level=None)
    c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    c.execute("INSERT INTO t VALUES (1)")
    assert not c.in_transaction
    c.close()
    c = rhei.connect(db_path)
    assert c.execute("SELECT id FROM t").fetchall() == [(1,)]
    c.close()


def test_engine_calls_through_connection(conn):
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, p DECIMAL(10,2), d DATE)")
    conn.engine.register_table("t")
    with conn:
        conn.executemany("INSERT INTO t VALUES (?, ?, ?)",
                         [(i, decimal.Decimal("1.25"), dt.date(2024, 1, i)) for i in range(1, 8)])
    conn.engine.sync_now()
    cur = conn.execute("SELECT SUM(p), MAX(d) FROM t")
    assert cur.fetchone() == (decimal.Decimal("8.75"), dt.date(2024, 1, 7))
    assert cur.result.side == "olap"


def test_errors_are_pep249(conn):
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
    with pytest.raises(rhei.IntegrityError) as ei:
        conn.execute("INSERT INTO t VALUES (1, NULL)")
    assert "NOT NULL" in str(ei.value)
    conn.rollback()
    with pytest.raises(rhei.OperationalError, match="no such table"):
        conn.execute("SELECT * FROM missing")
    with pytest.raises(rhei.ProgrammingError):
        conn.execute("SELEC 1")
    with pytest.raises(rhei.ProgrammingError):
        conn.execute("SELECT ?", (1, 2))
    with pytest.raises(rhei.ProgrammingError):
        conn.executemany("SELECT 1", [()])
    assert conn.Error is rhei.Error and conn.IntegrityError is rhei.IntegrityError


def test_closed_connection(db_path):
    c = rhei.connect(db_path)
    c.close()
    c.close()
    with pytest.raises(rhei.ProgrammingError):
        c.cursor()
    with pytest.raises(rhei.ProgrammingError):
        c.commit()


def test_row_factory_and_executescript(conn):
    conn.executescript("CREATE TABLE a (x INTEGER); CREATE TABLE b (y INTEGER);"
                       " INSERT INTO a VALUES (1); INSERT INTO b VALUES (2);")
    conn.row_factory = lambda cur, row: {d[0]: v for d, v in zip(cur.description, row)}
    assert conn.execute("SELECT x FROM a").fetchone() == {"x": 1}
    assert conn.execute("SELECT y FROM b").fetchall() == [{"y": 2}]


def test_sqlite3_code_ports_by_changing_the_import(tmpdir_rm):
    import os
    import sqlite3
    out = {}
    for mod in (sqlite3, rhei):
        path = os.path.join(tmpdir_rm, f"{mod.__name__}.db")
        con = mod.connect(path)
        cur = con.cursor()
        cur.execute("CREATE TABLE movie(title TEXT, year INTEGER, score REAL)")
        cur.execute("INSERT INTO movie VALUES ('Monty Python and the Holy Grail', 1975, 8.2),"
                    " ('And Now for Something Completely Different', 1971, 7.5)")
        con.commit()
        data = [("Monty Python Live at the Hollywood Bowl", 1982, 7.9),
                ("Monty Python's The Meaning of Life", 1983, 7.5),
                ("Monty Python's Life of Brian", 1979, 8.0)]
        cur.executemany("INSERT INTO movie VALUES(?, ?, ?)", data)
        con.commit()
        with con:
            con.execute("UPDATE movie SET score = :s WHERE year = :y", {"s": 9.0, "y": 1975})
        try:
            with con:
                con.execute("INSERT INTO movie VALUES ('x', 1, 1.0)")
                raise ValueError("abort")
        except ValueError:
            pass
        out[mod.__name__] = (
            cur.execute("SELECT title, year, score FROM movie ORDER BY year").fetchall(),
            [d[0] for d in cur.description], con.in_transaction)
        con.close()
    assert out["sqlite3"] == out["rhei"]


def test_transactions_with_background_sync(db_path):
    """The writer stays with the connection's transaction while the engine syncs and prunes
    in the background; reads inside the transaction see its own writes."""
    c = rhei.connect(db_path, sync_interval_ms=1)
    try:
        c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")
        c.engine.register_table("t")
        for round_ in range(30):
            base = round_ * 100
            c.executemany("INSERT INTO t VALUES (?, ?)", [(base + i, i) for i in range(100)])
            assert c.in_transaction
            assert c.execute("SELECT COUNT(*) FROM t WHERE id >= ?", (base,)).fetchone() == (100,)
            if round_ % 3 == 2:
                c.rollback()
            else:
                c.commit()
        c.engine.sync_now()
        want = sum(100 for r in range(30) if r % 3 != 2)
        assert c.execute("SELECT COUNT(*) FROM t").fetchone() == (want,)
        cur = c.execute("SELECT COUNT(*) FROM t")
        assert cur.result.side == "olap" and cur.fetchone() == (want,)
        with pytest.raises(rhei.MisuseError, match="transaction"):
            c.execute("INSERT INTO t VALUES (-1, 0)")
            c.engine.register_table("t")
        c.rollback()
    finally:
        c.close()


def test_lastrowid_like_sqlite3(db_path):
    c = rhei.connect(db_path, isolation_level=None)
    cur = c.cursor()
    assert cur.lastrowid is None
    cur.execute("CREATE TABLE r (id INTEGER PRIMARY KEY, tag INTEGER)")
    assert cur.lastrowid is None
    cur.execute("INSERT INTO r (tag) VALUES (?)", (1,))
    assert cur.lastrowid == 1
    cur.execute("INSERT INTO r VALUES (?, ?)", (40, 2))
    assert cur.lastrowid == 40
    cur.execute("REPLACE INTO r VALUES (?, ?)", (40, 3))
    assert cur.lastrowid == 40
    c.engine.register_table("r")  # capture triggers insert into the change log: not counted
    cur.execute("INSERT INTO r (tag) VALUES (:t)", {"t": 4})
    assert cur.lastrowid == 41
    for sql, params in [("UPDATE r SET tag = 9 WHERE id = 1", ()),
                        ("SELECT * FROM r", ()), ("DELETE FROM r WHERE id = 40", ())]:
        cur.execute(sql, params)
        assert cur.lastrowid == 41  # unchanged, as sqlite3
    cur.executemany("INSERT INTO r (tag) VALUES (?)", [(5,), (6,)])
    assert cur.lastrowid == 41  # executemany leaves it, as sqlite3
    with pytest.raises(rhei.IntegrityError):
        cur.execute("INSERT INTO r VALUES (41, 0)")
    assert cur.lastrowid == 41
    c.close()


def test_lastrowid_with_threads_inserting(db_path):
    """Cursors of one engine in two threads (autocommit): each lastrowid names its own row,
    although both share SQLite's writer connection."""
    c = rhei.connect(db_path, isolation_level=None)
    c.execute("CREATE TABLE r (id INTEGER PRIMARY KEY, tag INTEGER)")
    got = {1: [], 2: []}

    def insert(tag):
        cur = c.cursor()
        for _ in range(1500):
            cur.execute("INSERT INTO r (tag) VALUES (?)", (tag,))
            got[tag].append(cur.lastrowid)

    ts = [threading.Thread(target=insert, args=(t,)) for t in (1, 2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    tags = dict(c.execute("SELECT id, tag FROM r").fetchall())
    assert len(tags) == 3000
    for tag, ids in got.items():
        assert len(set(ids)) == 1500 and all(tags[i] == tag for i in ids)
    c.close()


def test_execute_parameter_forms(conn):
    """cursor.execute runs statements on the caller's thread (Database.run_*): every form of
    parameters the Call path took still binds, including more values than fit on its stack
    and values converted into objects of their own (Decimal digits, a bytearray's copy)."""
    import collections
    cols = ", ".join(f"c{i} INTEGER" for i in range(20))
    conn.execute(f"CREATE TABLE w (id INTEGER PRIMARY KEY, {cols})")
    conn.execute(f"INSERT INTO w VALUES ({', '.join('?' * 21)})", tuple(range(21)))
    conn.execute(f"INSERT INTO w VALUES ({', '.join('?' * 21)})", list(range(1, 22)))
    assert conn.execute("SELECT * FROM w WHERE id = ?", [1]).fetchone() == tuple(range(1, 22))
    assert conn.execute("SELECT COUNT(*) FROM w", None).fetchone() == (2,)
    Pair = collections.namedtuple("Pair", "a b")
    conn.execute("CREATE TABLE v (id INTEGER PRIMARY KEY, p DECIMAL(10,2), b BLOB, d DATE,"
                 " ts TIMESTAMP, f REAL, s TEXT)")
    when = dt.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=dt.timezone.utc)
    row = (1, decimal.Decimal("12.34"), bytearray(b"\x00ab"), dt.date(2024, 1, 2), when, 0.5,
           "héllo")
    conn.execute("INSERT INTO v VALUES (?, ?, ?, ?, ?, ?, ?)", row)
    conn.execute("INSERT INTO v (id, b) VALUES (?, ?)", Pair(2, memoryview(b"mv")))
    got = conn.execute("SELECT * FROM v ORDER BY id").fetchall()
    assert got[0] == (1, decimal.Decimal("12.34"), b"\x00ab", dt.date(2024, 1, 2), when, 0.5,
                      "héllo")
    assert got[1][:3] == (2, None, b"mv")
    with pytest.raises(TypeError):
        conn.execute("SELECT ?", 5)
    with pytest.raises(rhei.TypeMismatch, match="parameter 2"):
        conn.execute("SELECT ?, ?", (1, object()))
    with pytest.raises(OverflowError):
        conn.execute("SELECT ?", (1 << 70,))


def test_run_methods_check_their_arguments(db_path):
    e = rhei.open_sync(db_path)
    db = e._db
    db.run_execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    assert db.run_execute_info("INSERT INTO t VALUES (?, ?)", (7, "a")) == (1, 7)
    assert db.run_execute("UPDATE t SET v = ?", ["b"]) == 1
    r = db.run_query("SELECT id, v FROM t", None, 1, 0)  # hint oltp, eventual
    assert r.rows() == [(7, "b")] and r.side == "oltp"
    with pytest.raises(TypeError):
        db.run_execute()
    with pytest.raises(TypeError):
        db.run_execute("SELECT 1", (), 1)
    with pytest.raises(TypeError, match="sql must be a str"):
        db.run_execute(b"SELECT 1")
    with pytest.raises(ValueError, match="NUL"):
        db.run_execute("SELECT 1\0")
    with pytest.raises(TypeError, match="parameters must be a tuple or a list"):
        db.run_execute("SELECT ?", {"a": 1})
    with pytest.raises(ValueError, match="hint"):
        db.run_query("SELECT 1", None, 7)
    with pytest.raises(rhei.IntegrityError):
        db.run_execute_info("INSERT INTO t VALUES (?, ?)", (7, "dup"))
    e.close()
    with pytest.raises(rhei.MisuseError, match="closed"):
        db.run_execute("SELECT 1")


def test_blocking_execute_releases_the_gil(conn):
    """A statement runs without the GIL: the main thread keeps running Python while another
    thread's cursor.execute works for a while (a 2M-row recursive count on SQLite). Held, the
    main thread would see one gap as long as the statement."""
    sql = ("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 2000000)"
           " SELECT COUNT(*) FROM n")
    started, span = threading.Event(), []

    def run():
        cur = conn.cursor()
        started.set()
        t0 = time.monotonic()
        cur.execute(sql)
        span.append((t0, time.monotonic()))

    t = threading.Thread(target=run)
    t.start()
    started.wait()
    ticks = []
    while not span:
        ticks.append(time.monotonic())
    t.join()
    t0, t1 = span[0]
    inside = [x for x in ticks if t0 < x < t1]
    edges = [t0] + inside + [t1]
    longest = max(b - a for a, b in zip(edges, edges[1:]))
    assert longest < (t1 - t0) / 2, (longest, t1 - t0, len(inside))


# Reads whose text holds write words only inside literals, comments, quoted identifiers or
# function names; each must return its rows and leave no transaction open (one was opened,
# holding the writer, when a regex found "replace(" or "update" anywhere in a WITH).
KIND_READS = [
    ("WITH x AS (SELECT name FROM t) SELECT replace(name, 'a', 'Z') FROM x", [("Zbc",)]),
    ("WITH x AS (SELECT 'please update me' AS s) SELECT s FROM x", [("please update me",)]),
    ("WITH x AS (SELECT 1 AS \"delete\") SELECT \"delete\" FROM x", [(1,)]),
    ("WITH x AS (SELECT 2 AS v) /* INSERT INTO t */ SELECT v FROM x -- UPDATE t\n", [(2,)]),
    ("WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 3)"
     " SELECT n FROM c", [(1,), (2,), (3,)]),
    ("SELECT 1 UNION SELECT 2", [(1,), (2,)]),
    ("VALUES (1), (2)", [(1,), (2,)]),
    ("  -- a comment\n select 'x'", [("x",)]),
    ("PRAGMA table_info(t)", [(0, "id", "INTEGER", 0, None, 1), (1, "name", "TEXT", 0, None, 0)]),
    ("pragma user_version", [(0,)]),
]


@pytest.mark.parametrize("sql,rows", KIND_READS)
def test_statement_kinds_reads(conn, sql, rows):
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO t VALUES (1, 'abc')")
    conn.commit()
    cur = conn.execute(sql)
    assert cur.fetchall() == rows
    assert cur.description is not None and len(cur.description) == len(rows[0])
    assert not conn.in_transaction, "a read opened a transaction"


def test_statement_kinds_writes(conn):
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
    conn.commit()
    # A WITH whose statement is an INSERT is a write: implicit transaction, rowcount, lastrowid.
    cur = conn.execute("WITH x(v) AS (VALUES ('select'), ('b')) INSERT INTO t(name) SELECT v FROM x")
    assert cur.description is None and cur.rowcount == 2 and cur.lastrowid == 2
    assert conn.in_transaction
    conn.rollback()
    assert conn.execute("SELECT count(*) FROM t").fetchone() == (0,)
    # A PRAGMA that sets something returns no rows and opens no transaction.
    cur = conn.execute("PRAGMA user_version = 7")
    assert cur.description is None and cur.fetchall() == [] and not conn.in_transaction
    assert conn.execute("PRAGMA user_version").fetchall() == [(7,)]


@pytest.mark.parametrize("isolation", ["", None])
def test_returning_rows(db_path, isolation):
    """INSERT/UPDATE/DELETE ... RETURNING return their rows as sqlite3 does (they were
    dropped: [] and description None), with rowcount and lastrowid right."""
    c = rhei.connect(db_path, isolation_level=isolation)
    try:
        c.execute("CREATE TABLE u (a INTEGER PRIMARY KEY, b TEXT)")
        c.execute("INSERT INTO u(b) VALUES ('first')")
        cur = c.cursor()  # lastrowid belongs to a cursor
        cur.execute("INSERT INTO u(b) VALUES ('x'), ('returning') RETURNING a, b")
        assert [d[0] for d in cur.description] == ["a", "b"]
        assert cur.fetchall() == [(2, "x"), (3, "returning")]
        assert cur.rowcount == 2 and cur.lastrowid == 3
        assert c.in_transaction == (isolation is not None)
        cur.execute("WITH n(v) AS (VALUES ('w')) INSERT INTO u(b) SELECT v FROM n RETURNING a")
        assert cur.fetchall() == [(4,)] and cur.lastrowid == 4
        cur.execute("UPDATE u SET b = upper(b) WHERE a > ? RETURNING a, b", (2,))
        assert cur.fetchall() == [(3, "RETURNING"), (4, "W")] and cur.rowcount == 2
        assert cur.lastrowid == 4, "an UPDATE leaves lastrowid as it was"
        cur.execute("DELETE FROM u WHERE a = :a RETURNING b", {"a": 1})
        assert cur.fetchall() == [("first",)] and cur.rowcount == 1
        c.commit()
        assert not c.in_transaction
        assert c.execute("SELECT a, b FROM u ORDER BY a").fetchall() == [
            (2, "x"), (3, "RETURNING"), (4, "W")]
        # A failing RETURNING statement changes nothing and leaves no savepoint behind.
        with pytest.raises(rhei.IntegrityError):
            c.execute("INSERT INTO u(a, b) VALUES (5, 'y'), (2, 'dup') RETURNING a")
        c.rollback()
        assert not c.in_transaction
        assert c.execute("SELECT count(*) FROM u").fetchone() == (3,)
        assert c.engine.execute_query("DELETE FROM u WHERE a = 2 RETURNING b").rows() == [("x",)]
    finally:
        c.close()


@pytest.mark.parametrize("sql,number", [("SELECT ?", 1), ("SELECT :a, ?", 2),
                                         ("SELECT :a, :a, ?", 2), ("SELECT ?1, ?", 2)])
def test_mapping_for_nameless_parameters(conn, sql, number):
    """A mapping given to a statement with ? parameters fails as in sqlite3, naming the
    parameter (it said "statement takes 1 parameters, 0 given")."""
    import sqlite3
    given = {"a": 1, "1": 1}
    want = f"binding {number} has no name, but you supplied a dictionary"
    with pytest.raises(sqlite3.ProgrammingError, match=f"(?i){want}"):
        sqlite3.connect(":memory:").execute(sql, given)
    with pytest.raises(rhei.ProgrammingError, match=want):
        conn.execute(sql, given)
    with pytest.raises(rhei.ProgrammingError, match=want):
        conn.engine.query(sql, given)
    assert conn.execute("SELECT :a, '?', :a", {"a": 1}).fetchall() == [(1, "?", 1)]
    # ?NNN takes the value named "NNN", as in sqlite3
    assert conn.execute("SELECT ?2, ?1, ?2", {"1": 1, "2": 2}).fetchall() == [(2, 1, 2)]
