/* test_arrow.c — Arrow C stream export of results: the type map with NULLs, conversions of
 * mixed cells, empty results, end of stream, and release in every order (run under ASan to
 * catch leaks and double frees). */
#include "test.h"
#include "mem.h"
#include "result.h"

typedef struct colspec {
    const char *name, *decl;
    rhei_type type;
    int p, s;
} colspec;

static rhei_result *make(const colspec *cols, size_t ncols)
{
    rhei_result *r = NULL;
    rhei__err e;
    if (rhei__result_new(ncols, &r, &e))
        FAIL("result_new: %s", e.msg);
    for (size_t c = 0; c < ncols; c++)
        if (rhei__result_set_column(r, c, cols[c].name, cols[c].decl, cols[c].type, cols[c].p,
                                    cols[c].s, &e))
            FAIL("set_column: %s", e.msg);
    return r;
}

static void row(rhei_result *r, const rhei_value *cells)
{
    rhei__err e;
    for (size_t c = 0; c < r->ncols; c++)
        if (rhei__result_push(r, c, &cells[c], &e))
            FAIL("push: %s", e.msg);
    rhei__result_end_row(r);
}

static rhei_value v_null(void) { return rhei_null(); }
static rhei_value v_typed(rhei_type t, int64_t i)
{
    rhei_value v = rhei_int(i);
    v.type = t;
    return v;
}
static rhei_value v_dec(const char *s)
{
    rhei_value v = rhei_text(s);
    v.type = RHEI_TYPE_DECIMAL;
    return v;
}

static int bit(const void *buf, size_t i)
{
    return (((const uint8_t *)buf)[i / 8] >> (i % 8)) & 1;
}

static void export_ok(rhei_result *r, struct ArrowArrayStream *st, struct ArrowSchema *sc,
                      struct ArrowArray *batch)
{
    CHECK_INT(rhei_result_to_arrow(r, st), RHEI_OK);
    CHECK(st->release != NULL);
    CHECK_INT(st->get_schema(st, sc), 0);
    CHECK(sc->release != NULL);
    CHECK_INT(st->get_next(st, batch), 0);
    CHECK(batch->release != NULL);
}

static const char *text_at(const struct ArrowArray *a, size_t i, size_t *n)
{
    const int32_t *off = a->buffers[1];
    *n = (size_t)(off[i + 1] - off[i]);
    return (const char *)a->buffers[2] + off[i];
}

static rhei_result *all_types(void)
{
    static const colspec cols[] = {
        {"i", "INTEGER", RHEI_TYPE_INTEGER, 0, 0},
        {"r", "REAL", RHEI_TYPE_REAL, 0, 0},
        {"t", "TEXT", RHEI_TYPE_TEXT, 0, 0},
        {"b", "BLOB", RHEI_TYPE_BLOB, 0, 0},
        {"ok", "BOOLEAN", RHEI_TYPE_BOOLEAN, 0, 0},
        {"d", "DECIMAL(10,2)", RHEI_TYPE_DECIMAL, 10, 2},
        {"dt", "DATE", RHEI_TYPE_DATE, 0, 0},
        {"ts", "TIMESTAMP", RHEI_TYPE_TIMESTAMP, 0, 0},
    };
    rhei_result *r = make(cols, 8);
    rhei_value r0[8] = {rhei_int(-5), rhei_real(2.5), rhei_text("héllo"), rhei_blob("\0\1", 2),
                        v_typed(RHEI_TYPE_BOOLEAN, 1), v_dec("-12.34"),
                        v_typed(RHEI_TYPE_DATE, 20779), v_typed(RHEI_TYPE_TIMESTAMP, 1500000)};
    rhei_value r1[8];
    for (int i = 0; i < 8; i++)
        r1[i] = v_null();
    rhei_value r2[8] = {rhei_int(INT64_MAX), rhei_real(-0.0), rhei_text(""), rhei_blob("", 0),
                        v_typed(RHEI_TYPE_BOOLEAN, 0), v_dec("99999999.99"),
                        v_typed(RHEI_TYPE_DATE, -1), v_typed(RHEI_TYPE_TIMESTAMP, -1)};
    row(r, r0);
    row(r, r1);
    row(r, r2);
    rhei__result_finish(r);
    return r;
}

