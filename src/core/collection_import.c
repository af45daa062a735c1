/*
 * collection_import.c - importing a collections configuration in one
 * transaction, as PocketBase's ImportCollections does.
 *
 * The order matters and follows PocketBase: every imported collection is
 * first merged onto its stored state (or a scaffold), views go last so
 * that the tables their queries read exist, missing collections are
 * deleted before anything is saved (a deleted name may be reused), all
 * collections are saved without validation, and only then is each one
 * validated, so that collections may refer to each other in any order.
 */
#include "collection_import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/error.h"
#include "../base/json.h"
#include "../base/util.h"
#include "app.h"
#include "collection.h"
#include "tx.h"

typedef struct item {
    json_object *col;      /* what is saved */
    json_object *existing; /* the stored state before the import, or NULL */
    size_t order;          /* position in the input, for a stable sort */
} item;

typedef struct import_ctx {
    const json_object *items;
    bool delete_missing;
    bs_error *err;
} import_ctx;

static int item_cmp(const void *pa, const void *pb)
{
    const item *a = pa, *b = pb;
    bool va = strcmp(bs_json_get_str(a->col, "type", ""), "view") == 0;
    bool vb = strcmp(bs_json_get_str(b->col, "type", ""), "view") == 0;
    if (va != vb)
        return va ? 1 : -1;
    int c = strcmp(bs_json_get_str(a->col, "created", ""),
                   bs_json_get_str(b->col, "created", ""));
    if (c == 0)
        c = strcmp(bs_json_get_str(a->col, "updated", ""),
                   bs_json_get_str(b->col, "updated", ""));
    if (c == 0)
        c = a->order < b->order ? -1 : a->order > b->order;
    return c;
}

static void set_message(bs_error *err, const char *msg)
{
    bs_error_dispose(err);
    bs_error_set(err, 0, "%s", msg);
}

/* Merges one imported definition onto its stored state (or a new
 * scaffold). */
static int prepare(bs_conn *conn, const json_object *data, bool delete_missing,
                   item *it, bs_error *err)
{
    json_object *d = NULL;
    if (json_object_deep_copy((json_object *)data, &d, NULL) != 0)
        return BS_ENOMEM;
    bs_collection_upgrade_legacy(d);
    const char *key = bs_json_get_str(d, "id", "");
    if (!*key)
        key = bs_json_get_str(d, "name", "");
    json_object *existing = NULL;
    int rc = *key ? bs_collection_load(conn, key, &existing) : BS_ENOTFOUND;
    if (rc && rc != BS_ENOTFOUND) {
        json_object_put(d);
        return rc;
    }
    bs_error berr;
    bs_error_init(&berr);
    if (existing) {
        json_object_deep_copy(existing, &it->col, NULL);
        json_object *f = bs_json_get(d, "fields");
        if ((!f || json_object_is_type(f, json_type_null)) && delete_missing)
            json_object_object_add(d, "fields", json_object_new_array());
        rc = bs_collection_bind(it->col, d, &berr);
        if (rc == 0) {
            /* Keep the fields the import does not mention (all of them,
             * or only the system ones with delete_missing). */
            json_object *fields = bs_json_get(it->col, "fields");
            json_object *old = bs_json_get(existing, "fields");
            size_t n = json_object_array_length(old);
            for (size_t i = 0; i < n; i++) {
                json_object *of = json_object_array_get_idx(old, i);
                if (!bs_json_get_bool(of, "system", false) && delete_missing)
                    continue;
                const char *oid = bs_json_get_str(of, "id", "");
                if (bs_fields_by_id(fields, oid))
                    continue;
                json_object *found = bs_fields_by_name(
                    fields, bs_json_get_str(of, "name", ""));
                if (found && strcmp(bs_json_get_str(found, "type", ""),
                                    bs_json_get_str(of, "type", "")) == 0)
                    json_object_object_add(found, "id",
                                           json_object_new_string(oid));
                json_object *copy = NULL;
                json_object_deep_copy(of, &copy, NULL);
                if (copy)
                    bs_fields_add(fields, copy);
            }
        }
        it->existing = existing;
    } else {
        it->col = bs_collection_scaffold(bs_json_get_str(d, "type", ""),
                                         bs_json_get_str(d, "name", ""),
                                         bs_json_get_str(d, "id", ""));
        rc = it->col ? bs_collection_bind(it->col, d, &berr) : BS_ENOMEM;
    }
    if (rc && rc != BS_ENOMEM) {
        char msg[400];
        snprintf(msg, sizeof msg,
                 "failed to load the data of collection \"%s\"",
                 bs_json_get_str(d, "name", ""));
        set_message(err, msg);
    }
    bs_error_dispose(&berr);
    json_object_put(d);
    return rc;
}

