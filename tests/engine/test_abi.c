/* test_abi.c — the public structs keep their size and field offsets within one soname
 * (rhei.h, "Growing without breaking"): a new field must take its bytes from `reserved`. */
#include "test.h"
#include <stddef.h>

/* Sizes on LP64 when RHEI_SOVERSION was 0. If this fails, a field was added without
 * shrinking `reserved` by the same bytes (or the soname must be bumped). */
#define ABI_SIZE(type, want)                                                                \
    do {                                                                                    \
        if (sizeof(type) != (want))                                                         \
            FAIL("sizeof(%s) is %zu, the ABI of soname %d fixed it at %zu: take new fields" \
                 " from its reserved space", #type, sizeof(type), RHEI_SOVERSION,           \
                 (size_t)(want));                                                           \
    } while (0)

TEST(public_structs_keep_their_size)
{
    if (sizeof(void *) != 8 || sizeof(long) != 8)
        SKIP("sizes are pinned for LP64 only");
    CHECK_INT(RHEI_SOVERSION, 0);
    ABI_SIZE(rhei_route_info, 144);
    ABI_SIZE(rhei_route_stats, 88);
    ABI_SIZE(rhei_sync_stats, 112);
    ABI_SIZE(rhei_sync_status, 712);
    ABI_SIZE(rhei_sidecar_table_status, 544);
    ABI_SIZE(rhei_table_status, 336);
    /* Existing fields never move: the last one before `reserved` in each. */
    CHECK_INT(offsetof(rhei_route_info, table), 16);
    CHECK_INT(offsetof(rhei_route_info, code), 80); /* taken from reserved, which began there */
    CHECK_INT(offsetof(rhei_sync_status, last_error), 68);
    CHECK_INT(offsetof(rhei_sidecar_table_status, last_error), 160);
    CHECK_INT(offsetof(rhei_table_status, cause), 16);
}