TEST(every_type_with_nulls)
{
    struct ArrowArrayStream st;
    struct ArrowSchema sc;
    struct ArrowArray b;
    export_ok(all_types(), &st, &sc, &b);
    const char *fmt[] = {"l", "g", "u", "z", "b", "d:10,2", "tdD", "tsu:UTC"};
    const char *names[] = {"i", "r", "t", "b", "ok", "d", "dt", "ts"};
    CHECK_STR(sc.format, "+s");
    CHECK_INT(sc.n_children, 8);
    CHECK_INT(b.length, 3);
    CHECK_INT(b.n_children, 8);
    CHECK_INT(b.null_count, 0);
    for (int c = 0; c < 8; c++) {
        CHECK_STR(sc.children[c]->format, fmt[c]);
        CHECK_STR(sc.children[c]->name, names[c]);
        CHECK_INT(sc.children[c]->flags, ARROW_FLAG_NULLABLE);
        const struct ArrowArray *a = b.children[c];
        CHECK_INT(a->length, 3);
        CHECK_INT(a->null_count, 1);
        CHECK_INT(a->offset, 0);
        CHECK_INT(a->n_buffers, c == 2 || c == 3 ? 3 : 2);
        CHECK(a->buffers[0] != NULL);
        CHECK_INT(bit(a->buffers[0], 0), 1);
        CHECK_INT(bit(a->buffers[0], 1), 0);
        CHECK_INT(bit(a->buffers[0], 2), 1);
    }
    const int64_t *iv = b.children[0]->buffers[1];
    CHECK_INT(iv[0], -5);
    CHECK_INT(iv[2], INT64_MAX);
    const double *rv = b.children[1]->buffers[1];
    CHECK(rv[0] == 2.5 && rv[2] == 0.0);
    size_t n;
    const char *s = text_at(b.children[2], 0, &n);
    CHECK_INT(n, 6);
    CHECK(memcmp(s, "héllo", 6) == 0);
    text_at(b.children[2], 1, &n);
    CHECK_INT(n, 0);
    s = text_at(b.children[3], 0, &n);
    CHECK_INT(n, 2);
    CHECK(s[0] == 0 && s[1] == 1);
    CHECK_INT(bit(b.children[4]->buffers[1], 0), 1);
    CHECK_INT(bit(b.children[4]->buffers[1], 2), 0);
    const __int128 *dv = b.children[5]->buffers[1];
    CHECK(dv[0] == -1234);
    CHECK(dv[2] == 9999999999);
    const int32_t *dtv = b.children[6]->buffers[1];
    CHECK_INT(dtv[0], 20779);
    CHECK_INT(dtv[2], -1);
    const int64_t *tsv = b.children[7]->buffers[1];
    CHECK_INT(tsv[0], 1500000);
    CHECK_INT(tsv[2], -1);
    b.release(&b);
    sc.release(&sc);
    st.release(&st);
    CHECK(b.release == NULL && sc.release == NULL && st.release == NULL);
}

TEST(no_nulls_means_no_validity_buffer)
{
    colspec cols[] = {{"x", "INTEGER", RHEI_TYPE_INTEGER, 0, 0},
                      {"y", "TEXT", RHEI_TYPE_TEXT, 0, 0}};
    rhei_result *r = make(cols, 2);
    for (int i = 0; i < 5; i++) {
        rhei_value v[2] = {rhei_int(i), rhei_text("ab")};
        row(r, v);
    }
    struct ArrowArrayStream st;
    struct ArrowSchema sc;
    struct ArrowArray b;
    export_ok(r, &st, &sc, &b);
    for (int c = 0; c < 2; c++) {
        CHECK_INT(b.children[c]->null_count, 0);
        CHECK(b.children[c]->buffers[0] == NULL);
    }
    const int32_t *off = b.children[1]->buffers[1];
    CHECK_INT(off[0], 0);
    CHECK_INT(off[5], 10);
    st.release(&st);
    b.release(&b);
    sc.release(&sc);
}

TEST(boolean_is_bit_packed)
{
    colspec cols[] = {{"f", "BOOLEAN", RHEI_TYPE_BOOLEAN, 0, 0}};
    rhei_result *r = make(cols, 1);
    const int pattern[11] = {1, 0, 0, 1, 1, 1, 0, 1, 0, 1, 1};
    for (int i = 0; i < 11; i++) {
        rhei_value v = i == 4 ? rhei_text("TRUE") : i == 5 ? rhei_int(7)
                                                   : v_typed(RHEI_TYPE_BOOLEAN, pattern[i]);
        row(r, &v);
    }
    struct ArrowArrayStream st;
    struct ArrowSchema sc;
    struct ArrowArray b;
    export_ok(r, &st, &sc, &b);
    for (int i = 0; i < 11; i++)
        CHECK_INT(bit(b.children[0]->buffers[1], (size_t)i), pattern[i]);
    CHECK(b.children[0]->buffers[0] == NULL);
    b.release(&b);
    sc.release(&sc);
    st.release(&st);
}

