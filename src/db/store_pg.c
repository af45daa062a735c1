/*
 * store_pg.c - PostgreSQL connections of the store, and the row reader
 * over them (see store_pg.h and docs/scale.md, "The PostgreSQL store").
 *
 * Design. A statement's text is rewritten once (pg_sql.c), prepared and
 * run with its parameters as text of unknown type, so that the server
 * gives each the type of what it meets, much as SQLite applies a
 * column's affinity; a parameter the text does not use is declared text.
 * Where nothing decides a type (`$1 IS NULL`) PostgreSQL refuses the
 * statement naming the parameter: it is then declared text and prepared
 * again. The whole result is fetched at once and read row by row.
 *
 * Statement cache. A text seen for the second time on a connection is
 * prepared under a name and kept (up to STMT_CACHE per connection, the
 * least recently used dropped), so that the server parses and plans it
 * once, as SQLite's statement caches do; a text seen once runs as the
 * unnamed statement. A kept statement whose tables changed shape (a
 * column added by this node or another) fails with "cached plan must
 * not change result type": it is prepared again and run once more. A
 * reconnection forgets them all.
 *
 * In a transaction, PostgreSQL aborts everything after a failed
 * statement; SQLite undoes only the statement. Each statement inside a
 * transaction therefore runs in a savepoint, rolled back when it fails,
 * so the layers above see the same behaviour on both engines. The
 * savepoint, the preparation, the statement and the release are sent in
 * one round trip (libpq's pipeline mode), as are the preparation and the
 * statement outside a transaction.
 */
#include "store_pg.h"

#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../base/buf.h"
#include "../base/util.h"
#include "pg_sql.h"
#include "store.h"

/* A statement prepared on the connection under a name of its own. */
typedef struct pg_stmt {
    char *sql;           /* the rewritten text; NULL: a free slot */
    uint64_t hash;
    int nparams;
    unsigned *types;     /* as prepared (0: inferred, BS_PG_TEXT) */
    uint64_t last;       /* when last used, for eviction */
    char name[24];
} pg_stmt;

/* Statements kept prepared per connection. A text is prepared under a
 * name the second time it is seen (SEEN slots remember the first), so
 * that texts run once (a page at some offset) do not crowd the cache. */
#define STMT_CACHE 256
#define SEEN 1024

struct bs_pgconn {
    PGconn *conn;
    bool reader;
    char errmsg[512];
    /* The constraint the last failed statement broke. */
    bool constraint;
    bs_constraint broke;
    /* The prepared statements (allocated at the first), by text. */
    pg_stmt *stmts;
    uint64_t tick;
    unsigned named;      /* names given so far */
    uint64_t seen[SEEN]; /* hashes of texts seen once, by hash % SEEN */
};

typedef struct bs_pgrows {
    bs_pgconn *c;
    char *sql;       /* the rewritten text */
    int nparams;
    bool *used;
    char **vals;     /* owned copies of the bound values; NULL: SQL NULL */
    int *lens;
    PGresult *res;
    int row;         /* the current row; -1 before the first */
    int nrows;
    bool ran;
    int failed;      /* the code of the failure, or 0 */
} bs_pgrows;

static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static void keep_message(bs_pgconn *c, const char *m)
{
    size_t n = m ? strlen(m) : 0;
    while (n > 0 && (m[n - 1] == '\n' || m[n - 1] == ' '))
        n--;
    snprintf(c->errmsg, sizeof c->errmsg, "%.*s", (int)n, m ? m : "");
}

/* The session's settings, after each connection or reconnection. */
static int configure(bs_pgconn *c)
{
    PQsetNoticeProcessor(c->conn, quiet, NULL);
    char set[160];
    snprintf(set, sizeof set,
             "SET client_encoding = 'UTF8'; SET statement_timeout = %d;%s",
             c->reader ? BS_READ_TIMEOUT_MS : 0,
             c->reader ? " SET default_transaction_read_only = on;" : "");
    return bs_pgconn_exec(c, set);
}

/* Forgets every prepared statement (the session that held them ended). */
static void stmts_forget(bs_pgconn *c)
{
    for (int i = 0; c->stmts && i < STMT_CACHE; i++) {
        free(c->stmts[i].sql);
        free(c->stmts[i].types);
    }
    free(c->stmts);
    c->stmts = NULL;
}

