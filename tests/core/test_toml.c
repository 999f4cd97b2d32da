/* test_toml.c — the strict TOML reader (valid documents, every error class with its exact
 * line:column, the limits, out-of-memory paths) and rhei_config_load_file on top of it. */
#include "test.h"
#include "mem.h"
#include "toml.h"
#include <math.h>

static rhei__toml *parse_ok(const char *text)
{
    rhei__err e;
    rhei__toml *t = NULL;
    if (rhei__toml_parse(text, strlen(text), "t.toml", &t, &e) != RHEI_OK)
        FAIL("parse failed: %s\n--- input ---\n%s", e.msg, text);
    return t;
}

static void parse_err_n(const char *text, size_t n, const char *want)
{
    rhei__err e;
    rhei__toml *t = (rhei__toml *)&e; /* must come back NULL */
    int rc = rhei__toml_parse(text, n, "t.toml", &t, &e);
    if (rc != RHEI_CONFIG)
        FAIL("input '%s': rc=%d, want RHEI_CONFIG (%s)", text, rc, rc ? e.msg : "parsed");
    CHECK(t == NULL);
    CHECK_STR(e.msg, want);
}

static void parse_err(const char *text, const char *want) { parse_err_n(text, strlen(text), want); }

static const char *str_at(const rhei__toml *root, const char *path)
{
    const char *s = NULL;
    int rc = rhei__toml_string(root, path, &s);
    if (rc)
        FAIL("string '%s': rc=%d", path, rc);
    return s;
}

static int64_t int_at(const rhei__toml *root, const char *path)
{
    int64_t v = 0;
    int rc = rhei__toml_int(root, path, &v);
    if (rc)
        FAIL("integer '%s': rc=%d", path, rc);
    return v;
}

TEST(document_with_tables_and_comments)
{
    rhei__toml *t = parse_ok("# Rhei config\n"
                             "title = \"demo\" # trailing comment\n"
                             "\n"
                             "[engine]\n"
                             "  sync_mode = 'history'\n"
                             "\tbatch_size = 1_000\n"
                             "enabled = true\n"
                             "ratio = 0.25\n"
                             "[engine.olap]\n"
                             "threads = -4\n");
    CHECK_STR(str_at(t, "title"), "demo");
    CHECK_STR(str_at(t, "engine.sync_mode"), "history");
    CHECK_INT(int_at(t, "engine.batch_size"), 1000);
    CHECK_INT(int_at(t, "engine.olap.threads"), -4);
    int b = 0;
    double f = 0;
    CHECK_INT(rhei__toml_bool(t, "engine.enabled", &b), RHEI_OK);
    CHECK_INT(b, 1);
    CHECK_INT(rhei__toml_float(t, "engine.ratio", &f), RHEI_OK);
    CHECK(f == 0.25);
    const rhei__toml *k = rhei__toml_find(t, "engine.sync_mode");
    CHECK_INT(k->line, 5);
    CHECK_INT(k->col, 3);
    CHECK_INT(rhei__toml_find(t, "engine")->line, 4);
    CHECK_INT(t->count, 2); /* title, engine: members keep document order */
    CHECK_STR(rhei__toml_at(t, 1)->key, "engine");
    rhei__toml_free(t);
}

TEST(string_escapes_and_literals)
{
    rhei__toml *t = parse_ok("a = \"q\\\" b\\\\ n\\n t\\t \\u00e9 \\U0001F600 \\b\\f\\r\"\n"
                             "b = 'C:\\path\\no escapes \"here\"'\n"
                             "c = \"\"\n"
                             "d = \"nul\\u0000inside\"\n"
                             "e = \"tab\tok\"\n");
    CHECK_STR(str_at(t, "a"), "q\" b\\ n\n t\t \xC3\xA9 \xF0\x9F\x98\x80 \b\f\r");
    CHECK_STR(str_at(t, "b"), "C:\\path\\no escapes \"here\"");
    CHECK_STR(str_at(t, "c"), "");
    const rhei__toml *d = rhei__toml_get(t, "d");
    CHECK_INT(d->len, 10);
    CHECK(memcmp(d->str, "nul\0inside", 11) == 0);
    CHECK_STR(str_at(t, "e"), "tab\tok");
    rhei__toml_free(t);
}

