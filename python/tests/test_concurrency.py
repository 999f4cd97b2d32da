"""100 tasks writing to and querying one engine at once, with both cores kept busy; then the
OLAP copy equals SQLite row for row."""
import random

import anyio
import pytest

import rhei

pytestmark = pytest.mark.anyio

TASKS = 100
ROWS_PER_TASK = 20


async def test_100_tasks_write_and_query(engine, busy_cores):
    seed = random.randrange(1 << 30)
    print("seed", seed)
    rng = random.Random(seed)
    await engine.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, task INTEGER, v INTEGER)")
    await engine.register_table(rhei.TableSchema("t", [("id", "int64"), ("task", "int64"),
                                                       ("v", "int64")], ["id"]))
    plans = [[rng.randrange(1000) for _ in range(ROWS_PER_TASK)] for _ in range(TASKS)]
    seen_own = []

    async def worker(k):
        for j, v in enumerate(plans[k]):
            rid = k * ROWS_PER_TASK + j
            if j % 5 == 4:
                await engine.execute_batch([("INSERT INTO t VALUES (?, ?, ?)", (rid, k, v))])
            else:
                assert await engine.execute("INSERT INTO t VALUES (?, ?, ?)", (rid, k, v)) == 1
            r = await engine.query("SELECT v FROM t WHERE id = ?", (rid,))
            seen_own.append(r.rows() == [(v,)])
            if j % 4 == 0:
                r = await engine.query("SELECT COUNT(*) FROM t WHERE task = ?", (k,),
                                       hint="olap", consistency="strong")
                seen_own.append(r.scalar() == j + 1)  # strong: its own writes are applied
            if j == ROWS_PER_TASK // 2 and k % 10 == 0:
                await engine.sync_now()

    async with anyio.create_task_group() as tg:
        for k in range(TASKS):
            tg.start_soon(worker, k)
    assert len(seen_own) == TASKS * (ROWS_PER_TASK + ROWS_PER_TASK // 4) and all(seen_own)
    await engine.sync_now()
    want = sorted((k * ROWS_PER_TASK + j, k, v) for k in range(TASKS)
                  for j, v in enumerate(plans[k]))
    oltp = (await engine.query("SELECT * FROM t ORDER BY id", hint="oltp")).rows()
    olap = (await engine.query("SELECT * FROM t ORDER BY id", hint="olap")).rows()
    assert oltp == want
    assert olap == oltp


def test_threads_share_one_engine(db_path, busy_cores):
    """The sync API from 8 threads at once (the GIL is released while each call runs)."""
    import threading
    with rhei.open_sync(db_path) as e:
        e.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        e.register_table("t")
        errors = []

        def run(k):
            try:
                for i in range(100):
                    e.execute("INSERT INTO t VALUES (?, ?)", (k * 1000 + i, f"{k}:{i}"))
                    assert e.query("SELECT v FROM t WHERE id = ?", (k * 1000 + i,)).scalar() \
                        == f"{k}:{i}"
            except BaseException as x:  # reported below
                errors.append(x)

        ts = [threading.Thread(target=run, args=(k,)) for k in range(8)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        assert not errors, errors
        e.sync_now()
        a = e.query("SELECT * FROM t ORDER BY id", hint="oltp").rows()
        b = e.query("SELECT * FROM t ORDER BY id", hint="olap").rows()
        assert len(a) == 800 and a == b
