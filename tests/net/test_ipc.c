/* test_ipc.c — the Arrow IPC writer and reader (src/net/arrow): messages of real engine
 * results read back by the reader equal the engine's values, slices stay under their bound
 * and are 8-byte padded, default fields are omitted, and malformed input is refused. The
 * decoding by an independent implementation (apache-arrow) is tests/net/node/ipc.test.mjs. */
#include "fb.h"
#include "ipc.h"
#include "test.h"

static rhei_db *open_db(char *dir, size_t n)
{
    char path[512];
    rhei_db *db;
    rt_tmpdir(dir, n);
    snprintf(path, sizeof path, "%s/t.db", dir);
    CHECK_OK(NULL, rhei_open_path(path, &db));
    return db;
}

static void close_db(rhei_db *db, const char *dir)
{
    char cmd[600];
    rhei_close(db);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

static void export(rhei_db *db, const char *sql, struct ArrowSchema *sc, struct ArrowArray *a)
{
    rhei_result *r;
    struct ArrowArrayStream st;
    rhei_query_opts o = {RHEI_SIDE_OLAP, RHEI_STRONG};
    CHECK_OK(db, rhei_query_ex(db, sql, NULL, 0, &o, &r));
    CHECK_OK(db, rhei_result_to_arrow(r, &st));
    CHECK_INT(st.get_schema(&st, sc), 0);
    CHECK_INT(st.get_next(&st, a), 0);
    st.release(&st);
}

/* Writes rows [off, off+len) with codec, reads them back through the reader. */
static void roundtrip(struct ArrowSchema *sc, struct ArrowArray *a, int64_t off, int64_t len,
                      int codec, struct ArrowSchema *rs, struct ArrowArray *ra)
{
    char err[IPC_ERR_MAX] = "";
    ipc_msg sm, bm;
    if (ipc_schema_msg(sc, &sm, err) || ipc_batch_msg(sc, a, off, len, codec, &bm, err))
        FAIL("write: %s", err);
    uint8_t *enc;
    size_t n;
    CHECK_INT(ipc_encapsulate(&bm, &enc, &n), 0);
    CHECK_INT(sm.meta_len % 8, 0);
    CHECK_INT(bm.body_len % 8, 0);
    if (ipc_read_schema(sm.meta, sm.meta_len, rs, err))
        FAIL("read schema: %s", err);
    if (ipc_read_batch(rs, bm.meta, bm.meta_len, enc + 8 + bm.meta_len, bm.body_len, ra, err))
        FAIL("read batch: %s", err);
    free(enc);
    ipc_msg_free(&sm);
    ipc_msg_free(&bm);
}

static int bit(const void *bits, int64_t i)
{
    return bits ? ((const uint8_t *)bits)[i / 8] >> (i % 8) & 1 : 1;
}

/* Column c of the read-back slice equals the source rows [off, off+len). */
static void same_column(const struct ArrowSchema *s, const struct ArrowArray *src, int64_t off,
                        const struct ArrowArray *got, int64_t len)
{
    const char *f = s->format;
    for (int64_t i = 0; i < len; i++) {
        int64_t j = src->offset + off + i;
        int valid = src->null_count ? bit(src->buffers[0], j) : 1;
        if (valid != bit(got->buffers[0], i))
            FAIL("column '%s' row %lld: validity %d, want %d", s->name, (long long)i,
                 bit(got->buffers[0], i), valid);
        if (!valid)
            continue;
        if (!strcmp(f, "u") || !strcmp(f, "z")) {
            const int32_t *so = src->buffers[1], *go = got->buffers[1];
            int32_t sl = so[j + 1] - so[j], gl = go[i + 1] - go[i];
            CHECK_INT(gl, sl);
            CHECK(memcmp((const char *)src->buffers[2] + so[j],
                         (const char *)got->buffers[2] + go[i], (size_t)sl) == 0);
        } else if (!strcmp(f, "b")) {
            CHECK_INT(bit(got->buffers[1], i), bit(src->buffers[1], j));
        } else {
            int w = f[0] == 'd' ? 16 : (!strcmp(f, "tdD") ? 4 : 8);
            CHECK(memcmp((const char *)src->buffers[1] + j * w,
                         (const char *)got->buffers[1] + i * w, (size_t)w) == 0);
        }
    }
}

static const char *types_sql =
    "SELECT range::BIGINT AS i, CASE WHEN range % 3 = 0 THEN NULL ELSE range * 1.5 END AS r,"
    " CASE WHEN range % 5 = 0 THEN NULL ELSE 'v' || range END AS s, (range % 2 = 0) AS b,"
    " (range / 100)::DECIMAL(10,2) AS d, DATE '2024-01-01' + range::INTEGER AS day,"
    " TIMESTAMP '2024-01-01' + INTERVAL (range) SECOND AS ts, ('x' || range)::BLOB AS bl"
    " FROM range(1000)";

TEST(roundtrip_slices_all_codecs)
{
    char dir[256];
    rhei_db *db = open_db(dir, sizeof dir);
    struct ArrowSchema sc, rs;
    struct ArrowArray a, ra;
    export(db, types_sql, &sc, &a);
    CHECK_INT(a.length, 1000);
    /* unaligned starts (bitmaps shift, offsets rebase) and every codec */
    int64_t cuts[][2] = {{0, 1000}, {3, 17}, {13, 987}, {999, 1}, {500, 0}};
    for (int codec = IPC_COMP_NONE; codec <= IPC_COMP_ZSTD; codec++)
        for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
            roundtrip(&sc, &a, cuts[k][0], cuts[k][1], codec, &rs, &ra);
            CHECK_INT(ra.length, cuts[k][1]);
            CHECK_INT(ra.n_children, sc.n_children);
            for (int64_t c = 0; c < sc.n_children; c++) {
                CHECK_STR(rs.children[c]->format, sc.children[c]->format);
                CHECK_STR(rs.children[c]->name, sc.children[c]->name);
                same_column(sc.children[c], a.children[c], cuts[k][0], ra.children[c], cuts[k][1]);
            }
            ra.release(&ra);
            rs.release(&rs);
        }
    a.release(&a);
    sc.release(&sc);
    close_db(db, dir);
}

