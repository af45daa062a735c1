/*
 * collection_validate.c - PocketBase's collection validation rules.
 *
 * The checks and their error codes follow core/collection_validate.go,
 * the fields' ValidateSettings and the auth options' validators. Like
 * ozzo-validation, each attribute reports only its first failing rule,
 * and rules other than "required" ignore empty values. Everything the
 * checks need from the database (other collections, tables, indexes)
 * is read through the connection of the running transaction, so that
 * an import sees the collections it has just written.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../db/sql.h"
#include "../base/error.h"
#include "../base/json.h"
#include "../base/regex.h"
#include "../base/util.h"
#include "../filter/filter.h"
#include "app.h"
#include "collection.h"
#include "field.h"
#include "../schema/index.h"
#include "record.h"
#include "view.h"

#define MAX_SAFE_INT 9007199254740991LL

typedef struct vctx {
    bs_app *app;
    bs_conn *conn;
    json_object *col;
    const json_object *original; /* NULL for a new collection */
    json_object *blank;          /* what a new collection is compared to */
    bool is_new;
    bs_error *err;
    bs_schema *schema;           /* for rule checks, built on demand */
} vctx;

static const json_object *orig(const vctx *v)
{
    return v->original ? v->original : v->blank;
}

static void fail(vctx *v, const char *path, const char *code, const char *fmt,
                 ...) __attribute__((format(printf, 4, 5)));

static void fail(vctx *v, const char *path, const char *code, const char *fmt,
                 ...)
{
    char msg[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    bs_verr(v->err, path, code, msg, NULL);
}

static void fail_param(vctx *v, const char *path, const char *code,
                       const char *msg, const char *pkey, json_object *pval)
{
    json_object *params = json_object_new_object();
    json_object_object_add(params, pkey, pval);
    bs_verr(v->err, path, code, msg, params);
}

/* ---- small predicates --------------------------------------------------- */

static bool word_chars(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++) {
        if (!isalnum((unsigned char)*s) && *s != '_')
            return false;
    }
    return true;
}

static size_t rune_count(const char *s)
{
    size_t n = 0;
    for (; *s; s++) {
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    }
    return n;
}

static bool has_via(const char *s)
{
    for (const char *p = s; *p; p++) {
        if (strncasecmp(p, "_via_", 5) == 0)
            return true;
    }
    return false;
}

static bool str_is(const json_object *o, const char *key, const char *want)
{
    return strcmp(bs_json_get_str(o, key, ""), want) == 0;
}

/* The type of a field definition (NULL: BS_F_UNKNOWN). */
static bs_ftype type_of(const json_object *f)
{
    return f ? bs_ftype_of(bs_json_get_str(f, "type", "")) : BS_F_UNKNOWN;
}

static bool valid_regex(const char *pattern)
{
    return !*pattern || bs_regex_match(pattern, "", 0) >= 0;
}

static bool valid_domain(const char *s)
{
    return strlen(s) <= 255 &&
           bs_regex_match("^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\\.)+"
                          "(?:[a-z]{1,63}|xn--[a-z0-9]{1,59})$",
                          s, strlen(s)) == 1;
}

/* ---- database lookups --------------------------------------------------- */

static bool row_exists(bs_conn *conn, const char *sql, const char *a,
                       const char *b)
{
    bs_rows st;
    bool found = false;
    if (bs_rows_open(&st, conn, sql, -1, BS_ROWS_ONCE) == 0) {
        bs_rows_bind_text(&st, 1, a, -1);
        if (b)
            bs_rows_bind_text(&st, 2, b, -1);
        found = bs_rows_next(&st) == 1;
    }
    bs_rows_close(&st);
    return found;
}

static bool collection_id_exists(bs_conn *conn, const char *id)
{
    return row_exists(conn, "SELECT 1 FROM _collections WHERE id = ?1", id,
                      NULL);
}

static bool name_taken(bs_conn *conn, const char *name, const char *except_id)
{
    return row_exists(conn,
                      "SELECT 1 FROM _collections WHERE LOWER(name) = "
                      "LOWER(?1) AND id != ?2",
                      name, except_id);
}

static bool table_exists(bs_conn *conn, const char *name)
{
    return bs_sql_has_table(conn, name, true);
}

/* ---- rules -------------------------------------------------------------- */

static void schema_item_fill(bs_collection *c, const json_object *col)
{
    static const char *const keys[] = {"listRule", "viewRule", "createRule",
                                       "updateRule", "deleteRule"};
    c->id = strdup(bs_json_get_str(col, "id", ""));
    c->name = strdup(bs_json_get_str(col, "name", ""));
    c->type = strdup(bs_json_get_str(col, "type", "base"));
    c->system = bs_json_get_bool(col, "system", false);
    for (int i = 0; i < BS_RULE_COUNT; i++) {
        json_object *r = bs_json_get(col, keys[i]);
        c->rules[i] = json_object_is_type(r, json_type_string)
                          ? strdup(json_object_get_string(r))
                          : NULL;
    }
    json_object *f = bs_json_get(col, "fields");
    c->fields = json_object_is_type(f, json_type_array)
                    ? json_object_get(f)
                    : json_object_new_array();
    json_object *ix = bs_json_get(col, "indexes");
    c->indexes = json_object_is_type(ix, json_type_array)
                     ? json_object_get(ix)
                     : json_object_new_array();
    json_object *opts = NULL;
    json_object_deep_copy((json_object *)col, &opts, NULL);
    c->options = opts ? opts : json_object_new_object();
    c->created = strdup(bs_json_get_str(col, "created", ""));
    c->updated = strdup(bs_json_get_str(col, "updated", ""));
    bs_collection_fill_finfo(c);
}

/* A snapshot of the database's collections with col in its new state. */
static bs_schema *validation_schema(vctx *v)
{
    if (v->schema)
        return v->schema;
    bs_schema *s = NULL;
    if (bs_schema_load(v->conn, &s) != 0)
        return NULL;
    const char *id = bs_json_get_str(v->col, "id", "");
    bs_collection *slot = NULL;
    for (int i = 0; i < s->n; i++) {
        if (s->items[i].id && strcmp(s->items[i].id, id) == 0) {
            slot = &s->items[i];
            bs_collection_dispose(slot);
        }
    }
    if (!slot) {
        bs_collection *items =
            realloc(s->items, sizeof *items * (size_t)(s->n + 1));
        if (!items) {
            bs_schema_unref(s);
            return NULL;
        }
        s->items = items;
        slot = &s->items[s->n++];
        memset(slot, 0, sizeof *slot);
    }
    schema_item_fill(slot, v->col);
    v->schema = s;
    return s;
}

