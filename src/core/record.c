/*
 * record.c - the record model: values, loading, export, save and delete.
 */
#include "events.h"
#include "record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/error.h"
#include "../base/json.h"
#include "../base/util.h"
#include "../db/sql.h"
#include "app.h"
#include "field.h"
#include "password.h"
#include "tx.h"

/* ---- basics ------------------------------------------------------------ */

const json_object *bs_collection_field(const bs_collection *c,
                                       const char *name)
{
    const bs_finfo *fi = bs_collection_finfo(c, name);
    return fi ? fi->def : NULL;
}

bs_record *bs_record_new(bs_schema *schema, const bs_collection *c)
{
    bs_record *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    bs_schema_ref(schema);
    r->schema = schema;
    r->collection = c;
    r->is_new = true;
    r->data = json_object_new_object();
    for (int i = 0; i < c->nfields; i++)
        json_object_object_add(r->data, c->finfo[i].name,
                               bs_finfo_zero(&c->finfo[i]));
    return r;
}

static void expand_free(bs_record *r)
{
    for (int i = 0; i < r->nexpand; i++) {
        bs_expand *x = &r->expand[i];
        for (int j = 0; j < x->n; j++)
            bs_record_free(x->items[j]);
        free(x->items);
        free(x->name);
    }
    free(r->expand);
    r->expand = NULL;
    r->nexpand = 0;
}

bs_record *bs_record_ref(bs_record *r)
{
    r->refs++;
    return r;
}

/* Wipes and drops the new password and its hash. */
static void forget_password(bs_record *r)
{
    if (r->plain_password) {
        explicit_bzero(r->plain_password, strlen(r->plain_password));
        free(r->plain_password);
        r->plain_password = NULL;
    }
    if (r->password_hash) {
        explicit_bzero(r->password_hash, strlen(r->password_hash));
        free(r->password_hash);
        r->password_hash = NULL;
    }
}

void bs_record_free(bs_record *r)
{
    if (!r)
        return;
    if (r->refs > 0) {
        r->refs--;
        return;
    }
    json_object_put(r->data);
    if (r->original)
        json_object_put(r->original);
    bs_record_free(r->original_view);
    json_object_put(r->scratch);
    expand_free(r);
    forget_password(r);
    bs_record_files_clear(r);
    bs_schema_unref(r->schema);
    free(r);
}

bs_record *bs_record_clone(const bs_record *src)
{
    bs_record *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    bs_schema_ref(src->schema);
    r->schema = src->schema;
    r->collection = src->collection;
    r->is_new = src->is_new;
    r->ignore_email_visibility = src->ignore_email_visibility;
    r->unhide = src->unhide;
    if (json_object_deep_copy(src->data, &r->data, NULL) != 0 ||
        (src->original &&
         json_object_deep_copy(src->original, &r->original, NULL) != 0)) {
        bs_record_free(r);
        return NULL;
    }
    return r;
}

int bs_record_add_expand(bs_record *r, const char *name, bool multiple,
                         bs_record **items, int n)
{
    bs_expand *x = realloc(r->expand, sizeof *x * (size_t)(r->nexpand + 1));
    if (!x) {
        for (int j = 0; j < n; j++)
            bs_record_free(items[j]);
        free(items);
        return BS_ENOMEM;
    }
    r->expand = x;
    x = &r->expand[r->nexpand++];
    x->name = strdup(name);
    x->multiple = multiple;
    x->n = n;
    x->items = items;
    return 0;
}

const char *bs_record_id(const bs_record *r)
{
    return bs_json_get_str(r->data, "id", "");
}

const char *bs_record_collection_name(const bs_record *r)
{
    return r->collection->name;
}

const char *bs_record_collection_id(const bs_record *r)
{
    return r->collection->id;
}

bool bs_record_is_new(const bs_record *r)
{
    return r->is_new;
}

json_object *bs_record_get(const bs_record *r, const char *field)
{
    return bs_json_get(r->data, field);
}

int bs_record_set(bs_record *r, const char *field, json_object *value)
{
    const bs_finfo *fi = bs_collection_finfo(r->collection, field);
    if (!fi) {
        json_object_put(value);
        return BS_ENOTFOUND;
    }
    if (fi->type == BS_F_PASSWORD) {
        /* Kept in plain text until the save validates and hashes it. */
        const char *plain = value && json_object_is_type(value,
                                                         json_type_string)
                                ? json_object_get_string(value)
                                : "";
        forget_password(r);
        r->plain_password = strdup(plain);
        json_object_put(value);
        return r->plain_password ? 0 : BS_ENOMEM;
    }
    json_object *v = bs_finfo_prepare(fi, value);
    json_object_put(value);
    json_object_object_add(r->data, field, v);
    return 0;
}

