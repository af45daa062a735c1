/*
 * backup.c - backups of pb_data (see backup.h): the backups store,
 * creation from online snapshots, checked restores that restart the
 * process, and the __pbAutoBackup__ job.
 *
 * Design. PocketBase zips pb_data inside write transactions on both
 * databases, so every write waits for the whole zip. Here the databases
 * are copied first, each by a read transaction of its own that writers
 * never wait for (src/db/snapshot.c), and the zip is built from those
 * copies and the storage files afterwards, with no lock held. A storage
 * file written during the zip may or may not be in it, as with any copy
 * of a live folder; record rows and their files are saved by one
 * transaction each, so a restored row whose file is missing can only
 * come from a file added after its row's snapshot, which the snapshot
 * does not hold.
 *
 * A restore prepares everything it can fail at (fetching, checking,
 * extracting, the integrity checks) before it touches pb_data. The swap
 * itself holds the writer, moves the current entries into a temp
 * folder and the extracted ones into pb_data, and restarts; when a move
 * or the restart fails, the moves are undone in reverse.
 */
#include "backup.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../base/json.h"
#include "../base/util.h"
#include "../db/snapshot.h"
#include "../db/store.h"
#include "../base/stats.h"
#include "app.h"
#include "archive.h"
#include "cron.h"
#include "events.h"
#include "mail.h"
#include "metrics.h"

extern char **environ;

/* ---- the backups store ---------------------------------------------------- */

void bs_backups_fs_open(bs_app *app, bs_backups_fs *fs)
{
    memset(fs, 0, sizeof *fs);
    fs->app = app;
    bs_settings *s = bs_app_settings(app);
    if (s)
        fs->s3_on = bs_s3_from_json(
            &fs->s3, bs_json_get(bs_json_get(s->value, "backups"), "s3"));
    bs_settings_unref(s);
    snprintf(fs->dir, sizeof fs->dir, "%s/%s", app->data_dir,
             BS_BACKUPS_DIR);
}

void bs_backups_fs_close(bs_backups_fs *fs)
{
    if (fs->s3_on)
        bs_s3_dispose(&fs->s3);
    fs->s3_on = false;
}

bool bs_backup_key_ok(const char *key)
{
    size_t n = key ? strlen(key) : 0;
    if (n == 0 || n > 255 || key[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)key[i];
        if (c == '/' || c == '\\' || c < 0x20 || c == 0x7f)
            return false;
    }
    return true;
}

bool bs_backup_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n < 5 || n > 150 || strcmp(name + n - 4, ".zip") != 0)
        return false;
    for (size_t i = 0; i < n - 4; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '-'))
            return false;
    }
    return true;
}

static void add_item(json_object *list, const char *key, uint64_t size,
                     int64_t mtime)
{
    char when[25];
    bs_time_str(mtime, 0, when);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "key", json_object_new_string(key));
    json_object_object_add(o, "modified", json_object_new_string(when));
    json_object_object_add(o, "size", json_object_new_int64((int64_t)size));
    json_object_array_add(list, o);
}

typedef struct s3_keys {
    const char *prefix;
    json_object *keys;
} s3_keys;

static void collect_key(void *user, const char *key)
{
    s3_keys *k = user;
    /* Only objects at the bucket's root are backups. */
    if (!strchr(key, '/'))
        json_object_array_add(k->keys, json_object_new_string(key));
}

static int cmp_items(const void *a, const void *b)
{
    const json_object *x = *(json_object *const *)a;
    const json_object *y = *(json_object *const *)b;
    return strcmp(bs_json_get_str(x, "key", ""), bs_json_get_str(y, "key", ""));
}

