"""Errors: the class follows the engine's code, the message is the engine's, PEP 249 names
apply, and a failed call loses nothing and leaves the engine usable."""
import pytest

import rhei

pytestmark = pytest.mark.anyio


async def test_codes_map_to_classes(engine):
    await engine.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
    cases = [
        (engine.execute("INSERT INTO t VALUES (1, NULL)"), rhei.IntegrityError, 8, "NOT NULL"),
        (engine.execute("INSERT INTO nope VALUES (1)"), rhei.OperationalError, 6, "no such table"),
        (engine.query("DELETE FROM t"), rhei.MisuseError, 3, "read-only"),
        (engine.register_table("missing"), rhei.Error, None, "missing"),
        (engine.execute("SELECT ?", (1, 2)), rhei.MisuseError, 3, "parameters"),
    ]
    for coro, cls, code, text in cases:
        with pytest.raises(cls) as ei:
            await coro
        assert text in str(ei.value)
        if code is not None:
            assert ei.value.code == code
        assert isinstance(ei.value, rhei.DatabaseError)
        assert ei.value.code_name.startswith("RHEI_")
    # Nothing was lost and the engine still works.
    await engine.execute("INSERT INTO t VALUES (1, 'ok')")
    assert (await engine.query("SELECT v FROM t")).rows() == [("ok",)]


async def test_pep249_and_sqlite3_categories(engine):
    with pytest.raises(rhei.ProgrammingError):
        await engine.execute("SELEC 1")
    with pytest.raises(rhei.OperationalError):  # sqlite3 raises OperationalError here
        await engine.execute("SELEC 1")
    assert issubclass(rhei.TypeMismatch, rhei.DataError)
    assert issubclass(rhei.Interrupted, rhei.OperationalError)
    assert issubclass(rhei.ReadOnlyError, rhei.OperationalError)


async def test_register_with_a_different_schema_is_exists(engine):
    await engine.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    await engine.register_table(rhei.TableSchema("t", [("id", "int64"), ("v", "utf8")], ["id"]))
    await engine.register_table(rhei.TableSchema("t", [("id", "int64"), ("v", "utf8")], ["id"]))
    with pytest.raises(rhei.ExistsError):
        await engine.register_table(rhei.TableSchema("t", [("id", "int64"), ("v", "int64")],
                                                     ["id"]))


async def test_type_mismatch_from_capture_guard(engine):
    await engine.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER)")
    await engine.register_table("t")
    with pytest.raises(rhei.DatabaseError, match="type mismatch"):
        await engine.execute("INSERT INTO t VALUES (1, 'text')")
    assert (await engine.query("SELECT COUNT(*) FROM t")).scalar() == 0


def test_bad_arguments_raise_python_errors(db_path):
    with rhei.open_sync(db_path) as e:
        with pytest.raises(TypeError):
            e.execute(123)
        with pytest.raises(TypeError):
            e.execute("SELECT ?", 5)
        with pytest.raises(ValueError, match="NUL"):
            e.execute("SELECT 1\\0".replace("\\0", "\0"))
        with pytest.raises(TypeError):
            e.register_table(42)
        with pytest.raises(ValueError):
            rhei.sql_type("decimal128(50,2)")


def test_open_failure_message(tmpdir_rm):
    with pytest.raises(rhei.Error) as ei:
        rhei.open_sync(oltp_path=tmpdir_rm + "/no/such/dir/x.db")
    assert str(ei.value)
    with pytest.raises(rhei.ConfigError, match="sync_mode"):
        rhei.open_sync(oltp_path=tmpdir_rm + "/x.db", sync_mode="sideways")


async def test_async_refuses_transaction_control(engine):
    await engine.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    for sql in ("BEGIN", "begin immediate", "COMMIT", "ROLLBACK", "SAVEPOINT a", "END"):
        with pytest.raises(rhei.ProgrammingError, match="execute_batch"):
            await engine.execute(sql)
    assert await engine.execute_batch(["INSERT INTO t VALUES (1)", "INSERT INTO t VALUES (2)"]) == 2
