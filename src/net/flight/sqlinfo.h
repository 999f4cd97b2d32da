/* sqlinfo.h — the GetSqlInfo result (sqlinfo.c). */
#ifndef RHEI_NET_SQLINFO_H
#define RHEI_NET_SQLINFO_H
#include "abuild.h"
#include <stdint.h>
/* Rows for the wanted codes (all when nwant == 0); none when schema_only. 0 or -1 (OOM). */
int fl_sqlinfo_build(const uint32_t *want, size_t nwant, int read_only, int schema_only,
                     struct ArrowSchema *sc, struct ArrowArray *a);
#endif