int bs_pgconn_revive(bs_pgconn *c)
{
    if (PQstatus(c->conn) == CONNECTION_OK)
        return 0;
    stmts_forget(c);
    PQreset(c->conn);
    if (PQstatus(c->conn) != CONNECTION_OK) {
        keep_message(c, PQerrorMessage(c->conn));
        return BS_EDB;
    }
    bs_log('I', "PostgreSQL connection re-established");
    return configure(c);
}

int bs_pgconn_open(const char *url, bool reader, bs_pgconn **out,
                   bs_error *err)
{
    *out = NULL;
    bs_pgconn *c = calloc(1, sizeof *c);
    if (!c)
        return BS_ENOMEM;
    c->conn = PQconnectdb(url);
    if (!c->conn || PQstatus(c->conn) != CONNECTION_OK) {
        keep_message(c, c->conn ? PQerrorMessage(c->conn) : "out of memory");
        bs_error_set(err, 500, "Cannot connect to PostgreSQL: %s",
                     c->errmsg);
        bs_pgconn_close(c);
        return BS_EDB;
    }
    c->reader = reader;
    if (configure(c) != 0) {
        bs_error_set(err, 500, "Cannot configure the PostgreSQL "
                               "connection: %s", c->errmsg);
        bs_pgconn_close(c);
        return BS_EDB;
    }
    *out = c;
    return 0;
}

void bs_pgconn_close(bs_pgconn *c)
{
    if (!c)
        return;
    if (c->conn)
        PQfinish(c->conn);
    stmts_forget(c);
    free(c);
}

const char *bs_pgconn_errmsg(const bs_pgconn *c)
{
    return c->errmsg;
}

