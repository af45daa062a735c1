/*
 * collection.c - the collection model: normalization, storage, tables.
 *
 * Field definitions are written with sorted keys, as PocketBase stores
 * them; the defaults of each field type are small JSON templates merged
 * under what the caller gave.
 */
#include "collection.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/error.h"
#include "../base/json.h"
#include "../base/util.h"
#include "../db/sql.h"

extern const char bs_default_auth_options[]; /* generated from defaults/ */

static const struct {
    const char *type;
    const char *defaults;
} FIELD_DEFAULTS[] = {
    {"text", "{\"autogeneratePattern\":\"\",\"max\":0,\"min\":0,"
             "\"pattern\":\"\",\"primaryKey\":false,\"required\":false}"},
    {"password", "{\"cost\":0,\"max\":0,\"min\":0,\"pattern\":\"\","
                 "\"required\":false}"},
    {"email", "{\"exceptDomains\":null,\"onlyDomains\":null,"
              "\"required\":false}"},
    {"url", "{\"exceptDomains\":null,\"onlyDomains\":null,"
            "\"required\":false}"},
    {"bool", "{\"required\":false}"},
    {"number", "{\"max\":null,\"min\":null,\"onlyInt\":false,"
               "\"required\":false}"},
    {"editor", "{\"convertURLs\":false,\"maxSize\":0,\"required\":false}"},
    {"date", "{\"max\":\"\",\"min\":\"\",\"required\":false}"},
    {"autodate", "{\"onCreate\":false,\"onUpdate\":false}"},
    {"select", "{\"maxSelect\":0,\"required\":false,\"values\":null}"},
    {"json", "{\"maxSize\":0,\"required\":false}"},
    {"file", "{\"maxSelect\":0,\"maxSize\":0,\"mimeTypes\":null,"
             "\"protected\":false,\"required\":false,\"thumbs\":null}"},
    {"relation", "{\"cascadeDelete\":false,\"collectionId\":\"\","
                 "\"maxSelect\":0,\"minSelect\":0,\"required\":false}"},
    {"geoPoint", "{\"required\":false}"},
};

static const char *field_defaults(const char *type)
{
    for (size_t i = 0; i < sizeof FIELD_DEFAULTS / sizeof FIELD_DEFAULTS[0];
         i++) {
        if (strcmp(FIELD_DEFAULTS[i].type, type) == 0)
            return FIELD_DEFAULTS[i].defaults;
    }
    return NULL;
}

/* Sets key to v unless the object already has it. */
static void set_default(json_object *o, const char *key, json_object *v)
{
    if (json_object_object_get_ex(o, key, NULL)) {
        json_object_put(v);
        return;
    }
    json_object_object_add(o, key, v);
}

int bs_field_normalize(json_object *f)
{
    const char *type = bs_json_get_str(f, "type", "");
    const char *name = bs_json_get_str(f, "name", "");
    const char *defs = field_defaults(type);
    if (!defs)
        return BS_EINVAL;
    json_object *d = NULL;
    if (bs_json_parse(defs, strlen(defs), &d) != 0 || !d)
        return BS_ENOMEM;
    json_object_object_foreach(d, k, v) {
        set_default(f, k, json_object_get(v));
    }
    json_object_put(d);
    if (strcmp(type, "autodate") != 0)
        set_default(f, "help", json_object_new_string(""));
    set_default(f, "hidden", json_object_new_boolean(0));
    set_default(f, "presentable", json_object_new_boolean(0));
    set_default(f, "system", json_object_new_boolean(0));
    if (!*bs_json_get_str(f, "id", "")) {
        char id[64];
        snprintf(id, sizeof id, "%s%u", type, bs_crc32(name, strlen(name)));
        json_object_object_add(f, "id", json_object_new_string(id));
    }
    return 0;
}

static json_object *find_field(json_object *fields, const char *name)
{
    size_t n = json_object_array_length(fields);
    for (size_t i = 0; i < n; i++) {
        json_object *f = json_object_array_get_idx(fields, i);
        if (strcmp(bs_json_get_str(f, "name", ""), name) == 0)
            return f;
    }
    return NULL;
}

/* Ensures a system field exists; new ones are inserted at pos (or
 * appended when pos < 0) from the given JSON template. */