TEST(slices_respect_size_bound)
{
    char dir[256], err[IPC_ERR_MAX];
    rhei_db *db = open_db(dir, sizeof dir);
    struct ArrowSchema sc;
    struct ArrowArray a;
    export(db, "SELECT range AS i, repeat('x', (range % 5000)::INTEGER) AS s FROM range(20000)",
           &sc, &a);
    int64_t total = 0, msgs = 0;
    for (int64_t at = 0; at < a.length; msgs++) {
        int64_t n = ipc_rows_fitting(&sc, &a, at, IPC_TARGET_BYTES);
        ipc_msg m;
        if (ipc_batch_msg(&sc, &a, at, n, IPC_COMP_NONE, &m, err))
            FAIL("%s", err);
        if ((int64_t)m.body_len > IPC_TARGET_BYTES)
            FAIL("slice at %lld: %zu body bytes > %lld", (long long)at, m.body_len,
                 (long long)IPC_TARGET_BYTES);
        CHECK_INT((int64_t)m.body_len, ipc_batch_bytes(&sc, &a, at, n));
        size_t sum = 0;
        for (size_t i = 0; i < m.npieces; i++)
            sum += m.pieces[i].n;
        CHECK_INT(sum, m.body_len);
        ipc_msg_free(&m);
        total += n;
        at += n;
    }
    CHECK_INT(total, 20000);
    CHECK(msgs >= 20); /* ~50 MB of text cannot fit in fewer 2 MiB messages */
    a.release(&a);
    sc.release(&sc);
    close_db(db, dir);
}