/* Compiles a rule against the collection in its new state (the filter
 * module's check for saved rules); the reason of a failure goes to msg,
 * as PocketBase puts the raw error in its message. */
static bool rule_ok(vctx *v, const char *rule, char *msg, size_t cap)
{
    if (!rule || !*rule)
        return true;
    bs_schema *s = validation_schema(v);
    if (!s) {
        snprintf(msg, cap, "failed to load the collections");
        return false;
    }
    const bs_collection *c =
        bs_schema_find(s, bs_json_get_str(v->col, "id", ""));
    bs_error e;
    bs_error_init(&e);
    int rc = c ? bs_filter_validate(s, c, rule, &e) : BS_EINVAL;
    if (rc)
        snprintf(msg, cap, "%s", e.message ? e.message : "invalid rule");
    bs_error_dispose(&e);
    return rc == 0;
}

static bool same_rule(const json_object *a, const json_object *b)
{
    bool an = !json_object_is_type(a, json_type_string);
    bool bn = !json_object_is_type(b, json_type_string);
    if (an || bn)
        return an == bn;
    return strcmp(json_object_get_string((json_object *)a),
                  json_object_get_string((json_object *)b)) == 0;
}

/* A rule of a system collection may not change. Returns true when ok. */
static bool system_rule_ok(vctx *v, const json_object *now,
                           const json_object *before)
{
    if (v->is_new || !bs_json_get_bool(orig(v), "system", false))
        return true;
    return same_rule(now, before);
}

/* The rule checks of one rule attribute (path = key). */
static void validate_rule(vctx *v, const char *path, const json_object *now,
                          const json_object *before, bool must_be_nil)
{
    if (must_be_nil && json_object_is_type(now, json_type_string)) {
        fail(v, path, "validation_nil", "Must be blank.");
        return;
    }
    char msg[500];
    if (json_object_is_type(now, json_type_string) &&
        !rule_ok(v, json_object_get_string((json_object *)now), msg,
                 sizeof msg)) {
        fail(v, path, "validation_invalid_rule", "Invalid rule. Raw error: %s",
             msg);
        return;
    }
    if (!system_rule_ok(v, now, before))
        fail(v, path, "validation_collection_system_rule_change",
             "System collection API rule cannot be changed.");
}

/* ---- field settings ----------------------------------------------------- */

static void int_range(vctx *v, const char *path, int64_t val, int64_t min,
                      int64_t max)
{
    /* ozzo's Min/Max skip zero values. */
    if (val == 0)
        return;
    if (val < min) {
        char m[80];
        snprintf(m, sizeof m, "Must be no less than %lld.", (long long)min);
        fail_param(v, path, "validation_min_greater_equal_than_required", m,
                   "threshold", json_object_new_int64(min));
    } else if (val > max) {
        char m[80];
        snprintf(m, sizeof m, "Must be no greater than %lld.", (long long)max);
        fail_param(v, path, "validation_max_less_equal_than_required", m,
                   "threshold", json_object_new_int64(max));
    }
}

static void domains(vctx *v, const char *base, const json_object *f,
                    const char *key, const char *other)
{
    json_object *list = bs_json_get(f, key);
    json_object *o = bs_json_get(f, other);
    char path[200];
    snprintf(path, sizeof path, "%s.%s", base, key);
    size_t n = json_object_is_type(list, json_type_array)
                   ? json_object_array_length(list)
                   : 0;
    if (json_object_is_type(o, json_type_array) &&
        json_object_array_length(o) > 0) {
        if (n > 0)
            fail(v, path, "validation_empty", "Must be blank.");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const char *d =
            json_object_get_string(json_object_array_get_idx(list, i));
        if (d && *d && !valid_domain(d)) {
            char p2[240];
            snprintf(p2, sizeof p2, "%s.%zu", path, i);
            fail(v, p2, "validation_is_domain", "Must be a valid domain.");
            return;
        }
    }
}

static bool date_before(const char *a, const char *b)
{
    return strcmp(a, b) < 0;
}

static const char *const EXCLUDED_NAMES[] = {
    "null", "true", "false", "_rowid_", "collectionId", "collectionName",
    "expand", NULL};

/* The common checks of every field: id, name, help. */
static void field_common(vctx *v, const char *base, const json_object *f,
                         bool pk)
{
    char path[200];
    const char *id = bs_json_get_str(f, "id", "");
    snprintf(path, sizeof path, "%s.id", base);
    if (!*id)
        fail(v, path, "validation_required", "Cannot be blank.");
    else if (rune_count(id) > 100)
        fail(v, path, "validation_length_out_of_range",
             "The length must be between 1 and 100.");

    const char *name = bs_json_get_str(f, "name", "");
    snprintf(path, sizeof path, "%s.name", base);
    bool excluded = false;
    for (const char *const *x = EXCLUDED_NAMES; *x; x++) {
        if (strcmp(*x, name) == 0)
            excluded = true;
    }
    if (!*name)
        fail(v, path, "validation_required", "Cannot be blank.");
    else if (rune_count(name) > 100)
        fail(v, path, "validation_length_out_of_range",
             "The length must be between 1 and 100.");
    else if (!word_chars(name))
        fail(v, path, "validation_match_invalid", "Must be in a valid format.");
    else if (excluded)
        fail(v, path, "validation_not_in_invalid", "Must not be in list.");
    else if (has_via(name))
        fail(v, path, "validation_found_via",
             "The value cannot contain \"_via_\".");
    else if (pk && strcmp(name, "id") != 0)
        fail(v, path, "validation_in_invalid",
             "The primary key must be named \"id\".");

    if (type_of(f) != BS_F_AUTODATE) {
        const char *help = bs_json_get_str(f, "help", "");
        snprintf(path, sizeof path, "%s.help", base);
        if (rune_count(help) > 300)
            fail(v, path, "validation_length_out_of_range",
                 "The length must be between 1 and 300.");
    }
}

/* Generates sample values from an autogenerate pattern and checks them
 * against the field. Returns false when a value would be invalid. */
static bool autogenerate_ok(const json_object *f, char *sample, size_t cap)
{
    const char *pattern = bs_json_get_str(f, "autogeneratePattern", "");
    for (int i = 0; i < 10; i++) {
        char val[256];
        if (bs_pattern_random(pattern, val, sizeof val) != 0)
            return true; /* a form we cannot generate: PocketBase can */
        json_object *jv = json_object_new_string(val);
        bs_finfo fi;
        bs_finfo_init(&fi, f);
        fi.required = false;
        bs_field_error fe;
        bool ok = bs_finfo_validate(&fi, jv, true, &fe);
        json_object_put(jv);
        if (!ok) {
            snprintf(sample, cap, "%s", val);
            return false;
        }
    }
    return true;
}

