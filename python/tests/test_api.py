"""Every call of the async API, under asyncio and trio, checked against what SQLite holds."""
import datetime as dt
import os
import sqlite3
import time

import pytest

import rhei

pytestmark = pytest.mark.anyio

ORDERS = "CREATE TABLE orders (id INTEGER PRIMARY KEY, total INTEGER, note TEXT)"


async def make_orders(e, n=10):
    await e.execute(ORDERS)
    await e.register_table(rhei.TableSchema("orders", [("id", "int64"), ("total", "int64"),
                                                        ("note", "utf8")], ["id"]))
    await e.execute_batch([("INSERT INTO orders VALUES (?, ?, ?)", (i, i * 10, f"n{i}"))
                           for i in range(n)])


async def olap_rows(e, sql):
    return (await e.query(sql, hint="olap")).rows()


async def test_execute_returns_changes_and_params(engine):
    await engine.execute(ORDERS)
    assert await engine.execute("INSERT INTO orders VALUES (?, ?, ?)", (1, 5, "a")) == 1
    assert await engine.execute("INSERT INTO orders VALUES (:id, :t, :n)",
                                {"id": 2, "t": 6, "n": "b"}) == 1
    assert await engine.execute("UPDATE orders SET total = total + 1") == 2
    r = await engine.query("SELECT id, total, note FROM orders ORDER BY id")
    assert r.rows() == [(1, 6, "a"), (2, 7, "b")]


async def test_execute_batch_all_or_nothing(engine):
    await engine.execute(ORDERS)
    n = await engine.execute_batch(["INSERT INTO orders VALUES (1, 1, 'x')",
                                    ("INSERT INTO orders VALUES (?, ?, ?)", [2, 2, "y"])])
    assert n == 2
    with pytest.raises(rhei.IntegrityError) as ei:
        await engine.execute_batch([("INSERT INTO orders VALUES (?, 0, '')", (3,)),
                                    ("INSERT INTO orders VALUES (?, 0, '')", (1,))])
    assert "statement 2 of the batch" in str(ei.value)
    assert ei.value.code == 8 and ei.value.code_name == "RHEI_CONSTRAINT"
    assert (await engine.query("SELECT COUNT(*) FROM orders", hint="oltp")).scalar() == 2


async def test_executemany(engine):
    await engine.execute(ORDERS)
    n = await engine.executemany("INSERT INTO orders VALUES (?, ?, ?)",
                                 [(i, i, str(i)) for i in range(50)])
    assert n == 50
    assert (await engine.query("SELECT SUM(total) FROM orders", hint="oltp")).scalar() == 1225


async def test_query_hint_consistency_and_side(engine):
    await make_orders(engine)
    await engine.sync_now()
    r = await engine.query("SELECT * FROM orders WHERE id = ?", (3,))
    assert r.side == "oltp" and r.rows() == [(3, 30, "n3")]
    r = await engine.query("SELECT SUM(total) FROM orders")
    assert r.side == "olap" and r.scalar() == 450 and r.reason
    r = await engine.query_with_hint("SELECT SUM(total) FROM orders", "oltp")
    assert r.side == "oltp" and r.scalar() == 450
    await engine.execute("INSERT INTO orders VALUES (100, 1, 'late')")
    r = await engine.query("SELECT COUNT(*) FROM orders", hint="olap", consistency="strong")
    assert r.scalar() == 11  # strong: the insert above is applied first
    assert r.column_names == ("count_star()",) or len(r.column_names) == 1
    assert r.column_types == ("INTEGER",)
    with pytest.raises(ValueError):
        await engine.query("SELECT 1", hint="elsewhere")


async def test_register_by_name_tables_unregister(engine):
    await engine.execute(ORDERS)
    await engine.execute("INSERT INTO orders VALUES (1, 2, 'x')")
    await engine.register_table("orders")
    assert await engine.tables() == ["orders"]
    assert await olap_rows(engine, "SELECT * FROM orders") == [(1, 2, "x")]
    await engine.unregister_table("orders")
    assert await engine.tables() == []


async def test_register_with_arrow_types_maps_to_sql(engine):
    await engine.execute("CREATE TABLE m (id INTEGER PRIMARY KEY, price DECIMAL(10,2),"
                         " day DATE, at TIMESTAMP, ok BOOLEAN, x REAL, b BLOB)")
    await engine.register_table(rhei.TableSchema(
        "m", [("id", "int64"), ("price", "decimal128(10,2)"), ("day", "date32"),
              ("at", "timestamp[us]"), ("ok", "bool"), ("x", "float64"), ("b", "binary")],
        ["id"]))
    r = await engine.query("SELECT * FROM m", hint="olap")
    assert r.column_types == ("INTEGER", "DECIMAL", "DATE", "TIMESTAMP", "BOOLEAN", "REAL",
                              "BLOB")
    assert r.column_decls[1] == "DECIMAL(10,2)"