/* A record of c with no values yet (NULL without memory). */
static bs_record *record_empty(bs_schema *schema, const bs_collection *c)
{
    bs_record *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    bs_schema_ref(schema);
    r->schema = schema;
    r->collection = c;
    r->data = json_object_new_object();
    if (!r->data) {
        bs_record_free(r);
        return NULL;
    }
    return r;
}

/* Sets the decoded value of field fi, marking it in seen. */
static void record_put(bs_record *r, const bs_finfo *fi, json_object *v,
                       unsigned char seen[256])
{
    json_object_object_add_ex(r->data, fi->name, v,
                              JSON_C_OBJECT_ADD_CONSTANT_KEY);
    int idx = (int)(fi - r->collection->finfo);
    if (idx < 256)
        seen[idx] = 1;
}

/* Gives the fields no column named their zero values. */
static void record_fill(bs_record *r, const unsigned char seen[256])
{
    const bs_collection *c = r->collection;
    for (int i = 0; i < c->nfields; i++) {
        if (i < 256 && seen[i])
            continue;
        if (i >= 256 && json_object_object_get_ex(r->data, c->finfo[i].name,
                                                  NULL))
            continue;
        json_object_object_add_ex(r->data, c->finfo[i].name,
                                  bs_finfo_zero(&c->finfo[i]),
                                  JSON_C_OBJECT_ADD_CONSTANT_KEY);
    }
}

bs_record *bs_record_from_row(bs_schema *schema, const bs_collection *c,
                              const bs_rows *st)
{
    bs_record *r = record_empty(schema, c);
    if (!r)
        return NULL;
    /* Columns are matched to fields by name; the usual SELECT * lists
     * them in table order, which is tried first. */
    int ncols = bs_rows_columns(st);
    unsigned char seen[256] = {0};
    for (int i = 0; i < ncols; i++) {
        const bs_finfo *fi = bs_collection_finfo(c, bs_rows_name(st, i));
        if (fi)
            record_put(r, fi, bs_finfo_from_column(fi, st, i), seen);
    }
    record_fill(r, seen);
    return r;
}

bs_record *bs_record_from_raw(bs_schema *schema, const bs_collection *c,
                              const json_object *row)
{
    bs_record *r = record_empty(schema, c);
    if (!r)
        return NULL;
    unsigned char seen[256] = {0};
    json_object_object_foreach((json_object *)row, name, v) {
        const bs_finfo *fi = bs_collection_finfo(c, name);
        if (fi)
            record_put(r, fi, bs_finfo_from_raw(fi, v), seen);
    }
    record_fill(r, seen);
    return r;
}

void bs_record_keep_original(bs_record *r)
{
    if (r->original)
        json_object_put(r->original);
    r->original = NULL;
    bs_record_free(r->original_view);
    r->original_view = NULL;
    json_object_deep_copy(r->data, &r->original, NULL);
}

int bs_record_find(bs_conn *conn, bs_schema *schema, const bs_collection *c,
                   const char *id, bs_record **out)
{
    *out = NULL;
    bs_rows rows;
    int step = bs_sql_select_by_id(conn, c->name, id, &rows);
    if (step == 1)
        *out = bs_record_from_row(schema, c, &rows);
    bs_rows_close(&rows);
    if (step != 1)
        return step == 0 ? BS_ENOTFOUND : BS_EDB;
    return *out ? 0 : BS_ENOMEM;
}

/* ---- export ------------------------------------------------------------ */

typedef struct out_key {
    const char *name;
    const json_object *value; /* a field value */
    const bs_expand *expand;  /* or the expand block (name "expand") */
    const char *text;         /* or a plain string */
    bool is_expand;
} out_key;

static int out_key_cmp(const void *a, const void *b)
{
    return strcmp(((const out_key *)a)->name, ((const out_key *)b)->name);
}

static void write_expand(const bs_record *r, bs_buf *out)
{
    /* Go marshals the expand map with sorted keys. */
    const bs_expand **sorted = malloc(sizeof *sorted * (size_t)r->nexpand);
    if (!sorted) {
        out->oom = true;
        return;
    }
    for (int i = 0; i < r->nexpand; i++)
        sorted[i] = &r->expand[i];
    for (int i = 1; i < r->nexpand; i++) {
        for (int j = i; j > 0 && strcmp(sorted[j - 1]->name,
                                        sorted[j]->name) > 0; j--) {
            const bs_expand *t = sorted[j];
            sorted[j] = sorted[j - 1];
            sorted[j - 1] = t;
        }
    }
    bs_buf_putc(out, '{');
    for (int i = 0; i < r->nexpand; i++) {
        const bs_expand *x = sorted[i];
        if (i)
            bs_buf_putc(out, ',');
        bs_buf_json_str(out, x->name, strlen(x->name));
        bs_buf_putc(out, ':');
        if (x->multiple)
            bs_buf_putc(out, '[');
        for (int j = 0; j < x->n; j++) {
            if (j)
                bs_buf_putc(out, ',');
            bs_record_write_json(x->items[j], out);
        }
        if (x->multiple)
            bs_buf_putc(out, ']');
        else if (x->n == 0)
            bs_buf_puts(out, "null");
    }
    bs_buf_putc(out, '}');
    free(sorted);
}

