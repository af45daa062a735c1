/*
 * logs.c - the application's logs (see logs.h) and the logger API of
 * include/basalt.h (bs_log_debug ... bs_log_error, bs_app_log).
 *
 * A logger line goes to stderr as every Basalt line does (debug lines
 * only with --dev) and, when the settings keep its level, to `_logs`
 * with its key/value pairs as the row's data, as PocketBase's slog
 * handler stores them.
 */
#include "logs.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../base/json.h"
#include "../base/util.h"
#include "../db/log_writer.h"
#include "../db/query.h"
#include "../db/rows.h"
#include "../db/sql.h"
#include "../filter/dialect.h"
#include "app.h"
#include "events.h"
#include "rules.h"

/* `_logs` described as a collection, for the filter compiler. */
static const char LOG_FIELDS[] =
    "[{\"name\":\"id\",\"type\":\"text\"},"
    "{\"name\":\"created\",\"type\":\"date\"},"
    "{\"name\":\"level\",\"type\":\"number\"},"
    "{\"name\":\"message\",\"type\":\"text\"},"
    "{\"name\":\"data\",\"type\":\"json\"}]";

static bs_schema *logs_schema(void)
{
    bs_schema *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    atomic_init(&s->refs, 1);
    s->items = calloc(1, sizeof *s->items);
    if (!s->items) {
        free(s);
        return NULL;
    }
    s->n = 1;
    bs_collection *c = &s->items[0];
    c->id = strdup("_logs");
    c->name = strdup("_logs");
    c->type = strdup("base");
    bs_json_parse(LOG_FIELDS, sizeof LOG_FIELDS - 1, &c->fields);
    c->indexes = json_object_new_array();
    c->options = json_object_new_object();
    if (!c->id || !c->name || !c->type || !c->fields || !c->indexes ||
        !c->options || bs_collection_fill_finfo(c) != 0) {
        bs_schema_unref(s);
        return NULL;
    }
    return s;
}

/* Copies settings.logs into the atomics. */
static void read_settings(bs_app *app)
{
    bs_logs *l = app->logs;
    bs_settings *s = bs_app_settings(app);
    const json_object *o = s ? bs_json_get(s->value, "logs") : NULL;
    atomic_store(&l->max_days, (int)bs_json_get_int(o, "maxDays", 5));
    atomic_store(&l->min_level, (int)bs_json_get_int(o, "minLevel", 0));
    atomic_store(&l->log_ip, bs_json_get_bool(o, "logIP", true));
    atomic_store(&l->log_auth_id, bs_json_get_bool(o, "logAuthId", false));
    const json_object *tp =
        s ? bs_json_get(bs_json_get(s->value, "trustedProxy"), "headers")
          : NULL;
    atomic_store(&l->proxy_headers,
                 tp && json_object_is_type(tp, json_type_array) &&
                     json_object_array_length(tp) > 0);
    bs_settings_unref(s);
}

static int on_settings_reload(bs_event *e, void *user)
{
    (void)user;
    if (e->app->logs)
        read_settings(e->app);
    return bs_event_next(e);
}

/* ---- request rows ------------------------------------------------------- */

/* The kind of a request row in the writer's pending file. */
#define ROW_REQUEST 1
/* The strings of a request row, in the payload's order. */
enum { RS_METHOD, RS_URL, RS_REFERER, RS_USER_AGENT, RS_REMOTE_IP,
       RS_USER_IP, RS_AUTH, RS_AUTH_ID, RS_ERROR, RS_COUNT };
/* The length that marks a string as absent (NULL). */
#define RS_ABSENT UINT32_MAX

/* The payload: status (int32), exec_ms (double), then each string as a
 * uint32 length (RS_ABSENT for NULL) and its bytes. Native byte order:
 * the file never leaves the machine. Written straight into the writer's
 * buffer. */
