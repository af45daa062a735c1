/*
 * files.c - the files API: GET /api/files/{collection}/{recordId}/{name}
 * (downloads and thumbs), POST /api/files/token (short-lived file
 * tokens), and the upload limits of streamed multipart bodies.
 *
 * A download answers 404 for everything it does not serve, as
 * PocketBase does: an unknown collection or record, a name that is not
 * in one of the record's file fields, and a protected file without a
 * file token whose record passes the collection's view rule. The name
 * is only ever looked up among the record's values and checked as a
 * single path component, so no request can reach outside the record's
 * folder.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/json.h"
#include "../base/util.h"
#include "../core/auth.h"
#include "../core/events.h"
#include "../core/files.h"
#include "../core/ratelimit.h"
#include "../core/record.h"
#include "../core/s3.h"
#include "../core/thumb.h"
#include "../core/token.h"
#include "../core/view.h"
#include "api.h"
#include "context.h"
#include "middleware.h"

#define FILE_ROUTE "/api/files/{collection}/{recordId}/{filename}"

/* ---- upload limits ------------------------------------------------------ */

/* The collection a records URL names ("/api/collections/{c}/records..."),
 * copied into out; false for any other URL. */
static bool records_collection(const char *url, char *out, size_t cap)
{
    static const char prefix[] = "/api/collections/";
    if (strncmp(url, prefix, sizeof prefix - 1) != 0)
        return false;
    const char *c = url + sizeof prefix - 1;
    size_t n = strcspn(c, "/?");
    if (n == 0 || n >= cap || strncmp(c + n, "/records", 8) != 0)
        return false;
    memcpy(out, c, n);
    out[n] = '\0';
    return true;
}

/* Adds a collection's file fields up: the largest maxSize, and the sum
 * of maxSize x maxSelect. */
static void file_sizes(const bs_collection *c, uint64_t *largest,
                       uint64_t *total)
{
    for (int i = 0; i < c->nfields; i++) {
        const bs_finfo *fi = &c->finfo[i];
        if (fi->type != BS_F_FILE)
            continue;
        uint64_t max = (uint64_t)bs_files_max_size(fi->def);
        int64_t sel = bs_json_get_int(fi->def, "maxSelect", 1);
        if (max > *largest)
            *largest = max;
        *total += max * (uint64_t)(sel > 1 ? sel : 1);
    }
}

uint64_t bsa_upload_limit(void *user, bs_req *r, const char *key)
{
    bs_app *app = user;
    char name[256];
    uint64_t largest = 0, total = 0;
    if (strncmp(r->url, "/api/backups/upload", 19) == 0 &&
        (r->url[19] == '\0' || r->url[19] == '?'))
        return bsa_backup_upload_limit(app, r);
    bs_schema *s = bs_app_schema(app);
    if (strncmp(r->url, "/api/batch", 10) == 0 &&
        (r->url[10] == '\0' || r->url[10] == '?')) {
        /* A batch's files may be for any collection: the bounds of all
         * of them; each item checks its own fields' sizes. */
        for (int i = 0; i < s->n; i++)
            file_sizes(&s->items[i], &largest, &total);
    } else if (records_collection(r->url, name, sizeof name)) {
        const bs_collection *c = bs_schema_find(s, name);
        if (c && key) {
            /* The field, without its modifier. */
            size_t n = strlen(key);
            const char *k = key[0] == '+' ? key + 1 : key;
            n = strlen(k);
            if (n && (k[n - 1] == '+' || k[n - 1] == '-'))
                n--;
            if (n < sizeof name) {
                memcpy(name, k, n);
                name[n] = '\0';
                const bs_finfo *fi = bs_collection_finfo(c, name);
                if (fi && fi->type == BS_F_FILE)
                    largest = (uint64_t)bs_files_max_size(fi->def);
            }
            total = largest;
        } else if (c) {
            file_sizes(c, &largest, &total);
        }
    }
    bs_schema_unref(s);
    return key ? largest : total;
}

/* ---- file token ---------------------------------------------------------- */