static void ensure_field(json_object *fields, const char *name, int pos,
                         const char *tmpl)
{
    json_object *f = find_field(fields, name);
    if (f) {
        json_object_object_add(f, "system", json_object_new_boolean(1));
        return;
    }
    json_object *nf = NULL;
    if (bs_json_parse(tmpl, strlen(tmpl), &nf) != 0 || !nf)
        return;
    if (pos < 0)
        json_object_array_add(fields, nf);
    else
        bs_json_array_insert(fields, (size_t)pos, nf);
}

static bool has_index_on(json_object *indexes, const char *column)
{
    char needle[128];
    snprintf(needle, sizeof needle, "(`%s`)", column);
    size_t n = json_object_array_length(indexes);
    for (size_t i = 0; i < n; i++) {
        const char *s =
            json_object_get_string(json_object_array_get_idx(indexes, i));
        if (s && strstr(s, "UNIQUE") && strstr(s, needle))
            return true;
    }
    return false;
}

static void add_auth_index(json_object *indexes, const char *cid,
                           const char *name, const char *column,
                           const char *where)
{
    if (has_index_on(indexes, column))
        return;
    char sql[512];
    snprintf(sql, sizeof sql,
             "CREATE UNIQUE INDEX `idx_%s_%s` ON `%s` (`%s`)%s", column, cid,
             name, column, where);
    json_object_array_add(indexes, json_object_new_string(sql));
}