TEST(integers_and_floats)
{
    rhei__toml *t = parse_ok("a = +5\nb = -9223372036854775808\nc = 9223372036854775807\n"
                             "d = 0x7f_ff\ne = 0o17\nf = 0b101\ng = 0\nh = -0\n"
                             "i = 1.5\nj = -0.5e3\nk = 1E10\nl = 6.626e-34\nm = 1_000.000_5\n"
                             "n = inf\no = -inf\np = nan\nq = +inf\nr = 1e05\n");
    CHECK_INT(int_at(t, "a"), 5);
    CHECK(int_at(t, "b") == INT64_MIN);
    CHECK(int_at(t, "c") == INT64_MAX);
    CHECK_INT(int_at(t, "d"), 0x7fff);
    CHECK_INT(int_at(t, "e"), 15);
    CHECK_INT(int_at(t, "f"), 5);
    CHECK_INT(int_at(t, "g"), 0);
    CHECK_INT(int_at(t, "h"), 0);
    struct { const char *k; double v; } fl[] = {
        {"i", 1.5}, {"j", -500}, {"k", 1e10}, {"l", 6.626e-34}, {"m", 1000.0005}, {"r", 1e5}};
    for (size_t i = 0; i < sizeof fl / sizeof fl[0]; i++) {
        double v = 0;
        CHECK_INT(rhei__toml_float(t, fl[i].k, &v), RHEI_OK);
        if (v != fl[i].v)
            FAIL("%s: got %.17g, want %.17g", fl[i].k, v, fl[i].v);
    }
    double v = 0;
    CHECK_INT(rhei__toml_float(t, "n", &v), RHEI_OK);
    CHECK(isinf(v) && v > 0);
    CHECK_INT(rhei__toml_float(t, "o", &v), RHEI_OK);
    CHECK(isinf(v) && v < 0);
    CHECK_INT(rhei__toml_float(t, "p", &v), RHEI_OK);
    CHECK(isnan(v));
    rhei__toml_free(t);
}

TEST(arrays_nested_multiline_trailing_comma)
{
    rhei__toml *t = parse_ok("a = [1, 2, 3]\n"
                             "b = [ [1, 2], ['x', \"y\"], [] ]\n"
                             "c = [\n"
                             "  \"one\", # first\n"
                             "  # a comment line\n"
                             "  \"two\",\n"
                             "]\n"
                             "d = [1, 'mixed', true, 2.5, {k = 1}]\n"
                             "e = []\n");
    const rhei__toml *a = rhei__toml_get(t, "a");
    CHECK_INT(a->kind, RHEI__TOML_ARRAY);
    CHECK_INT(a->count, 3);
    CHECK_INT(rhei__toml_at(a, 2)->i, 3);
    CHECK_STR(str_at(t, "b.1.0"), "x");
    CHECK_INT(int_at(t, "b.0.1"), 2);
    CHECK_INT(rhei__toml_find(t, "b.2")->count, 0);
    CHECK_INT(rhei__toml_get(t, "c")->count, 2);
    CHECK_STR(str_at(t, "c.1"), "two");
    CHECK_INT(rhei__toml_find(t, "c.1")->line, 6);
    CHECK_INT(int_at(t, "d.4.k"), 1);
    CHECK(rhei__toml_find(t, "d.5") == NULL);
    CHECK(rhei__toml_find(t, "a.x") == NULL);
    CHECK_INT(rhei__toml_get(t, "e")->count, 0);
    rhei__toml_free(t);
}

TEST(array_of_tables)
{
    rhei__toml *t = parse_ok("[sidecar]\nsource = 'pg'\n"
                             "[[sidecar.tables]]\nname = 'orders'\n"
                             "[sidecar.tables.opts]\nbatch = 10\n"
                             "[[sidecar.tables]]\nname = 'customers'\n"
                             "[sidecar.tables.opts]\nbatch = 20\n");
    const rhei__toml *a = rhei__toml_find(t, "sidecar.tables");
    CHECK_INT(a->kind, RHEI__TOML_ARRAY);
    CHECK_INT(a->count, 2);
    CHECK_STR(str_at(t, "sidecar.tables.0.name"), "orders");
    CHECK_STR(str_at(t, "sidecar.tables.1.name"), "customers");
    CHECK_INT(int_at(t, "sidecar.tables.0.opts.batch"), 10);
    CHECK_INT(int_at(t, "sidecar.tables.1.opts.batch"), 20);
    CHECK_INT(rhei__toml_at(a, 1)->line, 7);
    rhei__toml_free(t);
}

TEST(dotted_keys_inline_tables_and_quoted_keys)
{
    rhei__toml *t = parse_ok("fruit.apple.color = 'red'\n"
                             "fruit . apple . taste.sweet = true\n"
                             "point = { x = 1, y.z = 2 }\n"
                             "empty = {}\n"
                             "\"a.b\" = 1\n"
                             "'' = 2\n"
                             "\"quoted key\".x = 3\n"
                             "[fruit.apple.texture]\n"
                             "smooth = true\n");
    CHECK_STR(str_at(t, "fruit.apple.color"), "red");
    CHECK_INT(int_at(t, "point.y.z"), 2);
    CHECK_INT(rhei__toml_get(t, "empty")->count, 0);
    CHECK_INT(rhei__toml_get(t, "a.b")->i, 1);
    CHECK_INT(rhei__toml_get(t, "")->i, 2);
    CHECK_INT(rhei__toml_get(rhei__toml_get(t, "quoted key"), "x")->i, 3);
    int b = 0;
    CHECK_INT(rhei__toml_bool(t, "fruit.apple.texture.smooth", &b), RHEI_OK);
    CHECK_INT(b, 1);
    rhei__toml_free(t);
}