async def test_sync_now_stats_and_status(engine):
    await make_orders(engine, 5)
    st = await engine.sync_status()
    assert isinstance(st, rhei.SyncStatus) and not st.running
    s = await engine.sync_now()
    assert isinstance(s, rhei.SyncStats)
    await engine.execute("DELETE FROM orders WHERE id = 0")
    await engine.execute("UPDATE orders SET total = 0 WHERE id = 1")
    s = await engine.sync_now()
    assert (s.events, s.updated, s.deleted) == (2, 1, 1)
    st = await engine.sync_status()
    assert st.lag_events == 0 and st.applied_position == st.head_position
    assert await engine.table_pending("orders") == 0
    assert await olap_rows(engine, "SELECT id, total FROM orders ORDER BY id") == [
        (1, 0), (2, 20), (3, 30), (4, 40)]


async def test_start_stop_sync(engine):
    await make_orders(engine, 3)
    await engine.start_sync(5)
    assert (await engine.sync_status()).running
    await engine.stop_sync()
    assert not (await engine.sync_status()).running


async def test_initial_sync(engine):
    await make_orders(engine, 4)
    await engine.sync_now()
    assert await engine.initial_sync("orders") == 4
    assert await engine.initial_sync_all() == 4
    assert await olap_rows(engine, "SELECT COUNT(*) FROM orders") == [(4,)]


async def test_add_and_drop_column(engine):
    await make_orders(engine, 2)
    await engine.add_column("orders", "price", "decimal128(8,2)")
    await engine.execute("UPDATE orders SET price = ? WHERE id = 1", (rhei_dec("3.50"),))
    await engine.sync_now()
    r = await engine.query("SELECT id, price FROM orders ORDER BY id", hint="olap")
    assert r.rows() == [(0, None), (1, rhei_dec("3.50"))]
    await engine.drop_column("orders", "note")
    await engine.sync_now()
    r = await engine.query("SELECT * FROM orders ORDER BY id", hint="olap")
    assert r.column_names == ("id", "total", "price")


def rhei_dec(s):
    import decimal
    return decimal.Decimal(s)


async def test_explain_route_and_stats(engine):
    await make_orders(engine, 1)
    ri = await engine.explain_route("SELECT SUM(total) FROM orders")
    assert isinstance(ri, rhei.RouteInfo) and ri.side == "olap" and ri.table == "orders"
    ri = await engine.explain_route("SELECT * FROM orders WHERE id = 1")
    assert ri.side == "oltp" and ri.reason
    before = await engine.route_stats()
    await engine.query("SELECT SUM(total) FROM orders")
    after = await engine.route_stats()
    assert after.olap == before.olap + 1


async def test_query_as_of_history(db_path):
    async with await rhei.open(oltp_path=db_path, sync_mode="history") as e:
        await e.execute(ORDERS)
        await e.register_table("orders")
        await e.execute("INSERT INTO orders VALUES (1, 10, 'a')")
        await e.sync_now()
        # Change times have millisecond resolution: an update in the insert's millisecond
        # would leave the first version an empty interval. Wait for the clock (a clock
        # condition, not a sleep standing in for synchronisation).
        h = await e.query("SELECT _rhei_valid_from FROM orders_history", hint="olap")
        first = h.scalar()
        first_ms = (first if isinstance(first, int) else int(first.timestamp() * 1e6)) // 1000
        while time.time_ns() // 1_000_000 <= first_ms + 1:
            pass
        await e.execute("UPDATE orders SET total = 20 WHERE id = 1")
        await e.sync_now()
        # The moment the second version began, read from the history itself.
        h = await e.query("SELECT _rhei_valid_from FROM orders_history WHERE total = 20",
                          hint="olap")
        second = h.scalar()
        second_us = second if isinstance(second, int) else int(second.timestamp() * 1e6)
        r = await e.query_as_of("orders", second_us - 1)
        assert r.rows() == [(1, 10, "a")] and r.side == "olap"
        r = await e.query_as_of("orders", second_us)
        assert r.rows() == [(1, 20, "a")]
        r = await e.query_as_of("orders", dt.datetime.now(dt.timezone.utc))
        assert r.rows() == [(1, 20, "a")]
        with pytest.raises(rhei.RangeError):
            await e.query_as_of("orders", dt.datetime.now(dt.timezone.utc)
                                + dt.timedelta(days=1))


async def test_query_as_of_needs_history(engine):
    await make_orders(engine, 1)
    with pytest.raises(rhei.MisuseError, match="history"):
        await engine.query_as_of("orders", 0)