json_object *bs_backups_list(bs_backups_fs *fs, const char *prefix,
                             char *msg, size_t cap)
{
    json_object *list = json_object_new_array();
    size_t plen = strlen(prefix);
    if (fs->s3_on) {
        s3_keys k = {.prefix = prefix, .keys = json_object_new_array()};
        if (bs_s3_list(&fs->s3, prefix, collect_key, &k, msg, cap) != 0) {
            json_object_put(k.keys);
            json_object_put(list);
            return NULL;
        }
        size_t n = json_object_array_length(k.keys);
        for (size_t i = 0; i < n; i++) {
            const char *key =
                json_object_get_string(json_object_array_get_idx(k.keys, i));
            bs_s3_attrs a;
            if (bs_s3_head(&fs->s3, key, &a) == 0)
                add_item(list, key, a.size, a.mtime);
        }
        json_object_put(k.keys);
    } else {
        DIR *d = opendir(fs->dir);
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL) {
            size_t n = strlen(e->d_name);
            struct stat st;
            /* PocketBase's local store keeps attributes in "<key>.attrs"
             * beside each backup: not backups themselves. */
            if (!bs_backup_key_ok(e->d_name) ||
                strncmp(e->d_name, prefix, plen) != 0 ||
                (n > 6 && strcmp(e->d_name + n - 6, ".attrs") == 0) ||
                fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
                !S_ISREG(st.st_mode))
                continue;
            add_item(list, e->d_name, (uint64_t)st.st_size, st.st_mtime);
        }
        if (d)
            closedir(d);
    }
    json_object_array_sort(list, cmp_items);
    return list;
}

int bs_backups_exists(bs_backups_fs *fs, const char *key)
{
    if (!bs_backup_key_ok(key))
        return 0;
    if (fs->s3_on) {
        bs_s3_attrs a;
        int rc = bs_s3_head(&fs->s3, key, &a);
        return rc == 0 ? 1 : rc == BS_ENOTFOUND ? 0 : BS_EIO;
    }
    char p[4400];
    snprintf(p, sizeof p, "%s/%s", fs->dir, key);
    struct stat st;
    return lstat(p, &st) == 0 && S_ISREG(st.st_mode) ? 1 : 0;
}

int bs_backups_delete(bs_backups_fs *fs, const char *key, char *msg,
                      size_t cap)
{
    int ex = bs_backups_exists(fs, key);
    if (ex <= 0) {
        snprintf(msg, cap, ex == 0 ? "not found" : "the store failed");
        return ex == 0 ? BS_ENOTFOUND : BS_EIO;
    }
    if (fs->s3_on)
        return bs_s3_delete(&fs->s3, key, msg, cap);
    char p[4400];
    snprintf(p, sizeof p, "%s/%s", fs->dir, key);
    if (unlink(p) != 0) {
        snprintf(msg, cap, "%s", strerror(errno));
        return BS_EIO;
    }
    snprintf(p, sizeof p, "%s/%s.attrs", fs->dir, key);
    unlink(p);
    return 0;
}

/* Copies the file from into the new file to (for stores on another
 * file system). */
static int copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = in < 0 || out < 0 ? BS_EIO : 0;
    char buf[64 * 1024];
    while (rc == 0) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n == 0)
            break;
        if (n < 0 || write(out, buf, (size_t)n) != n)
            rc = BS_EIO;
    }
    if (in >= 0)
        close(in);
    if (out >= 0 && close(out) != 0)
        rc = BS_EIO;
    return rc;
}

int bs_backups_put(bs_backups_fs *fs, const char *key, const char *path,
                   char *msg, size_t cap)
{
    int rc;
    if (!bs_backup_key_ok(key)) {
        snprintf(msg, cap, "invalid name");
        rc = BS_EINVAL;
    } else if (fs->s3_on) {
        rc = bs_s3_put_file(&fs->s3, key, path, "application/zip", key, msg,
                            cap);
    } else {
        char p[4400];
        snprintf(p, sizeof p, "%s/%s", fs->dir, key);
        rc = mkdir(fs->dir, 0755) == 0 || errno == EEXIST ? 0 : BS_EIO;
        if (rc == 0 && rename(path, p) != 0) {
            rc = errno == EXDEV ? copy_file(path, p) : BS_EIO;
        }
        if (rc)
            snprintf(msg, cap, "%s: %s", p, strerror(errno));
    }
    unlink(path);
    return rc;
}

