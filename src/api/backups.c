/*
 * backups.c - the backups API (PocketBase's apis/backup*.go):
 *
 *   GET    /api/backups                [{key, size, modified}]   superuser
 *   POST   /api/backups                {name?}: 204 once stored  superuser
 *   POST   /api/backups/upload         multipart `file` (a zip)  superuser
 *   GET    /api/backups/{key}?token=   the file, ranges too      superuser
 *                                      file token
 *   DELETE /api/backups/{key}                                    superuser
 *   POST   /api/backups/{key}/restore  204, then restore and     superuser
 *                                      restart in the background
 *
 * The work is in src/core/backup.c; this file checks the requests and
 * shapes the answers. A create runs on the app's worker pool while its
 * connection waits suspended (src/http/defer.h), so no HTTP worker
 * thread is held for the length of a backup.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../base/json.h"
#include "../base/util.h"
#include "../core/auth.h"
#include "../core/backup.h"
#include "../core/files.h"
#include "../core/ratelimit.h"
#include "../core/record.h"
#include "../core/token.h"
#include "../http/body.h"
#include "../http/defer.h"
#include "../http/static.h"
#include "api.h"

static int backups_list(bs_event *e, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)e;
    bs_backups_fs fs;
    bs_backups_fs_open(e->app, &fs);
    char msg[300] = "";
    json_object *list = bs_backups_list(&fs, "", msg, sizeof msg);
    bs_backups_fs_close(&fs);
    if (!list) {
        bs_resp_status_error(
            r, 400,
            bs_arena_printf(&r->arena, "Failed to retrieve backup items. "
                                       "Raw error: \n%s", msg));
        return 0;
    }
    bs_resp_json(r, 200, list);
    json_object_put(list);
    return 0;
}

/* A POST /api/backups whose backup runs. */
typedef struct create_job {
    bs_defer *defer;
    bs_error err;
    int rc;
} create_job;

/* On the pool's thread, once the backup is stored or failed. */
static void create_done(void *user, int rc)
{
    create_job *j = user;
    j->rc = rc;
    bs_defer_resume(j->defer);
}

/* On the request's worker thread: the same answers as when the backup
 * ran on it. */
static void create_respond(bs_req *r, void *user)
{
    create_job *j = user;
    if (j->rc == 0) {
        bs_resp_empty(r, 204);
        return;
    }
    if (j->err.status != 400 || !j->err.message)
        bs_error_set(&j->err, 400, "Failed to create backup.");
    bs_resp_error(r, &j->err);
}

static void create_free(void *user)
{
    create_job *j = user;
    bs_error_dispose(&j->err);
    free(j);
}

static int backup_create(bs_event *e, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)e;
    bs_app *app = e->app;
    if (bs_backup_active(app, NULL, 0)) {
        bs_resp_status_error(r, 400, "Try again later - another "
                                     "backup/restore process has already "
                                     "been started");
        return 0;
    }
    bs_error err;
    bs_error_init(&err);
    json_object *body = NULL;
    if (bs_req_json_body(r, &body, &err) != 0) {
        bs_error_dispose(&err);
        return 0;
    }
    json_object *jn = bs_json_get(body, "name");
    const char *name = jn && json_object_is_type(jn, json_type_string)
                           ? json_object_get_string(jn)
                           : "";
    if (jn && !json_object_is_type(jn, json_type_string) &&
        !json_object_is_type(jn, json_type_null)) {
        bs_error_set(&err, 400, "An error occurred while loading the "
                                "submitted data.");
    } else if (*name) {
        bs_backups_fs fs;
        bs_backups_fs_open(app, &fs);
        if (strlen(name) > 150)
            bs_error_field(&err, "name", "validation_length_out_of_range",
                           "The length must be between 1 and 150.");
        else if (!bs_backup_name_valid(name))
            bs_error_field(&err, "name", "validation_match_invalid",
                           "Must be in a valid format");
        else if (bs_backups_exists(&fs, name) != 0)
            bs_error_field(&err, "name", "validation_backup_name_exists",
                           "The backup file name is invalid or already "
                           "exists.");
        bs_backups_fs_close(&fs);
        if (err.data)
            bs_error_set(&err, 400, "An error occurred while validating "
                                    "the submitted data.");
    }
    if (!err.message) {
        /* The backup runs on the app's pool; the connection waits
         * suspended meanwhile, so its worker thread serves others. */
        create_job *j = calloc(1, sizeof *j);
        bs_defer *d = j ? bs_resp_defer(r, create_respond, create_free, j)
                        : NULL;
        if (j && d) {
            bs_error_init(&j->err);
            j->defer = d;
            if (bs_backup_start(app, name, &j->err, create_done, j) != 0)
                create_done(j, BS_EHTTP);
        } else {
            free(j);
            bs_error_set(&err, 500, "Failed to create backup.");
        }
    }
    if (err.message && !r->defer) {
        if (err.status != 400)
            bs_error_set(&err, 400, "Failed to create backup.");
        bs_resp_error(r, &err);
    }
    json_object_put(body);
    bs_error_dispose(&err);
    return 0;
}