static bool imported_id(const item *items, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(bs_json_get_str(items[i].col, "id", ""), id) == 0)
            return true;
    }
    return false;
}

/* Writes validation errors as indented JSON (the leaves as messages). */
static void describe(const json_object *v, int depth, bs_buf *out)
{
    if (json_object_is_type(v, json_type_object) &&
        !(bs_json_get(v, "code") && bs_json_get(v, "message"))) {
        bs_buf_puts(out, "{\n");
        bool first = true;
        json_object_object_foreach((json_object *)v, k, child) {
            if (!first)
                bs_buf_puts(out, ",\n");
            first = false;
            for (int i = 0; i < depth + 1; i++)
                bs_buf_puts(out, "  ");
            bs_buf_json_str(out, k, strlen(k));
            bs_buf_puts(out, ": ");
            describe(child, depth + 1, out);
        }
        bs_buf_putc(out, '\n');
        for (int i = 0; i < depth; i++)
            bs_buf_puts(out, "  ");
        bs_buf_putc(out, '}');
        return;
    }
    const char *msg = bs_json_get_str(v, "message", "");
    bs_buf_json_str(out, msg, strlen(msg));
}

static int import_tx(bs_tx *tx, void *data)
{
    import_ctx *ic = data;
    bs_app *app = bs_tx_app(tx);
    bs_conn *conn = bs_tx_conn(tx);
    size_t n = json_object_array_length(ic->items);
    item *items = calloc(n ? n : 1, sizeof *items);
    if (!items)
        return BS_ENOMEM;
    int rc = 0;
    size_t count = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const json_object *d = json_object_array_get_idx(ic->items, i);
        if (!json_object_is_type(d, json_type_object)) {
            set_message(ic->err, "invalid collection data");
            rc = BS_EINVAL;
            break;
        }
        items[count].order = i;
        rc = prepare(conn, d, ic->delete_missing, &items[count], ic->err);
        count++;
    }
    if (rc == 0)
        qsort(items, count, sizeof *items, item_cmp);

    if (rc == 0 && ic->delete_missing) {
        json_object *all = NULL;
        rc = bs_collection_load_all(conn, &all);
        if (rc == 0) {
            /* Oldest change first, as PocketBase orders them. */
            size_t na = json_object_array_length(all);
            json_object **sorted = calloc(na ? na : 1, sizeof *sorted);
            for (size_t i = 0; sorted && i < na; i++)
                sorted[i] = json_object_array_get_idx(all, i);
            for (size_t i = 1; sorted && i < na; i++) {
                for (size_t j = i; j > 0 &&
                                   strcmp(bs_json_get_str(sorted[j - 1],
                                                          "updated", ""),
                                          bs_json_get_str(sorted[j], "updated",
                                                          "")) > 0;
                     j--) {
                    json_object *t = sorted[j];
                    sorted[j] = sorted[j - 1];
                    sorted[j - 1] = t;
                }
            }
            for (size_t i = 0; sorted && i < na && rc == 0; i++) {
                json_object *c = sorted[i];
                if (bs_json_get_bool(c, "system", false) ||
                    imported_id(items, count, bs_json_get_str(c, "id", "")))
                    continue;
                rc = bs_collection_delete(app, c, BS_COLLECTION_NO_INTEGRITY,
                                          ic->err);
            }
            if (!sorted)
                rc = BS_ENOMEM;
            free(sorted);
            json_object_put(all);
        }
    }

    for (size_t i = 0; i < count && rc == 0; i++) {
        bs_error serr;
        bs_error_init(&serr);
        unsigned flags = BS_COLLECTION_NO_VALIDATE |
                         (items[i].existing ? 0 : BS_COLLECTION_NEW);
        rc = bs_collection_save(app, items[i].col, NULL, flags, &serr);
        if (rc) {
            char msg[1500];
            if (bs_error_has_fields(&serr)) {
                bs_buf b;
                bs_buf_init(&b);
                describe(serr.data, 0, &b);
                snprintf(msg, sizeof msg, "%s", b.data ? b.data : "");
                bs_buf_dispose(&b);
            } else {
                snprintf(msg, sizeof msg, "%s",
                         serr.message ? serr.message : bs_strerror(rc));
            }
            bs_error_dispose(ic->err);
            bs_error_set(ic->err, 0, "failed to save collection \"%s\": %s",
                         bs_json_get_str(items[i].col, "name", ""), msg);
        }
        bs_error_dispose(&serr);
    }

    for (size_t i = 0; i < count && rc == 0; i++) {
        bs_error verr;
        bs_error_init(&verr);
        json_object *orig = NULL;
        json_object_deep_copy(items[i].existing ? items[i].existing
                                                : items[i].col,
                              &orig, NULL);
        rc = bs_collection_validate(app, conn, items[i].col, orig, &verr);
        if (orig)
            json_object_put(orig);
        if (rc == BS_EHTTP) {
            bs_buf b;
            bs_buf_init(&b);
            bs_buf_printf(&b,
                          "Data validations failed for collection \"%s\" "
                          "(%s):\n",
                          bs_json_get_str(items[i].col, "name", ""),
                          bs_json_get_str(items[i].col, "id", ""));
            describe(verr.data, 0, &b);
            bs_error_dispose(ic->err);
            bs_verr(ic->err, "collections",
                    "validation_collections_import_failure",
                    b.data ? b.data : "", NULL);
            ic->err->status = 400;
            bs_buf_dispose(&b);
        }
        bs_error_dispose(&verr);
    }

    for (size_t i = 0; i < count; i++) {
        if (items[i].col)
            json_object_put(items[i].col);
        if (items[i].existing)
            json_object_put(items[i].existing);
    }
    free(items);
    return rc;
}

