"""The original Rhei's Python quick start, verbatim, must run unchanged."""
import os
import subprocess
import sys
import textwrap

import anyio

import rhei

ORIGINAL = textwrap.dedent('''\
    import anyio
    import rhei

    async def main():
        async with await rhei.open(oltp_path="my.db") as engine:
            await engine.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, total INTEGER)")
            await engine.register_table(
                rhei.TableSchema("orders", [("id", "int64"), ("total", "int64")], ["id"])
            )
            await engine.execute("INSERT INTO orders VALUES (1, 99)")
            await engine.sync_now()
            batches = await engine.query("SELECT SUM(total) FROM orders")

    anyio.run(main)
    ''')


def check_db(path):
    with rhei.open_sync(oltp_path=path) as e:
        assert e.tables() == ["orders"]
        assert e.query("SELECT id, total FROM orders").rows() == [(1, 99)]
        r = e.query("SELECT SUM(total) FROM orders", hint="olap")
        assert r.rows() == [(99,)], r.rows()
        assert r.side == "olap"


def test_original_program_verbatim(tmpdir_rm):
    app = os.path.join(tmpdir_rm, "app.py")
    with open(app, "w") as f:
        f.write(ORIGINAL)
    env = dict(os.environ)
    p = subprocess.run([sys.executable, app], cwd=tmpdir_rm, env=env, capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    check_db(os.path.join(tmpdir_rm, "my.db"))


def test_original_program_under_trio(tmpdir_rm):
    src = ORIGINAL.replace("anyio.run(main)", "anyio.run(main, backend='trio')")
    app = os.path.join(tmpdir_rm, "app_trio.py")
    with open(app, "w") as f:
        f.write(src)
    p = subprocess.run([sys.executable, "-W", "ignore", app], cwd=tmpdir_rm,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    check_db(os.path.join(tmpdir_rm, "my.db"))


def test_original_result_has_the_sum(tmpdir_rm):
    async def main():
        async with await rhei.open(oltp_path=os.path.join(tmpdir_rm, "my.db")) as engine:
            await engine.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, total INTEGER)")
            await engine.register_table(
                rhei.TableSchema("orders", [("id", "int64"), ("total", "int64")], ["id"]))
            await engine.execute("INSERT INTO orders VALUES (1, 99)")
            await engine.sync_now()
            batches = await engine.query("SELECT SUM(total) FROM orders")
            assert batches.rows() == [(99,)]
            assert batches.side == "olap"
            assert batches.to_pylist() == [{batches.column_names[0]: 99}]
    anyio.run(main)