void bs_record_write_json(const bs_record *r, bs_buf *out)
{
    const bs_collection *c = r->collection;
    size_t nf = (size_t)c->nfields;
    out_key stack_keys[32];
    out_key *keys = nf + 3 <= 32 ? stack_keys
                                 : calloc(nf + 3, sizeof *keys);
    if (!keys) {
        out->oom = true;
        return;
    }
    memset(keys, 0, sizeof *keys * (nf + 3));
    size_t n = 0;
    bool is_auth = bs_collection_is_auth(c);
    bool email_visible = r->ignore_email_visibility ||
                         bs_record_get_bool(r, "emailVisibility");
    for (size_t i = 0; i < nf; i++) {
        const bs_finfo *fi = &c->finfo[i];
        const char *name = fi->name;
        if (fi->hidden && !r->unhide)
            continue;
        if (fi->type == BS_F_PASSWORD)
            continue;
        if (is_auth && (strcmp(name, "tokenKey") == 0 ||
                        (strcmp(name, "email") == 0 && !email_visible)))
            continue;
        keys[n].name = name;
        keys[n].value = bs_json_get(r->data, name);
        n++;
    }
    keys[n].name = "collectionId";
    keys[n++].text = c->id;
    keys[n].name = "collectionName";
    keys[n++].text = c->name;
    if (r->nexpand > 0 || r->expand_requested) {
        keys[n].name = "expand";
        keys[n++].is_expand = true;
    }
    qsort(keys, n, sizeof *keys, out_key_cmp);
    bs_buf_putc(out, '{');
    for (size_t i = 0; i < n; i++) {
        if (i)
            bs_buf_putc(out, ',');
        bs_buf_json_str(out, keys[i].name, strlen(keys[i].name));
        bs_buf_putc(out, ':');
        if (keys[i].is_expand)
            write_expand(r, out);
        else if (keys[i].text)
            bs_buf_json_str(out, keys[i].text, strlen(keys[i].text));
        else if (keys[i].value)
            bs_json_write(out, keys[i].value);
        else
            bs_buf_puts(out, "null");
    }
    bs_buf_putc(out, '}');
    if (keys != stack_keys)
        free(keys);
}

bool bs_password_check(const bs_record *r, const char *plain)
{
    const json_object *src = r->original ? r->original : r->data;
    for (int i = 0; i < r->collection->nfields; i++) {
        const bs_finfo *fi = &r->collection->finfo[i];
        if (fi->type == BS_F_PASSWORD)
            return bs_password_verify(plain,
                                      bs_json_get_str(src, fi->name, ""));
    }
    return false;
}

/* The id the record has in the database (its original id, or its
 * current one when no original values were kept). */
static const char *stored_id(const bs_record *r)
{
    return r->original ? bs_json_get_str(r->original, "id", "")
                       : bs_record_id(r);
}

/* ---- autogenerated values --------------------------------------------- */

int bs_pattern_random(const char *pattern, char *out, size_t cap)
{
    /* Supported form: "[ranges]{n}" such as "[a-z0-9]{15}". */
    char alphabet[256];
    size_t na = 0;
    const char *p = pattern;
    if (*p != '[')
        return BS_EINVAL;
    p++;
    while (*p && *p != ']') {
        if (p[1] == '-' && p[2] && p[2] != ']') {
            for (int ch = (unsigned char)p[0]; ch <= (unsigned char)p[2] &&
                                               na < sizeof alphabet - 1;
                 ch++)
                alphabet[na++] = (char)ch;
            p += 3;
        } else {
            if (na < sizeof alphabet - 1)
                alphabet[na++] = *p;
            p++;
        }
    }
    alphabet[na] = '\0';
    if (*p != ']' || p[1] != '{' || na == 0)
        return BS_EINVAL;
    long count = strtol(p + 2, NULL, 10);
    if (count <= 0 || (size_t)count >= cap)
        return BS_EINVAL;
    return bs_random_string(out, (size_t)count, alphabet);
}

/* Fills the values the server generates: the id, the tokenKey and the
 * autodate fields. */
