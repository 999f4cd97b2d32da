"""How finished calls reach the loop: Channel.wake() wakes each waiter in C (an asyncio
future's set_result unless it is done, or fn(waiter)), a failing wakeup does not lose the
others, and sequential awaits reuse one worker thread instead of growing the pool."""
import asyncio
import os
import select
import sys
import time

import anyio
import pytest

import rhei
from rhei import _rhei


def _finished(ch, n):
    """Blocks until the channel's eventfd says calls finished (the test is the loop)."""
    r, _, _ = select.select([ch.fileno()], [], [], 30)
    assert r, f"no completion of {n} calls within 30 s"


def _submit(db, ch, n, waiters):
    calls = []
    for i in range(n):
        c = db.route_stats()
        c.waiter = waiters[i]
        c.submit(ch)
        calls.append(c)
    return calls


def _wait_all(calls):
    deadline = time.monotonic() + 30
    while not all(c.done for c in calls):  # the calls finish on workers; checked, not timed
        assert time.monotonic() < deadline, [c.done for c in calls]
        time.sleep(0.001)


def _wake_all(ch, calls, *fn):
    """Wakes until every call's waiter was taken: a worker marks its call done just before it
    posts the completion, so one wakeup may come before the last calls are posted (seen once
    under a loaded ctest -j2); the loop's next wakeup takes them, as here."""
    deadline = time.monotonic() + 30
    while any(c.waiter is not None for c in calls):
        assert time.monotonic() < deadline, [c.waiter for c in calls]
        _finished(ch, len(calls))
        ch.wake(*fn)


def test_wake_calls_fn_per_waiter_in_order(db_path):
    e = rhei.open_sync(db_path)
    ch = _rhei.Channel()
    seen = []
    calls = _submit(e._db, ch, 5, [f"w{i}" for i in range(5)])
    _wait_all(calls)
    _wake_all(ch, calls, seen.append)
    assert sorted(seen) == [f"w{i}" for i in range(5)], seen
    assert all(c.waiter is None for c in calls), [c.waiter for c in calls]
    assert [c.result() for c in calls] == [(0, 0, 0)] * 5
    r, _, _ = select.select([ch.fileno()], [], [], 0)
    assert not r, "the wakeup was not consumed: the loop would spin"
    e.close()


def test_wake_failure_does_not_lose_other_waiters(db_path):
    e = rhei.open_sync(db_path)
    ch = _rhei.Channel()
    seen, unraisable = [], []

    def fn(w):
        if w == "bad":
            raise ValueError("boom")
        seen.append(w)

    old = sys.unraisablehook
    sys.unraisablehook = lambda u: unraisable.append(u.exc_value)
    try:
        calls = _submit(e._db, ch, 3, ["a", "bad", "c"])
        _wait_all(calls)
        _wake_all(ch, calls, fn)
    finally:
        sys.unraisablehook = old
    assert sorted(seen) == ["a", "c"], seen
    assert len(unraisable) == 1 and isinstance(unraisable[0], ValueError), unraisable
    e.close()


def test_wake_skips_a_cancelled_future(db_path):
    e = rhei.open_sync(db_path)
    ch = _rhei.Channel()
    loop = asyncio.new_event_loop()
    try:
        done, cancelled = loop.create_future(), loop.create_future()
        cancelled.cancel()
        calls = _submit(e._db, ch, 2, [cancelled, done])
        _wait_all(calls)
        unraisable = []
        old = sys.unraisablehook
        sys.unraisablehook = lambda u: unraisable.append(u.exc_value)
        try:
            _wake_all(ch, calls)  # no fn: asyncio futures
        finally:
            sys.unraisablehook = old
        assert unraisable == [], unraisable
        assert done.done() and done.result() is None
        assert cancelled.cancelled()
    finally:
        loop.close()
        e.close()


@pytest.mark.anyio
async def test_sequential_awaits_reuse_one_worker(engine):
    await engine.route_stats()  # the first call may make the worker
    before = len(os.listdir("/proc/self/task"))
    for _ in range(500):
        await engine.route_stats()
    after = len(os.listdir("/proc/self/task"))
    # A worker counts itself idle before its completion reaches the loop, so the next call
    # never finds every worker busy and never makes another thread.
    assert after == before, (before, after)


