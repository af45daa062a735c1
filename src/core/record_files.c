/*
 * record_files.c - what a record save does with file fields.
 *
 * A client's upload reaches the record as a bs_record_file: a new name
 * and the borrowed upload (spooled to storage/.tmp by the HTTP layer).
 * The field's value names it like any stored file. The save validates
 * the names (new uploads against maxSize and mimeTypes, other names
 * against the stored record's), writes the row, and only then moves the
 * kept uploads into storage, inside the transaction. What happens to
 * files after that waits for the transaction's outcome: on commit the
 * files the record no longer names are removed, on rollback the files
 * this save stored. Uploads the record does not keep (removed again in
 * the same request, or refused) are never stored; their spool files go
 * with the request.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/json.h"
#include "../base/util.h"
#include "../http/body.h"
#include "app.h"
#include "cluster.h"
#include "files.h"
#include "record.h"
#include "tx.h"

int bs_record_add_upload(bs_record *r, const bs_finfo *fi, bs_upload *u,
                         char name[160])
{
    bs_record_file *f =
        realloc(r->files, sizeof *f * (size_t)(r->nfiles + 1));
    if (!f)
        return BS_ENOMEM;
    r->files = f;
    f = &r->files[r->nfiles];
    memset(f, 0, sizeof *f);
    f->field = fi;
    f->upload = u;
    bs_files_sniff(u, f->type);
    int rc = bs_files_new_name(u->filename, bs_files_ext_for_type(f->type),
                               f->name);
    if (rc)
        return rc;
    r->nfiles++;
    snprintf(name, 160, "%s", f->name);
    return 0;
}

void bs_record_files_clear(bs_record *r)
{
    free(r->files);
    r->files = NULL;
    r->nfiles = 0;
}

/* The pending upload of field fi named name, or NULL. */
static bs_record_file *pending(const bs_record *r, const bs_finfo *fi,
                               const char *name)
{
    for (int i = 0; i < r->nfiles; i++)
        if (r->files[i].field == fi && strcmp(r->files[i].name, name) == 0)
            return &r->files[i];
    return NULL;
}

/* Calls fn for every name in a file field's value (a string or an
 * array of strings). */
static void each_name(const json_object *v, void (*fn)(void *, const char *),
                      void *user)
{
    if (!v)
        return;
    if (json_object_is_type(v, json_type_array)) {
        size_t n = json_object_array_length(v);
        for (size_t i = 0; i < n; i++) {
            json_object *x = json_object_array_get_idx(v, i);
            if (json_object_is_type(x, json_type_string) &&
                json_object_get_string_len(x))
                fn(user, json_object_get_string(x));
        }
    } else if (json_object_is_type(v, json_type_string) &&
               json_object_get_string_len(v)) {
        fn(user, json_object_get_string((json_object *)v));
    }
}

typedef struct check_ctx {
    const bs_record *r;
    const bs_finfo *fi;
    bs_error *err;
    bool ok;
} check_ctx;

static void check_one(void *user, const char *name)
{
    check_ctx *c = user;
    if (!c->ok)
        return;
    const json_object *def = c->fi->def;
    bs_record_file *f = pending(c->r, c->fi, name);
    char msg[512];
    if (!f) {
        /* A stored record loaded without its original values (a
         * cascade's clean-up saves such records) keeps what it has. */
        if (!c->r->is_new && !c->r->original)
            return;
        const json_object *old =
            c->r->original ? bs_json_get(c->r->original, c->fi->name) : NULL;
        if (bs_files_value_has(old, name))
            return;
        snprintf(msg, sizeof msg, "Invalid new files: %s.", name);
        bs_error_field(c->err, c->fi->name, "validation_invalid_file", msg);
        c->ok = false;
        return;
    }
    int64_t max = bs_files_max_size(def);
    if (f->upload->over || f->upload->size > (uint64_t)max) {
        snprintf(msg, sizeof msg,
                 "Failed to upload \"%s\" - the maximum allowed file size "
                 "is %lld bytes.",
                 f->upload->filename ? f->upload->filename : name,
                 (long long)max);
        bs_error_field(c->err, c->fi->name, "validation_file_size_limit",
                       msg);
        c->ok = false;
        return;
    }
    const json_object *types = bs_json_get(def, "mimeTypes");
    if (!bs_files_type_allowed(types, f->type)) {
        bs_buf allowed;
        bs_buf_init(&allowed);
        size_t n = json_object_array_length(types);
        for (size_t i = 0; i < n; i++) {
            if (i)
                bs_buf_puts(&allowed, ",");
            bs_buf_puts(&allowed, json_object_get_string(
                                      json_object_array_get_idx(types, i)));
        }
        snprintf(msg, sizeof msg,
                 "Failed to upload \"%s\" due to unsupported file type. "
                 "Allowed types: %s.",
                 f->upload->filename ? f->upload->filename : name,
                 allowed.data ? allowed.data : "");
        bs_buf_dispose(&allowed);
        bs_error_field(c->err, c->fi->name, "validation_invalid_mime_type",
                       msg);
        c->ok = false;
    }
}

bool bs_record_files_validate(const bs_record *r, const bs_finfo *fi,
                              const json_object *v, bs_error *err)
{
    check_ctx c = {r, fi, err, true};
    each_name(v, check_one, &c);
    return c.ok;
}

/* ---- storing and removing ---------------------------------------------- */

/* What waits for the transaction's outcome: names stored by the save
 * (removed on rollback) and names dropped by it (removed on commit). */