static int token_final(bs_event *e, void *user)
{
    bs_file_event *fe = (bs_file_event *)e;
    (void)user;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "token", json_object_new_string(fe->token));
    bs_resp_json(fe->req, 200, o);
    json_object_put(o);
    return 0;
}

static int token_handler(bs_event *e, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)e;
    bs_app *app = e->app;
    bs_error err;
    bs_error_init(&err);
    bs_schema *s = bs_app_schema(app);
    bs_record *rec = NULL;
    bs_buf tok;
    bs_buf_init(&tok);
    int rc = 0;
    const bs_collection *c = s ? bs_schema_find(s, r->auth->collection->id)
                               : NULL;
    bs_conn *conn = c ? bs_store_reader_acquire(app->store) : NULL;
    if (conn) {
        rc = bs_record_find(conn, s, c, r->auth->id, &rec);
        bs_store_reader_release(app->store, conn);
    }
    if (!rec || bs_token_for_record(rec, BS_TOKEN_FILE, 0, false, NULL,
                                    &tok) != 0 || tok.oom) {
        bs_resp_status_error(r, 400, "Failed to generate file token.");
        goto done;
    }
    bs_file_event fe = {.ev = {.app = app,
                               .tags = {c->id, c->name},
                               .error = &err},
                        .req = r,
                        .collection = c->name,
                        .record = rec,
                        .token = tok.data};
    rc = bs_trigger_file(app, BS_ON_FILE_TOKEN_REQUEST, &fe, token_final,
                         NULL);
    if (rc && !r->responded)
        bs_req_fail(r, rc, &err);
done:
    bs_buf_dispose(&tok);
    bs_record_free(rec);
    bs_schema_unref(s);
    bs_error_dispose(&err);
    return 0;
}

/* ---- download ----------------------------------------------------------- */

/* The content type a file is served as: the stored one, but by extension
 * for the types browsers must not guess (PocketBase's list). */
static const char *serve_type(bs_req *r, const char *stored, const char *name)
{
    static const char *by_ext[] = {".svg", ".css", ".js", ".mjs", ".xlsx",
                                   ".docx", ".pptx"};
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof by_ext / sizeof by_ext[0]; i++)
        if (strcasecmp(dot, by_ext[i]) == 0)
            return bs_mime_by_name(name);
    if (!stored || !stored[0])
        return bs_mime_by_name(name);
    return bs_arena_strdup(&r->arena, stored);
}

/* Types shown inline; everything else is an attachment. */
static bool inline_type(const char *t)
{
    static const char *types[] = {
        "image/png",  "image/jpg",  "image/jpeg", "image/gif",
        "image/webp", "image/x-icon", "image/bmp", "video/webm",
        "video/mp4",  "video/3gpp", "video/quicktime", "video/x-ms-wmv",
        "audio/basic", "audio/aiff", "audio/mpeg", "audio/midi",
        "audio/mp3",  "audio/wave", "audio/wav", "audio/x-wav",
        "audio/x-mpeg", "audio/x-m4a", "audio/aac", "application/pdf",
        "application/x-pdf"};
    size_t n = strcspn(t, ";");
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strlen(types[i]) == n && strncasecmp(t, types[i], n) == 0)
            return true;
    return false;
}

typedef struct download {
    bool force_attachment;
    const bs_s3 *s3; /* files on S3: served_path is the object's key */
} download;

const char *bsa_serve_s3(bs_req *r, const bs_s3 *s3, const char *key,
                         const char *name)
{
    bs_s3_attrs a;
    if (bs_s3_head(s3, key, &a) != 0)
        return NULL;
    const char *type = serve_type(r, a.type, name);
    uint64_t from, len;
    /* Response headers are kept by reference: the ETag goes to the
     * request's arena. */
    const char *etag = a.etag[0] ? bs_arena_strdup(&r->arena, a.etag) : NULL;
    if (!bs_static_prepare(r, a.size, a.mtime, etag,
                           type, &from, &len) ||
        len == 0)
        return type;
    bs_s3_stream *st = NULL;
    if (bs_s3_stream_open(s3, key, from, len, &st) != 0) {
        bs_resp_status_error(r, 500, NULL);
        return type;
    }
    r->body_read = bs_s3_stream_read;
    r->body_free = bs_s3_stream_free;
    r->body_ctx = st;
    r->body_size = len;
    return type;
}