/* Message fields at their defaults are absent (arrow-rs rejects some explicit ones). */
TEST(schema_omits_default_fields)
{
    char dir[256], err[IPC_ERR_MAX];
    rhei_db *db = open_db(dir, sizeof dir);
    struct ArrowSchema sc;
    struct ArrowArray a;
    ipc_msg m;
    export(db, "SELECT 1::BIGINT AS x", &sc, &a);
    CHECK_INT(ipc_schema_msg(&sc, &m, err), 0);
    fb_table msg;
    CHECK_INT(fb_root(m.meta, m.meta_len, &msg), 0);
    CHECK_INT(fb_get_int(&msg, 0, 2, -1), 4); /* V5 */
    CHECK_INT(fb_get_int(&msg, 1, 1, -1), 1); /* Schema */
    CHECK_INT(fb_field(&msg, 3, 8), 0);       /* bodyLength absent */
    CHECK_INT(ipc_message_type(m.meta, m.meta_len), 1);
    ipc_msg_free(&m);
    a.release(&a);
    sc.release(&sc);
    close_db(db, dir);
}

TEST(unsupported_type_is_an_error)
{
    char err[IPC_ERR_MAX] = "";
    struct ArrowSchema col = {.format = "vu", .name = "v"}, *cols[1] = {&col};
    struct ArrowSchema sc = {.format = "+s", .name = "", .n_children = 1, .children = cols};
    ipc_msg m;
    CHECK_INT(ipc_schema_msg(&sc, &m, err), -1);
    CHECK(strstr(err, "'vu' is not supported") != NULL);
}

/* Every truncation and every single-byte corruption of a valid message is refused or read
 * safely (ASan checks the latter); never a crash. */
TEST(reader_refuses_damaged_input)
{
    char dir[256], err[IPC_ERR_MAX];
    rhei_db *db = open_db(dir, sizeof dir);
    struct ArrowSchema sc, rs;
    struct ArrowArray a, ra;
    ipc_msg sm, bm;
    export(db, "SELECT range AS i, 'v' || range AS s FROM range(10)", &sc, &a);
    CHECK_INT(ipc_schema_msg(&sc, &sm, err), 0);
    CHECK_INT(ipc_batch_msg(&sc, &a, 0, 10, IPC_COMP_NONE, &bm, err), 0);
    uint8_t *enc;
    size_t n;
    CHECK_INT(ipc_encapsulate(&bm, &enc, &n), 0);
    CHECK_INT(ipc_read_schema(sm.meta, sm.meta_len, &rs, err), 0);
    for (size_t cut = 0; cut < bm.meta_len; cut++) {
        uint8_t *p = malloc(cut + 1);
        memcpy(p, bm.meta, cut);
        if (ipc_read_batch(&rs, p, cut, enc + 8 + bm.meta_len, bm.body_len, &ra, err) == 0)
            ra.release(&ra);
        free(p);
    }
    CHECK_INT(ipc_read_batch(&rs, bm.meta, bm.meta_len, enc + 8 + bm.meta_len, 8, &ra, err), -1);
    CHECK(strstr(err, "malformed ipc message") != NULL);
    for (size_t i = 0; i < bm.meta_len; i++)
        for (int v = 0; v < 256; v += 51) {
            uint8_t *p = malloc(bm.meta_len);
            memcpy(p, bm.meta, bm.meta_len);
            p[i] = (uint8_t)v;
            if (ipc_read_batch(&rs, p, bm.meta_len, enc + 8 + bm.meta_len, bm.body_len, &ra, err) == 0)
                ra.release(&ra);
            free(p);
        }
    for (size_t i = 0; i < sm.meta_len; i++) {
        struct ArrowSchema ts;
        uint8_t *p = malloc(sm.meta_len);
        memcpy(p, sm.meta, sm.meta_len);
        p[i] ^= 0x5a;
        if (ipc_read_schema(p, sm.meta_len, &ts, err) == 0)
            ts.release(&ts);
        free(p);
    }
    rs.release(&rs);
    free(enc);
    ipc_msg_free(&sm);
    ipc_msg_free(&bm);
    a.release(&a);
    sc.release(&sc);
    close_db(db, dir);
}
