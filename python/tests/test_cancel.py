"""Cancelling a task that awaits a query interrupts the query; the loop is never blocked;
other reads running at that moment are not harmed; a cancelled call still queued never runs."""
import os
import subprocess
import sys
import textwrap

import anyio
import pytest

import rhei

pytestmark = pytest.mark.anyio

# Both run for minutes unless interrupted.
LONG = {
    "oltp": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 4000000000)"
            " SELECT COUNT(*) FROM c",
    "olap": "SELECT SUM(a.range * b.range) FROM range(200000) a, range(200000) b",
}


@pytest.mark.parametrize("side", ["oltp", "olap"])
async def test_cancel_interrupts_the_running_query(engine, side):
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            await anyio.sleep(0.01)
            ticks += 1

    async with anyio.create_task_group() as tg:
        tg.start_soon(ticker)
        with anyio.move_on_after(0.5) as scope:
            await engine.query(LONG[side], hint=side)
        tg.cancel_scope.cancel()
    assert scope.cancel_called
    assert ticks >= 5, f"the loop was blocked: {ticks} ticks in 0.5 s"
    # The query itself stopped (it would run for minutes): the engine is idle again.
    assert engine._db.wait_idle(30.0), "the cancelled query kept running"
    assert (await engine.query("SELECT 41 + 1", hint=side)).scalar() == 42


async def test_other_reads_survive_a_cancel(engine):
    await engine.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")
    await engine.register_table("t")
    await engine.executemany("INSERT INTO t VALUES (?, ?)", [(i, i) for i in range(200)])
    await engine.sync_now()
    results = []

    async def reader(i):
        for _ in range(20):
            r = await engine.query("SELECT v FROM t WHERE id = ?", (i,))
            results.append(r.scalar() == i)
            r = await engine.query("SELECT SUM(v) FROM t", hint="olap")
            results.append(r.scalar() == sum(range(200)))

    async with anyio.create_task_group() as tg:
        for i in range(10):
            tg.start_soon(reader, i)
        for side in ("oltp", "olap", "oltp"):
            with anyio.move_on_after(0.05):
                await engine.query(LONG[side], hint=side)
    assert len(results) == 400 and all(results)


def test_cancelled_queued_call_never_runs(tmpdir_rm):
    prog = textwrap.dedent(f'''
        import anyio, rhei
        rhei.set_max_workers(1)  # one worker: the write queues behind the long read
        LONG = {LONG["oltp"]!r}
        async def main():
            async with await rhei.open(oltp_path={os.path.join(tmpdir_rm, "q")!r} + "{{}}.db") as e:
                await e.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
                async with anyio.create_task_group() as tg:
                    async def long_read():
                        with anyio.move_on_after(1.0):
                            await e.query(LONG)
                    tg.start_soon(long_read)
                    await anyio.sleep(0.2)
                    with anyio.move_on_after(0.1):
                        await e.execute("INSERT INTO t VALUES (1)")
                assert e._db.wait_idle(30.0)
                n = (await e.query("SELECT COUNT(*) FROM t")).scalar()
                print("rows", n)
        anyio.run(main, backend="{{}}")
        ''')
    for backend in ("asyncio", "trio"):
        p = subprocess.run([sys.executable, "-W", "ignore", "-c", prog.replace("{}", backend)],
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        assert p.stdout.strip() == "rows 0", p.stdout


async def test_interrupt_method(engine):
    async def stop_soon():
        await anyio.sleep(0.3)
        engine.interrupt()

    async with anyio.create_task_group() as tg:
        tg.start_soon(stop_soon)
        with pytest.raises(rhei.Interrupted):
            await engine.query(LONG["oltp"], hint="oltp")


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_cancel_reports_nothing(tmpdir_rm, backend):
    """A cancelled call's completion is dropped silently: its waiter was cleared (set to None),
    which must not be woken (it was: asyncio printed "'NoneType' object has no attribute
    'done'", trio "must be called from async context"). One worker thread, so the cancelled
    call reaches the channel before the next call does: awaiting the next call proves the
    cancelled one's completion was handled."""
    prog = textwrap.dedent(f'''
        import sys, warnings, trio
        # anyio's trio backend subclasses trio.MultiError, deprecated in newer trio
        warnings.filterwarnings("ignore", category=trio.TrioDeprecationWarning)
        import anyio, rhei
        ignored = []
        sys.unraisablehook = lambda u: ignored.append(repr(u.exc_value))
        rhei.set_max_workers(1)
        async def main():
            async with await rhei.open(oltp_path={os.path.join(tmpdir_rm, "c.db")!r}) as e:
                for side in ("olap", "oltp"):
                    with anyio.move_on_after(0.3) as scope:
                        await e.query({LONG!r}[side], hint=side)
                    assert scope.cancel_called
                    assert e._db.wait_idle(30.0), "the cancelled query kept running"
                    assert (await e.query("SELECT 42")).scalar() == 42
        anyio.run(main, backend={backend!r})
        print("ignored", ignored)
        ''')
    p = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "ignored []", p.stdout
    assert p.stderr == "", p.stderr