TEST(decimal_converts_every_cell_kind)
{
    colspec cols[] = {{"amount", "DECIMAL(12,2)", RHEI_TYPE_DECIMAL, 12, 2}};
    rhei_result *r = make(cols, 1);
    rhei_value cells[] = {v_dec("12.345"), rhei_text("-0.5"), rhei_int(7), rhei_real(1.25),
                          rhei_int(-3), v_dec("-12.344"), rhei_null()};
    const __int128 want[] = {1235, -50, 700, 125, -300, -1234, 0};
    for (size_t i = 0; i < 7; i++)
        row(r, &cells[i]);
    struct ArrowArrayStream st;
    struct ArrowSchema sc;
    struct ArrowArray b;
    export_ok(r, &st, &sc, &b);
    CHECK_STR(sc.children[0]->format, "d:12,2");
    const __int128 *d = b.children[0]->buffers[1];
    for (size_t i = 0; i < 7; i++)
        if (d[i] != want[i])
            FAIL("row %zu: got %lld, want %lld", i, (long long)d[i], (long long)want[i]);
    CHECK_INT(b.children[0]->null_count, 1);
    sc.release(&sc);
    st.release(&st);
    b.release(&b);
}

TEST(decimal_shape_comes_from_decl_when_unset)
{
    colspec cols[] = {{"a", "NUMERIC(12,4)", RHEI_TYPE_DECIMAL, 0, 0},
                      {"b", "DECIMAL", RHEI_TYPE_DECIMAL, 0, 0}};
    rhei_result *r = make(cols, 2);
    struct ArrowArrayStream st;
    struct ArrowSchema sc;
    struct ArrowArray b;
    export_ok(r, &st, &sc, &b);
    CHECK_STR(sc.children[0]->format, "d:12,4");
    CHECK_STR(sc.children[1]->format, "d:18,3");
    b.release(&b);
    sc.release(&sc);
    st.release(&st);
}

static void export_fails(rhei_result *r, int want_rc)
{
    struct ArrowArrayStream st;
    memset(&st, 0xAB, sizeof st);
    CHECK_INT(rhei_result_to_arrow(r, &st), want_rc);
    CHECK(st.release == NULL);
}

TEST(decimal_out_of_precision_or_malformed_fails)
{
    colspec cols[] = {{"d", "DECIMAL(4,2)", RHEI_TYPE_DECIMAL, 4, 2}};
    const rhei_value bad[] = {v_dec("100.00"), rhei_text("12abc"), rhei_int(100),
                              rhei_real(1e300), rhei_blob("x", 1)};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rhei_result *r = make(cols, 1);
        rhei_value ok = v_dec("99.99");
        row(r, &ok);
        row(r, &bad[i]);
        export_fails(r, RHEI_TYPE);
    }
}

TEST(text_column_gets_text_forms_of_other_cells)
{
    colspec cols[] = {{"mixed", "", RHEI_TYPE_NULL, 0, 0}};
    rhei_result *r = make(cols, 1);
    rhei_value cells[] = {rhei_int(42), rhei_real(0.5), rhei_text("x"),
                          v_typed(RHEI_TYPE_BOOLEAN, 1), rhei_null()};
    const char *want[] = {"42", "0.5", "x", "true", ""};
    for (size_t i = 0; i < 5; i++)
        row(r, &cells[i]);
    rhei__result_finish(r);
    CHECK_INT(rhei_result_column_type(r, 0), RHEI_TYPE_TEXT);
    struct ArrowArrayStream st;
    struct ArrowSchema sc;
    struct ArrowArray b;
    export_ok(r, &st, &sc, &b);
    CHECK_STR(sc.children[0]->format, "u");
    for (size_t i = 0; i < 5; i++) {
        size_t n;
        const char *s = text_at(b.children[0], i, &n);
        if (n != strlen(want[i]) || memcmp(s, want[i], n) != 0)
            FAIL("row %zu: got '%.*s', want '%s'", i, (int)n, s, want[i]);
    }
    CHECK_INT(b.children[0]->null_count, 1);
    b.release(&b);
    sc.release(&sc);
    st.release(&st);
}