static void field_settings(vctx *v, const json_object *f, size_t idx)
{
    char base[64], path[200];
    snprintf(base, sizeof base, "fields.%zu", idx);
    bs_ftype type = type_of(f);
    bool pk = type == BS_F_TEXT && bs_json_get_bool(f, "primaryKey",
                                                            false);
    field_common(v, base, f, pk);

    if (type == BS_F_TEXT) {
        if (pk) {
            /* Only one primary key. */
            json_object *fields = bs_json_get(v->col, "fields");
            int pks = 0;
            size_t n = json_object_array_length(fields);
            for (size_t i = 0; i < n; i++) {
                json_object *x = json_object_array_get_idx(fields, i);
                if (type_of(x) == BS_F_TEXT &&
                    bs_json_get_bool(x, "primaryKey", false))
                    pks++;
            }
            if (pks > 1) {
                snprintf(path, sizeof path, "%s.primaryKey", base);
                fail(v, path, "validation_unsupported_composite_pk",
                     "Composite PKs are not supported and the collection "
                     "must have only 1 PK.");
            }
        }
        int64_t min = bs_json_get_int(f, "min", 0);
        int64_t max = bs_json_get_int(f, "max", 0);
        snprintf(path, sizeof path, "%s.min", base);
        int_range(v, path, min, 0, MAX_SAFE_INT);
        snprintf(path, sizeof path, "%s.max", base);
        int_range(v, path, max, min, MAX_SAFE_INT);
        const char *pattern = bs_json_get_str(f, "pattern", "");
        snprintf(path, sizeof path, "%s.pattern", base);
        if (pk && !*pattern)
            fail(v, path, "validation_required", "Cannot be blank.");
        else if (!valid_regex(pattern))
            fail(v, path, "validation_invalid_regex",
                 "Invalid regular expression.");
        if (pk && bs_json_get_bool(f, "hidden", false)) {
            snprintf(path, sizeof path, "%s.hidden", base);
            fail(v, path, "validation_empty", "Must be blank.");
        }
        if (pk && !bs_json_get_bool(f, "required", false)) {
            snprintf(path, sizeof path, "%s.required", base);
            fail(v, path, "validation_required", "Cannot be blank.");
        }
        const char *ag = bs_json_get_str(f, "autogeneratePattern", "");
        snprintf(path, sizeof path, "%s.autogeneratePattern", base);
        char sample[256];
        if (!valid_regex(ag))
            fail(v, path, "validation_invalid_regex",
                 "Invalid regular expression.");
        else if (*ag && !autogenerate_ok(f, sample, sizeof sample))
            fail(v, path, "validation_invalid_autogenerate_pattern_value",
                 "The provided autogenerate pattern could produce invalid "
                 "field values, ex.: \"%s\".",
                 sample);
    } else if (type == BS_F_PASSWORD) {
        int64_t min = bs_json_get_int(f, "min", 0);
        snprintf(path, sizeof path, "%s.min", base);
        int_range(v, path, min, 1, 71);
        snprintf(path, sizeof path, "%s.max", base);
        int_range(v, path, bs_json_get_int(f, "max", 0), min, 71);
        snprintf(path, sizeof path, "%s.cost", base);
        int_range(v, path, bs_json_get_int(f, "cost", 0), 4, 31);
        snprintf(path, sizeof path, "%s.pattern", base);
        if (!valid_regex(bs_json_get_str(f, "pattern", "")))
            fail(v, path, "validation_invalid_regex",
                 "Invalid regular expression.");
    } else if (type == BS_F_EMAIL || type == BS_F_URL) {
        domains(v, base, f, "exceptDomains", "onlyDomains");
        domains(v, base, f, "onlyDomains", "exceptDomains");
    } else if (type == BS_F_NUMBER) {
        json_object *min = bs_json_get(f, "min");
        json_object *max = bs_json_get(f, "max");
        bool only_int = bs_json_get_bool(f, "onlyInt", false);
        double dmin = min ? json_object_get_double(min) : 0;
        double dmax = max ? json_object_get_double(max) : 0;
        if (min && only_int && dmin != (double)(int64_t)dmin) {
            snprintf(path, sizeof path, "%s.min", base);
            fail(v, path, "validation_only_int_constraint",
                 "Decimal numbers are not allowed.");
        }
        snprintf(path, sizeof path, "%s.max", base);
        if (max && only_int && dmax != (double)(int64_t)dmax) {
            fail(v, path, "validation_only_int_constraint",
                 "Decimal numbers are not allowed.");
        } else if (min && max && dmax < dmin) {
            bs_buf m;
            bs_buf_init(&m);
            bs_buf_puts(&m, "Must be greater or equal than ");
            bs_buf_json_num(&m, dmin);
            bs_buf_putc(&m, '.');
            fail_param(v, path, "validation_min_number_constraint",
                       m.data ? m.data : "", "min",
                       json_object_new_double(dmin));
            bs_buf_dispose(&m);
        }
    } else if (type == BS_F_EDITOR || type == BS_F_JSON) {
        snprintf(path, sizeof path, "%s.maxSize", base);
        int_range(v, path, bs_json_get_int(f, "maxSize", 0), 0, MAX_SAFE_INT);
    } else if (type == BS_F_DATE) {
        const char *min = bs_json_get_str(f, "min", "");
        const char *max = bs_json_get_str(f, "max", "");
        snprintf(path, sizeof path, "%s.max", base);
        if (*max && *min && date_before(max, min))
            fail(v, path, "validation_date_out_of_range",
                 "The date is out of range.");
    } else if (type == BS_F_AUTODATE) {
        bool on_create = bs_json_get_bool(f, "onCreate", false);
        bool on_update = bs_json_get_bool(f, "onUpdate", false);
        bool old_create = on_create, old_update = on_update;
        const json_object *of = v->original
                                    ? bs_fields_by_id(bs_json_get(v->original,
                                                                  "fields"),
                                                      bs_json_get_str(f, "id",
                                                                      ""))
                                    : NULL;
        if (of && type_of(of) == BS_F_AUTODATE) {
            old_create = bs_json_get_bool(of, "onCreate", false);
            old_update = bs_json_get_bool(of, "onUpdate", false);
        }
        bool sys = bs_json_get_bool(f, "system", false);
        snprintf(path, sizeof path, "%s.onCreate", base);
        if (sys && on_create != old_create)
            fail(v, path, "validation_values_mismatch", "Values don't match.");
        else if (!on_create && !on_update)
            fail(v, path, "validation_required",
                 "Either onCreate or onUpdate must be enabled.");
        snprintf(path, sizeof path, "%s.onUpdate", base);
        if (sys && on_update != old_update)
            fail(v, path, "validation_values_mismatch", "Values don't match.");
        else if (!on_create && !on_update)
            fail(v, path, "validation_required",
                 "Either onCreate or onUpdate must be enabled.");
    } else if (type == BS_F_SELECT) {
        json_object *values = bs_json_get(f, "values");
        size_t nv = json_object_is_type(values, json_type_array)
                        ? json_object_array_length(values)
                        : 0;
        snprintf(path, sizeof path, "%s.values", base);
        if (nv == 0)
            fail(v, path, "validation_required", "Cannot be blank.");
        snprintf(path, sizeof path, "%s.maxSelect", base);
        int_range(v, path, bs_json_get_int(f, "maxSelect", 0), 0,
                  nv ? (int64_t)nv : 1);
    } else if (type == BS_F_FILE) {
        snprintf(path, sizeof path, "%s.maxSelect", base);
        int_range(v, path, bs_json_get_int(f, "maxSelect", 0), 0, MAX_SAFE_INT);
        snprintf(path, sizeof path, "%s.maxSize", base);
        int_range(v, path, bs_json_get_int(f, "maxSize", 0), 0, MAX_SAFE_INT);
        json_object *thumbs = bs_json_get(f, "thumbs");
        size_t n = json_object_is_type(thumbs, json_type_array)
                       ? json_object_array_length(thumbs)
                       : 0;
        for (size_t i = 0; i < n; i++) {
            const char *t =
                json_object_get_string(json_object_array_get_idx(thumbs, i));
            if (!t || !*t)
                continue;
            snprintf(path, sizeof path, "%s.thumbs.%zu", base, i);
            if (strcmp(t, "0x0") == 0 || strcmp(t, "0x0t") == 0 ||
                strcmp(t, "0x0b") == 0 || strcmp(t, "0x0f") == 0) {
                fail(v, path, "validation_not_in_invalid",
                     "Must not be in list.");
                break;
            }
            if (bs_regex_match("^(\\d+)x(\\d+)(t|b|f)?$", t, strlen(t)) != 1) {
                fail(v, path, "validation_match_invalid",
                     "Must be in a valid format.");
                break;
            }
        }
    } else if (type == BS_F_RELATION) {
        const char *cid = bs_json_get_str(f, "collectionId", "");
        snprintf(path, sizeof path, "%s.collectionId", base);
        const json_object *of = v->original
                                    ? bs_fields_by_id(bs_json_get(v->original,
                                                                  "fields"),
                                                      bs_json_get_str(f, "id",
                                                                      ""))
                                    : NULL;
        if (!*cid) {
            fail(v, path, "validation_required", "Cannot be blank.");
        } else if (of && type_of(of) == BS_F_RELATION &&
                   strcmp(bs_json_get_str(of, "collectionId", ""), cid) != 0) {
            fail(v, path, "validation_field_relation_change",
                 "The relation collection cannot be changed.");
        } else {
            json_object *target = NULL;
            bool self = strcmp(cid, bs_json_get_str(v->col, "id", "")) == 0;
            const char *ttype = self ? bs_json_get_str(v->col, "type", "") : "";
            if (!self && bs_collection_load(v->conn, cid, &target) == 0 &&
                strcmp(bs_json_get_str(target, "id", ""), cid) == 0)
                ttype = bs_json_get_str(target, "type", "");
            else if (!self && target) {
                json_object_put(target);
                target = NULL;
            }
            if (!self && !target)
                fail(v, path, "validation_field_relation_missing_collection",
                     "The relation collection doesn't exist.");
            else if (!str_is(v->col, "type", "view") &&
                     strcmp(ttype, "view") == 0)
                fail(v, path, "validation_relation_field_non_view_base_"
                              "collection",
                     "Only view collections are allowed to have relations "
                     "to other views.");
            if (target)
                json_object_put(target);
        }
        int64_t min_sel = bs_json_get_int(f, "minSelect", 0);
        int64_t max_sel = bs_json_get_int(f, "maxSelect", 0);
        snprintf(path, sizeof path, "%s.minSelect", base);
        int_range(v, path, min_sel, 0, INT64_MAX);
        snprintf(path, sizeof path, "%s.maxSelect", base);
        if (min_sel > 0 && max_sel == 0)
            fail(v, path, "validation_required", "Cannot be blank.");
        else
            int_range(v, path, max_sel, min_sel, INT64_MAX);
    }
}

