"""Python API speed (make bench-python): each row next to stdlib sqlite3 doing the same work
in the same run (same file settings, the same capture triggers copied from the rhei file),
the C API where it applies, and the original Rhei's published Python figures.

Rows: insert 500 rows (one statement per commit), sync of those events, batch insert of 400
rows (one transaction), point reads, a 1M-row GROUP BY fetched as tuples and as Arrow
(a materialised Result, and streamed by query_arrow next to rhei_query_arrow called from C),
a 1M-row plain scan streamed the same way. "raw sqlite3" rows are stdlib sqlite3 with no
capture and the engine's WAL/NORMAL settings, next to 10x the original's figure: whether that
target is within what SQLite itself does on this machine.
Targets: >= 10x the original's three figures; single-row insert >= 0.8x sqlite3 with the
same capture; Arrow fetch of 1M rows >= 0.8x the C API's."""
import argparse
import ctypes
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time

import anyio

HERE = os.path.dirname(os.path.abspath(__file__))
# The script's folder holds the package's sources without the extension: import the build.
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != HERE]
sys.path.insert(0, os.path.join(HERE, "tests"))
import rhei  # noqa: E402
from arrow_consumer import ArrowArrayStream, count_stream_rows  # noqa: E402

ORIGINAL = {"insert": 2491.0, "sync": 32142.0, "batch": 30733.0}
TABLE = "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, amount INTEGER)"


def median_rate(samples):
    return statistics.median(samples)


def sqlite_twin(rhei_path, path):
    """A sqlite3 file with the same schema, capture tables and triggers as rhei's."""
    src = sqlite3.connect(rhei_path)
    objs = src.execute("SELECT type, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT"
                       " LIKE 'sqlite_%' ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index'"
                       " THEN 1 ELSE 2 END").fetchall()
    src.close()
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("PRAGMA recursive_triggers=ON")
    con.execute("PRAGMA foreign_keys=ON")
    for _, sql in objs:
        con.execute(sql)
    ntrig = sum(1 for t, _ in objs if t == "trigger")
    return con, ntrig