static bool ok(const PGresult *r)
{
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

/* Runs a fixed statement without parameters; 0 or BS_EDB. */
static int plain(bs_pgconn *c, const char *sql)
{
    PGresult *r = PQexec(c->conn, sql);
    int rc = 0;
    if (!ok(r)) {
        keep_message(c, r ? PQresultErrorMessage(r) : PQerrorMessage(c->conn));
        rc = BS_EDB;
    }
    PQclear(r);
    return rc;
}

/* Copies the one value of result r (which it frees) into out; 0, or
 * BS_EDB with the message kept when the statement failed or did not
 * answer one row. */
static int one_value(bs_pgconn *c, PGresult *r, char *out, size_t cap)
{
    int rc = 0;
    if (!ok(r) || PQntuples(r) != 1) {
        keep_message(c, r ? PQresultErrorMessage(r) : PQerrorMessage(c->conn));
        rc = BS_EDB;
    } else {
        snprintf(out, cap, "%s", PQgetvalue(r, 0, 0));
    }
    PQclear(r);
    return rc;
}

int bs_pgconn_try_lock(bs_pgconn *c, int64_t key, bool *held)
{
    char sql[64];
    snprintf(sql, sizeof sql, "SELECT pg_try_advisory_lock(%lld)",
             (long long)key);
    char v[8];
    int rc = one_value(c, PQexec(c->conn, sql), v, sizeof v);
    if (rc == 0)
        *held = strcmp(v, "t") == 0;
    return rc;
}

int bs_pgconn_count_hit(bs_pgconn *c, const char *id, const char *key,
                        int64_t interval, int64_t now, int64_t *hits)
{
    /* One statement, atomic under concurrent nodes: a new window starts
     * with the first hit after the last one ended. */
    static const char sql[] =
        "INSERT INTO _basalt_rate_limits (id, key, started, span, hits) "
        "VALUES ($1, $2, $3::bigint, $4::bigint, 1) ON CONFLICT (id, key) "
        "DO UPDATE SET "
        "hits = CASE WHEN EXCLUDED.started - _basalt_rate_limits.started "
        ">= EXCLUDED.span THEN 1 ELSE _basalt_rate_limits.hits + 1 END, "
        "started = CASE WHEN EXCLUDED.started - "
        "_basalt_rate_limits.started >= EXCLUDED.span THEN "
        "EXCLUDED.started ELSE _basalt_rate_limits.started END, "
        "span = EXCLUDED.span RETURNING hits";
    char n1[24], n2[24];
    snprintf(n1, sizeof n1, "%lld", (long long)now);
    snprintf(n2, sizeof n2, "%lld", (long long)interval);
    const char *vals[4] = {id, key, n1, n2};
    char v[24];
    int rc = one_value(
        c, PQexecParams(c->conn, sql, 4, NULL, vals, NULL, NULL, 0), v,
        sizeof v);
    if (rc == 0)
        *hits = strtoll(v, NULL, 10);
    return rc;
}

int bs_pgconn_exec(bs_pgconn *c, const char *sql)
{
    bs_buf t;
    bs_buf_init(&t);
    int rc = bs_pg_sql_translate(sql, strlen(sql), &t, NULL, 0) < 0
                 ? BS_EDB
                 : 0;
    bs_buf_putc(&t, '\0');
    if (rc == 0 && t.oom)
        rc = BS_ENOMEM;
    if (rc == 0)
        rc = plain(c, t.data);
    else
        keep_message(c, "too many parameters");
    bs_buf_dispose(&t);
    return rc;
}

/* ---- the row reader ----------------------------------------------------- */

int bs_pgrows_open(bs_rows *r, bs_pgconn *c, const char *sql, size_t len)
{
    bs_pgrows *p = calloc(1, sizeof *p);
    r->pg = p;
    if (!p)
        return BS_ENOMEM;
    p->c = c;
    p->row = -1;
    bs_buf t;
    bs_buf_init(&t);
    bool used[BS_PG_MAX_PARAMS] = {false};
    int n = bs_pg_sql_translate(sql, len, &t, used, BS_PG_MAX_PARAMS);
    bs_buf_putc(&t, '\0');
    if (n < 0 || t.oom) {
        keep_message(c, n < 0 ? "too many parameters" : "out of memory");
        bs_buf_dispose(&t);
        return n < 0 ? BS_EDB : BS_ENOMEM;
    }
    p->sql = bs_buf_steal(&t, NULL);
    p->nparams = n;
    if (n > 0) {
        p->used = malloc((size_t)n * sizeof *p->used);
        p->vals = calloc((size_t)n, sizeof *p->vals);
        p->lens = calloc((size_t)n, sizeof *p->lens);
        if (!p->used || !p->vals || !p->lens)
            return BS_ENOMEM;
        memcpy(p->used, used, (size_t)n * sizeof *p->used);
    }
    return p->sql ? 0 : BS_ENOMEM;
}

void bs_pgrows_bind(bs_rows *r, int idx, const char *s, long n)
{
    bs_pgrows *p = r->pg;
    if (idx < 1 || idx > p->nparams)
        return;
    free(p->vals[idx - 1]);
    p->vals[idx - 1] = NULL;
    p->lens[idx - 1] = 0;
    if (!s)
        return;
    size_t len = n < 0 ? strlen(s) : (size_t)n;
    char *v = malloc(len + 1);
    if (!v)
        return;
    memcpy(v, s, len);
    v[len] = '\0';
    p->vals[idx - 1] = v;
    p->lens[idx - 1] = (int)len;
}

int bs_pgrows_params(const bs_rows *r)
{
    return r->pg ? r->pg->nparams : 0;
}

/* Whether sql is transaction control, which must not run inside the
 * statement's own savepoint. */
static bool tx_control(const char *sql)
{
    while (*sql == ' ' || *sql == '\n' || *sql == '\t')
        sql++;
    static const char *const words[] = {"BEGIN", "COMMIT", "ROLLBACK",
                                        "SAVEPOINT", "RELEASE", "END"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        size_t n = strlen(words[i]);
        if (strncasecmp(sql, words[i], n) == 0 &&
            (sql[n] == '\0' || sql[n] == ' ' || sql[n] == ';'))
            return true;
    }
    return false;
}

/* The column of a broken constraint from PostgreSQL's detail, "Key
 * (a, b)=(...) already exists." or "Key (lower(a))=...": the first
 * name inside the innermost parentheses. */
static void detail_column(const char *detail, char *out, size_t cap)
{
    out[0] = '\0';
    const char *p = detail ? strstr(detail, "Key (") : NULL;
    if (!p)
        return;
    p += 5;
    while (strchr(p, '(') && strchr(p, '(') < strchr(p, ')'))
        p = strchr(p, '(') + 1;
    if (*p == '"')
        p++;
    size_t n = strcspn(p, "\",)= ");
    snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), p);
}