void bs_logs_add_request(bs_app *app, int level, const bs_request_log *rl)
{
    if (!bs_logs_wanted(app, level))
        return;
    const char *str[RS_COUNT] = {
        [RS_METHOD] = rl->method,         [RS_URL] = rl->url,
        [RS_REFERER] = rl->referer,       [RS_USER_AGENT] = rl->user_agent,
        [RS_REMOTE_IP] = rl->remote_ip,   [RS_USER_IP] = rl->user_ip,
        [RS_AUTH] = rl->auth,             [RS_AUTH_ID] = rl->auth_id,
        [RS_ERROR] = rl->error,
    };
    uint32_t lens[RS_COUNT];
    size_t len = sizeof(int32_t) + sizeof(double) + sizeof lens;
    for (int i = 0; i < RS_COUNT; i++) {
        size_t n = str[i] ? strlen(str[i]) : 0;
        lens[i] = str[i] ? (uint32_t)n : RS_ABSENT;
        len += n;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    char *p = bs_log_writer_reserve_raw(app->logs->writer, level,
                                        ROW_REQUEST, len, ms);
    if (!p)
        return;
    int32_t status = rl->status;
    memcpy(p, &status, sizeof status);
    p += sizeof status;
    memcpy(p, &rl->exec_ms, sizeof rl->exec_ms);
    p += sizeof rl->exec_ms;
    for (int i = 0; i < RS_COUNT; i++) {
        memcpy(p, &lens[i], sizeof lens[i]);
        p += sizeof lens[i];
        if (str[i]) {
            memcpy(p, str[i], lens[i]);
            p += lens[i];
        }
    }
    bs_log_writer_commit(app->logs->writer);
}

/* Appends ,"key":"s" with s cut to max bytes plus "..." as PocketBase's
 * cutStr does. */
static void put_cut(bs_buf *b, const char *key, const char *s, size_t n,
                    size_t max)
{
    bs_buf_puts(b, ",\"");
    bs_buf_puts(b, key);
    bs_buf_puts(b, "\":");
    if (n <= max) {
        bs_buf_json_str(b, s, n);
        return;
    }
    /* Cut at a character boundary so the JSON text stays valid UTF-8. */
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    bs_buf_json_str(b, s, max);
    b->len--; /* reopen the string to append the ellipsis */
    bs_buf_puts(b, "...\"");
}

/* The message: method and the percent-decoded request target (the raw
 * target when it does not decode). */
static void put_message(bs_buf *m, const char *method, size_t method_len,
                        const char *url, size_t url_len)
{
    bs_buf_append(m, method, method_len);
    bs_buf_putc(m, ' ');
    size_t start = m->len;
    for (size_t i = 0; i < url_len; i++) {
        if (url[i] == '%') {
            int hi = i + 1 < url_len ? bs_hex_digit(url[i + 1]) : -1;
            int lo = hi < 0 || i + 2 >= url_len ? -1 : bs_hex_digit(url[i + 2]);
            if (lo < 0) {
                m->len = start;
                bs_buf_append(m, url, url_len);
                return;
            }
            bs_buf_putc(m, (char)(hi * 16 + lo));
            i += 2;
        } else {
            bs_buf_putc(m, url[i]);
        }
    }
}

/* Whether text is the members of a JSON object (what goes between its
 * braces). */
static bool members_ok(const char *text, size_t n)
{
    bs_buf b;
    bs_buf_init(&b);
    bs_buf_putc(&b, '{');
    bs_buf_append(&b, text, n);
    bs_buf_putc(&b, '}');
    json_object *o = NULL;
    bool ok = !b.oom && bs_json_parse(b.data, b.len, &o) == 0 &&
              json_object_is_type(o, json_type_object);
    json_object_put(o);
    bs_buf_dispose(&b);
    return ok;
}

/* Keys in Go's map order (sorted), as PocketBase stores them. */
bool bs_logs_format_row(int kind, const char *payload, size_t len,
                       bs_buf *message, bs_buf *data)
{
    if (kind != ROW_REQUEST || len < sizeof(int32_t) + sizeof(double))
        return false;
    int32_t status;
    double exec_ms;
    memcpy(&status, payload, sizeof status);
    memcpy(&exec_ms, payload + sizeof status, sizeof exec_ms);
    const char *s[RS_COUNT];
    size_t n[RS_COUNT];
    size_t at = sizeof status + sizeof exec_ms;
    for (int i = 0; i < RS_COUNT; i++) {
        uint32_t l;
        if (len - at < sizeof l)
            return false;
        memcpy(&l, payload + at, sizeof l);
        at += sizeof l;
        if (l == RS_ABSENT) {
            s[i] = NULL;
            n[i] = 0;
            continue;
        }
        if (l > len - at)
            return false;
        s[i] = payload + at;
        n[i] = l;
        at += l;
    }
    put_message(message, s[RS_METHOD] ? s[RS_METHOD] : "", n[RS_METHOD],
                s[RS_URL] ? s[RS_URL] : "", n[RS_URL]);

    bs_buf_puts(data, "{\"auth\":");
    bs_buf_json_str(data, s[RS_AUTH] ? s[RS_AUTH] : "", n[RS_AUTH]);
    if (s[RS_AUTH_ID])
        put_cut(data, "authId", s[RS_AUTH_ID], n[RS_AUTH_ID], 255);
    if (s[RS_ERROR]) {
        /* Written by the request logger as JSON members; checked, since
         * the pending file is read back from disk. */
        size_t mark = data->len;
        bs_buf_putc(data, ',');
        bs_buf_append(data, s[RS_ERROR], n[RS_ERROR]);
        if (n[RS_ERROR] == 0 ||
            !members_ok(data->data + mark + 1, data->len - mark - 1)) {
            data->len = mark;
            bs_buf_puts(data, ",\"details\":null,\"error\":\"\"");
        }
    }
    bs_buf_puts(data, ",\"execTime\":");
    bs_buf_json_num(data, exec_ms);
    put_cut(data, "method", s[RS_METHOD] ? s[RS_METHOD] : "", n[RS_METHOD],
            50);
    put_cut(data, "referer", s[RS_REFERER] ? s[RS_REFERER] : "",
            n[RS_REFERER], 2000);
    if (s[RS_REMOTE_IP])
        put_cut(data, "remoteIP", s[RS_REMOTE_IP], n[RS_REMOTE_IP], 255);
    bs_buf_puts(data, ",\"status\":");
    bs_buf_json_num(data, status);
    bs_buf_puts(data, ",\"type\":\"request\"");
    put_cut(data, "url", s[RS_URL] ? s[RS_URL] : "", n[RS_URL], 3000);
    put_cut(data, "userAgent", s[RS_USER_AGENT] ? s[RS_USER_AGENT] : "",
            n[RS_USER_AGENT], 2000);
    if (s[RS_USER_IP])
        put_cut(data, "userIP", s[RS_USER_IP], n[RS_USER_IP], 255);
    bs_buf_putc(data, '}');
    return true;
}

bs_logs *bs_logs_new(bs_app *app)
{
    bs_logs *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    atomic_init(&l->max_days, 5);
    atomic_init(&l->min_level, 0);
    atomic_init(&l->log_ip, true);
    atomic_init(&l->log_auth_id, false);
    l->schema = logs_schema();
    bs_handler h = {.id = "__bsLogsSettings", .priority = -1000,
                    .fn = on_settings_reload};
    if (!l->schema ||
        bs_hook_bind(app->hooks[BS_ON_SETTINGS_RELOAD], &h) != 0) {
        bs_logs_free(l);
        return NULL;
    }
    return l;
}

void bs_logs_free(bs_logs *l)
{
    if (!l)
        return;
    bs_log_writer_free(l->writer);
    bs_schema_unref(l->schema);
    free(l);
}

int bs_logs_start(bs_app *app, bs_error *err)
{
    bs_logs *l = app->logs;
    read_settings(app);
    if (l->writer)
        return 0;
    char path[4096];
    snprintf(path, sizeof path, "%s/auxiliary.db", app->data_dir);
    bs_log_writer_config cfg = {.format = bs_logs_format_row};
    return bs_log_writer_new(&l->writer, path, &cfg, err);
}

bool bs_logs_enabled(const bs_app *app)
{
    const bs_logs *l = app ? app->logs : NULL;
    return l && l->writer && atomic_load(&l->max_days) > 0;
}

bool bs_logs_wanted(const bs_app *app, int level)
{
    return bs_logs_enabled(app) && level >= atomic_load(&app->logs->min_level);
}

void bs_logs_add(bs_app *app, int level, const char *message,
                 size_t message_len, const char *data, size_t data_len)
{
    if (!bs_logs_wanted(app, level))
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    bs_log_writer_push(app->logs->writer, level, message, message_len, data,
                       data_len, ms);
}

void bs_logs_flush(bs_app *app)
{
    if (app->logs && app->logs->writer)
        bs_log_writer_flush(app->logs->writer);
}

/* Rows a read imports itself at most (about a third of a second of
 * work); an idle core imports the rest. */
#define CATCH_UP_ROWS 10000

void bs_logs_catch_up(bs_app *app)
{
    if (app->logs && app->logs->writer)
        bs_log_writer_catch_up(app->logs->writer, CATCH_UP_ROWS);
}

/* ---- the logger API ----------------------------------------------------- */

static char level_tag(int level)
{
    return level >= BS_LOG_ERROR  ? 'E'
           : level >= BS_LOG_WARN ? 'W'
           : level >= BS_LOG_INFO ? 'I'
                                  : 'D';
}

/* Prints message and data (JSON text, may be "{}") as one stderr line. */
static void print_line(int level, const char *message, const bs_buf *data)
{
    if (data->len > 2)
        bs_log(level_tag(level), "%s %s", message, data->data);
    else
        bs_log(level_tag(level), "%s", message);
}

static void log_kv(bs_app *app, int level, const char *message, va_list ap)
{
    if (!message)
        message = "";
    bs_buf data;
    bs_buf_init(&data);
    bs_buf_putc(&data, '{');
    bool first = true;
    for (;;) {
        const char *k = va_arg(ap, const char *);
        if (!k)
            break;
        const char *v = va_arg(ap, const char *);
        if (!first)
            bs_buf_putc(&data, ',');
        first = false;
        bs_buf_json_str(&data, k, strlen(k));
        bs_buf_putc(&data, ':');
        if (v)
            bs_buf_json_str(&data, v, strlen(v));
        else
            bs_buf_puts(&data, "null");
    }
    bs_buf_putc(&data, '}');
    if (!data.oom) {
        print_line(level, message, &data);
        bs_logs_add(app, level, message, strlen(message), data.data,
                    data.len);
    }
    bs_buf_dispose(&data);
}

void bs_log_debug(bs_app *app, const char *message, ...)
{
    va_list ap;
    va_start(ap, message);
    log_kv(app, BS_LOG_DEBUG, message, ap);
    va_end(ap);
}

void bs_log_info(bs_app *app, const char *message, ...)
{
    va_list ap;
    va_start(ap, message);
    log_kv(app, BS_LOG_INFO, message, ap);
    va_end(ap);
}

void bs_log_warn(bs_app *app, const char *message, ...)
{
    va_list ap;
    va_start(ap, message);
    log_kv(app, BS_LOG_WARN, message, ap);
    va_end(ap);
}

void bs_log_error(bs_app *app, const char *message, ...)
{
    va_list ap;
    va_start(ap, message);
    log_kv(app, BS_LOG_ERROR, message, ap);
    va_end(ap);
}

void bs_app_log(bs_app *app, int level, const char *message,
                const json_object *data)
{
    if (!message)
        message = "";
    bs_buf text;
    bs_buf_init(&text);
    if (data && json_object_is_type(data, json_type_object))
        bs_json_write(&text, data);
    else
        bs_buf_puts(&text, "{}");
    if (!text.oom) {
        print_line(level, message, &text);
        bs_logs_add(app, level, message, strlen(message), text.data,
                    text.len);
    }
    bs_buf_dispose(&text);
}

/* ---- reading -------------------------------------------------------------- */

/* The current row of a `SELECT id, created, data, message, level`. */
static json_object *row_json(bs_rows *st)
{
    json_object *o = json_object_new_object();
    size_t n = 0;
    const char *t = bs_rows_text(st, 0, &n);
    json_object_object_add(o, "id", json_object_new_string_len(t ? t : "",
                                                               (int)n));
    t = bs_rows_text(st, 1, &n);
    json_object_object_add(o, "created",
                           json_object_new_string_len(t ? t : "", (int)n));
    t = bs_rows_text(st, 2, &n);
    json_object *data = NULL;
    if (!t || bs_json_parse(t, n, &data) != 0 ||
        !json_object_is_type(data, json_type_object)) {
        json_object_put(data);
        data = json_object_new_object();
    }
    json_object_object_add(o, "data", data);
    t = bs_rows_text(st, 3, &n);
    json_object_object_add(o, "message",
                           json_object_new_string_len(t ? t : "", (int)n));
    json_object_object_add(o, "level",
                           json_object_new_int64(bs_rows_int(st, 4)));
    return o;
}

static int bad_request(bs_error *err, const char *message)
{
    return bs_error_set(err, 400, "%s", message);
}

/* Compiles filter and sort into rs and q. */
static int compile(bs_app *app, const char *filter, const char *sort,
                   bs_query *q, bs_rule_sql *rs, bs_error *err)
{
    bs_schema *schema = app->logs->schema;
    bs_rule_ctx ctx = {.app = app, .schema = schema,
                       .collection = &schema->items[0], .alias = "_logs",
                       .superuser = true,
                       /* auxiliary.db: SQLite on every store. */
                       .dialect = bs_sql_dialect_sqlite()};
    int rc = 0;
    if (filter && *filter)
        rc = bs_rules_add_filter(&ctx, filter, false, q, rs, err);
    if (!rc && sort && *sort)
        rc = bs_rules_add_sort(&ctx, sort, q, rs, err);
    if (!rc)
        rc = bs_rules_finish(rs, q, err);
    return rc;
}

static void append_where(bs_buf *b, const bs_rule_sql *rs)
{
    if (rs->joins.len)
        bs_buf_append(b, rs->joins.data, rs->joins.len);
    if (rs->where.len) {
        bs_buf_puts(b, " WHERE ");
        bs_buf_append(b, rs->where.data, rs->where.len);
    }
}

int bs_logs_list(bs_app *app, const char *filter, const char *sort,
                 int64_t page, int64_t per_page, bool skip_total,
                 json_object **out, bs_error *err)
{
    *out = NULL;
    bs_logs_catch_up(app);
    bs_query q;
    bs_rule_sql rs;
    bs_buf text;
    bs_query_init(&q);
    bs_rule_sql_init(&rs);
    bs_buf_init(&text);
    json_object *items = NULL;
    int64_t total = -1;
    int rc = compile(app, filter, sort, &q, &rs, err);
    if (rc) {
        rc = bad_request(err, "Something went wrong while processing your "
                              "request.");
        goto end;
    }
    bs_buf_puts(&text, "SELECT _logs.id, _logs.created, _logs.data, "
                       "_logs.message, _logs.level FROM _logs");
    append_where(&text, &rs);
    bs_buf_puts(&text, " ORDER BY ");
    if (rs.order.len) {
        bs_buf_append(&text, rs.order.data, rs.order.len);
        bs_buf_puts(&text, ", ");
    }
    bs_buf_printf(&text, "_logs.rowid LIMIT %lld OFFSET %lld",
                  (long long)per_page, (long long)((page - 1) * per_page));
    items = json_object_new_array();
    bs_conn *conn = bs_store_aux_acquire(app->store);
    bs_query page_q = q;
    page_q.sql = text;
    bs_rows st;
    rc = bs_rows_open_query(&st, conn, &page_q, BS_ROWS_ONCE);
    while (rc == 0 && (rc = bs_rows_next(&st)) == 1) {
        json_object_array_add(items, row_json(&st));
        rc = 0;
    }
    bs_rows_close(&st);
    if (rc == 0 && !skip_total) {
        bs_buf_reset(&text);
        bs_buf_puts(&text, "SELECT COUNT(*) FROM _logs");
        append_where(&text, &rs);
        page_q.sql = text;
        rc = bs_rows_open_query(&st, conn, &page_q, BS_ROWS_ONCE);
        if (rc == 0 && bs_rows_next(&st) == 1)
            total = bs_rows_int(&st, 0);
        else
            rc = BS_EDB;
        bs_rows_close(&st);
    }
    if (rc)
        bs_log('D', "logs list failed: %s", bs_conn_errmsg(conn));
    bs_store_aux_release(app->store, conn);
    if (rc) {
        rc = bad_request(err, "Something went wrong while processing your "
                              "request.");
        goto end;
    }
    json_object *res = json_object_new_object();
    json_object_object_add(res, "items", items);
    items = NULL;
    json_object_object_add(res, "page", json_object_new_int64(page));
    json_object_object_add(res, "perPage", json_object_new_int64(per_page));
    json_object_object_add(res, "totalItems", json_object_new_int64(total));
    json_object_object_add(
        res, "totalPages",
        json_object_new_int64(total < 0 ? -1
                                        : (total + per_page - 1) / per_page));
    *out = res;

end:
    json_object_put(items);
    bs_buf_dispose(&text);
    bs_rule_sql_dispose(&rs);
    bs_query_dispose(&q);
    return rc;
}

int bs_logs_find(bs_app *app, const char *id, json_object **out)
{
    *out = NULL;
    bs_logs_catch_up(app);
    bs_conn *conn = bs_store_aux_acquire(app->store);
    bs_rows st;
    int rc = bs_rows_open(&st, conn,
                          "SELECT id, created, data, message, level FROM "
                          "_logs WHERE id = ?1 LIMIT 1",
                          -1, BS_ROWS_FIXED);
    if (rc == 0) {
        bs_rows_bind_text(&st, 1, id, -1);
        rc = bs_rows_next(&st);
        if (rc == 1) {
            *out = row_json(&st);
            rc = 0;
        } else {
            rc = BS_ENOTFOUND;
        }
    }
    bs_rows_close(&st);
    bs_store_aux_release(app->store, conn);
    return rc;
}

int bs_logs_stats(bs_app *app, const char *filter, json_object **out,
                  bs_error *err)
{
    *out = NULL;
    bs_logs_catch_up(app);
    bs_query q;
    bs_rule_sql rs;
    bs_buf text;
    bs_query_init(&q);
    bs_rule_sql_init(&rs);
    bs_buf_init(&text);
    int rc = compile(app, filter, NULL, &q, &rs, err);
    if (rc) {
        rc = bad_request(err, "Invalid filter format.");
        goto end;
    }
    bs_buf_puts(&text, "SELECT count(_logs.id) AS total, "
                       "strftime('%Y-%m-%d %H:00:00', _logs.created) AS date "
                       "FROM _logs");
    append_where(&text, &rs);
    bs_buf_puts(&text, " GROUP BY date ORDER BY date");
    json_object *res = json_object_new_array();
    bs_conn *conn = bs_store_aux_acquire(app->store);
    bs_query stats_q = q;
    stats_q.sql = text;
    bs_rows st;
    rc = bs_rows_open_query(&st, conn, &stats_q, BS_ROWS_ONCE);
    while (rc == 0 && (rc = bs_rows_next(&st)) == 1) {
        json_object *item = json_object_new_object();
        size_t n = 0;
        const char *d = bs_rows_text(&st, 1, &n);
        char date[32];
        snprintf(date, sizeof date, "%.19s.000Z", d ? d : "");
        json_object_object_add(item, "date",
                               json_object_new_string(d ? date : ""));
        json_object_object_add(item, "total",
                               json_object_new_int64(bs_rows_int(&st, 0)));
        json_object_array_add(res, item);
        rc = 0;
    }
    bs_rows_close(&st);
    bs_store_aux_release(app->store, conn);
    if (rc) {
        json_object_put(res);
        rc = bad_request(err, "Failed to generate logs stats.");
        goto end;
    }
    *out = res;

end:
    bs_buf_dispose(&text);
    bs_rule_sql_dispose(&rs);
    bs_query_dispose(&q);
    return rc;
}

int bs_logs_cleanup(bs_app *app)
{
    if (!app->store)
        return 0;
    int days = app->logs ? atomic_load(&app->logs->max_days) : 5;
    char before[25];
    bs_time_str((int64_t)time(NULL) - (int64_t)days * 86400, 0, before);
    bs_conn *aux = bs_store_aux_acquire(app->store);
    bs_rows r;
    int rc = bs_rows_open(&r, aux, "DELETE FROM _logs WHERE created <= ?1",
                          -1, BS_ROWS_FIXED);
    if (rc == 0) {
        bs_rows_bind_text(&r, 1, before, -1);
        rc = bs_rows_exec(&r);
    }
    if (rc < 0)
        bs_log_warn(app, "Failed to delete old logs", "error",
                    bs_conn_errmsg(aux), NULL);
    bs_rows_close(&r);
    bs_store_aux_release(app->store, aux);
    return rc < 0 ? rc : 0;
}
