/* test_config.c — engine config keys: defaults, validation messages, sidecar keys, copies,
 * and a TOML file with a sidecar section. */
#include "config.h"
#include "test.h"

TEST(defaults_and_validation)
{
    rhei_config *c = NULL;
    CHECK_INT(rhei_config_new(&c), RHEI_OK);
    CHECK_STR(rhei_config_get(c, "olap_path"), ":memory:");
    CHECK_STR(rhei_config_get(c, "sync_mode"), "mirror");
    CHECK_STR(rhei_config_get(c, "oltp_path"), "");
    CHECK(rhei_config_get(c, "nope") == NULL);
    CHECK_INT(rhei_config_set(c, "read_pool_size", "0"), RHEI_CONFIG);
    CHECK_STR(rhei_config_errmsg(c), "invalid value '0' for config key 'read_pool_size': must be"
                                     " in 1..256");
    CHECK_INT(rhei_config_set(c, "synchronous", "full"), RHEI_OK);
    CHECK_INT(c->synchronous_full, 1);
    CHECK_INT(rhei_config_set(c, "sync_interval_ms", "12x"), RHEI_CONFIG);
    size_t n = 0;
    while (rhei_config_key(n))
        n++;
    CHECK_INT(n, RHEI__CONFIG_NKEYS);
    rhei_config_free(c);
}

TEST(sidecar_keys)
{
    rhei_config *c = NULL, *d = NULL;
    CHECK_INT(rhei_config_new(&c), RHEI_OK);
    CHECK_INT(rhei_config_set(c, "sidecar.source", "postgres:host=127.0.0.1 dbname=x"), RHEI_OK);
    CHECK_INT(rhei_config_set(c, "sidecar.source", "mysql:x"), RHEI_CONFIG);
    CHECK_INT(rhei_config_set(c, "sidecar.local_oltp", "false"), RHEI_OK);
    CHECK_INT(rhei_config_set(c, "sidecar.tables.0.name", "orders"), RHEI_OK);
    CHECK_INT(rhei_config_set(c, "sidecar.tables.0.primary_key.0", "id"), RHEI_OK);
    CHECK_INT(rhei_config_set(c, "sidecar.tables.0.primary_key", "a,b"), RHEI_OK);
    CHECK_INT(rhei_config_set(c, "sidecar.tables.0.colour", "red"), RHEI_CONFIG);
    CHECK_STR(rhei_config_errmsg(c), "unknown config key 'sidecar.tables.0.colour'");
    CHECK_INT(rhei_config_set(c, "sidecar.tables.x.name", "t"), RHEI_CONFIG);
    CHECK_INT(rhei_config_set(c, "sidecar.page_size", "-1"), RHEI_CONFIG);
    CHECK_INT(rhei__config_copy(c, &d), RHEI_OK);
    CHECK_STR(rhei_config_get(d, "sidecar.tables.0.name"), "orders");
    CHECK_STR(rhei_config_get(d, "sidecar.local_oltp"), "false");
    rhei_config_free(c);
    rhei_config_free(d);
}

TEST(toml_file_with_sidecar)
{
    char dir[64], path[128];
    rt_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/c.toml", dir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fputs("[engine]\noltp_path = \"x.db\"\nsync_interval_ms = 10\n\n[sidecar]\n"
          "source = \"sqlite:/tmp/src.db\"\nlocal_oltp = false\n\n[[sidecar.tables]]\n"
          "name = \"orders\"\nprimary_key = [\"id\"]\nupdated_at = \"updated_at\"\n", f);
    fclose(f);
    rhei_config *c = NULL;
    CHECK_INT(rhei_config_new(&c), RHEI_OK);
    int rc = rhei_config_load_file(c, path);
    if (rc)
        FAIL("load: %s", rhei_config_errmsg(c));
    CHECK_STR(rhei_config_get(c, "sync_interval_ms"), "10");
    CHECK_STR(rhei_config_get(c, "sidecar.tables.0.primary_key.0"), "id");
    CHECK_STR(rhei_config_get(c, "sidecar.source"), "sqlite:/tmp/src.db");
    f = fopen(path, "w");
    fputs("[engine]\nsync_mode = \"sideways\"\n", f);
    fclose(f);
    CHECK_INT(rhei_config_load_file(c, path), RHEI_CONFIG);
    CHECK(strstr(rhei_config_errmsg(c), "c.toml:2:"));
    CHECK(strstr(rhei_config_errmsg(c), "'sync_mode'"));
    CHECK_STR(rhei_config_get(c, "sync_mode"), "mirror"); /* all or nothing */
    rhei_config_free(c);
}