static int download_final(bs_event *e, void *user)
{
    bs_file_event *fe = (bs_file_event *)e;
    download *d = user;
    bs_req *r = fe->req;
    const char *type;
    if (d->s3) {
        type = bsa_serve_s3(r, d->s3, fe->served_path, fe->served_name);
        if (!type) {
            bs_resp_status_error(r, 404, NULL);
            return 0;
        }
    } else {
        int fd = open(fe->served_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) {
            bs_resp_status_error(r, 404, NULL);
            return 0;
        }
        char stored[128];
        bs_files_read_type(fe->served_path, stored);
        type = serve_type(r, stored, fe->served_name);
        if (!bs_static_serve_fd(r, fd, type)) {
            bs_resp_status_error(r, 404, NULL);
            return 0;
        }
    }
    const char *disp =
        d->force_attachment || !inline_type(type) ? "attachment" : "inline";
    bs_resp_header(r, "Content-Disposition",
                   bs_arena_printf(&r->arena, "%s; filename=%s", disp,
                                   fe->served_name));
    bs_resp_header(r, "Content-Security-Policy",
                   "default-src 'none'; media-src 'self'; style-src "
                   "'unsafe-inline'; sandbox");
    bs_resp_header(r, "Cache-Control",
                   "max-age=2592000, stale-while-revalidate=86400");
    return 0;
}

/* Thumbs on S3 are made one at a time: the original is fetched to the
 * spool folder, the thumb made beside it and uploaded, both removed. */
static pthread_mutex_t s3_thumb_lock = PTHREAD_MUTEX_INITIALIZER;

static int s3_thumb(bs_app *app, const bs_s3 *s3, const char *src_key,
                    const char *type, const bs_thumb_size *z,
                    const char *dst_key)
{
    pthread_mutex_lock(&s3_thumb_lock);
    bs_s3_attrs a;
    int rc = bs_s3_head(s3, dst_key, &a);
    if (rc == BS_ENOTFOUND) {
        char src[4096], dst[4200], dst_attrs[4300], ttype[128], msg[300];
        snprintf(src, sizeof src, "%s/%s/thumbsrc_XXXXXX", app->data_dir,
                 BS_FILES_TMP);
        int fd = mkostemp(src, O_CLOEXEC);
        rc = fd < 0 ? BS_EIO : 0;
        if (fd >= 0)
            close(fd);
        snprintf(dst, sizeof dst, "%s.thumb", src);
        snprintf(dst_attrs, sizeof dst_attrs, "%s.attrs", dst);
        if (rc == 0)
            rc = bs_s3_get_file(s3, src_key, src);
        if (rc == 0)
            rc = bs_thumb_ensure(src, type, z, dst);
        if (rc == 0) {
            bs_files_read_type(dst, ttype);
            rc = bs_s3_put_file(s3, dst_key, dst, ttype, NULL, msg,
                                sizeof msg);
            if (rc)
                bs_log('E', "S3 thumb upload failed: %s", msg);
        }
        if (fd >= 0) {
            unlink(src);
            unlink(dst);
            unlink(dst_attrs);
        }
    }
    pthread_mutex_unlock(&s3_thumb_lock);
    return rc;
}

static bool superuser_ip_allowed(bs_req *r)
{
    bs_settings *s = bs_app_settings(r->ev.app);
    bool ok = bs_superuser_ip_allowed(r, s->value);
    bs_settings_unref(s);
    return ok;
}

/* Whether the requester may see a protected file: the file token's
 * record becomes @request.auth, and the view rule must select the
 * record (an empty rule lets anybody through). */