typedef struct files_after {
    char *collection;
    char *record;       /* the folder of the new files */
    char *old_record;   /* the folder of the dropped ones */
    bool whole_record;  /* a delete: the record's folder goes */
    int nplaced, ndropped;
    char **placed;
    char **dropped;
} files_after;

static void after_free(void *p)
{
    files_after *a = p;
    for (int i = 0; i < a->nplaced; i++)
        free(a->placed[i]);
    for (int i = 0; i < a->ndropped; i++)
        free(a->dropped[i]);
    free(a->placed);
    free(a->dropped);
    free(a->collection);
    free(a->record);
    free(a->old_record);
    free(a);
}

static void after_run(bs_app *app, void *data, bool committed)
{
    files_after *a = data;
    if (a->whole_record) {
        if (committed)
            bs_files_remove_dir(app, a->collection, a->record);
        return;
    }
    if (committed) {
        for (int i = 0; i < a->ndropped; i++)
            bs_files_remove(app, a->collection, a->old_record, a->dropped[i]);
    } else {
        for (int i = 0; i < a->nplaced; i++)
            bs_files_remove(app, a->collection, a->record, a->placed[i]);
    }
}

static int push(char ***list, int *n, const char *s)
{
    char **l = realloc(*list, sizeof *l * (size_t)(*n + 1));
    if (!l)
        return BS_ENOMEM;
    *list = l;
    l[*n] = strdup(s);
    if (!l[*n])
        return BS_ENOMEM;
    (*n)++;
    return 0;
}

static bool has_file_fields(const bs_collection *c)
{
    for (int i = 0; i < c->nfields; i++)
        if (c->finfo[i].type == BS_F_FILE)
            return true;
    return false;
}

static files_after *after_new(const bs_record *r, const char *folder,
                              const char *old_folder)
{
    files_after *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->collection = strdup(r->collection->id);
    a->record = strdup(folder);
    a->old_record = strdup(old_folder);
    if (!a->collection || !a->record || !a->old_record) {
        after_free(a);
        return NULL;
    }
    return a;
}

typedef struct drop_ctx {
    files_after *a;
    const json_object *now;
    int rc;
} drop_ctx;

static void drop_one(void *user, const char *name)
{
    drop_ctx *d = user;
    if (!d->rc && !bs_files_value_has(d->now, name))
        d->rc = push(&d->a->dropped, &d->a->ndropped, name);
}

/* Whether a file stored now can be read by every node: always for a
 * single node, or nodes sharing one data directory (SQLite); when nodes
 * share a PostgreSQL database over the bus, only on S3. */
static bool files_reach_every_node(bs_app *app)
{
    bs_s3 s3;
    if (!bs_cluster_running(app) || !bs_store_is_pg(app->store))
        return true;
    if (!bs_files_s3(app, &s3))
        return false;
    bs_s3_dispose(&s3);
    return true;
}

int bs_record_files_store(bs_tx *tx, bs_record *r, bs_error *err)
{
    if (!has_file_fields(r->collection))
        return 0;
    bs_app *app = bs_tx_app(tx);
    const char *old_id =
        r->original ? bs_json_get_str(r->original, "id", "") : "";
    files_after *a = after_new(r, bs_record_id(r),
                               *old_id ? old_id : bs_record_id(r));
    if (!a || bs_tx_after(tx, after_run, a, after_free) != 0) {
        if (a)
            after_free(a);
        return bs_error_set(err, 500, "Failed to store the record files.");
    }
    /* The files the record drops: those of the stored values it no longer
     * names. */
    for (int i = 0; i < r->collection->nfields && r->original; i++) {
        const bs_finfo *fi = &r->collection->finfo[i];
        if (fi->type != BS_F_FILE)
            continue;
        drop_ctx d = {a, bs_json_get(r->data, fi->name), 0};
        each_name(bs_json_get(r->original, fi->name), drop_one, &d);
        if (d.rc)
            return bs_error_set(err, 500, "Failed to store the record files.");
    }
    if (r->nfiles > 0 && !files_reach_every_node(app))
        return bs_error_set(err, 400,
                            "Several nodes share this database: record "
                            "files must be stored on S3 (enable it in the "
                            "settings) so that every node can serve them.");
    /* The new uploads it keeps. */
    for (int i = 0; i < r->nfiles; i++) {
        bs_record_file *f = &r->files[i];
        if (!bs_files_value_has(bs_json_get(r->data, f->field->name), f->name))
            continue;
        /* Listed first, so that a rollback also removes what a failed
         * put may have left. */
        int rc = push(&a->placed, &a->nplaced, f->name);
        if (rc == 0)
            rc = bs_files_put(app, r->collection->id, bs_record_id(r),
                              f->name, f->upload, f->type);
        if (rc) {
            bs_log('E', "Failed to store %s: %s", f->name, bs_strerror(rc));
            return bs_error_set(err, 400, "Failed to upload file.");
        }
    }
    bs_record_files_clear(r);
    return 0;
}

int bs_record_files_on_delete(bs_tx *tx, const bs_record *r)
{
    if (!has_file_fields(r->collection))
        return 0;
    files_after *a = after_new(r, bs_record_id(r), bs_record_id(r));
    if (!a)
        return BS_ENOMEM;
    a->whole_record = true;
    if (bs_tx_after(tx, after_run, a, after_free) != 0) {
        after_free(a);
        return BS_ENOMEM;
    }
    return 0;
}