/* Maps a failed result onto a BS_E* code, keeping the message and the
 * constraint. */
static int failure(bs_pgconn *c, const PGresult *res)
{
    keep_message(c, res ? PQresultErrorMessage(res) : PQerrorMessage(c->conn));
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    c->constraint = false;
    if (!state || strncmp(state, "23", 2) != 0)
        return BS_EDB;
    bs_constraint *k = &c->broke;
    memset(k, 0, sizeof *k);
    k->kind = strcmp(state, "23505") == 0   ? BS_CONSTRAINT_UNIQUE
              : strcmp(state, "23502") == 0 ? BS_CONSTRAINT_NOTNULL
              : strcmp(state, "23514") == 0 ? BS_CONSTRAINT_CHECK
              : strcmp(state, "23503") == 0 ? BS_CONSTRAINT_FOREIGNKEY
                                            : BS_CONSTRAINT_OTHER;
    const char *table = PQresultErrorField(res, PG_DIAG_TABLE_NAME);
    const char *column = PQresultErrorField(res, PG_DIAG_COLUMN_NAME);
    if (k->kind == BS_CONSTRAINT_UNIQUE || k->kind == BS_CONSTRAINT_NOTNULL) {
        snprintf(k->table, sizeof k->table, "%s", table ? table : "");
        if (column)
            snprintf(k->column, sizeof k->column, "%s", column);
        else
            detail_column(PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL),
                          k->column, sizeof k->column);
    }
    c->constraint = true;
    return BS_ECONSTRAINT;
}

/* The parameter PostgreSQL could not type, from its message. */
static int untyped_param(const PGresult *res)
{
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    const char *p = msg ? strrchr(msg, '$') : NULL;
    if (!state || strcmp(state, "42P18") != 0 || !p)
        return 0;
    return atoi(p + 1);
}

/* The next result of a pipeline (skipping the NULL that ends each
 * command's results): the caller's to clear, or NULL once the connection
 * has nothing more. */
static PGresult *pipeline_next(PGconn *pc)
{
    PGresult *r = PQgetResult(pc);
    if (!r)
        r = PQgetResult(pc);
    return r;
}

/* The prepared statement of sql with n parameters, or NULL. */
static pg_stmt *stmt_find(bs_pgconn *c, const char *sql, uint64_t hash,
                          int n)
{
    for (int i = 0; c->stmts && i < STMT_CACHE; i++) {
        pg_stmt *e = &c->stmts[i];
        if (e->sql && e->hash == hash && e->nparams == n &&
            strcmp(e->sql, sql) == 0)
            return e;
    }
    return NULL;
}

/* Drops e, on the server too (DEALLOCATE never fails for a statement
 * that exists, so it is safe inside a transaction). */
static void stmt_drop(bs_pgconn *c, pg_stmt *e)
{
    char sql[48];
    snprintf(sql, sizeof sql, "DEALLOCATE %s", e->name);
    PQclear(PQexec(c->conn, sql));
    free(e->sql);
    free(e->types);
    memset(e, 0, sizeof *e);
}

/* A free slot for a new statement, the least recently used one dropped
 * when all are taken and evict is set; NULL when none can be had. */
static pg_stmt *stmt_slot(bs_pgconn *c, bool evict)
{
    if (!c->stmts && !(c->stmts = calloc(STMT_CACHE, sizeof *c->stmts)))
        return NULL;
    pg_stmt *old = &c->stmts[0];
    for (int i = 0; i < STMT_CACHE; i++) {
        if (!c->stmts[i].sql)
            return &c->stmts[i];
        if (c->stmts[i].last < old->last)
            old = &c->stmts[i];
    }
    if (!evict)
        return NULL;
    stmt_drop(c, old);
    return old;
}

