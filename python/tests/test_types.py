"""Every type both ways: Python value -> parameter -> SQLite -> (sync) -> DuckDB, read back
from each side as the same Python value and type."""
import datetime as dt
import decimal

import pytest

import rhei

pytestmark = pytest.mark.anyio
D = decimal.Decimal
UTC = dt.timezone.utc

TABLE = ("CREATE TABLE v (id INTEGER PRIMARY KEY, i BIGINT, f DOUBLE, s TEXT, b BLOB,"
         " ok BOOLEAN, price DECIMAL(12,3), day DATE, ts TIMESTAMP)")

ROWS = [
    (1, 0, 0.0, "", b"", False, D("0.000"), dt.date(1970, 1, 1),
     dt.datetime(1970, 1, 1, tzinfo=UTC)),
    (2, 2**63 - 1, 1.5e300, "héllo ✓ \U0001f600", b"\x00\xff\x01", True, D("123456789.125"),
     dt.date(2024, 2, 29), dt.datetime(2024, 2, 29, 23, 59, 58, 999999, tzinfo=UTC)),
    (3, -2**63, -0.1, "a'b\"c\nd", bytes(range(256)), True, D("-0.001"),
     dt.date(1, 1, 1), dt.datetime(1900, 3, 1, 0, 0, 0, 1, tzinfo=UTC)),
    (4, None, None, None, None, None, None, None, None),
    (5, -1, float("inf"), "x" * 10000, b"y" * 10000, False, D("-999999999.999"),
     dt.date(9999, 12, 31), dt.datetime(2262, 4, 11, 23, 47, 16, 854775, tzinfo=UTC)),
]


def same(a, b):
    """Equal values of the same Python type (bool is not int, Decimal is not float)."""
    assert type(a) is type(b), (a, b)
    assert a == b, (a, b)
    if isinstance(a, dt.datetime):
        assert a.tzinfo is not None and a.utcoffset() == dt.timedelta(0)
    if isinstance(a, D):
        assert a.as_tuple() == b.as_tuple(), (a, b)  # same digits and scale


async def load(e):
    await e.execute(TABLE)
    await e.register_table("v")
    await e.executemany("INSERT INTO v VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", ROWS)
    await e.sync_now()


@pytest.mark.parametrize("side", ["oltp", "olap"])
async def test_values_read_back_exactly(engine, side):
    await load(engine)
    r = await engine.query("SELECT * FROM v ORDER BY id", hint=side)
    assert r.side == side
    got = r.rows()
    assert len(got) == len(ROWS)
    for want_row, got_row in zip(ROWS, got):
        for w, g in zip(want_row, got_row):
            same(w, g)


async def test_olap_column_types(engine):
    await load(engine)
    r = await engine.query("SELECT * FROM v", hint="olap")
    assert r.column_types == ("INTEGER", "INTEGER", "REAL", "TEXT", "BLOB", "BOOLEAN",
                              "DECIMAL", "DATE", "TIMESTAMP")


@pytest.mark.parametrize("side", ["oltp", "olap"])
async def test_values_as_parameters(engine, side):
    await load(engine)
    row = ROWS[1]
    names = ["i", "f", "s", "b", "ok", "price", "day", "ts"]
    for k, (col, val) in enumerate(zip(names, row[1:]), start=1):
        want = [(w[0],) for w in ROWS if w[k] is not None and w[k] == val]
        r = await engine.query(f"SELECT id FROM v WHERE {col} = ? ORDER BY id", (val,),
                               hint=side)
        assert r.rows() == want, (side, col, val, r.rows())


async def test_aware_datetime_converted_to_utc_and_naive_is_utc(engine):
    await engine.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, ts TIMESTAMP)")
    await engine.register_table("t")
    plus2 = dt.timezone(dt.timedelta(hours=2))
    await engine.execute("INSERT INTO t VALUES (1, ?)", (dt.datetime(2024, 1, 1, 12,
                                                                     tzinfo=plus2),))
    await engine.execute("INSERT INTO t VALUES (2, ?)", (dt.datetime(2024, 1, 1, 10),))
    await engine.sync_now()
    want = dt.datetime(2024, 1, 1, 10, tzinfo=UTC)
    for side in ("oltp", "olap"):
        r = await engine.query("SELECT ts FROM t ORDER BY id", hint=side)
        assert r.rows() == [(want,), (want,)]


async def test_bytearray_memoryview_and_bad_types(engine):
    await engine.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB)")
    await engine.execute("INSERT INTO t VALUES (1, ?)", (bytearray(b"ab"),))
    await engine.execute("INSERT INTO t VALUES (2, ?)", (memoryview(b"cd"),))
    r = await engine.query("SELECT b FROM t ORDER BY id")
    assert r.rows() == [(b"ab",), (b"cd",)]
    with pytest.raises(rhei.TypeMismatch, match="parameter 2"):
        await engine.execute("INSERT INTO t VALUES (?, ?)", (3, [1, 2]))
    with pytest.raises(rhei.TypeMismatch, match="NaN"):
        await engine.execute("INSERT INTO t VALUES (?, ?)", (3, D("NaN")))
    with pytest.raises(OverflowError):
        await engine.execute("INSERT INTO t VALUES (?, ?)", (2**64, None))
    assert isinstance(rhei.TypeMismatch("x"), rhei.ProgrammingError)


async def test_decimal_exactness_through_aggregates(engine):
    await engine.execute("CREATE TABLE p (id INTEGER PRIMARY KEY, amt DECIMAL(18,2))")
    await engine.register_table("p")
    await engine.executemany("INSERT INTO p VALUES (?, ?)",
                             [(i, D("0.10")) for i in range(1000)])
    await engine.sync_now()
    r = await engine.query("SELECT SUM(amt) FROM p", hint="olap")
    assert r.scalar() == D("100.00") and type(r.scalar()) is D