static int fill_generated(bs_record *r)
{
    char now[25];
    bs_now_str(now);
    bool email_changed =
        r->original && strcmp(bs_json_get_str(r->original, "email", ""),
                              bs_record_get_string(r, "email")) != 0;
    for (int i = 0; i < r->collection->nfields; i++) {
        const bs_finfo *fi = &r->collection->finfo[i];
        if (fi->type == BS_F_AUTODATE) {
            if ((r->is_new && fi->on_create) || (!r->is_new && fi->on_update))
                json_object_object_add(r->data, fi->name,
                                       json_object_new_string(now));
            continue;
        }
        if (fi->type != BS_F_TEXT || !*fi->autogenerate)
            continue;
        bool regen_token = strcmp(fi->name, "tokenKey") == 0 &&
                           bs_collection_is_auth(r->collection) &&
                           (r->plain_password || email_changed) &&
                           !r->is_new;
        if ((*bs_record_get_string(r, fi->name) && !regen_token) ||
            (!r->is_new && !regen_token))
            continue;
        char val[256];
        int rc = bs_pattern_random(fi->autogenerate, val, sizeof val);
        if (rc == BS_EINVAL)
            rc = bs_random_id(val);
        if (rc)
            return rc;
        json_object_object_add(r->data, fi->name, json_object_new_string(val));
    }
    return 0;
}

/* ---- validation --------------------------------------------------------- */

static void field_error(bs_error *err, const char *name, const char *code,
                        const char *message)
{
    bs_error_field(err, name, code, message);
}

/* Checks that every related id exists in the target collection. Runs
 * inside the save's transaction, where the writer is held by this save
 * alone: the statement is kept in the connection's cache (preparing it
 * cost more than the rest of the save), and one id, the usual case, is
 * looked up by the primary key without a JSON array. */
static bool relations_exist(bs_conn *conn, const bs_record *r,
                            const json_object *f, const json_object *v)
{
    const bs_collection *target =
        bs_schema_find(r->schema, bs_json_get_str(f, "collectionId", ""));
    if (!target)
        return false;
    bool many = json_object_is_type(v, json_type_array);
    const json_object *one = many && json_object_array_length(v) == 1
                                 ? json_object_array_get_idx(v, 0)
                                 : many ? NULL : v;
    bs_buf sql, ids_text;
    bs_buf_init(&sql);
    bs_buf_init(&ids_text);
    bs_buf_puts(&sql, "SELECT COUNT(*) FROM ");
    bs_sql_ident(&sql, target->name);
    size_t want = 1;
    if (one) {
        bs_buf_puts(&sql, " WHERE id = ?1");
        bs_buf_puts(&ids_text, json_object_get_string((json_object *)one));
    } else {
        bs_buf_puts(&sql, " WHERE id IN (SELECT value FROM json_each(?1))");
        bs_json_write(&ids_text, v);
        want = json_object_array_length(v);
    }
    bs_rows rows;
    rows = (bs_rows){0};
    bool ok = false;
    if (!sql.oom && !ids_text.oom &&
        bs_rows_open(&rows, conn, sql.data, (long)sql.len, BS_ROWS_CACHED) ==
            0) {
        bs_rows_bind_text(&rows, 1, ids_text.data, (long)ids_text.len);
        if (bs_rows_next(&rows) == 1)
            ok = (size_t)bs_rows_int(&rows, 0) == want;
    }
    bs_rows_close(&rows);
    bs_buf_dispose(&sql);
    bs_buf_dispose(&ids_text);
    return ok;
}

/* Checks a new password against the length rules of password field f;
 * on failure returns the error code and fills msg. */
static const char *password_rule_error(const json_object *f,
                                       const char *plain, char msg[96])
{
    size_t len = strlen(plain);
    int64_t min = bs_json_get_int(f, "min", 0);
    int64_t max = bs_json_get_int(f, "max", 0);
    if (max <= 0 || max > 71)
        max = 71;
    if (len == 0 && bs_json_get_bool(f, "required", false)) {
        snprintf(msg, 96, "Cannot be blank.");
        return "validation_required";
    }
    if (len > 0 && (int64_t)len < min) {
        snprintf(msg, 96, "Must be at least %lld character(s).",
                 (long long)min);
        return "validation_min_text_constraint";
    }
    if ((int64_t)len > max) {
        snprintf(msg, 96, "Must be less than %lld character(s).",
                 (long long)max);
        return "validation_max_text_constraint";
    }
    return NULL;
}

static int validate_password(bs_record *r, const json_object *f,
                             bs_error *err)
{
    const char *name = bs_field_name(f);
    const char *plain = r->plain_password;
    if (!plain) {
        if (r->is_new && bs_json_get_bool(f, "required", false) &&
            !*bs_record_get_string(r, name))
            field_error(err, name, "validation_required", "Cannot be blank.");
        return 0;
    }
    char msg[96];
    const char *code = password_rule_error(f, plain, msg);
    if (code)
        field_error(err, name, code, msg);
    return 0;
}