/* The upload's limit: a superuser may send a backup of any size (as in
 * PocketBase, which lifts the body limit of this route); anybody else
 * may send no file at all, so nothing is spooled for them. */
uint64_t bsa_backup_upload_limit(bs_app *app, bs_req *r)
{
    const char *h = bs_req_header(r, "Authorization");
    bs_auth *a = NULL;
    if (!h || !*h || bs_auth_from_token(app, h, &a) != 0)
        return 0;
    bool su = a->superuser;
    bs_auth_free(a);
    return su ? BS_UPLOAD_UNLIMITED : 0;
}

static int backup_upload(bs_event *e, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)e;
    bs_app *app = e->app;
    bs_error err;
    bs_error_init(&err);
    bs_body body = {0};
    if (bs_req_read_body(r, &body, &err) != 0) {
        bs_resp_error(r, &err);
        bs_error_dispose(&err);
        return 0;
    }
    bs_upload *u = NULL;
    for (int i = 0; i < body.nfiles && !u; i++) {
        if (strcmp(body.files[i].field, "file") == 0)
            u = &body.files[i];
    }
    bs_backups_fs fs;
    bs_backups_fs_open(app, &fs);
    char type[128] = "";
    if (u)
        bs_files_sniff(u, type);
    if (!u || u->over || u->size == 0) {
        bs_error_field(&err, "file", "validation_required",
                       "Cannot be blank.");
    } else if (strcmp(type, "application/zip") != 0) {
        char m[400];
        snprintf(m, sizeof m, "\"%.300s\" mime type must be one of: "
                              "application/zip.", u->filename);
        bs_error_field(&err, "file", "validation_invalid_mime_type", m);
    } else if (!bs_backup_key_ok(u->filename) ||
               bs_backups_exists(&fs, u->filename) != 0) {
        bs_error_field(&err, "file", "validation_backup_name_exists",
                       "Backup file with the specified name already "
                       "exists.");
    }
    if (err.data) {
        bs_error_set(&err, 400, "An error occurred while validating the "
                                "submitted data.");
        bs_resp_error(r, &err);
    } else {
        char msg[300];
        int rc;
        if (u->path) {
            rc = bs_backups_put(&fs, u->filename, u->path, msg, sizeof msg);
            /* The spooled file is gone (moved or uploaded). */
            free(u->path);
            u->path = NULL;
        } else {
            /* A small part kept in memory: written to a temp file. */
            char tmp[4200];
            snprintf(tmp, sizeof tmp, "%s/%s/upload_XXXXXX", app->data_dir,
                     BS_FILES_TMP);
            int fd = mkostemp(tmp, O_CLOEXEC);
            rc = fd < 0 ? BS_EIO : 0;
            if (fd >= 0) {
                if (write(fd, u->data.data, u->data.len) !=
                    (ssize_t)u->data.len)
                    rc = BS_EIO;
                close(fd);
                if (rc == 0)
                    rc = bs_backups_put(&fs, u->filename, tmp, msg,
                                        sizeof msg);
                unlink(tmp);
            }
        }
        if (rc)
            bs_resp_status_error(r, 400, "Failed to upload backup.");
        else
            bs_resp_empty(r, 204);
    }
    bs_backups_fs_close(&fs);
    bs_body_dispose(&body);
    bs_error_dispose(&err);
    return 0;
}

/* Whether the request's ?token= is a superuser's file token, from an
 * address settings.superuserIPs allows. */
