"""The Arrow PyCapsule interface, read by a consumer written here (ctypes over the C stream
interface, as pyarrow/polars/DuckDB read it): formats, values, nulls, ownership."""
import datetime as dt
import decimal
import gc

import pytest

import rhei
from arrow_consumer import read_schema_capsule, read_stream_capsule

pytestmark = pytest.mark.anyio
D = decimal.Decimal
UTC = dt.timezone.utc


async def load(e):
    await e.execute("CREATE TABLE a (id INTEGER PRIMARY KEY, f DOUBLE, s TEXT, b BLOB,"
                    " ok BOOLEAN, p DECIMAL(10,2), d DATE, ts TIMESTAMP)")
    await e.register_table("a")
    await e.executemany("INSERT INTO a VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
        (1, 1.5, "x", b"\x00\x01", True, D("12.34"), dt.date(2024, 5, 6),
         dt.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)),
        (2, None, None, None, None, None, None, None),
        (3, -2.25, "héllo", b"", False, D("-0.01"), dt.date(1969, 12, 31),
         dt.datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC)),
    ])
    await e.sync_now()


async def test_stream_matches_rows_olap(engine):
    await load(engine)
    r = await engine.query("SELECT * FROM a ORDER BY id", hint="olap")
    rows = r.rows()
    schema = read_schema_capsule(r.__arrow_c_schema__())
    assert [f[1] for f in schema] == ["l", "g", "u", "z", "b", "d:10,2", "tdD", "tsu:UTC"]
    assert [f[0] for f in schema] == list(r.column_names)
    fields, got, batches = read_stream_capsule(r.__arrow_c_stream__())
    assert fields == schema  # the schema capsule says what the stream says
    assert batches == 1
    assert got == rows
    assert r.moved
    with pytest.raises(rhei.MisuseError, match="moved to Arrow"):
        r.rows()
    with pytest.raises(rhei.MisuseError):
        r.__arrow_c_stream__()


async def test_stream_from_oltp_side(engine):
    await load(engine)
    r = await engine.query("SELECT id, f, s FROM a WHERE id = 1")
    assert r.side == "oltp"
    schema = read_schema_capsule(r.__arrow_c_schema__())
    fields, got, _ = read_stream_capsule(r.__arrow_c_stream__(requested_schema=None))
    assert fields == schema and got == [(1, 1.5, "x")]


async def test_large_result_and_unconsumed_capsules_are_freed(engine):
    await engine.execute("CREATE TABLE big (id INTEGER PRIMARY KEY, g INTEGER)")
    await engine.register_table("big")
    await engine.executemany("INSERT INTO big VALUES (?, ?)", [(i, i % 7) for i in range(5000)])
    await engine.sync_now()
    r = await engine.query("SELECT g, COUNT(*) FROM big GROUP BY g ORDER BY g")
    fields, got, _ = read_stream_capsule(r.__arrow_c_stream__())
    assert sum(c for _, c in got) == 5000 and [g for g, _ in got] == list(range(7))
    for _ in range(50):  # dropped without being read: the capsule destructor releases them
        (await engine.query("SELECT * FROM big")).__arrow_c_stream__()
        (await engine.query("SELECT * FROM big")).__arrow_c_schema__()
    gc.collect()


def test_export_failure_says_why(db_path):
    """A failed export says what the C call reported (the message was a bare "cannot export
    the result to Arrow"). A DECIMAL(4,2) cell SQLite stores beyond the precision does not fit
    decimal128(4,2)."""
    with rhei.open_sync(db_path) as e:
        e.execute("CREATE TABLE d (id INTEGER PRIMARY KEY, p DECIMAL(4,2))")
        e.execute("INSERT INTO d VALUES (1, 123456.78)")
        r = e.query("SELECT p FROM d", hint="oltp")
        with pytest.raises(rhei.TypeMismatch) as ei:
            r.__arrow_c_stream__()
        assert str(ei.value) == ("cannot export the result to Arrow: type mismatch"
                                 " (a cell does not fit its column's Arrow type)")
        assert ei.value.code == 7  # RHEI_TYPE
