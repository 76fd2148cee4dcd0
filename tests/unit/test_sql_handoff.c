/*
 * test_sql_handoff.c - hand-offs in the ledger (sql.h, "Hand-offs") on SQLite: what
 * cp_sql_handoff_begin reports (the last load, the version's last hand-off and its task),
 * a rolled-back hand-off that leaves nothing, a committed one that a second begin sees,
 * loads refused while a hand-off is open, and the lock: another connection cannot write
 * the ledger until the hand-off ends.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "load/sql.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[64];
static char url[160];

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/cp_handoff_XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(url, sizeof url, "sqlite:%s/ledger.db", dir);
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static cp_ledger_row row(cp_load_status status, const char *version, const char *outputs)
{
    cp_ledger_row r;
    memset(&r, 0, sizeof r);
    r.dataset = "vendas";
    r.source_uri = "s3://in/incoming/vendas/big.csv";
    r.version = version;
    r.sequencer = "0065A1";
    r.size_bytes = 5000000000LL;
    r.started_us = 1700000000000000LL;
    r.finished_us = 1700000000500000LL;
    r.status = status;
    r.outputs_json = outputs;
    return r;
}

static void test_begin_end(void **state)
{
    cp_error err;
    cp_sql *db = cp_sql_open(url, &err);
    assert_non_null(db);
    const char *src = "s3://in/incoming/vendas/big.csv";
    cp_handoff_view v;
    assert_int_equal(cp_sql_handoff_begin(db, src, "v1", &v, &err), CP_OK);
    assert_false(v.loaded);
    assert_false(v.handed_off);
    /* no load, no record, no second hand-off while one is open */
    assert_int_equal(cp_sql_handoff_begin(db, src, "v1", &v, &err), CP_USAGE);
    cp_ledger_row skipped = row(CP_LOAD_SKIPPED, "v1", NULL);
    assert_int_equal(cp_sql_record(db, &skipped, &err), CP_USAGE);
    assert_int_equal(cp_sql_handoff_end(db, NULL, &err), CP_OK); /* rolled back */
    assert_int_equal(cp_sql_handoff_end(db, NULL, &err), CP_USAGE);

    assert_int_equal(cp_sql_handoff_begin(db, src, "v1", &v, &err), CP_OK);
    assert_false(v.handed_off);
    cp_ledger_row h =
        row(CP_LOAD_HANDED_OFF, "v1", "{\"ecs_task\":\"arn:aws:ecs:r:1:task/cp/abc\"}");
    assert_int_equal(cp_sql_handoff_end(db, &h, &err), CP_OK);

    assert_int_equal(cp_sql_handoff_begin(db, src, "v1", &v, &err), CP_OK);
    assert_true(v.handed_off);
    assert_string_equal(v.task_arn, "arn:aws:ecs:r:1:task/cp/abc");
    assert_string_equal(v.sequencer, "0065A1");
    assert_false(v.loaded);
    assert_int_equal(cp_sql_handoff_end(db, NULL, &err), CP_OK);

    /* another version was not handed off; a loaded row shows as the last load */
    cp_ledger_row loaded = row(CP_LOAD_LOADED, "v1", NULL);
    loaded.rows_loaded = 3000;
    assert_int_equal(cp_sql_record(db, &loaded, &err), CP_OK);
    assert_int_equal(cp_sql_handoff_begin(db, src, "v2", &v, &err), CP_OK);
    assert_false(v.handed_off);
    assert_true(v.loaded);
    assert_string_equal(v.last_load.version, "v1");
    assert_int_equal(v.last_load.rows_loaded, 3000);
    assert_int_equal(cp_sql_handoff_end(db, NULL, &err), CP_OK);

    /* a hand-off row without a task (hand-written) reads as one with no task */
    cp_ledger_row bare = row(CP_LOAD_HANDED_OFF, "v3", "not json");
    assert_int_equal(cp_sql_record(db, &bare, &err), CP_OK);
    assert_int_equal(cp_sql_handoff_begin(db, src, "v3", &v, &err), CP_OK);
    assert_true(v.handed_off);
    assert_string_equal(v.task_arn, "");
    assert_int_equal(cp_sql_handoff_end(db, NULL, &err), CP_OK);
    cp_sql_close(db);
}

/* Whether another connection could start writing now (no waiting for the lock). */
static bool can_write_now(const char *path)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 0);
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(db);
    return rc == SQLITE_OK;
}

static void test_lock_holds_other_writers(void **state)
{
    char path[128];
    snprintf(path, sizeof path, "%s/ledger.db", dir);
    cp_error err;
    cp_sql *a = cp_sql_open(url, &err);
    assert_non_null(a);
    cp_handoff_view v;
    assert_int_equal(cp_sql_handoff_begin(a, "s3://b/k", "v1", &v, &err), CP_OK);
    assert_false(can_write_now(path));
    cp_ledger_row h = row(CP_LOAD_HANDED_OFF, "v1", "{\"ecs_task\":\"t1\"}");
    h.source_uri = "s3://b/k";
    assert_int_equal(cp_sql_handoff_end(a, &h, &err), CP_OK);
    assert_true(can_write_now(path));
    cp_sql *b = cp_sql_open(url, &err);
    assert_non_null(b);
    assert_int_equal(cp_sql_handoff_begin(b, "s3://b/k", "v1", &v, &err), CP_OK);
    assert_true(v.handed_off);
    assert_string_equal(v.task_arn, "t1");
    assert_int_equal(cp_sql_handoff_end(b, NULL, &err), CP_OK);
    cp_sql_close(b);
    /* closing with a hand-off open rolls it back and frees the lock */
    assert_int_equal(cp_sql_handoff_begin(a, "s3://b/k", "v2", &v, &err), CP_OK);
    cp_sql_close(a);
    assert_true(can_write_now(path));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_begin_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock_holds_other_writers, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