static bool superuser_file_token(bs_req *r)
{
    bs_app *app = r->ev.app;
    const char *token = bs_req_query(r, "token");
    if (!token || !*token)
        return false;
    bs_schema *s = bs_app_schema(app);
    bs_record *who = NULL;
    bool ok = bs_token_find_record(app, s, token, BS_TOKEN_FILE, &who) == 0 &&
              strcmp(who->collection->name, "_superusers") == 0;
    bs_record_free(who);
    bs_schema_unref(s);
    if (ok) {
        bs_settings *st = bs_app_settings(app);
        ok = bs_superuser_ip_allowed(r, st->value);
        bs_settings_unref(st);
    }
    return ok;
}

static int backup_download(bs_event *e, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)e;
    if (!superuser_file_token(r)) {
        bs_resp_status_error(r, 403, "Insufficient permissions to access "
                                     "the resource.");
        return 0;
    }
    const char *key = bs_req_param(r, "key");
    bs_backups_fs fs;
    bs_backups_fs_open(e->app, &fs);
    bool served = false;
    if (bs_backup_key_ok(key)) {
        if (fs.s3_on) {
            served = bsa_serve_s3(r, &fs.s3, key, key) != NULL;
        } else {
            char p[4400];
            snprintf(p, sizeof p, "%s/%s", fs.dir, key);
            int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
            served = fd >= 0 && bs_static_serve_fd(r, fd, "application/zip");
        }
    }
    bs_backups_fs_close(&fs);
    if (!served) {
        bs_resp_status_error(r, 404, NULL);
        return 0;
    }
    bs_resp_header(r, "Content-Disposition",
                   bs_arena_printf(&r->arena, "attachment; filename=%s",
                                   key));
    return 0;
}

static int backup_delete(bs_event *e, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)e;
    const char *key = bs_req_param(r, "key");
    char active[256];
    if (bs_backup_active(e->app, active, sizeof active) &&
        strcmp(active, key) == 0) {
        bs_resp_status_error(r, 400, "The backup is currently being used "
                                     "and cannot be deleted.");
        return 0;
    }
    bs_backups_fs fs;
    bs_backups_fs_open(e->app, &fs);
    char msg[300] = "";
    int rc = bs_backups_delete(&fs, key, msg, sizeof msg);
    bs_backups_fs_close(&fs);
    if (rc)
        bs_resp_status_error(
            r, 400,
            bs_arena_printf(&r->arena, "Invalid or already deleted backup "
                                       "file. Raw error: \n%s", msg));
    else
        bs_resp_empty(r, 204);
    return 0;
}

/* The background half of a restore; arg is the key (freed here). */
static void restore_job(bs_app *app, void *arg)
{
    char *key = arg;
    /* Time for the 204 to leave before the process may be replaced. */
    usleep(1000 * 1000);
    bs_error err;
    bs_error_init(&err);
    if (bs_backup_restore(app, key, &err) != 0)
        bs_log('E', "Failed to restore backup %s: %s", key,
               err.message ? err.message : "?");
    bs_error_dispose(&err);
    free(key);
}

static int backup_restore(bs_event *e, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)e;
    if (bs_backup_active(e->app, NULL, 0)) {
        bs_resp_status_error(r, 400, "Try again later - another "
                                     "backup/restore process has already "
                                     "been started.");
        return 0;
    }
    const char *key = bs_req_param(r, "key");
    bs_backups_fs fs;
    bs_backups_fs_open(e->app, &fs);
    bool exists = bs_backups_exists(&fs, key) == 1;
    bs_backups_fs_close(&fs);
    if (!exists) {
        bs_resp_status_error(r, 400, "Missing or invalid backup file.");
        return 0;
    }
    char *k = strdup(key);
    if (!k || bs_app_go(e->app, restore_job, k) != 0) {
        free(k);
        bs_resp_status_error(r, 500, NULL);
        return 0;
    }
    bs_resp_empty(r, 204);
    return 0;
}

int bs_api_backups_register(bs_app *app)
{
    if (!bs_api_superuser_route(app, "GET", "/api/backups", backups_list) ||
        !bs_api_superuser_route(app, "POST", "/api/backups", backup_create) ||
        !bs_api_superuser_route(app, "POST", "/api/backups/upload",
                                backup_upload) ||
        !bs_router_add(app->router, "GET", "/api/backups/{key}",
                       backup_download, NULL) ||
        !bs_api_superuser_route(app, "DELETE", "/api/backups/{key}",
                                backup_delete) ||
        !bs_api_superuser_route(app, "POST", "/api/backups/{key}/restore",
                                backup_restore))
        return BS_ENOMEM;
    return 0;
}