class Bench:
    def __init__(self, quick):
        self.quick = quick
        self.rounds = 3 if quick else 7
        self.dir = tempfile.mkdtemp(prefix="rhei-pybench-")
        self.rows = []

    def row(self, name, rhei_v, base_v, unit, base_name, orig=None, note=""):
        ratio = rhei_v / base_v if base_v else float("nan")
        self.rows.append((name, rhei_v, base_v, ratio, unit, base_name, orig, note))
        o = f"  original {orig:>10,.0f} ({rhei_v / orig:5.1f}x)" if orig else ""
        print(f"{name:<34} rhei {rhei_v:>12,.0f} {unit:<8} {base_name} {base_v:>12,.0f}"
              f"  ratio {ratio:5.2f}{o}  {note}", flush=True)

    # --- inserts, sync, batch (async API, as the original measured) ---------------------
    def raw_sqlite(self, r, backend):
        """stdlib sqlite3 with no capture at all: the same table, journal and synchronous
        settings as the engine's writer (WAL, NORMAL), the same statements: what SQLite alone
        does on this machine, i.e. the ceiling of any binding."""
        con = sqlite3.connect(os.path.join(self.dir, f"raw{r}-{backend}.db"),
                              isolation_level=None)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=NORMAL")
        con.execute(TABLE)
        t0 = time.perf_counter()
        for i in range(500):
            con.execute("INSERT INTO t VALUES (?, ?, ?)", (i, f"user{i}", i * 3))
        ins = 500 / (time.perf_counter() - t0)
        rows = [(1000 + i, f"b{i}", i) for i in range(400)]
        t0 = time.perf_counter()
        con.execute("BEGIN")
        con.executemany("INSERT INTO t VALUES (?, ?, ?)", rows)
        con.execute("COMMIT")
        bat = 400 / (time.perf_counter() - t0)
        con.close()
        return ins, bat

    async def async_writes(self, backend):
        ins, syn, bat, sins, sbat, dins, dsins = [], [], [], [], [], [], []
        rins, rbat = [], []
        for r in range(self.rounds):
            path = os.path.join(self.dir, f"w{r}-{backend}.db")
            async with await rhei.open(oltp_path=path) as e:
                await e.execute(TABLE)
                await e.register_table(rhei.TableSchema(
                    "t", [("id", "int64"), ("name", "utf8"), ("amount", "int64")], ["id"]))
                con, ntrig = sqlite_twin(path, os.path.join(self.dir, f"s{r}-{backend}.db"))
                assert ntrig >= 3, "capture triggers were not copied"
                t0 = time.perf_counter()
                for i in range(500):
                    await e.execute("INSERT INTO t VALUES (?, ?, ?)", (i, f"user{i}", i * 3))
                ins.append(500 / (time.perf_counter() - t0))
                t0 = time.perf_counter()
                st = await e.sync_now()
                syn.append(st.events / (time.perf_counter() - t0))
                assert st.events == 500, st
                stmts = [("INSERT INTO t VALUES (?, ?, ?)", (1000 + i, f"b{i}", i))
                         for i in range(400)]
                t0 = time.perf_counter()
                await e.execute_batch(stmts)
                bat.append(400 / (time.perf_counter() - t0))
                # sqlite3 with the same capture, same statements
                t0 = time.perf_counter()
                for i in range(500):
                    con.execute("INSERT INTO t VALUES (?, ?, ?)", (i, f"user{i}", i * 3))
                sins.append(500 / (time.perf_counter() - t0))
                t0 = time.perf_counter()
                con.execute("BEGIN")
                con.executemany("INSERT INTO t VALUES (?, ?, ?)", [s[1] for s in stmts])
                con.execute("COMMIT")
                sbat.append(400 / (time.perf_counter() - t0))
                con.close()
            # DB-API (blocking) single-row insert, same capture, autocommit, paired with its
            # own sqlite3 twin run right before or after it (they take turns going first):
            # the async rows' baseline above ran seconds earlier, and at load 4-7 the rate
            # drifts by more than the difference measured (ratio 0.72-0.93 for one build).
            dpath = os.path.join(self.dir, f"d{r}-{backend}.db")
            c = rhei.connect(dpath, isolation_level=None)
            c.execute(TABLE)
            c.engine.register_table("t")
            con, _ = sqlite_twin(dpath, os.path.join(self.dir, f"ds{r}-{backend}.db"))

            def dbapi_rows():
                t0 = time.perf_counter()
                for i in range(500):
                    c.execute("INSERT INTO t VALUES (?, ?, ?)", (i, f"user{i}", i * 3))
                dins.append(500 / (time.perf_counter() - t0))

            def twin_rows():
                t0 = time.perf_counter()
                for i in range(500):
                    con.execute("INSERT INTO t VALUES (?, ?, ?)", (i, f"user{i}", i * 3))
                dsins.append(500 / (time.perf_counter() - t0))

            for run in ((dbapi_rows, twin_rows) if r % 2 else (twin_rows, dbapi_rows)):
                run()
            con.close()
            c.close()
            a, b = self.raw_sqlite(r, backend)
            rins.append(a)
            rbat.append(b)
        return ins, syn, bat, sins, sbat, dins, dsins, rins, rbat

    def writes(self, backend):
        ins, syn, bat, sins, sbat, dins, dsins, rins, rbat = anyio.run(
            self.async_writes, backend, backend=backend)
        s = median_rate(sins)
        dmed = median_rate(dins)
        ri, rb = median_rate(rins), median_rate(rbat)
        self.row(f"raw sqlite3 insert 500 ({backend} run)", ri, 10 * ORIGINAL["insert"],
                 "rows/s", "10x orig", ORIGINAL["insert"],
                 "no capture, WAL+NORMAL: SQLite's own ceiling here")
        self.row(f"raw sqlite3 batch 400 ({backend} run)", rb, 10 * ORIGINAL["batch"],
                 "rows/s", "10x orig", ORIGINAL["batch"],
                 "no capture, one transaction: SQLite's own ceiling here")
        self.row(f"insert 500 rows, async ({backend})", median_rate(ins), s, "rows/s",
                 "sqlite3+capture", ORIGINAL["insert"])
        self.row("insert 500 rows, DB-API (blocking)", median_rate(dins), median_rate(dsins),
                 "rows/s", "sqlite3+capture", ORIGINAL["insert"],
                 f"target ratio >= 0.8 (paired twin; vs the async rows' {dmed / s:.2f})")
        self.row(f"sync 500 events ({backend})", median_rate(syn), float("nan"), "events/s",
                 "(no sqlite3 equivalent)", ORIGINAL["sync"])
        self.row(f"batch insert 400 rows ({backend})", median_rate(bat), median_rate(sbat),
                 "rows/s", "sqlite3+capture", ORIGINAL["batch"])

    # --- point reads ------------------------------------------------------------------
    def point_reads(self):
        path = os.path.join(self.dir, "p.db")
        n = 2000 if self.quick else 10000
        c = rhei.connect(path, isolation_level=None)
        c.execute(TABLE)
        c.executemany("INSERT INTO t VALUES (?, ?, ?)", [(i, f"u{i}", i) for i in range(1000)])
        c.engine.register_table("t")
        s = sqlite3.connect(path, isolation_level=None)
        cur = c.cursor()
        scur = s.cursor()
        rs, ss, aa = [], [], []
        for _ in range(self.rounds):
            t0 = time.perf_counter()
            for i in range(n):
                cur.execute("SELECT name, amount FROM t WHERE id = ?", (i % 1000,)).fetchone()
            rs.append(n / (time.perf_counter() - t0))
            t0 = time.perf_counter()
            for i in range(n):
                scur.execute("SELECT name, amount FROM t WHERE id = ?", (i % 1000,)).fetchone()
            ss.append(n / (time.perf_counter() - t0))

        async def async_reads():
            async with await rhei.open(oltp_path=path) as e:
                t0 = time.perf_counter()
                for i in range(n // 2):
                    (await e.query("SELECT name, amount FROM t WHERE id = ?", (i % 1000,))).rows()
                return (n // 2) / (time.perf_counter() - t0)

        c.close()
        for _ in range(self.rounds):
            aa.append(anyio.run(async_reads))
        s.close()
        self.row("point reads, DB-API (blocking)", median_rate(rs), median_rate(ss),
                 "reads/s", "sqlite3")
        self.row("point reads, async (asyncio)", median_rate(aa), median_rate(ss), "reads/s",
                 "sqlite3")

    # --- 1M-row GROUP BY: tuples and Arrow -----------------------------------------------
    def group_by(self):
        n = 100_000 if self.quick else 1_000_000
        path = os.path.join(self.dir, "g.db")
        e = rhei.open_sync(path)
        e.execute("CREATE TABLE f (id INTEGER PRIMARY KEY, g INTEGER, v DOUBLE)")
        e.register_table("f")
        e.execute("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?)"
                  " INSERT INTO f SELECT x, x % 1000, x * 0.5 FROM c", (n,))
        e.sync_now()
        sql = "SELECT id, SUM(v) AS s FROM f GROUP BY id"  # n groups: an n-row result
        s = sqlite3.connect(path)
        lib = ctypes.CDLL(os.path.join(os.environ.get("RHEI_BUILD_DIR",
                                                      os.path.join(HERE, "..", "build")),
                                       "librhei.so"))
        lib.rhei_query_with_hint.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int,
                                             ctypes.POINTER(ctypes.c_void_p)]
        lib.rhei_result_to_arrow.argtypes = [ctypes.c_void_p, ctypes.POINTER(ArrowArrayStream)]
        lib.rhei_query_arrow.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p,
                                         ctypes.c_size_t, ctypes.POINTER(ctypes.c_int * 2),
                                         ctypes.c_void_p, ctypes.POINTER(ArrowArrayStream)]
        handle = ctypes.c_void_p(e._db.handle)
        cap = ctypes.pythonapi.PyCapsule_New
        cap.restype = ctypes.py_object
        cap.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]

        def c_api():
            res = ctypes.c_void_p()
            assert lib.rhei_query_with_hint(handle, sql.encode(), 2, ctypes.byref(res)) == 0
            st = ArrowArrayStream()
            assert lib.rhei_result_to_arrow(res, ctypes.byref(st)) == 0
            rows = count_stream_rows(cap(ctypes.addressof(st), b"arrow_array_stream", None))
            st.release(ctypes.byref(st))
            return rows

        def c_stream(q):
            """rhei_query_arrow from C (through ctypes), read by the same consumer."""
            st = ArrowArrayStream()
            opts = (ctypes.c_int * 2)(2, 0)  # RHEI_SIDE_OLAP, RHEI_EVENTUAL
            assert lib.rhei_query_arrow(handle, q.encode(), None, 0, ctypes.byref(opts), None,
                                        ctypes.byref(st)) == 0
            rows = count_stream_rows(cap(ctypes.addressof(st), b"arrow_array_stream", None))
            st.release(ctypes.byref(st))
            return rows

        scan = "SELECT id, g, v FROM f"
        tup, stup, arw, carw = [], [], [], []
        sarw, scarw, parw, pcarw = [], [], [], []
        def timed(out, fn):
            t0 = time.perf_counter()
            got = fn()
            out.append(got / (time.perf_counter() - t0))
            assert got == n

        def py_stream(q):
            return count_stream_rows(e.query_arrow(q, hint="olap").__arrow_c_stream__())

        for i in range(6 if self.quick else 10):  # Python and C take turns going first
            pair = [(sarw, lambda: py_stream(sql)), (scarw, lambda: c_stream(sql))]
            for out, fn in (pair if i % 2 else pair[::-1]):
                timed(out, fn)
            pair = [(parw, lambda: py_stream(scan)), (pcarw, lambda: c_stream(scan))]
            for out, fn in (pair if i % 2 else pair[::-1]):
                timed(out, fn)
            t0 = time.perf_counter()
            rows = e.query(sql, hint="olap").rows()
            tup.append(len(rows) / (time.perf_counter() - t0))
            assert len(rows) == n
            del rows
            t0 = time.perf_counter()
            srows = s.execute(sql).fetchall()
            stup.append(len(srows) / (time.perf_counter() - t0))
            del srows
            # The materialised pair takes turns going first too: whichever runs right after
            # the 1M tuples above are freed is the slower (12 rounds at load 9: Python
            # 1.30M rows/s first, 1.62M second; C 1.12M first, 1.75M second). Python always
            # went first here, which alone made it 0.76x; alternating, 0.96x.
            pair = [(arw, lambda: count_stream_rows(
                e.query(sql, hint="olap").__arrow_c_stream__())), (carw, c_api)]
            for out, fn in (pair if i % 2 else pair[::-1]):
                timed(out, fn)
        s.close()
        e.close()
        label = f"{n // 1000}K" if n < 1_000_000 else "1M"
        self.row(f"GROUP BY {label} rows as tuples", median_rate(tup), median_rate(stup),
                 "rows/s", "sqlite3")
        self.row(f"GROUP BY {label} rows as Arrow", median_rate(arw), median_rate(carw),
                 "rows/s", "C API  ", None, "Result (materialised) vs C query+to_arrow")
        self.row(f"GROUP BY {label} rows, query_arrow", median_rate(sarw), median_rate(scarw),
                 "rows/s", "C API  ", None, "streamed; vs C rhei_query_arrow, target >= 0.8")
        self.row(f"scan {label} rows, query_arrow", median_rate(parw), median_rate(pcarw),
                 "rows/s", "C API  ", None, "streamed; vs C rhei_query_arrow, target >= 0.8")

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="fewer rounds, 100K-row GROUP BY")
    a = ap.parse_args()
    b = Bench(a.quick)
    print(f"rhei {rhei.version} (sqlite {rhei.sqlite_version}, duckdb {rhei.duckdb_version}),"
          f" python {sys.version.split()[0]}, stdlib sqlite3 {sqlite3.sqlite_version},"
          f" {os.cpu_count()} cpus; medians of {b.rounds} rounds", flush=True)
    try:
        b.writes("asyncio")
        b.writes("trio")
        b.point_reads()
        b.group_by()
    finally:
        b.close()


if __name__ == "__main__":
    main()