/* ---- fields ------------------------------------------------------------- */

/* Returns true when an error was reported (the first rule that fails
 * ends the checks of the "fields" attribute, as in ozzo). */
static bool fields_duplicates(vctx *v, json_object *fields)
{
    size_t n = json_object_array_length(fields);
    for (size_t i = 0; i < n; i++) {
        json_object *f = json_object_array_get_idx(fields, i);
        const char *id = bs_json_get_str(f, "id", "");
        const char *name = bs_json_get_str(f, "name", "");
        for (size_t j = 0; j < i; j++) {
            json_object *g = json_object_array_get_idx(fields, j);
            char path[64];
            if (strcmp(bs_json_get_str(g, "id", ""), id) == 0) {
                snprintf(path, sizeof path, "fields.%zu.id", i);
                fail(v, path, "validation_duplicated_field_id",
                     "Duplicated or invalid field id \"%s\".", id);
                return true;
            }
            if (strcasecmp(bs_json_get_str(g, "name", ""), name) == 0) {
                snprintf(path, sizeof path, "fields.%zu.name", i);
                char m[200];
                snprintf(m, sizeof m, "Duplicated or invalid field name %s.",
                         name);
                fail_param(v, path, "validation_duplicated_field_name", m,
                           "fieldName", json_object_new_string(name));
                return true;
            }
        }
    }
    return false;
}

static bool system_and_hidden(vctx *v, json_object *fields, const char *name,
                              bs_ftype type, bool need_hidden,
                              const char *missing_code, const char *missing)
{
    json_object *f = bs_fields_by_name(fields, name);
    if (!f || type_of(f) != type) {
        fail(v, "fields", missing_code, "%s", missing);
        return true;
    }
    bool ok = bs_json_get_bool(f, "system", false) &&
              (!need_hidden || bs_json_get_bool(f, "hidden", false));
    if (!ok) {
        char path[64];
        snprintf(path, sizeof path, "fields.%s", name);
        if (need_hidden)
            fail(v, path, "validation_must_be_system_and_hidden",
                 "The field must be marked as \"System\" and \"Hidden\".");
        else
            fail(v, path, "validation_must_be_system",
                 "The field must be marked as \"System\".");
        return true;
    }
    return false;
}