/* Keeps the statement just prepared as name in e. */
static void stmt_keep(pg_stmt *e, const char *sql, uint64_t hash, int n,
                      const unsigned *types, const char *name, uint64_t tick)
{
    e->sql = strdup(sql);
    e->types = malloc(sizeof *types * (size_t)(n ? n : 1));
    if (!e->sql || !e->types) {
        free(e->sql);
        free(e->types);
        memset(e, 0, sizeof *e);
        return;
    }
    memcpy(e->types, types, sizeof *types * (size_t)n);
    e->hash = hash;
    e->nparams = n;
    e->last = tick;
    snprintf(e->name, sizeof e->name, "%s", name);
}

/* One round trip (libpq's pipeline mode) for p's statement: inside a
 * transaction (guard) the savepoint "bs_statement" around it, and when
 * prepare is set the statement prepared as name first; then it runs as
 * name ("" for the unnamed statement, parsed with it). When the
 * statement fails, the server skips what follows (a pipeline is aborted
 * up to its sync) and the caller rolls the savepoint back.
 *
 * Returns the statement's result (or the failure that stopped it: the
 * savepoint's, the preparation's; NULL when nothing came back); sets
 * *released when nothing is left to undo, *prepared when name now
 * exists on the server. */
static PGresult *pipeline_exec(bs_pgconn *c, bs_pgrows *p,
                               const unsigned *types, bool guard,
                               const char *name, bool prepare,
                               bool *released, bool *prepared)
{
    PGconn *pc = c->conn;
    const char *const *vals = (const char *const *)p->vals;
    int n = p->nparams;
    *released = !guard;
    *prepared = false;
    if (!PQenterPipelineMode(pc))
        return NULL;
    /* The commands in order; the index of each, -1 when not sent. */
    int at_sp = -1, at_prep = -1, at_run = -1, at_rel = -1, k = 0;
    int sent = 1;
    if (guard) {
        sent = PQsendQueryParams(pc, "SAVEPOINT bs_statement", 0, NULL,
                                 NULL, NULL, NULL, 0);
        at_sp = k++;
    }
    if (sent && prepare) {
        sent = PQsendPrepare(pc, name, p->sql, n, types);
        at_prep = k++;
    }
    if (sent) {
        sent = *name ? PQsendQueryPrepared(pc, name, n, vals, p->lens, NULL,
                                           0)
                     : PQsendQueryParams(pc, p->sql, n, types, vals,
                                         p->lens, NULL, 0);
        at_run = k++;
    }
    if (sent && guard) {
        sent = PQsendQueryParams(pc, "RELEASE SAVEPOINT bs_statement", 0,
                                 NULL, NULL, NULL, NULL, 0);
        at_rel = k++;
    }
    if (!PQpipelineSync(pc))
        sent = 0;
    PGresult *results[4] = {NULL, NULL, NULL, NULL};
    for (int i = 0; sent && i < k; i++)
        results[i] = pipeline_next(pc);
    /* Then the end of the last command's results and the sync's own
     * result (a few reads at most: a broken connection answers NULL). */
    for (int i = 0; sent && i < 4; i++) {
        PGresult *r = PQgetResult(pc);
        bool sync = r && PQresultStatus(r) == PGRES_PIPELINE_SYNC;
        PQclear(r);
        if (sync)
            break;
    }
    if (!PQexitPipelineMode(pc))
        keep_message(c, PQerrorMessage(pc));
    int answer = at_run;
    if (at_sp >= 0 && !ok(results[at_sp])) {
        /* Without its savepoint (a transaction already failed) nothing
         * ran, and there is nothing to roll back. */
        answer = at_sp;
        *released = true;
    } else {
        if (at_prep >= 0) {
            *prepared = ok(results[at_prep]);
            if (!*prepared)
                answer = at_prep;
        }
        if (at_rel >= 0)
            *released = ok(results[at_rel]);
    }
    PGresult *res = answer >= 0 ? results[answer] : NULL;
    for (int i = 0; i < k; i++)
        if (i != answer)
            PQclear(results[i]);
    return res;
}

/* Whether a prepared statement failed because what it reads changed
 * shape since it was prepared (a column added to a table it selects *
 * from), or because the server no longer has it: prepared again, it
 * runs. */
