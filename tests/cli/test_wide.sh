# test_wide.sh — aligned formats (table, box, markdown, column, line) pad by display columns:
# a CJK character takes two, a combining mark none (é written as e + U+0301), so the
# separators of every row line up on a terminal.
source "$(dirname "$0")/lib.sh"
DB="$T/shop.db"
make_orders "$DB"
E=$'e\xcc\x81' # e and a combining acute accent (U+0301)
SQL="SELECT '日本語' AS name, 1 AS n UNION ALL SELECT 'cafe' || char(769), 22
    UNION ALL SELECT 'ab', 333"

run "$RH" query --db "$DB" --hint oltp --format table "$SQL"
expect_eq " name   | n
--------+-----
 日本語 |   1
 caf${E}   |  22
 ab     | 333
(3 rows; served by oltp: hint)" "$OUT" "table"
run "$RH" query --db "$DB" --hint oltp --format box "$SQL"
expect_eq "┌────────┬─────┐
│ name   │ n   │
├────────┼─────┤
│ 日本語 │   1 │
│ caf${E}   │  22 │
│ ab     │ 333 │
└────────┴─────┘" "$OUT" "box"
run "$RH" query --db "$DB" --hint oltp --format markdown "$SQL"
expect_eq "| name   | n   |
|--------|-----|
| 日本語 |   1 |
| caf${E}   |  22 |
| ab     | 333 |" "$OUT" "markdown"
run "$RH" query --db "$DB" --hint oltp --format column "$SQL"
expect_eq "name    n
------  ---
日本語    1
caf${E}     22
ab      333" "$OUT" "column"
run "$RH" query --db "$DB" --hint oltp --format line "SELECT 1 AS 名前, 2 AS n"
expect_eq "名前 = 1
   n = 2" "$OUT" "line: names right-aligned by display width"
ok "wide and combining characters align"

# hangul, fullwidth forms and an invalid byte (shown alone, one column)
run "$RH" query --db "$DB" --hint oltp --format markdown "SELECT '한국' AS a UNION ALL
    SELECT 'ＡＢ' UNION ALL SELECT 'x' || CAST(x'ff' AS TEXT) || 'yz'"
expect_eq "| a    |
|------|
| 한국 |
| ＡＢ |
| x"$'\xff'"yz |" "$OUT" "hangul, fullwidth, invalid UTF-8"
ok "other wide forms and invalid bytes"