static bool protected_allowed(bsa_req *rr, const bs_record *rec)
{
    bs_req *r = rr->r;
    const char *token = bs_req_query(r, "token");
    bs_auth *file_auth = NULL;
    if (token && *token) {
        bs_record *who = NULL;
        if (bs_token_find_record(r->ev.app, rr->schema, token,
                                 BS_TOKEN_FILE, &who) != 0)
            who = NULL;
        else if (strcmp(who->collection->name, "_superusers") == 0 &&
            !superuser_ip_allowed(r)) {
            /* A superuser's file token from outside settings.superuserIPs
             * counts for nobody. */
            bs_record_free(who);
            who = NULL;
        }
        if (who) {
            file_auth = calloc(1, sizeof *file_auth);
            bs_conn *conn = bs_store_reader_acquire(r->ev.app->store);
            if (file_auth &&
                bs_record_row_load(conn, who->collection, bs_record_id(who),
                                   &file_auth->record) == 0) {
                bs_schema_ref(rr->schema);
                file_auth->schema = rr->schema;
                file_auth->collection =
                    bs_schema_find(rr->schema, who->collection->id);
                file_auth->id =
                    bs_json_get_str(file_auth->record, "id", "");
                file_auth->superuser =
                    strcmp(who->collection->name, "_superusers") == 0;
            } else {
                free(file_auth);
                file_auth = NULL;
            }
            bs_store_reader_release(r->ev.app->store, conn);
            bs_record_free(who);
        }
    }
    /* The file token alone says who asks, as in PocketBase. */
    bs_auth *saved = r->auth;
    r->auth = file_auth;
    if (rr->info) {
        json_object_put(rr->info);
        rr->info = NULL;
    }
    bs_error err;
    bs_error_init(&err);
    bool ok = bsa_req_matches_rule(rr, rec->collection, bs_record_id(rec),
                                   rec->collection->rules[BS_RULE_VIEW],
                                   &err);
    bs_error_dispose(&err);
    r->auth = saved;
    if (rr->info) {
        json_object_put(rr->info);
        rr->info = NULL;
    }
    if (file_auth && file_auth->collection)
        bs_auth_free(file_auth);
    else if (file_auth)
        free(file_auth);
    return ok;
}