void bs_backup_default_name(bs_app *app, const char *prefix, char *out,
                            size_t cap)
{
    bs_settings *s = bs_app_settings(app);
    const char *name =
        s ? bs_json_get_str(bs_json_get(s->value, "meta"), "appName", "") : "";
    /* Go's inflector.Snakecase: words split at anything but letters and
     * digits, joined by '_', with a '_' before an upper-case letter that
     * follows a lower-case one, all lower-cased. */
    char snake[64];
    size_t n = 0;
    bool in_word = false;
    for (const char *p = name; *p && n < 50; p++) {
        unsigned char c = (unsigned char)*p;
        if (!isalnum(c)) {
            in_word = false;
            continue;
        }
        if (!in_word && n > 0)
            snake[n++] = '_';
        else if (in_word && isupper(c) && !isupper((unsigned char)p[-1]) &&
                 n < 49)
            snake[n++] = '_';
        if (n < 50)
            snake[n++] = (char)tolower(c);
        in_word = true;
    }
    snake[n] = '\0';
    bs_settings_unref(s);
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    char ts[16];
    strftime(ts, sizeof ts, "%Y%m%d%H%M%S", &tm);
    snprintf(out, cap, "%s%s_%s.zip", prefix, snake, ts);
}

/* ---- the one operation at a time ------------------------------------------ */

bool bs_backup_active(bs_app *app, char *out, size_t cap)
{
    pthread_mutex_lock(&app->backup_lock);
    bool on = app->backup_active != NULL;
    if (out && cap)
        snprintf(out, cap, "%s", on ? app->backup_active : "");
    pthread_mutex_unlock(&app->backup_lock);
    return on;
}

/* Marks an operation on key as running; false when one already is. */
static bool begin_op(bs_app *app, const char *key)
{
    pthread_mutex_lock(&app->backup_lock);
    bool ok = app->backup_active == NULL;
    if (ok)
        app->backup_active = strdup(key ? key : "");
    pthread_mutex_unlock(&app->backup_lock);
    return ok;
}

static void set_op(bs_app *app, const char *key)
{
    pthread_mutex_lock(&app->backup_lock);
    char *k = strdup(key);
    if (k) {
        free(app->backup_active);
        app->backup_active = k;
    }
    pthread_mutex_unlock(&app->backup_lock);
}

static void end_op(bs_app *app)
{
    pthread_mutex_lock(&app->backup_lock);
    free(app->backup_active);
    app->backup_active = NULL;
    pthread_mutex_unlock(&app->backup_lock);
}

static int busy(bs_error *err)
{
    return bs_error_set(err, 400, "Try again later - another backup/restore "
                                  "process has already been started.");
}

/* Creates pb_data/.pb_temp_to_delete/<prefix>XXXXXX, a new folder. */
static int make_work_dir(bs_app *app, const char *prefix, char *out,
                         size_t cap)
{
    snprintf(out, cap, "%s/%s", app->data_dir, BS_BACKUP_TEMP_DIR);
    if (mkdir(out, 0755) != 0 && errno != EEXIST)
        return BS_EIO;
    snprintf(out, cap, "%s/%s/%sXXXXXX", app->data_dir, BS_BACKUP_TEMP_DIR,
             prefix);
    return mkdtemp(out) ? 0 : BS_EIO;
}

void bs_backup_clean_temp(bs_app *app)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/%s", app->data_dir, BS_BACKUP_TEMP_DIR);
    bs_remove_tree(AT_FDCWD, p);
}

/* ---- creating ------------------------------------------------------------- */

static const char *const create_exclude[] = {
    BS_BACKUPS_DIR, BS_BACKUP_TEMP_DIR, ".notify", ".autocert_cache",
    "lost+found",
};

/* Not in the archive as they are: the live databases (their snapshots
 * are added instead) and the upload spool. */
static const char *const live_files[] = {
    "data.db", "data.db-wal", "data.db-shm", "data.db-journal",
    "auxiliary.db", "auxiliary.db-wal", "auxiliary.db-shm",
    "auxiliary.db-journal", "auxiliary.db-logs", "storage/.tmp",
};

#define NLIVE (sizeof live_files / sizeof live_files[0])

/* What the creating step reports besides the client's error. */
typedef struct create_out {
    bs_error *err;
    char *why;   /* the cause of a failure, for the log and the alert */
    size_t cap;
} create_out;