TEST(implicit_table_defined_later)
{
    rhei__toml *t = parse_ok("[a.b.c]\nx = 1\n[a]\ny = 2\n[a.b]\nz = 3\n");
    CHECK_INT(int_at(t, "a.b.c.x"), 1);
    CHECK_INT(int_at(t, "a.y"), 2);
    CHECK_INT(int_at(t, "a.b.z"), 3);
    CHECK_INT(rhei__toml_get(t, "a")->line, 3);
    rhei__toml_free(t);
}

TEST(empty_documents_crlf_and_bom)
{
    const char *docs[] = {"", "\n\n", "# only a comment", "   \t\n# c\n  \n"};
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        rhei__toml *t = parse_ok(docs[i]);
        CHECK_INT(t->kind, RHEI__TOML_TABLE);
        CHECK_INT(t->count, 0);
        rhei__toml_free(t);
    }
    rhei__toml *t =
        parse_ok("\xEF\xBB\xBF[engine]\r\nsync_mode = \"history\"\r\nb = [\r\n1,\r\n]\r\n");
    CHECK_STR(str_at(t, "engine.sync_mode"), "history");
    CHECK_INT(rhei__toml_find(t, "engine.sync_mode")->line, 2);
    CHECK_INT(rhei__toml_find(t, "engine")->col, 1);
    rhei__toml_free(t);
    rhei__err e;
    CHECK_INT(rhei__toml_parse(NULL, 0, "t.toml", &t, &e), RHEI_OK);
    rhei__toml_free(t);
}

TEST(typed_lookup_misses)
{
    rhei__toml *t = parse_ok("[x]\ns = 'v'\nn = 1\n");
    const char *s;
    int64_t n;
    CHECK_INT(rhei__toml_string(t, "x.n", &s), RHEI_TYPE);
    CHECK_INT(rhei__toml_int(t, "x.s", &n), RHEI_TYPE);
    CHECK_INT(rhei__toml_int(t, "x.missing", &n), RHEI_NOTFOUND);
    CHECK_INT(rhei__toml_int(t, "nothere.n", &n), RHEI_NOTFOUND);
    CHECK(rhei__toml_get(rhei__toml_get(t, "x"), "s.x") == NULL);
    CHECK(rhei__toml_find(t, NULL) == NULL);
    CHECK(rhei__toml_find(t, "") == t);
    CHECK_STR(rhei__toml_kind_name(RHEI__TOML_BOOL), "boolean");
    rhei__toml_free(t);
}