/* The built-in validation (innermost step of OnRecordValidate). */
static int validate_final(bs_event *e, void *user)
{
    bs_record_event *re = (bs_record_event *)e;
    bs_record *r = re->record;
    bs_error *err = user;
    bs_conn *conn = re->tx ? bs_tx_conn(re->tx) : NULL;
    for (int i = 0; i < r->collection->nfields; i++) {
        const bs_finfo *fi = &r->collection->finfo[i];
        const json_object *f = fi->def;
        if (fi->type == BS_F_PASSWORD) {
            validate_password(r, f, err);
            continue;
        }
        json_object *v = bs_json_get(r->data, fi->name);
        bool empty = bs_finfo_is_empty(fi, v);
        /* Empty values the save generates (the id, a tokenKey) are not
         * errors before the save; other empty optional values are valid. */
        if (empty && ((r->is_new && fi->type == BS_F_TEXT &&
                       *fi->autogenerate) ||
                      (!fi->required && fi->type != BS_F_JSON)))
            continue;
        if (strcmp(fi->name, "id") == 0 && !r->is_new) {
            const char *old = stored_id(r);
            if (strcmp(old, bs_record_id(r)) != 0)
                field_error(err, fi->name, "validation_pk_change",
                            "The record primary key cannot be changed.");
            continue;
        }
        bs_field_error fe;
        if (!bs_finfo_validate(fi, v, r->is_new, &fe)) {
            field_error(err, fi->name, fe.code, fe.message);
            continue;
        }
        if (fi->type == BS_F_FILE && !empty &&
            !bs_record_files_validate(r, fi, v, err))
            continue;
        if (fi->type == BS_F_RELATION && conn && !empty &&
            !relations_exist(conn, r, f, v))
            field_error(err, fi->name, "validation_missing_rel_records",
                        "Failed to find all relation records with the "
                        "provided ids.");
    }
    if (bs_error_has_fields(err))
        return BS_EHTTP;
    return 0;
}

/* ---- execution ------------------------------------------------------------ */

/* Maps a broken UNIQUE constraint of the statement to a field error on
 * its (first) column. */
static bool unique_error(const bs_rows *st, bs_error *err)
{
    bs_constraint k;
    if (bs_rows_constraint(st, &k) != 0 || k.kind != BS_CONSTRAINT_UNIQUE ||
        !k.column[0])
        return false;
    bs_error_field(err, k.column, "validation_not_unique",
                   "Value must be unique.");
    return true;
}

/* Hashes the new password before the save's transaction: bcrypt takes
 * tens of milliseconds, during which the writer lock must stay free for
 * the other saves. Only a password the validation will accept is hashed
 * (for the first password field's cost). A hook that sets another
 * password inside the transaction drops this hash (bs_record_set), and
 * hash_password then hashes in place. */
static void prehash_password(bs_record *r)
{
    if (!r->plain_password || r->password_hash)
        return;
    for (int i = 0; i < r->collection->nfields; i++) {
        const bs_finfo *fi = &r->collection->finfo[i];
        if (fi->type != BS_F_PASSWORD)
            continue;
        char msg[96], hash[64];
        int cost = (int)bs_json_get_int(fi->def, "cost", 0);
        if (!password_rule_error(fi->def, r->plain_password, msg) &&
            bs_password_hash(r->plain_password, cost, hash) == 0) {
            r->password_hash = strdup(hash);
            r->password_hash_cost = cost;
            explicit_bzero(hash, sizeof hash);
        }
        return;
    }
}

/* Sets the password fields to the hash of the new password, made before
 * the transaction when it could be. */
static int hash_password(bs_record *r)
{
    if (!r->plain_password)
        return 0;
    for (int i = 0; i < r->collection->nfields; i++) {
        const bs_finfo *fi = &r->collection->finfo[i];
        if (fi->type != BS_F_PASSWORD)
            continue;
        int cost = (int)bs_json_get_int(fi->def, "cost", 0);
        char hash[64];
        if (r->password_hash && cost == r->password_hash_cost) {
            snprintf(hash, sizeof hash, "%s", r->password_hash);
        } else {
            int rc = bs_password_hash(r->plain_password, cost, hash);
            if (rc)
                return rc;
        }
        json_object_object_add(r->data, fi->name,
                               json_object_new_string(hash));
    }
    return 0;
}

/* Auth record ids are kept unique across all auth collections, so a
 * mistake in one collection's rules cannot be used against another. */