static int create_final(bs_event *ev, void *user)
{
    bs_backup_event *e = (bs_backup_event *)ev;
    bs_app *app = ev->app;
    create_out *out = user;
    bs_error *err = out->err;
    char name[256];
    if (!e->name || !*e->name)
        bs_backup_default_name(app, "pb_backup_", name, sizeof name);
    else
        snprintf(name, sizeof name, "%s", e->name);
    if (!bs_backup_key_ok(name))
        return bs_error_set(err, 400, "Invalid backup name.");
    set_op(app, name);

    char work[4200], db[4300], aux[4300], zip[4300], msg[512] = "";
    int rc = make_work_dir(app, "pb_backup_", work, sizeof work);
    if (rc)
        return bs_error_set(err, 400, "Failed to create a temp dir.");
    snprintf(db, sizeof db, "%s/data.db", work);
    snprintf(aux, sizeof aux, "%s/auxiliary.db", work);
    snprintf(zip, sizeof zip, "%s/backup.zip", work);
    char src[4200];
    snprintf(src, sizeof src, "%s/data.db", app->data_dir);
    rc = bs_db_snapshot(src, db, msg, sizeof msg);
    if (rc == 0) {
        snprintf(src, sizeof src, "%s/auxiliary.db", app->data_dir);
        rc = bs_db_snapshot(src, aux, msg, sizeof msg);
    }
    if (rc == 0) {
        size_t nex = e->nexclude + NLIVE;
        const char **ex = calloc(nex ? nex : 1, sizeof *ex);
        if (!ex) {
            rc = BS_ENOMEM;
        } else {
            for (size_t i = 0; i < e->nexclude; i++)
                ex[i] = e->exclude[i];
            for (size_t i = 0; i < NLIVE; i++)
                ex[e->nexclude + i] = live_files[i];
            bs_archive_extra extra[] = {{"data.db", db},
                                        {"auxiliary.db", aux}};
            rc = bs_archive_create(zip, app->data_dir, ex, nex, extra, 2,
                                   msg, sizeof msg);
            free(ex);
        }
    }
    if (rc == 0) {
        bs_backups_fs fs;
        bs_backups_fs_open(app, &fs);
        rc = bs_backups_put(&fs, name, zip, msg, sizeof msg);
        bs_backups_fs_close(&fs);
    }
    bs_remove_tree(AT_FDCWD, work);
    if (rc) {
        bs_log('E', "Backup %s failed: %s", name, msg);
        if (out->why)
            snprintf(out->why, out->cap, "%s", msg);
        return bs_error_set(err, 400, "Failed to create backup.");
    }
    return 0;
}

/* The backup itself, with the operation already marked as running;
 * ends it. */
static int create_run(bs_app *app, const char *name, bs_error *err,
                      char *why, size_t cap)
{
    create_out out = {err, why, cap};
    int64_t t0 = bs_mono_ns();
    bs_backup_event e = {.ev = {.app = app, .error = err},
                         .name = name ? name : "",
                         .exclude = create_exclude,
                         .nexclude = sizeof create_exclude /
                                     sizeof create_exclude[0]};
    int rc = bs_trigger_backup(app, BS_ON_BACKUP_CREATE, &e, create_final,
                               &out);
    if (rc && !err->message)
        bs_error_set(err, 400, "Failed to create backup.");
    bs_metrics_op_done(app->metrics, BS_METRICS_BACKUP_CREATE, "", rc == 0,
                       bs_mono_ns() - t0);
    end_op(app);
    return rc;
}

/* Backups copy SQLite files: a PostgreSQL store has its own tools
 * (pg_dump, base backups). */
static bool pg_refused(bs_app *app, bs_error *err)
{
    if (!app->store || !bs_store_is_pg(app->store))
        return false;
    bs_error_set(err, 400, "Backups are not supported on the PostgreSQL "
                           "store yet; back up the database with "
                           "PostgreSQL's own tools.");
    return true;
}

int bs_backup_create(bs_app *app, const char *name, bs_error *err)
{
    if (pg_refused(app, err))
        return BS_EHTTP;
    if (!begin_op(app, name))
        return busy(err);
    return create_run(app, name, err, NULL, 0);
}

typedef struct start_job {
    char *name;
    bs_error *err;
    void (*done)(void *user, int rc);
    void *user;
} start_job;

static void start_run(bs_app *app, void *arg)
{
    start_job *j = arg;
    int rc = create_run(app, j->name, j->err, NULL, 0);
    j->done(j->user, rc);
    free(j->name);
    free(j);
}

