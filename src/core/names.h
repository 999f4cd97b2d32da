/* names.h — what a caller may name and declare: the rules for replicated table and column
 * names (both SQLite and DuckDB must accept them, and rhei's own objects must stay apart),
 * and the grammar of declared type texts. Caller text is checked here and rebuilt from its
 * tokens, so it never reaches an SQL statement as written. */
#ifndef RHEI_CORE_NAMES_H
#define RHEI_CORE_NAMES_H
#include "buf.h"
#include "err.h"

/* Checks a table or column name (what = "table" or "column"): 1..RHEI_NAME_MAX-1 bytes of
 * valid UTF-8 without control characters, not starting with "_rhei" (any case; rhei's own
 * tables and columns), tables also not with "sqlite_". RHEI_MISUSE with the reason. */
int rhei__name_check(const char *what, const char *name, rhei__err *e);

/* 1 if a and b name the same object in DuckDB, which folds case (ASCII letters here; the
 * engine asks DuckDB itself about other letters). SQLite folds ASCII only, too. */
int rhei__name_eq(const char *a, const char *b);

/* Parses a declared type:  word [word ...] [ "(" number [ "," number ] ")" ]  with at most
 * four words (identifier characters only, no keyword that starts a constraint), and, when
 * constraints != 0, then any of:  DEFAULT literal | NOT NULL | NULL | COLLATE word, where a
 * literal is a signed number, a '...' string, NULL, TRUE or FALSE. Appends the canonical
 * text (words upper-cased, single spaces, the string literal re-quoted) to out. "" is a
 * valid declaration (no type). RHEI_MISUSE naming the offending part otherwise. */
int rhei__decl_canon(const char *decl, int constraints, rhei__buf *out, rhei__err *e);
#endif