static bool auth_id_taken(bs_conn *conn, const bs_record *r)
{
    const bs_schema *s = r->schema;
    for (int i = 0; i < s->n; i++) {
        const bs_collection *c = &s->items[i];
        if (c == r->collection || !bs_collection_is_auth(c))
            continue;
        bs_record *other = NULL;
        if (bs_record_find(conn, r->schema, c, bs_record_id(r), &other) ==
            0) {
            bs_record_free(other);
            return true;
        }
    }
    return false;
}

static int execute_final(bs_event *e, void *user)
{
    bs_record_event *re = (bs_record_event *)e;
    bs_record *r = re->record;
    bs_error *err = user;
    bs_conn *conn = bs_tx_conn(re->tx);
    if (bs_collection_is_auth(r->collection) && r->is_new &&
        auth_id_taken(conn, r)) {
        bs_error_field(err, "id", "validation_invalid_auth_id",
                       "Invalid or duplicated auth record id.");
        return BS_EHTTP;
    }
    int rc = hash_password(r);
    if (rc)
        return bs_error_set(err, 500, "Failed to hash the password.");
    const bs_finfo *finfo = r->collection->finfo;
    size_t n = (size_t)r->collection->nfields;
    bs_buf sql;
    bs_buf_init(&sql);
    if (r->is_new) {
        bs_buf_puts(&sql, "INSERT INTO ");
        bs_sql_ident(&sql, r->collection->name);
        bs_buf_puts(&sql, " (");
        for (size_t i = 0; i < n; i++) {
            if (i)
                bs_buf_puts(&sql, ", ");
            bs_sql_ident(&sql, finfo[i].name);
        }
        /* Plain placeholders take the numbers 1..n in order. */
        bs_buf_puts(&sql, ") VALUES (");
        for (size_t i = 0; i < n; i++)
            bs_buf_puts(&sql, i ? ", ?" : "?");
        bs_buf_puts(&sql, ")");
    } else {
        bs_buf_puts(&sql, "UPDATE ");
        bs_sql_ident(&sql, r->collection->name);
        bs_buf_puts(&sql, " SET ");
        for (size_t i = 0; i < n; i++) {
            if (i)
                bs_buf_puts(&sql, ", ");
            bs_sql_ident(&sql, finfo[i].name);
            bs_buf_puts(&sql, " = ?");
        }
        bs_buf_puts(&sql, " WHERE id = ?");
    }
    bs_rows st;
    st = (bs_rows){0};
    rc = sql.oom ? BS_ENOMEM
                 : bs_rows_open(&st, conn, sql.data, (long)sql.len,
                                BS_ROWS_CACHED);
    if (rc == 0) {
        for (size_t i = 0; i < n; i++)
            bs_finfo_bind(&finfo[i], bs_json_get(r->data, finfo[i].name), &st,
                          (int)i + 1);
        if (!r->is_new)
            bs_rows_bind_text(&st, (int)n + 1, stored_id(r), -1);
        rc = bs_rows_exec(&st);
        if (rc >= 0) {
            rc = bs_record_files_store(re->tx, r, err);
        } else if (unique_error(&st, err)) {
            rc = BS_EHTTP;
        } else {
            bs_log('D', "record save failed: %s", bs_rows_errmsg(&st));
            rc = BS_EDB;
        }
    } else {
        bs_log('E', "record save prepare failed: %s", bs_conn_errmsg(conn));
        rc = BS_EDB;
    }
    bs_rows_close(&st);
    bs_buf_dispose(&sql);
    return rc;
}

/* ---- save ---------------------------------------------------------------- */

/* What the after-commit callback needs: a copy of the saved record and the
 * outcome, filled in when the save step ends. */
typedef struct after_ctx {
    bs_record *rec;
    bool failed;
    int hook_success;
    int hook_error;
    bs_error error;
} after_ctx;

static void after_ctx_free(void *p)
{
    after_ctx *a = p;
    bs_record_free(a->rec);
    bs_error_dispose(&a->error);
    free(a);
}

static void after_run(bs_app *app, void *data, bool committed)
{
    after_ctx *a = data;
    if (!a->rec)
        return;
    bool ok = committed && !a->failed;
    bs_record_event e = {.ev = {.app = app,
                                .tags = {a->rec->collection->id,
                                         a->rec->collection->name},
                                .error = ok ? NULL : &a->error},
                         .record = a->rec};
    bs_trigger_record(app, ok ? a->hook_success : a->hook_error, &e,
                    NULL, NULL);
}

typedef struct save_ctx {
    bs_record *rec;
    bs_error *err;
    bool is_delete;
} save_ctx;