int bs_backup_start(bs_app *app, const char *name, bs_error *err,
                    void (*done)(void *user, int rc), void *user)
{
    if (pg_refused(app, err))
        return BS_EHTTP;
    start_job *j = calloc(1, sizeof *j);
    if (!j || !(j->name = strdup(name ? name : ""))) {
        free(j);
        return bs_error_set(err, 400, "Failed to create backup.");
    }
    j->err = err;
    j->done = done;
    j->user = user;
    if (!begin_op(app, name)) {
        free(j->name);
        free(j);
        return busy(err);
    }
    int rc = bs_app_go(app, start_run, j);
    if (rc) {
        end_op(app);
        free(j->name);
        free(j);
        return bs_error_set(err, 400, "Failed to create backup.");
    }
    return 0;
}

/* ---- restoring ------------------------------------------------------------ */

static const char *const restore_exclude[] = {
    BS_BACKUPS_DIR, BS_BACKUP_TEMP_DIR, ".autocert_cache", "lost+found",
};

static bool root_excluded(const bs_backup_event *e, const char *name)
{
    for (size_t i = 0; i < e->nexclude; i++) {
        if (strcmp(e->exclude[i], name) == 0)
            return true;
    }
    return false;
}

/* The entries moved by one step of a swap, to undo it. */
typedef struct moved {
    char **names;
    size_t n;
} moved;

static void moved_free(moved *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->names[i]);
    free(m->names);
    memset(m, 0, sizeof *m);
}

/* Moves every entry of from (except the excluded ones) into to,
 * recording them in m. Stops at the first failure. */
static int move_content(const bs_backup_event *e, const char *from,
                        const char *to, moved *m, char *msg, size_t cap)
{
    if (mkdir(to, 0755) != 0 && errno != EEXIST) {
        snprintf(msg, cap, "%s: %s", to, strerror(errno));
        return BS_EIO;
    }
    DIR *d = opendir(from);
    if (!d) {
        snprintf(msg, cap, "%s: %s", from, strerror(errno));
        return BS_EIO;
    }
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
            root_excluded(e, de->d_name))
            continue;
        char **grown = realloc(m->names, (m->n + 1) * sizeof *grown);
        char *nm = strdup(de->d_name);
        if (!grown || !nm) {
            free(nm);
            if (grown)
                m->names = grown;
            rc = BS_ENOMEM;
            break;
        }
        m->names = grown;
        char dst[8400];
        snprintf(dst, sizeof dst, "%s/%s", to, nm);
        if (renameat(dirfd(d), nm, AT_FDCWD, dst) != 0) {
            snprintf(msg, cap, "moving %s: %s", nm, strerror(errno));
            free(nm);
            rc = BS_EIO;
            break;
        }
        m->names[m->n++] = nm;
    }
    closedir(d);
    return rc;
}

/* Moves back the entries m recorded from from into to. */
static void move_back(const moved *m, const char *from, const char *to)
{
    for (size_t i = m->n; i-- > 0;) {
        char a[8400], b[8400];
        snprintf(a, sizeof a, "%s/%s", from, m->names[i]);
        snprintf(b, sizeof b, "%s/%s", to, m->names[i]);
        if (rename(a, b) != 0)
            bs_log('E', "Restore: cannot move %s back to %s: %s", a, b,
                   strerror(errno));
    }
}

/* Replaces the process by a new run of the same program with the same
 * arguments. Returns only on failure. */
static int restart(bs_app *app, char *msg, size_t cap)
{
    if (!app->argv || !app->argv[0]) {
        snprintf(msg, cap, "the program's arguments are unknown (the app "
                           "was not started by bs_app_start)");
        return BS_EINVAL;
    }
    fflush(NULL);
    /* Nothing but the standard streams survives: sockets, databases and
     * pipes opened without O_CLOEXEC are closed by the exec too. */
    close_range(3, ~0u, CLOSE_RANGE_CLOEXEC);
    execve("/proc/self/exe", app->argv, environ);
    snprintf(msg, cap, "execve: %s", strerror(errno));
    return BS_EIO;
}

/* Checks a database file of the extracted folder; optional ones may be
 * missing. */
static int check_db(const char *dir, const char *name, bool required,
                    char *msg, size_t cap)
{
    char p[4400];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    struct stat st;
    if (lstat(p, &st) != 0) {
        if (!required)
            return 0;
        snprintf(msg, cap, "%s is missing from the archive", name);
        return BS_EINVAL;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(msg, cap, "%s is not a file", name);
        return BS_EINVAL;
    }
    char why[400];
    if (bs_db_check_file(p, why, sizeof why) != 0) {
        snprintf(msg, cap, "%s: %s", name, why);
        return BS_EINVAL;
    }
    return 0;
}