static bool stale_plan(const PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE)
                            : NULL;
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
                          : NULL;
    if (state && strcmp(state, "26000") == 0)
        return true; /* invalid_sql_statement_name */
    return state && strcmp(state, "0A000") == 0 && msg &&
           strstr(msg, "cached plan");
}

/* Whether sql (of hash) was seen before: true the second time. */
static bool seen_before(bs_pgconn *c, uint64_t hash)
{
    uint64_t *slot = &c->seen[hash % SEEN];
    if (*slot == hash)
        return true;
    *slot = hash;
    return false;
}

/* Rolls the statement's savepoint back and releases it; 0 or BS_EDB. */
static int undo_statement(bs_pgconn *c)
{
    if (plain(c, "ROLLBACK TO SAVEPOINT bs_statement") != 0 ||
        plain(c, "RELEASE SAVEPOINT bs_statement") != 0)
        return BS_EDB;
    return 0;
}

static int run_once(bs_pgrows *p)
{
    bs_pgconn *c = p->c;
    int n = p->nparams;
    unsigned types[BS_PG_MAX_PARAMS];
    bool control = tx_control(p->sql);
    bool guard = PQtransactionStatus(c->conn) == PQTRANS_INTRANS &&
                 !control;
    uint64_t hash = bs_fnv1a(BS_FNV_SEED, p->sql, strlen(p->sql));
    pg_stmt *e = control ? NULL : stmt_find(c, p->sql, hash, n);
    bool name_it = !control && (e || seen_before(c, hash));
    if (e)
        memcpy(types, e->types, sizeof *types * (size_t)n);
    else
        for (int i = 0; i < n; i++)
            types[i] = p->used[i] ? 0 : BS_PG_TEXT;
    PGresult *res = NULL;
    bool released = false, prepared = false;
    /* A parameter that nothing types is declared text and the statement
     * sent again; a prepared statement whose tables changed shape is
     * prepared again. Each retry starts after the savepoint is undone. */
    for (int tries = 0; tries <= n + 1; tries++) {
        PQclear(res);
        char name[24] = "";
        if (e)
            snprintf(name, sizeof name, "%s", e->name);
        else if (name_it)
            snprintf(name, sizeof name, "bs_%u", ++c->named);
        res = pipeline_exec(c, p, types, guard, name, !e && *name,
                            &released, &prepared);
        if (e)
            e->last = ++c->tick;
        else if (prepared) {
            /* Old statements are dropped outside transactions only (a
             * DEALLOCATE that failed would fail the transaction); in
             * one, with the cache full, the new statement goes, which
             * surely exists. */
            pg_stmt *slot = stmt_slot(
                c, PQtransactionStatus(c->conn) == PQTRANS_IDLE);
            if (slot)
                stmt_keep(slot, p->sql, hash, n, types, name, ++c->tick);
            else {
                char sql[48];
                snprintf(sql, sizeof sql, "DEALLOCATE %s", name);
                PQclear(PQexec(c->conn, sql));
            }
        }
        if (ok(res))
            break;
        int k = untyped_param(res);
        bool again = e && stale_plan(res);
        if (!again && (k < 1 || k > n || types[k - 1] == BS_PG_TEXT))
            break;
        if (guard && !released && undo_statement(c) != 0)
            break;
        released = true; /* undone: a last try that is not made leaves
                            nothing to roll back */
        if (again) {
            stmt_drop(c, e);
            e = NULL;
        } else {
            types[k - 1] = BS_PG_TEXT;
        }
    }
    int rc = ok(res) ? 0 : failure(c, res);
    if (guard && !released) {
        char keep[sizeof c->errmsg];
        memcpy(keep, c->errmsg, sizeof keep);
        if (undo_statement(c) != 0 && rc == 0)
            rc = BS_EDB;
        else
            memcpy(c->errmsg, keep, sizeof keep);
    }
    if (rc != 0) {
        PQclear(res);
        return rc;
    }
    p->res = res;
    p->nrows = PQntuples(res);
    p->row = -1;
    return 0;
}