static int random_secret(char out[51])
{
    return bs_random_string(
        out, 50,
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
}

static int auth_options_defaults(json_object *col)
{
    json_object *d = NULL;
    if (bs_json_parse(bs_default_auth_options,
                      strlen(bs_default_auth_options), &d) != 0 ||
        !d)
        return BS_ENOMEM;
    /* The caller's values win over the defaults. */
    json_object_object_foreach(d, k, v) {
        json_object *mine = bs_json_get(col, k);
        if (mine && json_object_is_type(mine, json_type_object) &&
            json_object_is_type(v, json_type_object)) {
            bs_json_merge(v, mine);
            json_object_object_add(col, k, json_object_get(v));
        } else if (!json_object_object_get_ex(col, k, NULL)) {
            json_object_object_add(col, k, json_object_get(v));
        }
    }
    json_object_put(d);
    static const char *const tokens[] = {"authToken", "passwordResetToken",
                                         "emailChangeToken",
                                         "verificationToken", "fileToken"};
    for (size_t i = 0; i < 5; i++) {
        json_object *t = bs_json_get(col, tokens[i]);
        if (t && !*bs_json_get_str(t, "secret", "")) {
            char secret[51];
            if (random_secret(secret) != 0)
                return BS_EIO;
            json_object_object_add(t, "secret",
                                   json_object_new_string(secret));
        }
    }
    return 0;
}

int bs_collection_normalize(json_object *col, bs_error *err)
{
    const char *name = bs_json_get_str(col, "name", "");
    const char *type = bs_json_get_str(col, "type", "");
    if (!*type) {
        type = "base";
        json_object_object_add(col, "type", json_object_new_string(type));
    }
    if (!*name)
        return bs_error_set(err, 400, "Missing collection name.");
    if (!*bs_json_get_str(col, "id", "")) {
        char buf[300], id[32];
        snprintf(buf, sizeof buf, "%s%s", type, name);
        snprintf(id, sizeof id, "pbc_%u", bs_crc32(buf, strlen(buf)));
        json_object_object_add(col, "id", json_object_new_string(id));
    }
    const char *cid = bs_json_get_str(col, "id", "");
    set_default(col, "system", json_object_new_boolean(0));
    json_object *fields = bs_json_get(col, "fields");
    if (!fields || !json_object_is_type(fields, json_type_array)) {
        fields = json_object_new_array();
        json_object_object_add(col, "fields", fields);
    }
    json_object *indexes = bs_json_get(col, "indexes");
    if (!indexes || !json_object_is_type(indexes, json_type_array)) {
        indexes = json_object_new_array();
        json_object_object_add(col, "indexes", indexes);
    }
    static const char *const rules[] = {"listRule", "viewRule", "createRule",
                                        "updateRule", "deleteRule"};
    for (int i = 0; i < 5; i++)
        set_default(col, rules[i], NULL);

    bool is_view = strcmp(type, "view") == 0;
    bool is_auth = strcmp(type, "auth") == 0;
    if (!is_view) {
        ensure_field(fields, "id", 0,
                     "{\"autogeneratePattern\":\"[a-z0-9]{15}\","
                     "\"max\":15,\"min\":15,\"name\":\"id\","
                     "\"pattern\":\"^[a-z0-9]+$\",\"primaryKey\":true,"
                     "\"required\":true,\"system\":true,\"type\":\"text\"}");
    }
    if (is_auth) {
        ensure_field(fields, "password", -1,
                     "{\"hidden\":true,\"min\":8,\"name\":\"password\","
                     "\"required\":true,\"system\":true,"
                     "\"type\":\"password\"}");
        ensure_field(fields, "tokenKey", -1,
                     "{\"autogeneratePattern\":\"[a-zA-Z0-9]{50}\","
                     "\"hidden\":true,\"max\":60,\"min\":30,"
                     "\"name\":\"tokenKey\",\"required\":true,"
                     "\"system\":true,\"type\":\"text\"}");
        ensure_field(fields, "email", -1,
                     "{\"name\":\"email\",\"required\":true,"
                     "\"system\":true,\"type\":\"email\"}");
        ensure_field(fields, "emailVisibility", -1,
                     "{\"name\":\"emailVisibility\",\"system\":true,"
                     "\"type\":\"bool\"}");
        ensure_field(fields, "verified", -1,
                     "{\"name\":\"verified\",\"system\":true,"
                     "\"type\":\"bool\"}");
        /* Keep the system auth fields right after id, as PocketBase
         * orders a new auth collection. */
        static const char *const order[] = {"password", "tokenKey", "email",
                                            "emailVisibility", "verified"};
        for (int i = 0; i < 5; i++) {
            json_object *f = find_field(fields, order[i]);
            size_t n = json_object_array_length(fields);
            for (size_t j = 0; j < n; j++) {
                if (json_object_array_get_idx(fields, j) == f) {
                    json_object_get(f);
                    json_object_array_del_idx(fields, j, 1);
                    bs_json_array_insert(fields, (size_t)i + 1, f);
                    break;
                }
            }
        }
        add_auth_index(indexes, cid, name, "tokenKey", "");
        add_auth_index(indexes, cid, name, "email", " WHERE `email` != ''");
        int rc = auth_options_defaults(col);
        if (rc)
            return rc;
    }
    size_t n = json_object_array_length(fields);
    for (size_t i = 0; i < n; i++) {
        json_object *f = json_object_array_get_idx(fields, i);
        if (bs_field_normalize(f) != 0) {
            char path[64];
            snprintf(path, sizeof path, "fields.%zu.type", i);
            bs_error_field(err, path, "validation_invalid_type",
                           "Invalid field type.");
        }
    }
    if (bs_error_has_fields(err))
        return bs_error_set(err, 400, "An error occurred while validating "
                                      "the submitted data.");
    return 0;
}

void bs_field_column_def(const json_object *f, bs_buf *out)
{
    const char *type = bs_json_get_str(f, "type", "");
    bool multiple = bs_json_get_int(f, "maxSelect", 0) > 1;
    if (strcmp(type, "text") == 0 && bs_json_get_bool(f, "primaryKey", 0)) {
        bs_buf_puts(out, "TEXT PRIMARY KEY DEFAULT ('r'||lower(hex("
                         "randomblob(7)))) NOT NULL");
    } else if (strcmp(type, "number") == 0) {
        bs_buf_puts(out, "NUMERIC DEFAULT 0 NOT NULL");
    } else if (strcmp(type, "bool") == 0) {
        bs_buf_puts(out, "BOOLEAN DEFAULT FALSE NOT NULL");
    } else if (strcmp(type, "json") == 0) {
        bs_buf_puts(out, "JSON DEFAULT NULL");
    } else if (strcmp(type, "geoPoint") == 0) {
        bs_buf_puts(out, "JSON DEFAULT '{\"lon\":0,\"lat\":0}' NOT NULL");
    } else if ((strcmp(type, "select") == 0 || strcmp(type, "file") == 0 ||
                strcmp(type, "relation") == 0) &&
               multiple) {
        bs_buf_puts(out, "JSON DEFAULT '[]' NOT NULL");
    } else {
        bs_buf_puts(out, "TEXT DEFAULT '' NOT NULL");
    }
}

/* The options column: every top-level key that is not a common one. */
static json_object *options_of(const json_object *col)
{
    static const char *const common[] = {
        "id", "name", "type", "system", "fields", "indexes", "listRule",
        "viewRule", "createRule", "updateRule", "deleteRule", "created",
        "updated", NULL};
    json_object *o = json_object_new_object();
    json_object_object_foreach((json_object *)col, k, v) {
        bool skip = false;
        for (const char *const *c = common; *c; c++) {
            if (strcmp(*c, k) == 0) {
                skip = true;
                break;
            }
        }
        if (!skip)
            json_object_object_add(o, k, json_object_get(v));
    }
    return o;
}

static void bind_json(sqlite3_stmt *st, int i, const json_object *v,
                      bool sorted_items)
{
    bs_buf b;
    bs_buf_init(&b);
    if (sorted_items)
        bs_json_write_sorted(&b, v);
    else
        bs_json_write(&b, v);
    sqlite3_bind_text(st, i, b.data ? b.data : "null", -1, SQLITE_TRANSIENT);
    bs_buf_dispose(&b);
}

static void bind_rule(sqlite3_stmt *st, int i, const json_object *col,
                      const char *key)
{
    json_object *v = bs_json_get(col, key);
    if (!v)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_text(st, i, json_object_get_string(v), -1,
                          SQLITE_TRANSIENT);
}

static int field_name_cmp(const void *a, const void *b)
{
    return strcmp(bs_json_get_str(*(const json_object *const *)a, "name", ""),
                  bs_json_get_str(*(const json_object *const *)b, "name", ""));
}

int bs_collection_create(bs_conn *c, const json_object *col, bs_error *err)
{
    char now[25];
    bs_now_str(now);
    sqlite3_stmt *st = bs_conn_prepare(
        c, "INSERT INTO _collections (id, system, type, name, fields, "
           "indexes, listRule, viewRule, createRule, updateRule, deleteRule, "
           "options, created, updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
           "?8, ?9, ?10, ?11, ?12, ?13, ?13)");
    if (!st)
        return bs_error_set(err, 500, "Failed to save the collection.");
    sqlite3_bind_text(st, 1, bs_json_get_str(col, "id", ""), -1,
                      SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 2, bs_json_get_bool(col, "system", false));
    sqlite3_bind_text(st, 3, bs_json_get_str(col, "type", "base"), -1,
                      SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, bs_json_get_str(col, "name", ""), -1,
                      SQLITE_TRANSIENT);
    bind_json(st, 5, bs_json_get(col, "fields"), true);
    bind_json(st, 6, bs_json_get(col, "indexes"), false);
    bind_rule(st, 7, col, "listRule");
    bind_rule(st, 8, col, "viewRule");
    bind_rule(st, 9, col, "createRule");
    bind_rule(st, 10, col, "updateRule");
    bind_rule(st, 11, col, "deleteRule");
    json_object *opts = options_of(col);
    bind_json(st, 12, opts, false);
    json_object_put(opts);
    sqlite3_bind_text(st, 13, now, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (step != SQLITE_DONE)
        return bs_error_set(err, 400, "Failed to save the collection.");

    bs_buf sql;
    bs_buf_init(&sql);
    bs_buf_puts(&sql, "CREATE TABLE `");
    bs_buf_puts(&sql, bs_json_get_str(col, "name", ""));
    bs_buf_puts(&sql, "` (");
    /* Columns in byte order of their names, as PocketBase creates them. */
    json_object *fields = bs_json_get(col, "fields");
    size_t n = json_object_array_length(fields);
    const json_object **sorted = calloc(n ? n : 1, sizeof *sorted);
    if (!sorted)
        return BS_ENOMEM;
    for (size_t i = 0; i < n; i++)
        sorted[i] = json_object_array_get_idx(fields, i);
    qsort(sorted, n, sizeof *sorted, field_name_cmp);
    for (size_t i = 0; i < n; i++) {
        if (i)
            bs_buf_puts(&sql, ", ");
        bs_buf_putc(&sql, '`');
        bs_buf_puts(&sql, bs_json_get_str(sorted[i], "name", ""));
        bs_buf_puts(&sql, "` ");
        bs_field_column_def(sorted[i], &sql);
    }
    free(sorted);
    bs_buf_puts(&sql, ");");
    json_object *indexes = bs_json_get(col, "indexes");
    n = json_object_array_length(indexes);
    for (size_t i = 0; i < n; i++) {
        bs_buf_puts(&sql, json_object_get_string(
                              json_object_array_get_idx(indexes, i)));
        bs_buf_puts(&sql, ";");
    }
    int rc = sql.oom ? BS_ENOMEM : bs_conn_exec(c, sql.data, err);
    bs_buf_dispose(&sql);
    if (rc)
        return bs_error_set(err, 400, "Failed to create the collection "
                                      "table.");
    return 0;
}