static int save_final(bs_event *e, void *user)
{
    bs_record_event *re = (bs_record_event *)e;
    bs_app *app = e->app;
    bs_error *err = user;
    int rc = fill_generated(re->record);
    if (rc)
        return rc;
    rc = bs_trigger_record(app, BS_ON_RECORD_VALIDATE, (bs_record_event *)e,
                           validate_final,
                         err);
    if (rc) {
        if (bs_error_has_fields(err) && !err->message)
            bs_error_set(err, 400, re->record->is_new
                                       ? "Failed to create record."
                                       : "Failed to update record.");
        return rc;
    }
    rc = bs_trigger_record(app,
                           re->record->is_new ? BS_ON_RECORD_CREATE_EXECUTE
                                              : BS_ON_RECORD_UPDATE_EXECUTE,
                           (bs_record_event *)e, execute_final, err);
    if (rc && bs_error_has_fields(err) && !err->message)
        bs_error_set(err, 400, re->record->is_new ? "Failed to create record."
                                                  : "Failed to update record.");
    return rc;
}

static int delete_final(bs_event *e, void *user);

static int action_tx(bs_tx *tx, void *data)
{
    save_ctx *sc = data;
    bs_app *app = bs_tx_app(tx);
    bs_record *r = sc->rec;
    bool create = r->is_new;
    after_ctx *a = calloc(1, sizeof *a);
    if (!a)
        return BS_ENOMEM;
    bs_error_init(&a->error);
    a->hook_success = sc->is_delete ? BS_ON_RECORD_AFTER_DELETE_SUCCESS
                      : create      ? BS_ON_RECORD_AFTER_CREATE_SUCCESS
                                    : BS_ON_RECORD_AFTER_UPDATE_SUCCESS;
    a->hook_error = sc->is_delete ? BS_ON_RECORD_AFTER_DELETE_ERROR
                    : create      ? BS_ON_RECORD_AFTER_CREATE_ERROR
                                  : BS_ON_RECORD_AFTER_UPDATE_ERROR;
    /* Nobody listens: no copy of the record is needed after the commit. */
    if (bs_hook_length(app->hooks[a->hook_success]) == 0 &&
        bs_hook_length(app->hooks[a->hook_error]) == 0) {
        after_ctx_free(a);
        a = NULL;
    } else if (bs_tx_after(tx, after_run, a, after_ctx_free) != 0) {
        return BS_ENOMEM;
    }
    bs_record_event e = {.ev = {.app = app,
                                .tags = {r->collection->id, r->collection->name},
                                .error = sc->err},
                         .tx = tx,
                         .record = r};
    int hook = sc->is_delete ? BS_ON_RECORD_DELETE
               : create      ? BS_ON_RECORD_CREATE
                             : BS_ON_RECORD_UPDATE;
    int rc = bs_trigger_record(app, hook, &e,
                             sc->is_delete ? delete_final : save_final,
                             sc->err);
    if (!a)
        return rc;
    a->rec = bs_record_clone(r);
    if (rc) {
        a->failed = true;
        a->error.status = sc->err->status;
        a->error.message = sc->err->message ? strdup(sc->err->message) : NULL;
    }
    return rc;
}

int bs_record_validate(bs_app *app, bs_record *r, bs_error *err)
{
    bs_record_event e = {.ev = {.app = app,
                                .tags = {r->collection->id, r->collection->name},
                                .error = err},
                         .record = r};
    return bs_trigger_record(app, BS_ON_RECORD_VALIDATE, &e,
                           validate_final, err);
}

int bs_record_save(bs_app *app, bs_record *r, bs_error *err)
{
    if (strcmp(r->collection->type, "view") == 0)
        return bs_error_set(err, 400, "View records cannot be saved.");
    prehash_password(r);
    save_ctx sc = {.rec = r, .err = err};
    int rc = bs_run_in_group(app, action_tx, &sc, err);
    if (rc == 0) {
        r->is_new = false;
        forget_password(r);
        if (r->original)
            json_object_put(r->original);
        r->original = NULL;
        bs_record_free(r->original_view);
        r->original_view = NULL;
        json_object_deep_copy(r->data, &r->original, NULL);
    }
    return rc;
}

/* ---- delete -------------------------------------------------------------- */

/* Removes id from, or deletes (cascade), the records of other collections
 * that point at r through relation fields. */
