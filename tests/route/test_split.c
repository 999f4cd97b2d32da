/* test_split.c — rhei.h's SQL text helpers (src/route/split.c): statement splitting with
 * quotes, comments and trigger bodies, completeness as sqlite3_complete decides, token spans,
 * and a deterministic robustness run over truncated inputs (nothing read past len). */
#include "test.h"

/* Splits sql and joins the statements with '|'. */
static void split(const char *sql, char *out, size_t cap)
{
    size_t len = strlen(sql), pos = 0, at = 0, n = 0, j = 0;
    out[0] = '\0';
    while (rhei_sql_statement(sql, len, &pos, &at, &n)) {
        j += (size_t)snprintf(out + j, cap - j, "%s%.*s", j ? "|" : "", (int)n, sql + at);
        if (j >= cap)
            break;
    }
}

typedef struct split_case {
    const char *sql, *want;
} split_case;

static const split_case split_cases[] = {
    {"", ""},
    {"  ;; -- only a comment; here\n /* and; this */ ;", ""},
    {"SELECT 1", "SELECT 1"},
    {"SELECT 1; SELECT 2;", "SELECT 1|SELECT 2"},
    {"  SELECT 'a;b' ;\n INSERT INTO \"x;y\" VALUES (1)", "SELECT 'a;b'|INSERT INTO \"x;y\" VALUES (1)"},
    {"-- lead\nSELECT 1 -- tail; still a comment\n; SELECT 2", "SELECT 1 -- tail; still a comment|SELECT 2"},
    {"CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE u SET n = 1; DELETE FROM v; END; SELECT 3",
     "CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE u SET n = 1; DELETE FROM v; END|SELECT 3"},
    {"create temp trigger tr after insert on t begin select 1; end;select 4",
     "create temp trigger tr after insert on t begin select 1; end|select 4"},
    {"SELECT [a;b], `c;d` FROM t", "SELECT [a;b], `c;d` FROM t"},
    {"SELECT 'unterminated; still", "SELECT 'unterminated; still"},
};

TEST(statements)
{
    char got[512];
    for (size_t i = 0; i < sizeof split_cases / sizeof *split_cases; i++) {
        split(split_cases[i].sql, got, sizeof got);
        CHECK_STR(got, split_cases[i].want);
    }
}

TEST(complete)
{
    CHECK_INT(rhei_sql_complete("SELECT 1;"), 1);
    CHECK_INT(rhei_sql_complete("SELECT 1;  -- done\n"), 1);
    CHECK_INT(rhei_sql_complete("SELECT 1"), 0);
    CHECK_INT(rhei_sql_complete("SELECT 'a;"), 0);
    CHECK_INT(rhei_sql_complete("SELECT 1 /* ; */"), 0);
    CHECK_INT(rhei_sql_complete("CREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT 1;"), 0);
    CHECK_INT(rhei_sql_complete("CREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT 1; END;"), 1);
    CHECK_INT(rhei_sql_complete(""), 0);
    CHECK_INT(rhei_sql_complete(NULL), 0);
}

TEST(tokens)
{
    const char *sql = "  select \"a b\", 'x''y', 1.5e3, ?2 <= -- c\n;";
    static const rhei_sql_token_type want[] = {
        RHEI_SQL_WORD, RHEI_SQL_QIDENT, RHEI_SQL_PUNCT, RHEI_SQL_STRING, RHEI_SQL_PUNCT,
        RHEI_SQL_NUMBER, RHEI_SQL_PUNCT, RHEI_SQL_PARAM, RHEI_SQL_OP, RHEI_SQL_PUNCT,
        RHEI_SQL_EOF};
    static const char *const text[] = {"select", "\"a b\"", ",", "'x''y'", ",", "1.5e3", ",",
                                       "?2", "<=", ";", ""};
    size_t len = strlen(sql), pos = 0;
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        size_t at = 0, n = 0;
        rhei_sql_token_type t = rhei_sql_token(sql, len, &pos, &at, &n);
        char got[32];
        snprintf(got, sizeof got, "%.*s", (int)n, sql + at);
        CHECK_INT(t, want[i]);
        CHECK_STR(got, text[i]);
    }
    CHECK_INT(pos, len);
    size_t bad = len + 1;
    CHECK_INT(rhei_sql_token(sql, len, &bad, NULL, NULL), RHEI_SQL_EOF);
    CHECK_INT(rhei_sql_token(NULL, 0, &pos, NULL, NULL), RHEI_SQL_EOF);
}

/* Every prefix of inputs with quotes and comments cut anywhere: spans stay inside the prefix
 * (ASan would catch a read past it: each prefix is copied to a buffer of exactly its size). */
TEST(truncated)
{
    static const char *const inputs[] = {
        "SELECT 'a;b' /* c; */ , \"d;\" -- e;\n; CREATE TRIGGER t BEGIN x; END; [y;z] `w`",
        "X'0a;' ; $a ; :b ; @c ; ?12 ; 1e+ ; /* unterminated",
    };
    for (size_t k = 0; k < 2; k++) {
        size_t full = strlen(inputs[k]);
        for (size_t len = 0; len <= full; len++) {
            char *p = malloc(len ? len : 1);
            CHECK(p != NULL);
            memcpy(p, inputs[k], len);
            size_t pos = 0, at = 0, n = 0, count = 0;
            while (rhei_sql_statement(p, len, &pos, &at, &n)) {
                CHECK(at + n <= len && pos <= len && n > 0);
                CHECK(++count <= len);
            }
            CHECK_INT(pos, len);
            free(p);
        }
    }
}