static bool fields_min(vctx *v, json_object *fields)
{
    if (json_object_array_length(fields) == 0) {
        fail(v, "fields", "validation_required", "Cannot be blank.");
        return true;
    }
    json_object *id = bs_fields_by_name(fields, "id");
    if (!id || type_of(id) != BS_F_TEXT ||
        !bs_json_get_bool(id, "primaryKey", false)) {
        fail(v, "fields", "validation_missing_primary_key",
             "Missing or invalid \"id\" PK field.");
        return true;
    }
    if (!str_is(v->col, "type", "auth"))
        return false;
    return system_and_hidden(v, fields, "password", BS_F_PASSWORD, true,
                             "validation_missing_password_field",
                             "System \"password\" field is required.") ||
           system_and_hidden(v, fields, "tokenKey", BS_F_TEXT, true,
                             "validation_missing_tokenKey_field",
                             "System \"tokenKey\" field is required.") ||
           system_and_hidden(v, fields, "email", BS_F_EMAIL, false,
                             "validation_missing_email_field",
                             "System \"email\" field is required.") ||
           system_and_hidden(v, fields, "emailVisibility", BS_F_BOOL, false,
                             "validation_missing_emailVisibility_field",
                             "System \"emailVisibility\" field is "
                             "required.") ||
           system_and_hidden(v, fields, "verified", BS_F_BOOL, false,
                             "validation_missing_verified_field",
                             "System \"verified\" field is required.");
}

static bool fields_system_change(vctx *v, json_object *fields)
{
    if (v->is_new)
        return false;
    json_object *old = bs_json_get(v->original, "fields");
    size_t n = json_object_array_length(old);
    for (size_t i = 0; i < n; i++) {
        json_object *of = json_object_array_get_idx(old, i);
        if (!bs_json_get_bool(of, "system", false))
            continue;
        json_object *nf = bs_fields_by_id(fields, bs_json_get_str(of, "id", ""));
        if (!nf || strcmp(bs_json_get_str(nf, "name", ""),
                          bs_json_get_str(of, "name", "")) != 0) {
            fail(v, "fields", "validation_system_field_change",
                 "System fields cannot be deleted or renamed.");
            return true;
        }
    }
    return false;
}

static bool fields_type_change(vctx *v, json_object *fields)
{
    json_object *old = bs_json_get(orig(v), "fields");
    bool any = false;
    size_t n = json_object_array_length(fields);
    for (size_t i = 0; i < n; i++) {
        json_object *f = json_object_array_get_idx(fields, i);
        json_object *of = bs_fields_by_id(old, bs_json_get_str(f, "id", ""));
        if (of && strcmp(bs_json_get_str(of, "type", ""),
                         bs_json_get_str(f, "type", "")) != 0) {
            char path[64];
            snprintf(path, sizeof path, "fields.%zu", i);
            fail(v, path, "validation_field_type_change",
                 "Field type cannot be changed.");
            any = true;
        }
    }
    return any;
}

static bool fields_reserved_auth(vctx *v, json_object *fields)
{
    bool any = false;
    size_t n = json_object_array_length(fields);
    for (size_t i = 0; i < n; i++) {
        const char *name =
            bs_json_get_str(json_object_array_get_idx(fields, i), "name", "");
        if (strcmp(name, "passwordConfirm") == 0 ||
            strcmp(name, "oldPassword") == 0) {
            char path[64];
            snprintf(path, sizeof path, "fields.%zu.name", i);
            fail(v, path, "validation_reserved_field_name",
                 "The field name is reserved and cannot be used.");
            any = true;
        }
    }
    return any;
}

static void validate_fields(vctx *v)
{
    json_object *fields = bs_json_get(v->col, "fields");
    if (!json_object_is_type(fields, json_type_array))
        fields = NULL;
    json_object *empty = NULL;
    if (!fields) {
        empty = json_object_new_array();
        fields = empty;
    }
    bool is_view = str_is(v->col, "type", "view");
    bool done = fields_duplicates(v, fields) || fields_min(v, fields) ||
                (!is_view && (fields_system_change(v, fields) ||
                              fields_type_change(v, fields))) ||
                (str_is(v->col, "type", "auth") &&
                 fields_reserved_auth(v, fields));
    if (!done) {
        size_t n = json_object_array_length(fields);
        for (size_t i = 0; i < n; i++)
            field_settings(v, json_object_array_get_idx(fields, i), i);
    }
    if (empty)
        json_object_put(empty);
}

/* ---- indexes ------------------------------------------------------------ */

static void index_canon(bs_index *idx, bs_buf *out)
{
    bs_index_build(idx, out);
}