/* Every error class, each with the exact position the user will be sent to. */
TEST(syntax_errors_have_line_and_column)
{
    static const struct { const char *in, *msg; } c[] = {
        {"a = 1\nsync_mode \"x\"\n", "t.toml:2:11: expected '=' after key 'sync_mode', found '\"'"},
        {"= 1\n", "t.toml:1:1: expected a key, found '='"},
        {"a. = 1\n", "t.toml:1:4: expected a key, found '='"},
        {"a =\n", "t.toml:1:4: expected a value, found end of line"},
        {"mode = mirror\n", "t.toml:1:8: invalid value 'mirror' (strings need quotes)"},
        {"a = truex\n", "t.toml:1:5: invalid value 'truex' (strings need quotes)"},
        {"a = 1 2\n", "t.toml:1:7: expected end of line after value, found '2'"},
        {"a = 1\rb = 2\n",
         "t.toml:1:6: expected end of line after value, found control character 0x0d"},
        {"[a] x\n", "t.toml:1:5: expected end of line after table header, found 'x'"},
        {"[a\n", "t.toml:1:3: expected ']' to close the table header, found end of line"},
        {"[[a]\n", "t.toml:1:4: expected ']]' to close the table header, found ']'"},
        {"[]\n", "t.toml:1:2: expected a key, found ']'"},
        {"a = \"abc\n", "t.toml:1:5: unterminated string"},
        {"a = 'abc", "t.toml:1:5: unterminated string"},
        {"a = \"\\q\"\n", "t.toml:1:6: invalid escape in string: '\\' followed by 'q'"},
        {"a = \"\\uD800\"\n", "t.toml:1:6: escape U+D800 is not a Unicode scalar value"},
        {"a = \"\\U00110000\"\n", "t.toml:1:6: escape U+110000 is not a Unicode scalar value"},
        {"a = \"\\u12\"\n", "t.toml:1:6: escape '\\u' needs 4 hex digits"},
        {"a = \"x\x01\"\n", "t.toml:1:7: control character 0x01 in string"},
        {"# x\x7f\n", "t.toml:1:4: control character 0x7f in comment"},
        {"a = \"\"\"x\"\"\"\n", "t.toml:1:5: multi-line strings are not supported"},
        {"a = '''x'''\n", "t.toml:1:5: multi-line strings are not supported"},
        {"a = \"\xff\"\n", "t.toml:1:6: invalid UTF-8"},
        {"a = \"\xed\xa0\x80\"\n", "t.toml:1:6: invalid UTF-8"}, /* encoded surrogate */
        {"a = \"\xc0\xaf\"\n", "t.toml:1:6: invalid UTF-8"},     /* overlong '/' */
        {"# \xc3\xa9\xc3\xa9\na = \"\xc3\xa9\" x\n",
         "t.toml:2:9: expected end of line after value, found 'x'"}, /* columns count chars */
        {"a = [1 2]\n", "t.toml:1:8: expected ',' or ']' in the array opened at 1:5, found '2'"},
        {"a = [1,,2]\n", "t.toml:1:8: expected a value, found ','"},
        {"a = [1,\n", "t.toml:1:5: unterminated array"},
        {"a = {b = 1,\nc = 2}\n",
         "t.toml:1:12: inline table opened at 1:5 must end on the same line"},
        {"a = {b = 1,}\n", "t.toml:1:12: expected a key, found '}'"},
        {"a = {b = 1 c = 2}\n",
         "t.toml:1:12: expected ',' or '}' in the inline table opened at 1:5, found 'c'"},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
        parse_err(c[i].in, c[i].msg);
}

TEST(number_errors)
{
    static const struct { const char *in, *msg; } c[] = {
        {"a = 9223372036854775808\n", "t.toml:1:5: integer out of range"},
        {"a = -9223372036854775809\n", "t.toml:1:5: integer out of range"},
        {"a = 0x8000000000000000\n", "t.toml:1:5: integer out of range"},
        {"a = 012\n", "t.toml:1:5: leading zeros are not allowed in '012'"},
        {"a = 1__0\n", "t.toml:1:5: invalid number '1__0'"},
        {"a = 1_\n", "t.toml:1:5: invalid number '1_'"},
        {"a = 1.\n", "t.toml:1:5: invalid number '1.'"},
        {"a = 1.e5\n", "t.toml:1:5: invalid number '1.e5'"},
        {"a = 1e\n", "t.toml:1:5: invalid number '1e'"},
        {"a = +\n", "t.toml:1:5: invalid number '+'"},
        {"a = .5\n", "t.toml:1:5: invalid value '.5' (strings need quotes)"},
        {"a = 1e999\n", "t.toml:1:5: float '1e999' out of range"},
        {"a = 0xG\n", "t.toml:1:5: invalid integer '0xG'"},
        {"a = 0b102\n", "t.toml:1:5: invalid integer '0b102'"},
        {"a = -0x1\n", "t.toml:1:5: hexadecimal, octal and binary integers take no sign"},
        {"a = 1979-05-27\n", "t.toml:1:5: dates and times are not supported"},
        {"a = 07:32:00\n", "t.toml:1:5: dates and times are not supported"},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
        parse_err(c[i].in, c[i].msg);
}

TEST(duplicate_keys_and_redefined_tables)
{
    static const struct { const char *in, *msg; } c[] = {
        {"a = 1\na = 2\n", "t.toml:2:1: duplicate key 'a'"},
        {"[engine]\nsync_mode = 'a'\n\n  sync_mode = 'b'\n",
         "t.toml:4:3: duplicate key 'sync_mode'"},
        {"a.b = 1\na.b = 2\n", "t.toml:2:3: duplicate key 'a.b'"},
        {"a = {b = 1, b = 2}\n", "t.toml:1:13: duplicate key 'b'"},
        {"a = 1\na.b = 2\n", "t.toml:2:1: key 'a' is an integer, not a table"},
        {"[a]\n[a]\n", "t.toml:2:1: table 'a' is already defined at 1:1"},
        {"[a]\n[b]\n[ a ]\n", "t.toml:3:1: table 'a' is already defined at 1:1"},
        {"a.b = 1\n[a]\n", "t.toml:2:1: cannot define table 'a': key already set at 1:1"},
        {"[a.b]\n[a]\nb.c = 1\n",
         "t.toml:3:1: table 'b' has a [header]; dotted keys cannot add to it"},
        {"a = {b = 1}\n[a.c]\n", "t.toml:2:2: inline table 'a' cannot be extended"},
        {"a = {b = 1}\na.c = 2\n", "t.toml:2:1: inline table 'a' cannot be extended"},
        {"a = [1]\n[[a]]\n",
         "t.toml:2:1: cannot define array of tables 'a': key already set at 1:1"},
        {"[[a]]\n[a]\n", "t.toml:2:1: cannot define table 'a': key already set at 1:1"},
        {"a = 1\n[a.b]\n", "t.toml:2:2: key 'a' is an integer, not a table"},
        {"a = [1]\n[a.b]\n", "t.toml:2:2: key 'a' is an array, not a table"},
        {"[a]\nb = 1\n[a.b]\n", "t.toml:3:1: cannot define table 'a.b': key already set at 2:1"},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
        parse_err(c[i].in, c[i].msg);
}

static char *repeat(const char *head, const char *unit, size_t times, const char *tail)
{
    size_t hn = strlen(head), un = strlen(unit), tn = strlen(tail);
    char *s = malloc(hn + un * times + tn + 1);
    CHECK(s != NULL);
    memcpy(s, head, hn);
    for (size_t i = 0; i < times; i++)
        memcpy(s + hn + i * un, unit, un);
    memcpy(s + hn + un * times, tail, tn + 1);
    return s;
}

TEST(limit_document_size)
{
    char *big = repeat("", "#", RHEI__TOML_MAX_BYTES, "");
    rhei__toml *t = parse_ok(big); /* exactly at the limit: fine */
    rhei__toml_free(t);
    free(big);
    big = repeat("", "#", RHEI__TOML_MAX_BYTES + 1, "");
    rhei__err e;
    CHECK_INT(rhei__toml_parse(big, strlen(big), "t.toml", &t, &e), RHEI_CONFIG);
    CHECK_STR(e.msg, "t.toml: larger than the 1048576-byte limit of a config file");
    free(big);
}

TEST(limit_nesting_depth)
{
    char *ok = repeat("a = ", "[", 32, ""), *bad = repeat("a = ", "[", 33, "");
    char *okdoc = malloc(200), *baddoc = malloc(200);
    snprintf(okdoc, 200, "%s%.*s\n", ok, 32, "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
    rhei__toml *t = parse_ok(okdoc);
    rhei__toml_free(t);
    snprintf(baddoc, 200, "%s\n", bad);
    parse_err(baddoc, "t.toml:1:37: nesting deeper than 32 levels");
    free(ok);
    free(bad);
    free(okdoc);
    free(baddoc);
    char *header = repeat("[", "a.", 32, "a]\n");
    parse_err(header, "t.toml:1:66: key has more than 32 parts");
    free(header);
    header = repeat("[", "a.", 31, "a]\nx = 1\n");
    parse_err(header, "t.toml:2:5: nesting deeper than 32 levels");
    free(header);
    parse_err("a = {b = {c = [{d = [[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]}]}}\n",
              "t.toml:1:49: nesting deeper than 32 levels");
}

TEST(limit_string_length)
{
    char *ok = repeat("a = \"", "x", RHEI__TOML_MAX_STRING, "\"\n");
    rhei__toml *t = parse_ok(ok);
    CHECK_INT(rhei__toml_get(t, "a")->len, RHEI__TOML_MAX_STRING);
    rhei__toml_free(t);
    free(ok);
    char *bad = repeat("a = \"", "x", RHEI__TOML_MAX_STRING + 1, "\"\n");
    parse_err(bad, "t.toml:1:5: string longer than 65536 bytes");
    free(bad);
    bad = repeat("a = '", "\\", RHEI__TOML_MAX_STRING + 1, "'\n");
    parse_err(bad, "t.toml:1:5: string longer than 65536 bytes");
    free(bad);
    bad = repeat("", "k", RHEI__TOML_MAX_STRING + 1, " = 1\n");
    parse_err(bad, "t.toml:1:1: key longer than 65536 bytes");
    free(bad);
}

TEST(limit_items_per_table_and_array)
{
    size_t n = RHEI__TOML_MAX_ITEMS + 1, o = 0;
    char *doc = malloc(n * 16 + 16);
    for (size_t i = 0; i < n; i++)
        o += (size_t)sprintf(doc + o, "k%zu = 1\n", i);
    parse_err(doc, "t.toml:4097:1: more than 4096 keys in one table");
    o = (size_t)sprintf(doc, "a = [");
    for (size_t i = 0; i < n; i++)
        o += (size_t)sprintf(doc + o, "1,");
    sprintf(doc + o, "]\n");
    parse_err(doc, "t.toml:1:8198: more than 4096 elements in one array");
    free(doc);
}

TEST(messages_quote_hostile_keys_safely)
{
    char *longkey = repeat("\"", "k", 500, "\\u0001\" \"x\"\n");
    rhei__err e;
    rhei__toml *t;
    CHECK_INT(rhei__toml_parse(longkey, strlen(longkey), "t.toml", &t, &e), RHEI_CONFIG);
    CHECK(strlen(e.msg) < 200);
    CHECK(strstr(e.msg, "...") != NULL);
    free(longkey);
    parse_err("\"a\\u0001b\" 1\n", "t.toml:1:12: expected '=' after key 'a?b', found '1'");
    parse_err_n("a = \0\n", 6, "t.toml:1:5: expected a value, found control character 0x00");
}

TEST(out_of_memory_at_every_allocation)
{
    const char *doc = "[engine]\nsync_mode = \"history\"\nlist = [1, [2, 'x'], {a.b = 1}]\n"
                      "[[sidecar.tables]]\nname = 'orders'\n[[sidecar.tables]]\nname = 'c'\n";
    int done = 0;
    for (long n = 1; n < 10000 && !done; n++) {
        rhei__err e;
        rhei__toml *t = NULL;
        rhei__mem_fail_after(n);
        int rc = rhei__toml_parse(doc, strlen(doc), "t.toml", &t, &e);
        rhei__mem_fail_after(0);
        if (rc == RHEI_OK) {
            done = 1;
            CHECK_STR(str_at(t, "sidecar.tables.1.name"), "c");
            rhei__toml_free(t);
        } else {
            CHECK_INT(rc, RHEI_NOMEM);
            CHECK(t == NULL);
        }
    }
    CHECK(done);
}

TEST(parse_file_reads_and_reports)
{
    char dir[64], path[128];
    rt_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/c.toml", dir);
    FILE *f = fopen(path, "w");
    fputs("[engine]\nsync_mode = 'history'\nbad line\n", f);
    fclose(f);
    rhei__err e;
    rhei__toml *t;
    char want[256];
    CHECK_INT(rhei__toml_parse_file(path, &t, &e), RHEI_CONFIG);
    snprintf(want, sizeof want, "%s:3:5: expected '=' after key 'bad', found 'l'", path);
    CHECK_STR(e.msg, want);
    snprintf(path, sizeof path, "%s/missing.toml", dir);
    CHECK_INT(rhei__toml_parse_file(path, &t, &e), RHEI_IO);
    snprintf(want, sizeof want, "cannot open '%s': No such file or directory", path);
    CHECK_STR(e.msg, want);
    CHECK(t == NULL);
    CHECK_INT(rhei__toml_parse_file(dir, &t, &e), RHEI_IO); /* a directory */
    remove(path);
    snprintf(path, sizeof path, "%s/c.toml", dir);
    remove(path);
    remove(dir);
}

/* --- rhei_config_load_file ------------------------------------------------------------ */

static char cfg_dir[64];

static const char *write_file(const char *name, const char *text)
{
    static char path[160];
    if (!cfg_dir[0])
        rt_tmpdir(cfg_dir, sizeof cfg_dir);
    snprintf(path, sizeof path, "%s/%s", cfg_dir, name);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fputs(text, f);
    fclose(f);
    return path;
}

static void load_err(const char *text, int want_rc, const char *want_tail)
{
    rhei_config *cfg = NULL;
    char want[512];
    const char *path = write_file("h.toml", text);
    CHECK_INT(rhei_config_new(&cfg), RHEI_OK);
    CHECK_INT(rhei_config_load_file(cfg, path), want_rc);
    snprintf(want, sizeof want, "%s:%s", path, want_tail);
    CHECK_STR(rhei_config_errmsg(cfg), want);
    rhei_config_free(cfg);
    remove(path);
}

TEST(config_file_sets_engine_keys)
{
    const char *path = write_file("ok.toml", "# demo\n[engine]\noltp_path = 'app.db'\n"
                                             "olap_path = \"olap.duckdb\"\nsync_mode = 'history'\n"
                                             "sync_interval_ms = 250\nbatch_size = 5_000\n"
                                             "read_pool_size = 8\nsynchronous = 'full'\n"
                                             "olap_threads = 2\nolap_memory_limit = '2GB'\n"
                                             "busy_timeout_ms = 100\nflight_port = 8815\n"
                                             "metrics_port = 9090\n");
    rhei_config *cfg = NULL;
    CHECK_INT(rhei_config_new(&cfg), RHEI_OK);
    if (rhei_config_load_file(cfg, path) != RHEI_OK)
        FAIL("load: %s", rhei_config_errmsg(cfg));
    /* relative paths resolve against the file's folder, not the working directory */
    char dir[512], oltp[600], olap[600];
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = '\0';
    snprintf(oltp, sizeof oltp, "%s/app.db", dir);
    snprintf(olap, sizeof olap, "%s/olap.duckdb", dir);
    const char *want[][2] = {{"oltp_path", oltp},           {"olap_path", olap},
                             {"sync_mode", "history"},      {"sync_interval_ms", "250"},
                             {"batch_size", "5000"},        {"read_pool_size", "8"},
                             {"synchronous", "full"},       {"olap_threads", "2"},
                             {"olap_memory_limit", "2GB"},  {"busy_timeout_ms", "100"},
                             {"flight_port", "8815"},       {"metrics_port", "9090"}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        CHECK_STR(rhei_config_get(cfg, want[i][0]), want[i][1]);
    rhei_config_free(cfg);
    remove(path);
}

TEST(config_file_example_loads)
{
    const char *src = getenv("RHEI_SOURCE_DIR");
    char path[512];
    snprintf(path, sizeof path, "%s/config/htap.toml", src ? src : ".");
    rhei_config *cfg = NULL;
    CHECK_INT(rhei_config_new(&cfg), RHEI_OK);
    int rc = rhei_config_load_file(cfg, path);
    if (rc)
        FAIL("%s: rc=%d: %s", path, rc, rhei_config_errmsg(cfg));
    for (size_t i = 0; rhei_config_key(i); i++) { /* the example shows every default */
        const char *k = rhei_config_key(i);
        if (strcmp(k, "oltp_path") == 0)
            continue;
        rhei_config *def = NULL;
        CHECK_INT(rhei_config_new(&def), RHEI_OK);
        if (strcmp(rhei_config_get(cfg, k), rhei_config_get(def, k)) != 0)
            FAIL("key '%s': example has '%s', default is '%s'", k, rhei_config_get(cfg, k),
                 rhei_config_get(def, k));
        rhei_config_free(def);
    }
    char want[600]; /* relative to the file's folder */
    snprintf(want, sizeof want, "%s/config/rhei.db", src ? src : ".");
    CHECK_STR(rhei_config_get(cfg, "oltp_path"), want);
    rhei_config_free(cfg);
}

TEST(config_file_unknown_key_has_position)
{
    load_err("[engine]\noltp_path = 'x.db'\n\nsync_mod = 'history'\n", RHEI_CONFIG,
             "4:1: unknown key 'engine.sync_mod'");
    load_err("[engine.extra]\nthing = 1\n", RHEI_CONFIG, "2:1: unknown key 'engine.extra.thing'");
    load_err("[sidecar]\nsorce = 'sqlite:x'\n", RHEI_CONFIG,
             "2:1: unknown config key 'sidecar.sorce'");
    load_err("[sidecar]\nsource = 'pg'\n", RHEI_CONFIG, "2:1: invalid value 'pg' for config key"
             " 'sidecar.source': expected \"sqlite:PATH\" or \"postgres:CONNINFO\"");
    load_err("[[sidecar.tables]]\nnme = 'orders'\n", RHEI_CONFIG,
             "2:1: unknown config key 'sidecar.tables.0.nme'");
    load_err("[engine.extra]\nlevels = ['a', 'b']\n", RHEI_CONFIG,
             "2:11: unknown key 'engine.extra.levels.0'");
}

TEST(config_file_bad_value_has_position)
{
    load_err("[engine]\n  batch_size = 0\n", RHEI_CONFIG,
             "2:3: invalid value '0' for config key 'batch_size': must be in 1..100000000");
    load_err("[engine]\nsynchronous = true\n", RHEI_CONFIG,
             "2:1: invalid value 'true' for config key 'synchronous': expected \"normal\" or "
             "\"full\"");
    load_err("[engine]\nsync_mode = 1.5\n", RHEI_CONFIG,
             "2:1: invalid value '1.5' for config key 'sync_mode': expected \"mirror\" or "
             "\"history\"");
    load_err("[engine]\noltp_path = \"a\\u0000b\"\n", RHEI_CONFIG,
             "2:1: value of 'engine.oltp_path' contains a NUL character");
}

TEST(config_file_path_must_be_a_string)
{
    load_err("[engine]\noltp_path = 5\n", RHEI_CONFIG,
             "2:1: value of 'engine.oltp_path' must be a string (a path in quotes)");
    load_err("[engine]\n olap_path = true\n", RHEI_CONFIG,
             "2:2: value of 'engine.olap_path' must be a string (a path in quotes)");
}

TEST(config_file_metrics_port_once)
{
    load_err("[engine]\nmetrics_port = 9090\n\n[metrics]\nport = 9091\n", RHEI_CONFIG,
             "5:1: 'metrics.port' sets the metrics port already set by 'engine.metrics_port'"
             " at line 2: give it once");
    load_err("[metrics]\nport = 9091\n[engine]\nmetrics_port = 9090\n", RHEI_CONFIG,
             "4:1: 'engine.metrics_port' sets the metrics port already set by 'metrics.port'"
             " at line 2: give it once");
    const char *path = write_file("m.toml", "[metrics]\nport = 9091\n");
    rhei_config *cfg = NULL;
    CHECK_INT(rhei_config_new(&cfg), RHEI_OK);
    if (rhei_config_load_file(cfg, path) != RHEI_OK)
        FAIL("load: %s", rhei_config_errmsg(cfg));
    CHECK_STR(rhei_config_get(cfg, "metrics_port"), "9091");
    rhei_config_free(cfg);
    remove(path);
}

TEST(config_file_unknown_table_and_top_level_key)
{
    load_err("[engine]\n[storage]\npath = 1\n", RHEI_CONFIG,
             "2:1: unknown table 'storage' (expected engine, sidecar, flight or metrics)");
    /* no [log] table: none of its keys was ever read */
    load_err("[log]\nlevel = 'info'\n", RHEI_CONFIG,
             "1:1: unknown table 'log' (expected engine, sidecar, flight or metrics)");
    load_err("oltp_path = 'x.db'\n", RHEI_CONFIG,
             "1:1: key 'oltp_path' must be inside a table such as [engine]");
    load_err("[[engine]]\n", RHEI_CONFIG, "1:1: 'engine' must be a table, not an array");
    load_err("[engine]\nsync_mode = mirror\n", RHEI_CONFIG,
             "2:13: invalid value 'mirror' (strings need quotes)");
}

TEST(config_file_failure_leaves_config_unchanged)
{
    const char *path = write_file("u.toml", "[engine]\nsync_mode = 'history'\nbatch_size = 7\n"
                                            "read_pool_size = 0\n");
    rhei_config *cfg = NULL;
    CHECK_INT(rhei_config_new(&cfg), RHEI_OK);
    CHECK_INT(rhei_config_set(cfg, "batch_size", "42"), RHEI_OK);
    CHECK_INT(rhei_config_load_file(cfg, path), RHEI_CONFIG);
    CHECK_STR(rhei_config_get(cfg, "sync_mode"), "mirror");
    CHECK_STR(rhei_config_get(cfg, "batch_size"), "42");
    CHECK(strstr(rhei_config_errmsg(cfg), ":4:1: invalid value '0'") != NULL);
    rhei_config_free(cfg);
    remove(path);
}

TEST(config_file_missing_and_misuse)
{
    rhei_config *cfg = NULL;
    char want[256];
    CHECK_INT(rhei_config_new(&cfg), RHEI_OK);
    CHECK_INT(rhei_config_load_file(cfg, "/nonexistent/rhei.toml"), RHEI_CONFIG);
    snprintf(want, sizeof want, "cannot open '/nonexistent/rhei.toml': No such file or directory");
    CHECK_STR(rhei_config_errmsg(cfg), want);
    CHECK_INT(rhei_config_load_file(cfg, NULL), RHEI_MISUSE);
    CHECK_INT(rhei_config_load_file(NULL, "x"), RHEI_MISUSE);
    rhei_config_free(cfg);
}

TEST(config_file_out_of_memory)
{
    const char *path =
        write_file("m.toml", "[engine]\noltp_path = 'a.db'\nsync_mode = 'history'\n");
    int done = 0;
    for (long n = 1; n < 1000 && !done; n++) {
        rhei_config *cfg = NULL;
        CHECK_INT(rhei_config_new(&cfg), RHEI_OK);
        rhei__mem_fail_after(n);
        int rc = rhei_config_load_file(cfg, path);
        rhei__mem_fail_after(0);
        if (rc == RHEI_OK) {
            done = 1;
            CHECK_STR(rhei_config_get(cfg, "sync_mode"), "history");
        } else {
            CHECK_INT(rc, RHEI_NOMEM);
        }
        rhei_config_free(cfg);
    }
    CHECK(done);
    remove(path);
}

TEST(config_file_relative_paths)
{
    /* relative to the file's folder; absolute paths, :memory: and file: URIs as written */
    const char *path = write_file("rel.toml", "[engine]\noltp_path = 'sub/a.db'\n"
                                              "olap_path = ':memory:'\n"
                                              "[sidecar]\nsource = 'sqlite:src.db'\n");
    char dir[512], want[600];
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = '\0';
    rhei_config *cfg = NULL;
    CHECK_INT(rhei_config_new(&cfg), RHEI_OK);
    if (rhei_config_load_file(cfg, path) != RHEI_OK)
        FAIL("load: %s", rhei_config_errmsg(cfg));
    snprintf(want, sizeof want, "%s/sub/a.db", dir);
    CHECK_STR(rhei_config_get(cfg, "oltp_path"), want);
    CHECK_STR(rhei_config_get(cfg, "olap_path"), ":memory:");
    snprintf(want, sizeof want, "sqlite:%s/src.db", dir);
    CHECK_STR(rhei_config_get(cfg, "sidecar.source"), want);
    rhei_config_free(cfg);
    remove(path);
    path = write_file("abs.toml", "[engine]\noltp_path = '/var/lib/rhei/x.db'\n"
                                  "olap_path = 'file:x.duckdb'\n");
    CHECK_INT(rhei_config_new(&cfg), RHEI_OK);
    if (rhei_config_load_file(cfg, path) != RHEI_OK)
        FAIL("load: %s", rhei_config_errmsg(cfg));
    CHECK_STR(rhei_config_get(cfg, "oltp_path"), "/var/lib/rhei/x.db");
    CHECK_STR(rhei_config_get(cfg, "olap_path"), "file:x.duckdb");
    rhei_config_free(cfg);
    remove(path);
}
