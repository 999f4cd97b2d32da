/* test_value.c — date, timestamp and decimal text conversions, value by value. */
#include "test.h"
#include "schema.h"
#include "value.h"

TEST(date_round_trip)
{
    const char *in[] = {"1970-01-01", "2000-02-29", "1969-12-31", "2026-11-22", "0001-01-01"};
    const int32_t want[] = {0, 11016, -1, 20779, -719162};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        int32_t d = 0;
        CHECK_INT(rhei__parse_date(in[i], strlen(in[i]), &d), 0);
        CHECK_INT(d, want[i]);
        char buf[16];
        rhei__format_date(d, buf, sizeof buf);
        CHECK_STR(buf, in[i]);
    }
}

TEST(date_rejects_malformed)
{
    const char *bad[] = {"", "2021-02-29", "2021-13-01", "2021-1-01", "2021-01-01x", "abc"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int32_t d;
        CHECK_INT(rhei__parse_date(bad[i], strlen(bad[i]), &d), -1);
    }
}

TEST(timestamp_forms)
{
    struct { const char *s; int64_t us; } c[] = {
        {"1970-01-01 00:00:00", 0},
        {"1970-01-01T00:00:01.5", 1500000},
        {"2026-11-22 12:00:00Z", 1795348800000000LL},
        {"2026-11-22 14:00:00+02:00", 1795348800000000LL},
        {"2026-11-22 07:00-05", 1795348800000000LL},
        {"1969-12-31 23:59:59.999999", -1},
        {"2026-11-22", 1795305600000000LL},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        int64_t us = 0;
        CHECK_INT(rhei__parse_timestamp(c[i].s, strlen(c[i].s), &us), 0);
        CHECK_INT(us, c[i].us);
    }
    char buf[40];
    rhei__format_timestamp(1500000, buf, sizeof buf);
    CHECK_STR(buf, "1970-01-01 00:00:01.5");
    rhei__format_timestamp(-1, buf, sizeof buf);
    CHECK_STR(buf, "1969-12-31 23:59:59.999999");
}

TEST(decimal_parse_and_format)
{
    struct { const char *s; int scale; const char *out; } c[] = {
        {"12.5", 2, "12.50"}, {"-0.005", 2, "-0.01"}, {"0", 3, "0.000"},
        {"123456789012345678901234567890", 0, "123456789012345678901234567890"},
        {"1.2345", 2, "1.23"}, {"+7", 1, "7.0"},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        __int128 v;
        CHECK_INT(rhei__decimal_parse(c[i].s, strlen(c[i].s), c[i].scale, &v), 0);
        char buf[48];
        rhei__decimal_format(v, c[i].scale, buf, sizeof buf);
        CHECK_STR(buf, c[i].out);
    }
    __int128 v;
    CHECK_INT(rhei__decimal_parse("abc", 3, 2, &v), -1);
    CHECK_INT(rhei__decimal_parse("1e5", 3, 2, &v), -1);
    CHECK_INT(rhei__decimal_parse("", 0, 2, &v), -1);
}

TEST(type_map)
{
    struct { const char *decl; rhei_type t; int p, s; } c[] = {
        {"INTEGER", RHEI_TYPE_INTEGER, 0, 0}, {"bigint", RHEI_TYPE_INTEGER, 0, 0},
        {"REAL", RHEI_TYPE_REAL, 0, 0}, {"double precision", RHEI_TYPE_REAL, 0, 0},
        {"TEXT", RHEI_TYPE_TEXT, 0, 0}, {"VARCHAR(20)", RHEI_TYPE_TEXT, 0, 0},
        {"BLOB", RHEI_TYPE_BLOB, 0, 0}, {"", RHEI_TYPE_BLOB, 0, 0},
        {"BOOLEAN", RHEI_TYPE_BOOLEAN, 0, 0}, {"DECIMAL(12,2)", RHEI_TYPE_DECIMAL, 12, 2},
        {"NUMERIC(5)", RHEI_TYPE_DECIMAL, 5, 0}, {"DECIMAL", RHEI_TYPE_DECIMAL, 18, 3},
        {"DATE", RHEI_TYPE_DATE, 0, 0}, {"TIMESTAMP", RHEI_TYPE_TIMESTAMP, 0, 0},
        {"DATETIME", RHEI_TYPE_TIMESTAMP, 0, 0}, {"MONEY", RHEI_TYPE_DECIMAL, 38, 10},
        {"CHARINT", RHEI_TYPE_INTEGER, 0, 0},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        rhei_type t;
        int p, s;
        rhei__type_from_decl(c[i].decl, &t, &p, &s);
        if (t != c[i].t || p != c[i].p || s != c[i].s)
            FAIL("decl '%s': got %s(%d,%d), want %s(%d,%d)", c[i].decl, rhei_type_name(t), p,
                 s, rhei_type_name(c[i].t), c[i].p, c[i].s);
    }
}