static void validate_indexes(vctx *v)
{
    json_object *indexes = bs_json_get(v->col, "indexes");
    size_t n = json_object_is_type(indexes, json_type_array)
                   ? json_object_array_length(indexes)
                   : 0;
    if (str_is(v->col, "type", "view")) {
        if (n > 0)
            fail(v, "indexes", "validation_indexes_not_supported",
                 "View collections don't support indexes.");
        return;
    }
    char **names = calloc(n ? n : 1, sizeof *names);
    char **defs = calloc(n ? n : 1, sizeof *defs);
    bool failed = !names || !defs;
    for (size_t i = 0; i < n && !failed; i++) {
        const char *raw =
            json_object_get_string(json_object_array_get_idx(indexes, i));
        char path[48];
        snprintf(path, sizeof path, "indexes.%zu", i);
        bs_index idx;
        bs_index_parse(raw ? raw : "", &idx);
        bs_index_set(&idx.table_name, "validator");
        if (!bs_index_valid(&idx)) {
            fail(v, path, "validation_invalid_index_expression",
                 "Invalid CREATE INDEX expression.");
            bs_index_dispose(&idx);
            failed = true;
            break;
        }
        for (size_t j = 0; j < i; j++) {
            if (names[j] && strcasecmp(names[j], idx.index_name) == 0) {
                fail(v, path, "validation_duplicated_index_name",
                     "The index name already exists.");
                failed = true;
            }
        }
        if (!failed) {
            names[i] = strdup(idx.index_name);
            char used[256];
            if (bs_sql_index_table(v->conn, idx.index_name,
                                   bs_json_get_str(orig(v), "name", ""),
                                   bs_json_get_str(v->col, "name", ""), used,
                                   sizeof used) == 1) {
                char m[320];
                snprintf(m, sizeof m,
                         "The index name is already used in %s collection.",
                         used);
                fail_param(v, path, "validation_existing_index_name", m,
                           "usedTableName", json_object_new_string(used));
                failed = true;
            }
        }
        if (!failed) {
            bs_index_set(&idx.schema_name, "validator");
            bs_index_set(&idx.index_name, "validator");
            bs_buf b;
            bs_buf_init(&b);
            index_canon(&idx, &b);
            for (size_t j = 0; j < i && !failed; j++) {
                if (defs[j] && b.data && strcmp(defs[j], b.data) == 0) {
                    fail(v, path, "validation_duplicated_index_definition",
                         "The index definition already exists.");
                    failed = true;
                }
            }
            defs[i] = strdup(b.data ? b.data : "");
            bs_buf_dispose(&b);
        }
        bs_index_dispose(&idx);
    }
    for (size_t i = 0; names && defs && i < n; i++) {
        free(names[i]);
        free(defs[i]);
    }
    free(names);
    free(defs);
    if (failed)
        return;

    /* Unique indexes on system fields must stay. */
    if (!v->is_new) {
        json_object *old_idx = bs_json_get(v->original, "indexes");
        json_object *old_fields = bs_json_get(v->original, "fields");
        size_t no = json_object_array_length(old_idx);
        for (size_t i = 0; i < no; i++) {
            bs_index oi;
            bs_index_parse(json_object_get_string(
                               json_object_array_get_idx(old_idx, i)),
                           &oi);
            if (!oi.unique) {
                bs_index_dispose(&oi);
                continue;
            }
            for (int c = 0; c < oi.ncolumns; c++) {
                bs_index_set(&oi.columns[c].collate, "");
                bs_index_set(&oi.columns[c].sort, "");
            }
            bs_buf os;
            bs_buf_init(&os);
            bs_index_build(&oi, &os);
            const char *sysname = NULL;
            for (int c = 0; c < oi.ncolumns && !sysname; c++) {
                size_t nf = json_object_array_length(old_fields);
                for (size_t k = 0; k < nf; k++) {
                    json_object *f = json_object_array_get_idx(old_fields, k);
                    if (bs_json_get_bool(f, "system", false) &&
                        strcasecmp(oi.columns[c].name,
                                   bs_json_get_str(f, "name", "")) == 0) {
                        sysname = bs_json_get_str(f, "name", "");
                        break;
                    }
                }
            }
            bool match = sysname == NULL;
            for (size_t k = 0; k < n && !match; k++) {
                bs_index ni;
                bs_index_parse(json_object_get_string(
                                   json_object_array_get_idx(indexes, k)),
                               &ni);
                bs_index_set(&ni.schema_name, oi.schema_name ? oi.schema_name
                                                             : "");
                bs_index_set(&ni.index_name, oi.index_name ? oi.index_name : "");
                bs_index_set(&ni.table_name, oi.table_name ? oi.table_name : "");
                bs_index_set(&ni.where, oi.where ? oi.where : "");
                for (int c = 0; c < ni.ncolumns; c++) {
                    bs_index_set(&ni.columns[c].collate, "");
                    bs_index_set(&ni.columns[c].sort, "");
                }
                bs_buf ns;
                bs_buf_init(&ns);
                bs_index_build(&ni, &ns);
                match = os.data && ns.data && strcmp(os.data, ns.data) == 0;
                bs_buf_dispose(&ns);
                bs_index_dispose(&ni);
            }
            if (!match) {
                char m[300];
                snprintf(m, sizeof m,
                         "Unique index definition on system fields (%s) is "
                         "invalid or missing.",
                         sysname);
                fail_param(v, "indexes",
                           "validation_invalid_unique_system_field_index", m,
                           "fieldName", json_object_new_string(sysname));
                failed = true;
            }
            bs_buf_dispose(&os);
            bs_index_dispose(&oi);
            if (failed)
                return;
        }
    }

    if (str_is(v->col, "type", "auth")) {
        static const char *const required[] = {"tokenKey", "email"};
        for (int r = 0; r < 2; r++) {
            if (!bs_indexes_single_unique(indexes, required[r], NULL)) {
                char m[200];
                snprintf(m, sizeof m,
                         "Missing required unique index for field \"%s\".",
                         required[r]);
                fail_param(v, "indexes",
                           "validation_missing_required_unique_index", m,
                           "fieldName", json_object_new_string(required[r]));
                return;
            }
        }
    }
}

/* ---- options ------------------------------------------------------------ */

static void template_required(vctx *v, const char *path, const json_object *t)
{
    char p[160];
    snprintf(p, sizeof p, "%s.subject", path);
    if (!*bs_json_get_str(t, "subject", ""))
        fail(v, p, "validation_required", "Cannot be blank.");
    snprintf(p, sizeof p, "%s.body", path);
    if (!*bs_json_get_str(t, "body", ""))
        fail(v, p, "validation_required", "Cannot be blank.");
}

static void token_config(vctx *v, const char *key)
{
    const json_object *t = bs_json_get(v->col, key);
    char p[160];
    snprintf(p, sizeof p, "%s.secret", key);
    size_t len = rune_count(bs_json_get_str(t, "secret", ""));
    if (len == 0)
        fail(v, p, "validation_required", "Cannot be blank.");
    else if (len < 30 || len > 255)
        fail(v, p, "validation_length_out_of_range",
             "The length must be between 30 and 255.");
    snprintf(p, sizeof p, "%s.duration", key);
    int64_t d = bs_json_get_int(t, "duration", 0);
    if (d == 0)
        fail(v, p, "validation_required", "Cannot be blank.");
    else
        int_range(v, p, d, 10, 94670856);
}

static bool identity_fields_ok(vctx *v)
{
    json_object *ids = bs_json_get(bs_json_get(v->col, "passwordAuth"),
                                   "identityFields");
    size_t n = json_object_is_type(ids, json_type_array)
                   ? json_object_array_length(ids)
                   : 0;
    json_object *fields = bs_json_get(v->col, "fields");
    json_object *indexes = bs_json_get(v->col, "indexes");
    for (size_t i = 0; i < n; i++) {
        const char *name =
            json_object_get_string(json_object_array_get_idx(ids, i));
        if (!name)
            continue;
        if (!bs_fields_by_name(fields, name)) {
            char m[200];
            snprintf(m, sizeof m, "Invalid or missing field %s.", name);
            fail_param(v, "passwordAuth.identityFields",
                       "validation_missing_field", m, "fieldName",
                       json_object_new_string(name));
            return false;
        }
        if (!bs_indexes_single_unique(indexes, name, NULL)) {
            char m[200];
            snprintf(m, sizeof m,
                     "The field %s doesn't have a UNIQUE constraint.", name);
            fail_param(v, "passwordAuth.identityFields",
                       "validation_missing_unique_constraint", m, "fieldName",
                       json_object_new_string(name));
            return false;
        }
    }
    return true;
}

