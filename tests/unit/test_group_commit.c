/*
 * test_group_commit.c - group commit on the writer (src/db/writer_queue.c)
 * driven directly: the main thread holds a joined transaction while other
 * threads queue behind it, so they form one group deterministically.
 */
#include <pthread.h>
#include <sched.h>
#include <string.h>

#include "db/store.h"
#include "harness.h"
#include "tmpdir.h"

static char dir[256];

static int count_where(bs_conn *c, const char *v)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(bs_conn_db(c), "SELECT COUNT(*) FROM t WHERE v = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, v, -1, SQLITE_TRANSIENT);
    int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    return n;
}

static int insert(bs_conn *c, const char *v)
{
    char sql[96];
    snprintf(sql, sizeof sql, "INSERT INTO t VALUES ('%s')", v);
    return bs_conn_exec(c, sql, NULL);
}

/* One queued transaction: inserts `first`, then `second` when set; ends
 * with commit unless an insert failed. */
typedef struct member {
    bs_store *s;
    const char *first, *second;
    bool plain;
    int insert_rc;
    int end_rc;
    int visible_after; /* rows of `first` a reader sees once answered */
} member;

static void *run_member(void *p)
{
    member *m = p;
    bs_error e;
    bs_error_init(&e);
    bs_conn *c = NULL;
    int rc = m->plain ? bs_store_tx_begin(m->s, &c, &e)
                      : bs_store_tx_join(m->s, &c, &e);
    if (rc) {
        m->end_rc = rc;
        bs_error_dispose(&e);
        return NULL;
    }
    m->insert_rc = insert(c, m->first);
    if (m->insert_rc == 0 && m->second)
        m->insert_rc = insert(c, m->second);
    m->end_rc = bs_store_tx_end(m->s, m->insert_rc == 0, &e);
    bs_conn *r = bs_store_reader_acquire(m->s);
    m->visible_after = count_where(r, m->first);
    bs_store_reader_release(m->s, r);
    bs_error_dispose(&e);
    return NULL;
}

static bs_store *open_store(const char *name)
{
    char sub[300];
    snprintf(sub, sizeof sub, "%s/%s", dir, name);
    bs_store *s = NULL;
    bs_error e;
    bs_error_init(&e);
    if (bs_store_open(&s, sub, 2, &e) != 0)
        return NULL;
    bs_conn *c = NULL;
    if (bs_store_tx_begin(s, &c, &e) == 0) {
        bs_conn_exec(c, "CREATE TABLE t (v TEXT UNIQUE)", &e);
        bs_store_tx_end(s, true, &e);
    }
    bs_error_dispose(&e);
    return s;
}

static void wait_queued(bs_store *s, int n)
{
    while (bs_store_tx_waiting(s) < n)
        sched_yield();
}

/* Five transactions share one COMMIT; the one that breaks a UNIQUE
 * constraint after a write of its own loses both of its writes and
 * nothing else, and each committed one is visible once it is answered. */
TEST(failing_member_does_not_affect_the_group)
{
    bs_store *s = open_store("group");
    REQUIRE(s != NULL);
    uint64_t commits0, members0;
    bs_store_group_stats(s, &commits0, &members0);

    bs_error e;
    bs_error_init(&e);
    bs_conn *c = NULL;
    REQUIRE(bs_store_tx_join(s, &c, &e) == 0);
    CHECK(insert(c, "lead") == 0);

    member m[4] = {
        {.s = s, .first = "one"},
        {.s = s, .first = "doomed", .second = "lead"}, /* duplicate */
        {.s = s, .first = "two"},
        {.s = s, .first = "three"},
    };
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        REQUIRE(pthread_create(&th[i], NULL, run_member, &m[i]) == 0);
    wait_queued(s, 4);
    /* Four wait: this end hands the writer over and returns only once the
     * last member has committed for everyone. */
    CHECK(bs_store_tx_end(s, true, &e) == 0);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);

    uint64_t commits, members;
    bs_store_group_stats(s, &commits, &members);
    CHECK(commits - commits0 == 1);
    CHECK(members - members0 == 4);

    CHECK(m[1].insert_rc == BS_EDB);
    CHECK(m[1].end_rc == 0); /* a rollback of its own savepoint */
    CHECK(m[1].visible_after == 0);
    for (int i = 0; i < 4; i++) {
        if (i == 1)
            continue;
        CHECK(m[i].insert_rc == 0);
        CHECK(m[i].end_rc == 0);
        CHECK(m[i].visible_after == 1);
    }
    bs_conn *r = bs_store_reader_acquire(s);
    CHECK(count_where(r, "lead") == 1);
    CHECK(count_where(r, "doomed") == 0);
    CHECK(count_where(r, "one") == 1);
    CHECK(count_where(r, "two") == 1);
    CHECK(count_where(r, "three") == 1);
    bs_store_reader_release(s, r);
    bs_store_close(s);
    bs_error_dispose(&e);
}