static int run(bs_pgrows *p)
{
    int rc = run_once(p);
    /* On a reader (never inside a transaction: the store's
     * transactions run on the writer), a statement that found its
     * connection broken (the server restarted) runs once more on a new
     * one. The writer reconnects at its next BEGIN. */
    if (rc == BS_EDB && p->c->reader &&
        PQstatus(p->c->conn) == CONNECTION_BAD &&
        bs_pgconn_revive(p->c) == 0)
        rc = run_once(p);
    return rc;
}

int bs_pgrows_next(bs_rows *r)
{
    bs_pgrows *p = r->pg;
    if (p->failed)
        return p->failed;
    if (!p->ran) {
        p->ran = true;
        int rc = run(p);
        if (rc) {
            p->failed = rc;
            return rc;
        }
    }
    if (p->row + 1 >= p->nrows) {
        p->row = p->nrows;
        return 0;
    }
    p->row++;
    return 1;
}

int bs_pgrows_changes(const bs_rows *r)
{
    const char *n = r->pg->res ? PQcmdTuples(r->pg->res) : "";
    return *n ? atoi(n) : 0;
}

void bs_pgrows_reset(bs_rows *r)
{
    bs_pgrows *p = r->pg;
    PQclear(p->res);
    p->res = NULL;
    p->ran = false;
    p->failed = 0;
    p->row = -1;
    p->nrows = 0;
    for (int i = 0; i < p->nparams; i++) {
        free(p->vals[i]);
        p->vals[i] = NULL;
        p->lens[i] = 0;
    }
}

void bs_pgrows_close(bs_rows *r)
{
    bs_pgrows *p = r->pg;
    if (!p)
        return;
    PQclear(p->res);
    for (int i = 0; p->vals && i < p->nparams; i++)
        free(p->vals[i]);
    free(p->vals);
    free(p->lens);
    free(p->used);
    free(p->sql);
    free(p);
    r->pg = NULL;
}

int bs_pgrows_columns(const bs_rows *r)
{
    return r->pg->res ? PQnfields(r->pg->res) : 0;
}

const char *bs_pgrows_name(const bs_rows *r, int i)
{
    return r->pg->res ? PQfname(r->pg->res, i) : NULL;
}

/* The text of cell i of the current row, or NULL. */
static const char *cell(const bs_pgrows *p, int i)
{
    if (!p->res || p->row < 0 || p->row >= p->nrows || i < 0 ||
        i >= PQnfields(p->res) || PQgetisnull(p->res, p->row, i))
        return NULL;
    return PQgetvalue(p->res, p->row, i);
}

bs_col_type bs_pgrows_type(const bs_rows *r, int i)
{
    const bs_pgrows *p = r->pg;
    const char *v = cell(p, i);
    return bs_pg_col_kind(v ? (unsigned)PQftype(p->res, i) : 0, v, NULL,
                          NULL);
}

const char *bs_pgrows_text(const bs_rows *r, int i, size_t *len)
{
    const bs_pgrows *p = r->pg;
    const char *v = cell(p, i);
    if (v && PQftype(p->res, i) == BS_PG_BOOL)
        v = v[0] == 't' ? "1" : "0"; /* SQLite keeps booleans as 0/1 */
    if (len)
        *len = !v ? 0 : PQftype(p->res, i) == BS_PG_BOOL
                            ? 1
                            : (size_t)PQgetlength(p->res, p->row, i);
    return v;
}

int64_t bs_pgrows_int(const bs_rows *r, int i)
{
    const bs_pgrows *p = r->pg;
    const char *v = cell(p, i);
    int64_t out = 0;
    bs_pg_col_kind(v ? (unsigned)PQftype(p->res, i) : 0, v, &out, NULL);
    return out;
}

double bs_pgrows_real(const bs_rows *r, int i)
{
    const bs_pgrows *p = r->pg;
    const char *v = cell(p, i);
    double out = 0;
    bs_pg_col_kind(v ? (unsigned)PQftype(p->res, i) : 0, v, NULL, &out);
    return out;
}

int bs_pgrows_constraint(const bs_rows *r, bs_constraint *out)
{
    const bs_pgrows *p = r->pg;
    if (!p || p->failed != BS_ECONSTRAINT || !p->c->constraint) {
        memset(out, 0, sizeof *out);
        return BS_ENOTFOUND;
    }
    *out = p->c->broke;
    return 0;
}