static int restore_final(bs_event *ev, void *user)
{
    bs_backup_event *e = (bs_backup_event *)ev;
    bs_app *app = ev->app;
    bs_error *err = user;
    char work[4200], zip[4400], data[4400], old[4400], msg[600] = "";
    const char *key = e->name;
    bs_backups_fs fs;
    bs_backups_fs_open(app, &fs);
    int rc = bs_backups_exists(&fs, key) == 1 ? 0 : BS_ENOTFOUND;
    if (rc)
        snprintf(msg, sizeof msg, "missing or invalid backup file %s", key);
    if (rc == 0 && make_work_dir(app, "pb_restore_", work, sizeof work) != 0) {
        snprintf(msg, sizeof msg, "cannot create a temp dir");
        rc = BS_EIO;
    }
    if (rc) {
        bs_backups_fs_close(&fs);
        bs_log('E', "Restore of %s refused: %s", key, msg);
        return bs_error_set(err, 400, "Failed to restore backup: %s", msg);
    }
    if (fs.s3_on) {
        snprintf(zip, sizeof zip, "%s/backup.zip", work);
        if (bs_s3_get_file(&fs.s3, key, zip) != 0) {
            snprintf(msg, sizeof msg, "downloading %s failed", key);
            rc = BS_EIO;
        }
    } else {
        snprintf(zip, sizeof zip, "%s/%s", fs.dir, key);
    }
    bs_backups_fs_close(&fs);
    snprintf(data, sizeof data, "%s/data", work);
    snprintf(old, sizeof old, "%s/old_pb_data", work);
    if (rc == 0)
        rc = bs_archive_extract(zip, data, &bs_archive_default_limits, msg,
                                sizeof msg);
    if (rc == 0)
        rc = check_db(data, "data.db", true, msg, sizeof msg);
    if (rc == 0)
        rc = check_db(data, "auxiliary.db", false, msg, sizeof msg);
    if (rc) {
        bs_remove_tree(AT_FDCWD, work);
        bs_log('E', "Restore of %s refused, nothing changed: %s", key, msg);
        return bs_error_set(err, 400, "Failed to restore backup: %s", msg);
    }

    /* The swap: no write may start until the process is replaced. The
     * old content goes to the temp folder, which the next start empties
     * (the open database files keep working until then). */
    bs_conn *tx = NULL;
    bs_error txerr;
    bs_error_init(&txerr);
    rc = bs_store_tx_begin(app->store, &tx, &txerr);
    bs_error_dispose(&txerr);
    bs_conn *auxc = rc == 0 ? bs_store_aux_acquire(app->store) : NULL;
    moved out = {0}, in = {0};
    if (rc == 0)
        rc = move_content(e, app->data_dir, old, &out, msg, sizeof msg);
    if (rc == 0)
        rc = move_content(e, data, app->data_dir, &in, msg, sizeof msg);
    if (rc == 0) {
        bs_log('I', "Restore of %s: data swapped in, restarting", key);
        rc = restart(app, msg, sizeof msg);
    }
    /* Still here: undo. */
    move_back(&in, app->data_dir, data);
    move_back(&out, old, app->data_dir);
    moved_free(&in);
    moved_free(&out);
    if (auxc)
        bs_store_aux_release(app->store, auxc);
    if (tx) {
        bs_error_init(&txerr);
        bs_store_tx_end(app->store, false, &txerr);
        bs_error_dispose(&txerr);
    }
    bs_remove_tree(AT_FDCWD, work);
    bs_log('E', "Restore of %s failed, the old data is kept: %s", key, msg);
    return bs_error_set(err, 400, "Failed to restore backup: %s", msg);
}

int bs_backup_restore(bs_app *app, const char *key, bs_error *err)
{
    if (!bs_backup_key_ok(key))
        return bs_error_set(err, 400, "Missing or invalid backup file.");
    if (pg_refused(app, err))
        return BS_EHTTP;
    if (!begin_op(app, key))
        return busy(err);
    bs_backup_event e = {.ev = {.app = app, .error = err},
                         .name = key,
                         .exclude = restore_exclude,
                         .nexclude = sizeof restore_exclude /
                                     sizeof restore_exclude[0]};
    int64_t t0 = bs_mono_ns();
    int rc = bs_trigger_backup(app, BS_ON_BACKUP_RESTORE, &e, restore_final,
                               err);
    if (rc && !err->message)
        bs_error_set(err, 400, "Failed to restore backup.");
    bs_metrics_op_done(app->metrics, BS_METRICS_BACKUP_RESTORE, "", rc == 0,
                       bs_mono_ns() - t0);
    end_op(app);
    return rc;
}

