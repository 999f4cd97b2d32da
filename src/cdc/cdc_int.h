/* cdc_int.h — private to src/cdc: the registration rules and the schema checks (rules.c)
 * that capture.c and the catalog use. */
#ifndef RHEI_CDC_INT_H
#define RHEI_CDC_INT_H
#include "cdc.h"

/* The rules a new version must meet before anything is written: table and column names
 * (names.h), no column twice, at most 1996 columns, and no clash with a registered table's
 * history-mode objects ('<t>_history' next to '<t>', in either direction). cat may be NULL. */
int rhei__cdc_check_version(const rhei__catalog *cat, const char *table,
                            const rhei__colspec *cols, size_t n, rhei__err *e);
/* An explicit key: no NULL entry, no column twice. */
int rhei__cdc_check_key(const char *table, const char *const *pk, size_t npk, rhei__err *e);
#endif