static int clean_references(bs_tx *tx, bs_record *r, bs_error *err)
{
    bs_app *app = bs_tx_app(tx);
    bs_conn *conn = bs_tx_conn(tx);
    const bs_schema *s = r->schema;
    for (int ci = 0; ci < s->n; ci++) {
        const bs_collection *c = &s->items[ci];
        if (strcmp(c->type, "view") == 0)
            continue;
        for (int k = 0; k < c->nfields; k++) {
            const bs_finfo *fi = &c->finfo[k];
            const json_object *f = fi->def;
            if (fi->type != BS_F_RELATION ||
                strcmp(fi->collection_id, r->collection->id) != 0)
                continue;
            const char *fname = fi->name;
            bool multiple = fi->multiple;
            bs_buf sql;
            bs_buf_init(&sql);
            bs_buf_puts(&sql, "SELECT * FROM ");
            bs_sql_ident(&sql, c->name);
            if (multiple) {
                bs_buf_puts(&sql, " WHERE EXISTS (SELECT 1 FROM json_each(CASE "
                                  "WHEN json_valid(");
                bs_sql_ident(&sql, fname);
                bs_buf_puts(&sql, ") THEN ");
                bs_sql_ident(&sql, fname);
                bs_buf_puts(&sql, " ELSE '[]' END) WHERE value = ?1)");
            } else {
                bs_buf_puts(&sql, " WHERE ");
                bs_sql_ident(&sql, fname);
                bs_buf_puts(&sql, " = ?1");
            }
            bs_rows st;
            st = (bs_rows){0};
            int rc = sql.oom ? BS_ENOMEM
                             : bs_rows_open(&st, conn, sql.data,
                                            (long)sql.len, BS_ROWS_ONCE);
            bs_buf_dispose(&sql);
            if (rc) {
                bs_rows_close(&st);
                return rc == BS_ENOMEM ? rc : BS_EDB;
            }
            bs_rows_bind_text(&st, 1, bs_record_id(r), -1);
            /* Collect first: deleting while stepping would disturb the
             * cursor. */
            bs_record **refs = NULL;
            int nrefs = 0, cap = 0;
            while (bs_rows_next(&st) == 1) {
                if (nrefs == cap) {
                    cap = cap ? cap * 2 : 8;
                    bs_record **tmp = realloc(refs, sizeof *refs * (size_t)cap);
                    if (!tmp)
                        break;
                    refs = tmp;
                }
                refs[nrefs] = bs_record_from_row(r->schema, c, &st);
                if (refs[nrefs])
                    nrefs++;
            }
            bs_rows_close(&st);
            for (int i = 0; i < nrefs && rc == 0; i++) {
                bs_record *ref = refs[i];
                if (c == r->collection &&
                    strcmp(bs_record_id(ref), bs_record_id(r)) == 0)
                    continue;
                if (bs_json_get_bool(f, "cascadeDelete", false)) {
                    rc = bs_record_delete(app, ref, err);
                    continue;
                }
                json_object *arg = json_object_new_string(bs_record_id(r));
                json_object *nv =
                    bs_finfo_modify(fi, bs_json_get(ref->data, fname), '-', arg);
                json_object_put(arg);
                json_object_object_add(ref->data, fname, nv);
                if (fi->required && bs_finfo_is_empty(fi, nv)) {
                    rc = bs_error_set(err, 400,
                                      "Failed to delete record. Make sure "
                                      "that the record is not part of a "
                                      "required relation reference.");
                    continue;
                }
                rc = bs_record_save(app, ref, err);
            }
            for (int i = 0; i < nrefs; i++)
                bs_record_free(refs[i]);
            free(refs);
            if (rc)
                return rc;
        }
    }
    return 0;
}

static int delete_execute_final(bs_event *e, void *user)
{
    bs_record_event *re = (bs_record_event *)e;
    bs_conn *conn = bs_tx_conn(re->tx);
    (void)user;
    bs_buf sql;
    bs_buf_init(&sql);
    bs_buf_puts(&sql, "DELETE FROM ");
    bs_sql_ident(&sql, re->record->collection->name);
    bs_buf_puts(&sql, " WHERE id = ?1");
    bs_rows st;
    st = (bs_rows){0};
    int rc = BS_EDB;
    if (!sql.oom &&
        bs_rows_open(&st, conn, sql.data, (long)sql.len, BS_ROWS_ONCE) == 0) {
        bs_rows_bind_text(&st, 1, bs_record_id(re->record), -1);
        if (bs_rows_exec(&st) >= 0)
            rc = bs_record_files_on_delete(re->tx, re->record);
    }
    bs_rows_close(&st);
    bs_buf_dispose(&sql);
    return rc;
}

static int delete_final(bs_event *e, void *user)
{
    bs_record_event *re = (bs_record_event *)e;
    bs_error *err = user;
    int rc = clean_references(re->tx, re->record, err);
    if (rc)
        return rc;
    return bs_trigger_record(e->app, BS_ON_RECORD_DELETE_EXECUTE,
                             (bs_record_event *)e,
                           delete_execute_final, err);
}

int bs_record_delete(bs_app *app, bs_record *r, bs_error *err)
{
    if (strcmp(r->collection->type, "view") == 0)
        return bs_error_set(err, 400, "View records cannot be deleted.");
    save_ctx sc = {.rec = r, .err = err, .is_delete = true};
    return bs_run_in_group(app, action_tx, &sc, err);
}