int bs_collections_import(bs_app *app, const json_object *items,
                          bool delete_missing, bs_error *err)
{
    if (!json_object_is_type(items, json_type_array) ||
        json_object_array_length(items) == 0) {
        bs_error_set(err, 0, "no collections to import");
        return BS_EINVAL;
    }
    import_ctx ic = {.items = items, .delete_missing = delete_missing,
                     .err = err};
    return bs_run_in_transaction(app, import_tx, &ic, err);
}

json_object *bs_collections_import_parse(const char *text, size_t len,
                                         char *msg, size_t cap)
{
    json_object *v = NULL;
    if (bs_json_parse(text, len, &v) != 0 || !v) {
        snprintf(msg, cap, "the file is not valid JSON");
        return NULL;
    }
    if (json_object_is_type(v, json_type_object)) {
        json_object *c = bs_json_get(v, "collections");
        if (json_object_is_type(c, json_type_array)) {
            json_object_get(c);
            json_object_put(v);
            return c;
        }
        /* A single collection. */
        json_object *a = json_object_new_array();
        json_object_array_add(a, v);
        return a;
    }
    if (!json_object_is_type(v, json_type_array)) {
        snprintf(msg, cap,
                 "expected an array of collections or {\"collections\":[...]}");
        json_object_put(v);
        return NULL;
    }
    return v;
}