static void validate_auth_options(vctx *v)
{
    json_object *col = v->col;
    const json_object *o = orig(v);
    validate_rule(v, "authRule", bs_json_get(col, "authRule"),
                  bs_json_get(o, "authRule"), false);
    json_object *manage = bs_json_get(col, "manageRule");
    if (json_object_is_type(manage, json_type_string) &&
        json_object_get_string_len(manage) == 0)
        fail(v, "manageRule", "validation_nil_or_not_empty_required",
             "Cannot be blank.");
    else
        validate_rule(v, "manageRule", manage, bs_json_get(o, "manageRule"),
                      false);
    template_required(v, "authAlert.emailTemplate",
                      bs_json_get(bs_json_get(col, "authAlert"),
                                  "emailTemplate"));
    json_object *pa = bs_json_get(col, "passwordAuth");
    json_object *ids = bs_json_get(pa, "identityFields");
    if (bs_json_get_bool(pa, "enabled", false) &&
        !(json_object_is_type(ids, json_type_array) &&
          json_object_array_length(ids) > 0))
        fail(v, "passwordAuth.identityFields", "validation_required",
             "Cannot be blank.");
    json_object *oauth2 = bs_json_get(col, "oauth2");
    if (bs_json_get_bool(oauth2, "enabled", false)) {
        json_object *providers = bs_json_get(oauth2, "providers");
        size_t n = json_object_is_type(providers, json_type_array)
                       ? json_object_array_length(providers)
                       : 0;
        for (size_t i = 0; i < n; i++) {
            json_object *p = json_object_array_get_idx(providers, i);
            const char *name = bs_json_get_str(p, "name", "");
            for (size_t j = 0; j < i && *name; j++) {
                if (str_is(json_object_array_get_idx(providers, j), "name",
                           name)) {
                    char path[80], m[200];
                    snprintf(path, sizeof path, "oauth2.providers.%zu.name", i);
                    snprintf(m, sizeof m,
                             "The provider %s is already registered.", name);
                    fail_param(v, path, "validation_duplicated_provider", m,
                               "name", json_object_new_string(name));
                    break;
                }
            }
        }
    }
    json_object *otp = bs_json_get(col, "otp");
    if (bs_json_get_bool(otp, "enabled", false)) {
        int64_t d = bs_json_get_int(otp, "duration", 0);
        if (d == 0)
            fail(v, "otp.duration", "validation_required", "Cannot be blank.");
        else
            int_range(v, "otp.duration", d, 10, 86400);
        int64_t len = bs_json_get_int(otp, "length", 0);
        if (len == 0)
            fail(v, "otp.length", "validation_required", "Cannot be blank.");
        else
            int_range(v, "otp.length", len, 4, INT64_MAX);
    }
    template_required(v, "otp.emailTemplate", bs_json_get(otp, "emailTemplate"));
    json_object *mfa = bs_json_get(col, "mfa");
    if (bs_json_get_bool(mfa, "enabled", false)) {
        int64_t d = bs_json_get_int(mfa, "duration", 0);
        if (d == 0)
            fail(v, "mfa.duration", "validation_required", "Cannot be blank.");
        else
            int_range(v, "mfa.duration", d, 10, 86400);
    }
    static const char *const tokens[] = {"authToken", "passwordResetToken",
                                         "emailChangeToken",
                                         "verificationToken", "fileToken"};
    for (int i = 0; i < 5; i++)
        token_config(v, tokens[i]);
    template_required(v, "verificationTemplate",
                      bs_json_get(col, "verificationTemplate"));
    template_required(v, "resetPasswordTemplate",
                      bs_json_get(col, "resetPasswordTemplate"));
    template_required(v, "confirmEmailChangeTemplate",
                      bs_json_get(col, "confirmEmailChangeTemplate"));
    if (bs_error_has_fields(v->err))
        return;
    /* The checks below run only when everything above passed. */
    if (bs_json_get_bool(mfa, "enabled", false)) {
        int auths = bs_json_get_bool(pa, "enabled", false) +
                    bs_json_get_bool(oauth2, "enabled", false) +
                    bs_json_get_bool(otp, "enabled", false);
        if (auths < 2) {
            fail(v, "mfa.enabled", "validation_mfa_not_enough_auths",
                 "MFA requires at least 2 auth methods to be enabled.");
            return;
        }
        json_object *rule = bs_json_get(mfa, "rule");
        const char *r = json_object_get_string(rule);
        char msg[500];
        if (r && *r && !rule_ok(v, r, msg, sizeof msg)) {
            fail(v, "mfa.rule", "validation_invalid_rule",
                 "Invalid rule. Raw error: %s", msg);
            return;
        }
        if (r && *r &&
            !system_rule_ok(v, rule,
                            bs_json_get(bs_json_get(o, "mfa"), "rule"))) {
            fail(v, "mfa.rule", "validation_collection_system_rule_change",
                 "System collection API rule cannot be changed.");
            return;
        }
    }
    if (bs_json_get_bool(pa, "enabled", false))
        identity_fields_ok(v);
}

/* ---- the collection ----------------------------------------------------- */