@pytest.mark.anyio
async def test_concurrent_calls_still_spread_over_workers(engine):
    """Many calls in flight at once each get a worker (up to the cap): nothing is serialised
    behind an idle count that has not caught up."""
    results = []

    async def one():
        results.append(await engine.query("SELECT 1"))

    async with anyio.create_task_group() as tg:
        for _ in range(8):
            tg.start_soon(one)
    assert len(results) == 8


@pytest.mark.anyio
async def test_batch_items_of_every_shape(engine):
    """Items that need no binding go to C as they are; named parameters, lists and
    generators still work through the binding path, with the same outcome."""
    await engine.execute("CREATE TABLE b (id INTEGER PRIMARY KEY, v TEXT)")
    items = ["INSERT INTO b VALUES (1, 'plain')",
             ("INSERT INTO b VALUES (?, ?)", (2, "tuple")),
             ("INSERT INTO b VALUES (?, ?)", [3, "list params"]),
             ["INSERT INTO b VALUES (?, ?)", (4, "list item")],
             ("INSERT INTO b VALUES (:id, :v)", {"id": 5, "v": "named"}),
             ("INSERT INTO b VALUES (6, 'no params')", None)]
    assert await engine.execute_batch(items) == 6
    assert await engine.execute_batch(
        ("INSERT INTO b VALUES (?, ?)", (10 + i, "gen")) for i in range(3)) == 3
    rows = (await engine.query("SELECT id, v FROM b ORDER BY id", hint="oltp")).rows()
    assert rows == [(1, "plain"), (2, "tuple"), (3, "list params"), (4, "list item"),
                    (5, "named"), (6, "no params"), (10, "gen"), (11, "gen"), (12, "gen")]
    with pytest.raises(rhei.ProgrammingError, match="binding parameter :v"):
        await engine.execute_batch([("INSERT INTO b VALUES (:id, :v)", {"id": 20})])
    with pytest.raises(TypeError):
        await engine.execute_batch([42])
    with pytest.raises(rhei.Error, match="cannot bind parameter 1"):
        await engine.execute_batch([("INSERT INTO b VALUES (?, 'x')", (object(),))])


def test_batch_list_changed_after_submit_is_not_read(db_path):
    """The statements list is snapshotted: items replaced after the call was made (the
    worker may still be reading them) do not change what runs, nor free what it reads."""
    e = rhei.open_sync(db_path)
    e.execute("CREATE TABLE b (id INTEGER PRIMARY KEY, v TEXT)")
    items = [("INSERT INTO b VALUES (?, ?)", (i, f"v{i}" * 50)) for i in range(100)]
    call = e._db.execute_batch(items)
    items[:] = [("INSERT INTO b VALUES (?, ?)", (-1, "replaced"))] * 100
    assert call.run() == 100
    assert e.query("SELECT COUNT(*), MIN(id) FROM b", hint="oltp").rows() == [(100, 0)]
    e.close()


def test_running_loop_cache_follows_the_thread_and_the_loop(db_path):
    """The running-loop shortcut (no getpid per call) must give each call its own thread's
    running loop: loops one after another on a thread, a loop on another thread meanwhile,
    trio after asyncio, and nothing outside a loop."""
    import threading

    import trio

    from rhei import _loop

    async def n_rows(e):
        assert _loop._running_loop() is asyncio.get_running_loop()
        return (await e.query("SELECT 1")).scalar()

    async def session():
        async with await rhei.open(oltp_path=db_path) as e:
            return [await n_rows(e) for _ in range(3)]

    assert asyncio.run(session()) == [1, 1, 1]
    assert asyncio.run(session()) == [1, 1, 1]  # a new loop on the same thread
    assert _loop._running_loop() is None  # no loop runs here now

    other_ready, other_stop, seen = threading.Event(), threading.Event(), []

    def other_thread():
        async def hold():
            seen.append(asyncio.get_running_loop())
            other_ready.set()
            while not other_stop.is_set():
                await asyncio.sleep(0.001)
        asyncio.run(hold())

    t = threading.Thread(target=other_thread)
    t.start()
    try:
        assert other_ready.wait(30)
        assert asyncio.run(session()) == [1, 1, 1]  # not the other thread's running loop
        assert _loop._running_loop() is None
    finally:
        other_stop.set()
        t.join()

    async def trio_session():
        assert _loop._running_loop() is None
        async with await rhei.open(oltp_path=db_path) as e:
            return (await e.query("SELECT 1")).scalar()

    assert trio.run(trio_session) == 1