/* ---- scheduled backups ---------------------------------------------------- */

static int cmp_modified_desc(const void *a, const void *b)
{
    const json_object *x = *(json_object *const *)a;
    const json_object *y = *(json_object *const *)b;
    int c = strcmp(bs_json_get_str(y, "modified", ""),
                   bs_json_get_str(x, "modified", ""));
    return c ? c
             : strcmp(bs_json_get_str(y, "key", ""),
                      bs_json_get_str(x, "key", ""));
}

static void auto_backup(bs_app *app, void *user)
{
    (void)user;
    if (!app->store)
        return;
    char name[256];
    bs_backup_default_name(app, BS_BACKUP_AUTO_PREFIX, name, sizeof name);
    bs_error err;
    bs_error_init(&err);
    char why[512] = "";
    int rc = begin_op(app, name) ? create_run(app, name, &err, why,
                                              sizeof why)
                                 : busy(&err);
    if (rc != 0) {
        const char *reason = *why ? why : err.message ? err.message : "?";
        bs_log('E', "[Backup cron] Failed to create backup %s: %s", name,
               reason);
        /* Nobody asked for this backup: tell the superusers. */
        if (bs_mail_send_backup_failed(app, name, reason) != 0)
            bs_log('E', "[Backup cron] Failed to send the failure alert");
    }
    bs_error_dispose(&err);

    bs_settings *s = bs_app_settings(app);
    int64_t keep =
        s ? bs_json_get_int(bs_json_get(s->value, "backups"), "cronMaxKeep", 0)
          : 0;
    bs_settings_unref(s);
    if (keep <= 0)
        return;
    bs_backups_fs fs;
    bs_backups_fs_open(app, &fs);
    char msg[300];
    json_object *list =
        bs_backups_list(&fs, BS_BACKUP_AUTO_PREFIX, msg, sizeof msg);
    if (!list) {
        bs_log('E', "[Backup cron] Failed to list backups: %s", msg);
    } else {
        json_object_array_sort(list, cmp_modified_desc);
        size_t n = json_object_array_length(list);
        for (size_t i = (size_t)keep; i < n; i++) {
            const char *k = bs_json_get_str(json_object_array_get_idx(list, i),
                                            "key", "");
            if (bs_backups_delete(&fs, k, msg, sizeof msg) != 0)
                bs_log('E', "[Backup cron] Failed to remove %s: %s", k, msg);
        }
        json_object_put(list);
    }
    bs_backups_fs_close(&fs);
}

static void load_job(bs_app *app)
{
    bs_settings *s = bs_app_settings(app);
    const char *expr =
        s ? bs_json_get_str(bs_json_get(s->value, "backups"), "cron", "") : "";
    if (!*expr)
        bs_cron_remove(app, BS_BACKUP_CRON_ID);
    else if (bs_cron_add(app, BS_BACKUP_CRON_ID, expr, auto_backup, NULL) != 0)
        bs_log('W', "Invalid backups.cron %s: no scheduled backups", expr);
    bs_settings_unref(s);
}

static int on_bootstrap(bs_event *e, void *user)
{
    (void)user;
    int rc = bs_event_next(e);
    if (rc == 0)
        load_job(e->app);
    return rc;
}

static int on_settings_reload(bs_event *e, void *user)
{
    (void)user;
    int rc = bs_event_next(e);
    load_job(e->app);
    return rc;
}

int bs_backup_bind(bs_app *app)
{
    bs_handler boot = {.id = "__pbAutoBackupBootstrap__",
                       .fn = on_bootstrap};
    bs_handler reload = {.id = "__pbAutoBackupReload__",
                         .fn = on_settings_reload};
    if (bs_hook_bind(app->hooks[BS_ON_BOOTSTRAP], &boot) != 0 ||
        bs_hook_bind(app->hooks[BS_ON_SETTINGS_RELOAD], &reload) != 0)
        return BS_ENOMEM;
    return 0;
}