static void validate_base(vctx *v)
{
    json_object *col = v->col;
    const json_object *o = orig(v);
    const char *id = bs_json_get_str(col, "id", "");
    if (!*id)
        fail(v, "id", "validation_required", "Cannot be blank.");
    else if (v->is_new) {
        if (rune_count(id) > 100)
            fail(v, "id", "validation_length_out_of_range",
                 "The length must be between 1 and 100.");
        else if (!word_chars(id))
            fail(v, "id", "validation_match_invalid",
                 "Must be in a valid format.");
        else if (collection_id_exists(v->conn, id))
            fail(v, "id", "validation_invalid_or_existing_id",
                 "The model id is invalid or already exists.");
    } else if (strcmp(id, bs_json_get_str(o, "id", "")) != 0) {
        fail(v, "id", "validation_values_mismatch", "Values don't match.");
    }

    if (!v->is_new && bs_json_get_bool(col, "system", false) !=
                          bs_json_get_bool(o, "system", false))
        fail(v, "system", "validation_collection_system_flag_change",
             "System collection state cannot be changed.");

    const char *type = bs_json_get_str(col, "type", "");
    if (!*type)
        fail(v, "type", "validation_required", "Cannot be blank.");
    else if (strcmp(type, "base") != 0 && strcmp(type, "auth") != 0 &&
             strcmp(type, "view") != 0)
        fail(v, "type", "validation_in_invalid", "Must be a valid value.");
    else if (!v->is_new && strcmp(type, bs_json_get_str(o, "type", "")) != 0)
        fail(v, "type", "validation_collection_type_change",
             "Collection type cannot be changed.");

    const char *name = bs_json_get_str(col, "name", "");
    const char *old_name = bs_json_get_str(o, "name", "");
    const char *orig_id = bs_json_get_str(o, "id", "");
    if (!*name)
        fail(v, "name", "validation_required", "Cannot be blank.");
    else if (rune_count(name) > 255)
        fail(v, "name", "validation_length_out_of_range",
             "The length must be between 1 and 255.");
    else if (has_via(name))
        fail(v, "name", "validation_found_via",
             "The value cannot contain \"_via_\".");
    else if (!word_chars(name))
        fail(v, "name", "validation_match_invalid",
             "Must be in a valid format.");
    else if (!v->is_new && bs_json_get_bool(o, "system", false) &&
             strcmp(name, old_name) != 0)
        fail(v, "name", "validation_collection_system_name_change",
             "System collection name cannot be changed.");
    else if (name_taken(v->conn, name, orig_id))
        fail(v, "name", "validation_collection_name_exists",
             "Collection name must be unique (case insensitive).");
    else if (collection_id_exists(v->conn, name))
        fail(v, "name", "validation_collection_name_id_duplicate",
             "The name must not match an existing collection id.");
    else if (strcmp(old_name, name) != 0 && !name_taken(v->conn, name, "") &&
             table_exists(v->conn, name))
        fail(v, "name", "validation_collection_name_invalid",
             "The name shouldn't match with an existing internal table.");

    validate_fields(v);

    bool is_view = strcmp(type, "view") == 0;
    validate_rule(v, "listRule", bs_json_get(col, "listRule"),
                  bs_json_get(o, "listRule"), false);
    validate_rule(v, "viewRule", bs_json_get(col, "viewRule"),
                  bs_json_get(o, "viewRule"), false);
    validate_rule(v, "createRule", bs_json_get(col, "createRule"),
                  bs_json_get(o, "createRule"), is_view);
    validate_rule(v, "updateRule", bs_json_get(col, "updateRule"),
                  bs_json_get(o, "updateRule"), is_view);
    validate_rule(v, "deleteRule", bs_json_get(col, "deleteRule"),
                  bs_json_get(o, "deleteRule"), is_view);
    validate_indexes(v);
}

/* What the PostgreSQL store cannot hold yet (docs/scale.md): view
 * collections (their query is SQLite's) and full-text search (FTS5). */
static bool pg_unsupported(vctx *v)
{
    bool refused = false;
    if (strcmp(bs_json_get_str(v->col, "type", ""), "view") == 0) {
        fail(v, "type", "validation_not_supported",
             "View collections are not supported on the PostgreSQL store "
             "yet.");
        refused = true;
    }
    json_object *fields = bs_json_get(v->col, "fields");
    size_t n = json_object_is_type(fields, json_type_array)
                   ? json_object_array_length(fields)
                   : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *f = json_object_array_get_idx(fields, i);
        if (!json_object_get_boolean(bs_json_get(f, "searchable")))
            continue;
        char path[64];
        snprintf(path, sizeof path, "fields.%zu.searchable", i);
        fail(v, path, "validation_not_supported",
             "Full-text search is not supported on the PostgreSQL store "
             "yet.");
        refused = true;
    }
    return refused;
}

int bs_collection_validate(bs_app *app, bs_conn *conn, json_object *col,
                           const json_object *original, bs_error *err)
{
    vctx v = {.app = app, .conn = conn, .col = col, .original = original,
              .is_new = original == NULL, .err = err};
    if (bs_conn_is_pg(conn) && pg_unsupported(&v)) {
        bs_verr_sort(err);
        err->status = 400;
        return BS_EHTTP;
    }
    if (!original) {
        v.blank = bs_collection_scaffold(bs_json_get_str(col, "type", ""), "",
                                         NULL);
        if (!v.blank)
            return BS_ENOMEM;
    }
    const char *type = bs_json_get_str(col, "type", "");
    if (strcmp(type, "view") == 0) {
        /* The fields of a view always come from its query. */
        char msg[600];
        json_object *fields = NULL;
        bs_view_fields(app, conn, bs_json_get_str(col, "viewQuery", ""),
                       &fields, msg, sizeof msg);
        json_object_object_add(col, "fields",
                               fields ? fields : json_object_new_array());
    }
    validate_base(&v);
    if (strcmp(type, "auth") == 0) {
        bs_error opt_err;
        bs_error_init(&opt_err);
        v.err = &opt_err;
        validate_auth_options(&v);
        v.err = err;
        if (opt_err.data) {
            json_object_object_foreach(opt_err.data, k, val) {
                if (!err->data)
                    err->data = json_object_new_object();
                json_object_object_add(err->data, k, json_object_get(val));
            }
        }
        bs_error_dispose(&opt_err);
    } else if (strcmp(type, "view") == 0) {
        const char *q = bs_json_get_str(col, "viewQuery", "");
        if (!*q) {
            fail(&v, "viewQuery", "validation_required", "Cannot be blank.");
        } else {
            bs_buf out;
            bs_buf_init(&out);
            char msg[600];
            if (bs_view_dry_run(app, q, 10, &out, msg, sizeof msg) != 0) {
                if (strlen(msg) > 500)
                    msg[500] = '\0';
                fail(&v, "viewQuery", "validation_invalid_view_query",
                     "Invalid query - %s", msg);
            }
            bs_buf_dispose(&out);
        }
    }
    if (v.schema)
        bs_schema_unref(v.schema);
    if (v.blank)
        json_object_put(v.blank);
    if (bs_error_has_fields(err)) {
        bs_verr_sort(err);
        err->status = 400;
        return BS_EHTTP;
    }
    return 0;
}

int bs_field_settings_check(bs_app *app, bs_conn *conn,
                            const json_object *field, const json_object *col,
                            char *msg, size_t cap)
{
    bs_error err;
    bs_error_init(&err);
    json_object *copy = NULL;
    json_object_deep_copy((json_object *)col, &copy, NULL);
    vctx v = {.app = app, .conn = conn, .col = copy, .is_new = true,
              .err = &err};
    field_settings(&v, field, 0);
    int rc = 0;
    if (bs_error_has_fields(&err)) {
        /* The first message found. */
        json_object *o = bs_json_get(bs_json_get(err.data, "fields"), "0");
        snprintf(msg, cap, "invalid settings");
        json_object_object_foreach(o, k, val) {
            snprintf(msg, cap, "%s: %s", k, bs_json_get_str(val, "message", ""));
            break;
        }
        rc = BS_EINVAL;
    }
    if (v.schema)
        bs_schema_unref(v.schema);
    json_object_put(copy);
    bs_error_dispose(&err);
    return rc;
}