TEST(date_and_timestamp_parse_text_cells)
{
    colspec cols[] = {{"d", "DATE", RHEI_TYPE_DATE, 0, 0},
                      {"ts", "TIMESTAMP", RHEI_TYPE_TIMESTAMP, 0, 0}};
    rhei_result *r = make(cols, 2);
    rhei_value r0[] = {rhei_text("2026-11-22"), rhei_text("1970-01-01 00:00:01.5")};
    rhei_value r1[] = {rhei_text("1969-12-31 23:00:00"), v_typed(RHEI_TYPE_DATE, 1)};
    rhei_value r2[] = {v_typed(RHEI_TYPE_TIMESTAMP, -1), rhei_int(7)};
    row(r, r0);
    row(r, r1);
    row(r, r2);
    struct ArrowArrayStream st;
    struct ArrowSchema sc;
    struct ArrowArray b;
    export_ok(r, &st, &sc, &b);
    const int32_t *d = b.children[0]->buffers[1];
    const int64_t *ts = b.children[1]->buffers[1];
    CHECK_INT(d[0], 20779);
    CHECK_INT(d[1], -1);
    CHECK_INT(d[2], -1);
    CHECK_INT(ts[0], 1500000);
    CHECK_INT(ts[1], 86400000000LL);
    CHECK_INT(ts[2], 7);
    b.release(&b);
    sc.release(&sc);
    st.release(&st);

    colspec one[] = {{"d", "DATE", RHEI_TYPE_DATE, 0, 0}};
    r = make(one, 1);
    rhei_value bad = rhei_text("yesterday");
    row(r, &bad);
    export_fails(r, RHEI_TYPE);
}

TEST(integer_and_real_columns_convert_text_cells)
{
    colspec cols[] = {{"i", "INTEGER", RHEI_TYPE_INTEGER, 0, 0},
                      {"r", "REAL", RHEI_TYPE_REAL, 0, 0}};
    rhei_result *r = make(cols, 2);
    rhei_value r0[] = {rhei_text("12"), rhei_text("2.5")};
    rhei_value r1[] = {rhei_real(-3.9), rhei_int(4)};
    row(r, r0);
    row(r, r1);
    struct ArrowArrayStream st;
    struct ArrowSchema sc;
    struct ArrowArray b;
    export_ok(r, &st, &sc, &b);
    const int64_t *iv = b.children[0]->buffers[1];
    const double *rv = b.children[1]->buffers[1];
    CHECK_INT(iv[0], 12);
    CHECK_INT(iv[1], -3);
    CHECK(rv[0] == 2.5 && rv[1] == 4.0);
    b.release(&b);
    sc.release(&sc);
    st.release(&st);

    colspec one[] = {{"i", "INTEGER", RHEI_TYPE_INTEGER, 0, 0}};
    r = make(one, 1);
    rhei_value bad = rhei_text("twelve");
    row(r, &bad);
    export_fails(r, RHEI_TYPE);
}

/* 0 rows: the schema, then one batch of length 0, then the end of the stream. */
TEST(empty_result_gives_one_empty_batch)
{
    colspec cols[] = {{"t", "TEXT", RHEI_TYPE_TEXT, 0, 0},
                      {"d", "DECIMAL(5,1)", RHEI_TYPE_DECIMAL, 5, 1}};
    rhei_result *r = make(cols, 2);
    struct ArrowArrayStream st;
    struct ArrowSchema sc;
    struct ArrowArray b, end;
    export_ok(r, &st, &sc, &b);
    CHECK_INT(sc.n_children, 2);
    CHECK_STR(sc.children[1]->format, "d:5,1");
    CHECK_INT(b.length, 0);
    for (int c = 0; c < 2; c++) {
        CHECK_INT(b.children[c]->length, 0);
        CHECK_INT(b.children[c]->null_count, 0);
        CHECK(b.children[c]->buffers[1] != NULL);
    }
    CHECK_INT(((const int32_t *)b.children[0]->buffers[1])[0], 0);
    CHECK_INT(st.get_next(&st, &end), 0);
    CHECK(end.release == NULL);
    b.release(&b);
    sc.release(&sc);
    st.release(&st);
}

