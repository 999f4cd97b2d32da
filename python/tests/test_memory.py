"""No growth over 100K queries: Python objects (sys.getallocatedblocks, gc) and the process's
resident memory, measured after a warm-up so caches and pools have settled."""
import decimal
import gc
import os
import sys

import anyio
import pytest

import rhei


SANITIZED = bool(os.environ.get("RHEI_SANITIZED"))


def rss_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def measure(fn, n):
    fn(2000)  # warm-up: statement caches, pools, allocator arenas
    gc.collect()
    blocks0, rss0 = sys.getallocatedblocks(), rss_kb()
    fn(n)
    gc.collect()
    return sys.getallocatedblocks() - blocks0, rss_kb() - rss0


def test_100k_sync_queries_do_not_grow(db_path):
    with rhei.open_sync(db_path) as e:
        e.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT, b BLOB, d DECIMAL(8,2),"
                  " ts TIMESTAMP)")
        e.register_table("t")
        e.execute("INSERT INTO t VALUES (1, 'x', x'00', '1.50', '2024-01-01 00:00:00')")
        e.sync_now()

        wide = "SELECT " + ", ".join("?" * 20)

        def run(n):
            for i in range(n):
                r = e.query("SELECT * FROM t WHERE id = ?", (1,))
                r.rows()
                r.to_pylist()
                if i % 10 == 0:
                    e.query("SELECT COUNT(*), MAX(d) FROM t", hint="olap").rows()
                if i % 50 == 0:
                    e.query("SELECT s FROM t", hint="olap").__arrow_c_stream__()
                if i % 100 == 0:
                    try:
                        e.execute("INSERT INTO t VALUES (1, 'dup', NULL, NULL, NULL)")
                    except rhei.IntegrityError:
                        pass
                if i % 20 == 0:  # a list, objects made for the values, values off the stack
                    e.execute("UPDATE t SET d = ?, b = ? WHERE id = ?",
                              [decimal.Decimal("1.50"), bytearray(b"\x00"), 1])
                    e.query(wide, tuple(range(20))).rows()
                    try:
                        e.query("SELECT ?, ?", (decimal.Decimal("1"), object()))
                    except rhei.TypeMismatch:
                        pass

        blocks, rss = measure(run, 100_000)
        print("blocks", blocks, "rss_kb", rss)
        assert blocks < 500, f"{blocks} Python blocks more after 100K queries"
        # under ASan freed memory sits in its quarantine: RSS says nothing there
        assert SANITIZED or rss < 8 * 1024, f"resident memory grew {rss} kB over 100K queries"


def test_10k_async_queries_do_not_grow(db_path):
    async def main(path):
        async with await rhei.open(oltp_path=path) as e:
            await e.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")
            await e.execute("INSERT INTO t VALUES (1, 2)")

            async def run(n):
                for _ in range(n):
                    assert (await e.query("SELECT v FROM t WHERE id = ?", (1,))).scalar() == 2

            await run(2000)
            gc.collect()
            b0, r0 = sys.getallocatedblocks(), rss_kb()
            await run(10_000)
            # cancelled calls too: their results are freed when they finish
            for _ in range(200):
                with anyio.move_on_after(0):
                    await e.query("SELECT v FROM t WHERE id = 1")
            assert e._db.wait_idle(30.0)
            gc.collect()
            return sys.getallocatedblocks() - b0, rss_kb() - r0

    for backend in ("asyncio", "trio"):
        blocks, rss = anyio.run(main, db_path + backend, backend=backend)
        print(backend, "blocks", blocks, "rss_kb", rss)
        assert blocks < 500 and (SANITIZED or rss < 8 * 1024), (backend, blocks, rss)