/* A transaction of its own that queues behind a group commits the group
 * before it begins; the group's member is answered then. */
TEST(plain_transaction_commits_the_open_group)
{
    bs_store *s = open_store("plain");
    REQUIRE(s != NULL);
    bs_error e;
    bs_error_init(&e);
    bs_conn *c = NULL;
    REQUIRE(bs_store_tx_join(s, &c, &e) == 0);
    CHECK(insert(c, "grouped") == 0);
    member p = {.s = s, .first = "plain", .plain = true};
    pthread_t th;
    REQUIRE(pthread_create(&th, NULL, run_member, &p) == 0);
    wait_queued(s, 1);
    CHECK(bs_store_tx_end(s, true, &e) == 0);
    bs_conn *r = bs_store_reader_acquire(s);
    CHECK(count_where(r, "grouped") == 1);
    bs_store_reader_release(s, r);
    pthread_join(th, NULL);
    CHECK(p.end_rc == 0);
    CHECK(p.visible_after == 1);
    uint64_t commits, members;
    bs_store_group_stats(s, &commits, &members);
    CHECK(commits == 1);
    CHECK(members == 1);
    bs_store_close(s);
    bs_error_dispose(&e);
}

/* With nobody waiting, a joined transaction commits at once, and a
 * rollback leaves the writer free and nothing written. */
TEST(alone_member_commits_at_once)
{
    bs_store *s = open_store("alone");
    REQUIRE(s != NULL);
    member a = {.s = s, .first = "a"};
    run_member(&a);
    CHECK(a.end_rc == 0);
    CHECK(a.visible_after == 1);
    member b = {.s = s, .first = "b", .second = "a"};
    run_member(&b);
    CHECK(b.insert_rc == BS_EDB);
    CHECK(b.end_rc == 0);
    CHECK(b.visible_after == 0);
    member d = {.s = s, .first = "d"};
    run_member(&d);
    CHECK(d.visible_after == 1);
    uint64_t commits, members;
    bs_store_group_stats(s, &commits, &members);
    CHECK(commits == 2); /* the failed one rolled back alone */
    CHECK(members == 2);
    bs_store_close(s);
}

/* The first member of a group runs without a savepoint; when it fails
 * with others queued behind it, its ROLLBACK takes only its own writes. */
TEST(failing_first_member_leaves_the_queue_intact)
{
    bs_store *s = open_store("first");
    REQUIRE(s != NULL);
    bs_error e;
    bs_error_init(&e);
    bs_conn *c = NULL;
    REQUIRE(bs_store_tx_join(s, &c, &e) == 0);
    CHECK(insert(c, "first") == 0);
    member m[2] = {{.s = s, .first = "x"}, {.s = s, .first = "y"}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        REQUIRE(pthread_create(&th[i], NULL, run_member, &m[i]) == 0);
    wait_queued(s, 2);
    CHECK(bs_store_tx_end(s, false, &e) == 0);
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        CHECK(m[i].end_rc == 0);
        CHECK(m[i].visible_after == 1);
    }
    bs_conn *r = bs_store_reader_acquire(s);
    CHECK(count_where(r, "first") == 0);
    bs_store_reader_release(s, r);
    bs_store_close(s);
    bs_error_dispose(&e);
}

int main(void)
{
    if (tmpdir_make(dir, sizeof dir) != 0)
        return 1;
    RUN(failing_member_does_not_affect_the_group);
    RUN(plain_transaction_commits_the_open_group);
    RUN(alone_member_commits_at_once);
    RUN(failing_first_member_leaves_the_queue_intact);
    tmpdir_remove(dir);
    return harness_summary(__FILE__);
}