static int download_handler(bs_event *e, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)e;
    bs_app *app = e->app;
    bsa_req rr;
    bsa_req_init(&rr, r, bs_req_param(r, "collection"));
    const char *id = bs_req_param(r, "recordId");
    const char *name = bs_req_param(r, "filename");
    bs_record *rec = NULL;
    if (!rr.c || !bs_files_name_valid(id) || !bs_files_name_valid(name))
        goto notfound;
    if (!bs_api_collection_rate_allowed(r, rr.c, FILE_ROUTE, "file"))
        goto done;
    bs_conn *conn = bs_store_reader_acquire(app->store);
    int rc = bs_record_find(conn, rr.schema, rr.c, id, &rec);
    bs_store_reader_release(app->store, conn);
    if (rc)
        goto notfound;
    const bs_finfo *field = NULL;
    for (int i = 0; i < rr.c->nfields && !field; i++) {
        const bs_finfo *fi = &rr.c->finfo[i];
        if (fi->type == BS_F_FILE &&
            bs_files_value_has(bs_json_get(rec->data, fi->name), name))
            field = fi;
    }
    if (!field)
        goto notfound;
    if (bs_json_get_bool(field->def, "protected", false) &&
        !protected_allowed(&rr, rec))
        goto notfound;

    /* A view's file is served from the record it comes from. */
    const char *coll_id = rr.c->id, *rec_id = id;
    if (strcmp(rr.c->type, "view") == 0) {
        const bs_collection *src = NULL;
        char *src_id = NULL;
        if (bs_view_file_record(app, rr.schema, rr.c, field->name, name, &src,
                                &src_id) != 0)
            goto notfound;
        coll_id = src->id;
        rec_id = bs_arena_strdup(&r->arena, src_id);
        free(src_id);
    }
    bs_s3 s3;
    bool on_s3 = bs_files_s3(app, &s3);
    char path[4096];
    char stored_type[128] = "";
    if (on_s3) {
        bs_s3_attrs a;
        if (!bs_files_key(path, sizeof path, coll_id, rec_id, name) ||
            bs_s3_head(&s3, path, &a) != 0) {
            bs_s3_dispose(&s3);
            goto notfound;
        }
        snprintf(stored_type, sizeof stored_type, "%s", a.type);
    } else if (!bs_files_path(app, path, sizeof path, coll_id, rec_id,
                              name)) {
        goto notfound;
    } else {
        bs_files_read_type(path, stored_type);
    }
    bs_file_event fe = {.ev = {.app = app,
                               .tags = {rr.c->id, rr.c->name},
                               .error = &rr.err},
                        .req = r,
                        .collection = rr.c->name,
                        .record = rec,
                        .field = field->name,
                        .served_path = bs_arena_strdup(&r->arena, path),
                        .served_name = name};
    /* A thumb: only of a size the field lists (or 100x100, which the
     * dashboard uses), only of an image; else the original. */
    const char *thumb = bs_req_query(r, "thumb");
    if (thumb && *thumb) {
        bs_thumb_size z;
        char type[128];
        snprintf(type, sizeof type, "%s", stored_type);
        bool listed = strcmp(thumb, "100x100") == 0;
        json_object *sizes = bs_json_get(field->def, "thumbs");
        size_t ns = sizes && json_object_is_type(sizes, json_type_array)
                        ? json_object_array_length(sizes)
                        : 0;
        for (size_t i = 0; i < ns && !listed; i++)
            listed = strcmp(json_object_get_string(
                                json_object_array_get_idx(sizes, i)),
                            thumb) == 0;
        if (!type[0])
            snprintf(type, sizeof type, "%s", bs_mime_by_name(name));
        if (!bs_thumb_parse(thumb, &z) || !listed) {
            fe.thumb_error = "The thumb size is not allowed.";
        } else if (!bs_thumb_supported(type)) {
            fe.thumb_error = "The file is not an image thumbs are made of.";
        } else {
            char dir[4300];
            snprintf(dir, sizeof dir, "thumbs_%s", name);
            char tpath[4096];
            const char *tname = bs_arena_printf(&r->arena, "%s_%s", thumb,
                                                name);
            bool ok = on_s3 ? bs_files_key(tpath, sizeof tpath, coll_id,
                                           rec_id, dir)
                            : bs_files_path(app, tpath, sizeof tpath,
                                            coll_id, rec_id, dir);
            if (ok && strlen(tpath) + strlen(tname) + 2 < sizeof tpath) {
                strcat(tpath, "/");
                strcat(tpath, tname);
                int trc = on_s3 ? s3_thumb(app, &s3, path, type, &z, tpath)
                                : bs_thumb_ensure(path, type, &z, tpath);
                if (trc == 0)
                    fe.served_path = bs_arena_strdup(&r->arena, tpath);
                else
                    fe.thumb_error = "Failed to make the thumb.";
            }
        }
    }
    download d = {.force_attachment = bs_req_query_bool(r, "download"),
                  .s3 = on_s3 ? &s3 : NULL};
    rc = bs_trigger_file(app, BS_ON_FILE_DOWNLOAD_REQUEST, &fe,
                         download_final, &d);
    if (on_s3)
        bs_s3_dispose(&s3);
    if (rc && !r->responded)
        bs_req_fail(r, rc, &rr.err);
    goto done;

notfound:
    bs_resp_status_error(r, 404, NULL);
done:
    bs_record_free(rec);
    bsa_req_dispose(&rr);
    return 0;
}

int bs_api_files_register(bs_app *app)
{
    if (!bs_router_add(app->router, "GET", FILE_ROUTE, download_handler,
                       NULL))
        return BS_ENOMEM;
    bs_route *t = bs_router_add(app->router, "POST", "/api/files/token",
                                token_handler, NULL);
    bs_hook *mw = t ? bs_route_middlewares(t) : NULL;
    bs_handler h = {.id = "pbRequireAuth", .priority = -1000,
                    .fn = bs_require_auth};
    if (!mw || bs_hook_bind(mw, &h) != 0)
        return BS_ENOMEM;
    return 0;
}