TEST(zero_columns)
{
    rhei_result *r = make(NULL, 0);
    struct ArrowArrayStream st;
    struct ArrowSchema sc;
    struct ArrowArray b;
    export_ok(r, &st, &sc, &b);
    CHECK_INT(sc.n_children, 0);
    CHECK_INT(b.n_children, 0);
    b.release(&b);
    sc.release(&sc);
    st.release(&st);
}

TEST(get_next_after_the_batch_signals_end_repeatedly)
{
    struct ArrowArrayStream st;
    struct ArrowSchema sc;
    struct ArrowArray b, end;
    export_ok(all_types(), &st, &sc, &b);
    for (int i = 0; i < 3; i++) {
        memset(&end, 0xCD, sizeof end);
        CHECK_INT(st.get_next(&st, &end), 0);
        CHECK(end.release == NULL);
    }
    CHECK(st.get_last_error(&st) == NULL);
    st.release(&st);
    b.release(&b);
    sc.release(&sc);
}

TEST(get_schema_twice_gives_independent_schemas)
{
    struct ArrowArrayStream st;
    struct ArrowSchema s1, s2;
    CHECK_INT(rhei_result_to_arrow(all_types(), &st), RHEI_OK);
    CHECK_INT(st.get_schema(&st, &s1), 0);
    CHECK_INT(st.get_schema(&st, &s2), 0);
    CHECK(s1.children[0] != s2.children[0]);
    s1.release(&s1);
    CHECK_STR(s2.children[7]->format, "tsu:UTC");
    st.release(&st);
    CHECK_STR(s2.children[5]->format, "d:10,2"); /* schemas outlive the stream */
    s2.release(&s2);
}

TEST(release_stream_without_reading)
{
    struct ArrowArrayStream st;
    CHECK_INT(rhei_result_to_arrow(all_types(), &st), RHEI_OK);
    st.release(&st);
    CHECK(st.release == NULL);
}

/* Consumers may move a child out of its parent and release each on its own schedule. */
TEST(moved_children_release_independently)
{
    struct ArrowArrayStream st;
    struct ArrowSchema sc, kid_schema;
    struct ArrowArray b, kid;
    export_ok(all_types(), &st, &sc, &b);
    st.release(&st); /* the batch and schema outlive the stream */
    kid = *b.children[2];
    b.children[2]->release = NULL;
    kid_schema = *sc.children[3];
    sc.children[3]->release = NULL;
    b.release(&b);
    sc.release(&sc);
    size_t n;
    const char *s = text_at(&kid, 0, &n);
    CHECK(n == 6 && memcmp(s, "héllo", 6) == 0);
    CHECK_STR(kid_schema.format, "z");
    CHECK_STR(kid_schema.name, "b");
    kid.release(&kid);
    kid_schema.release(&kid_schema);
    CHECK(kid.release == NULL && kid_schema.release == NULL);
}

TEST(misuse_frees_the_result)
{
    struct ArrowArrayStream st;
    CHECK_INT(rhei_result_to_arrow(NULL, &st), RHEI_MISUSE);
    CHECK(st.release == NULL);
    CHECK_INT(rhei_result_to_arrow(all_types(), NULL), RHEI_MISUSE);
}

/* Fails the n-th allocation for every n until the export succeeds: each failure returns
 * RHEI_NOMEM and leaks nothing (ASan checks the leaks). */
TEST(out_of_memory_at_every_allocation)
{
    int done = 0;
    for (long n = 1; n < 1000 && !done; n++) {
        rhei_result *r = all_types();
        struct ArrowArrayStream st;
        rhei__mem_fail_after(n);
        int rc = rhei_result_to_arrow(r, &st);
        rhei__mem_fail_after(0);
        if (rc == RHEI_OK) {
            struct ArrowSchema sc;
            done = 1;
            for (long k = 1; k < 100; k++) { /* get_schema under pressure too */
                rhei__mem_fail_after(k);
                int src = st.get_schema(&st, &sc);
                rhei__mem_fail_after(0);
                if (src == 0) {
                    sc.release(&sc);
                    break;
                }
                CHECK(sc.release == NULL);
                CHECK(st.get_last_error(&st) != NULL);
            }
            st.release(&st);
        } else {
            CHECK_INT(rc, RHEI_NOMEM);
            CHECK(st.release == NULL);
        }
    }
    CHECK(done);
}