async def test_sidecar_config_and_status(tmpdir_rm):
    src = os.path.join(tmpdir_rm, "src.db")
    async with await rhei.open(oltp_path=src) as s:
        await s.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, v TEXT,"
                        " updated_at INTEGER)")
        await s.execute_batch([("INSERT INTO items VALUES (?, ?, ?)", (i, f"v{i}", 1000 + i))
                               for i in range(5)])
    cfg = {"source": "sqlite:" + src, "poll_interval_ms": 0, "safety_delay_ms": 0,
           "tables": [{"name": "items", "primary_key": ["id"], "updated_at": "updated_at",
                       "timestamp_unit": "s"}]}
    async with await rhei.open(oltp_path=os.path.join(tmpdir_rm, "side.db"),
                               sidecar=cfg) as e:
        assert e.sidecar_config["sidecar.source"] == "sqlite:" + src
        assert e.sidecar_config["sidecar.tables.0.primary_key.0"] == "id"
        first = await e.sidecar_sync_now()
        st = await e.sidecar_status()
        assert [t.name for t in st] == ["items"] and st[0].rows_applied == 5, (first, st)
        assert not st[0].stopped
        r = await e.query("SELECT COUNT(*) FROM items")
        assert r.scalar() == 5 and r.side == "olap"
        con = sqlite3.connect(src)
        with con:
            con.execute("INSERT INTO items VALUES (9, 'new', ?)", (int(time.time()) - 5,))
        con.close()
        assert await e.sidecar_sync_now() == 1
        assert (await e.query("SELECT v FROM items WHERE id = 9")).rows() == [("new",)]
        with pytest.raises(rhei.ReadOnlyError):
            await e.execute("CREATE TABLE x (a INTEGER)")


async def test_config_errors_and_file(tmpdir_rm):
    with pytest.raises(rhei.ConfigError, match="no_such_key"):
        await rhei.open(oltp_path=os.path.join(tmpdir_rm, "a.db"), no_such_key=1)
    toml = os.path.join(tmpdir_rm, "htap.toml")
    with open(toml, "w") as f:
        f.write('[engine]\noltp_path = "%s"\nread_pool_size = 2\n' % os.path.join(tmpdir_rm,
                                                                                  "b.db"))
    async with await rhei.open(config_file=toml, batch_size=100) as e:
        assert ("batch_size", "100") in e.config.items()
        await e.execute("CREATE TABLE z (a INTEGER PRIMARY KEY)")
    assert os.path.exists(os.path.join(tmpdir_rm, "b.db"))


async def test_closed_engine_refuses(db_path):
    e = await rhei.open(oltp_path=db_path)
    assert not e.closed
    await e.close()
    assert e.closed
    await e.close()  # twice is fine
    with pytest.raises(rhei.ProgrammingError, match="closed"):
        await e.execute("SELECT 1")


async def test_sync_engine_same_calls(db_path):
    with rhei.open_sync(db_path) as e:
        e.execute(ORDERS)
        e.register_table("orders")
        e.execute("INSERT INTO orders VALUES (1, 2, 'x')")
        assert e.sync_now().events == 1
        assert e.query("SELECT total FROM orders", hint="olap").scalar() == 2
        # execute and query run through Database.run_* here: every parameter form still binds
        assert e.execute("INSERT INTO orders VALUES (:id, :t, 'y')", {"id": 2, "t": 5}) == 1
        assert e.execute("UPDATE orders SET total = ? WHERE id = ?", [7, 2]) == 1
        r = e.query("SELECT total FROM orders WHERE id = :id", {"id": 2}, hint="oltp",
                    consistency="strong")
        assert r.scalar() == 7 and r.side == "oltp"
        assert e.query("SELECT COUNT(*) FROM orders", None, hint="oltp").scalar() == 2
        with pytest.raises(ValueError):
            e.query("SELECT 1", hint="elsewhere")
        with pytest.raises(rhei.ProgrammingError, match="supply"):
            e.execute("DELETE FROM orders WHERE id = :id", {"other": 1})


def test_module_surface():
    assert rhei.apilevel == "2.0" and rhei.paramstyle == "qmark"
    assert "oltp_path" in rhei.config_keys()
    assert rhei.version == rhei.__version__
    assert rhei.sqlite_version and rhei.duckdb_version
    assert rhei.sql_type("decimal128(12, 2)") == "DECIMAL(12,2)"
    assert rhei.sql_type("timestamp[us, tz=UTC]") == "TIMESTAMP"
    assert rhei.sql_type("VARCHAR(20)") == "VARCHAR(20)"
    assert "Rhei for Python" in rhei.__doc__
    assert rhei.Engine.query.__doc__ and rhei.Result.__arrow_c_stream__.__doc__
