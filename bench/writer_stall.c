/*
 * writer_stall.c - how long plain record saves wait while other saves
 * hash passwords.
 *
 *   writer_stall [--passwords N]
 *
 * Opens an app on a temporary data dir with a one-field base collection.
 * One thread saves N users with a new password each (bcrypt, cost 10),
 * one after the other; the main thread meanwhile saves plain records as
 * fast as it can and times each save. When bcrypt runs under the writer
 * lock, a plain save that arrives during a hash waits for it (tens of
 * milliseconds); when the hash is made before the transaction, it waits
 * only for a short INSERT. Prints the plain saves' count and latency
 * percentiles (microseconds) and the password saves' wall time.
 *
 * Build (after `make`):
 *   P="libmicrohttpd json-c sqlite3 libcrypto libcrypt zlib libpcre2-8 libcurl"
 *   cc -O2 -D_GNU_SOURCE -Iinclude -Isrc $(pkg-config --cflags $P) \
 *      -o build/writer_stall bench/writer_stall.c build/libbasalt.a \
 *      $(pkg-config --libs $P) -lpthread -lm
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "basalt.h"
#include "core/app.h"
#include "core/collection.h"
#include "core/record.h"
#include "core/tx.h"

static bs_app *app;
static int n_passwords = 20;
static volatile int done;

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int create_collection_tx(bs_tx *tx, void *data)
{
    bs_error *err = data;
    json_object *col = json_tokener_parse(
        "{\"name\":\"notes\",\"type\":\"base\","
        "\"fields\":[{\"name\":\"title\",\"type\":\"text\"}]}");
    int rc = bs_collection_normalize(col, err);
    if (rc == 0)
        rc = bs_collection_create(bs_tx_conn(tx), col, err);
    json_object_put(col);
    return rc;
}

static int save(const char *coll, const char *field, const char *value,
                const char *password)
{
    bs_schema *s = bs_app_schema(app);
    bs_record *r = bs_record_new(s, bs_schema_find(s, coll));
    bs_record_set(r, field, json_object_new_string(value));
    if (password)
        bs_record_set(r, "password", json_object_new_string(password));
    bs_error err;
    bs_error_init(&err);
    int rc = bs_record_save(app, r, &err);
    bs_error_dispose(&err);
    bs_record_free(r);
    bs_schema_unref(s);
    return rc;
}

static double pw_wall_ms;

static void *password_saver(void *arg)
{
    (void)arg;
    double t0 = now_us();
    for (int i = 0; i < n_passwords; i++) {
        char email[64];
        snprintf(email, sizeof email, "user%d@example.com", i);
        if (save("users", "email", email, "1234567890") != 0)
            fprintf(stderr, "password save %d failed\n", i);
    }
    pw_wall_ms = (now_us() - t0) / 1e3;
    done = 1;
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--passwords") == 0)
            n_passwords = atoi(argv[++i]);
    }
    char dir[] = "/tmp/bs_writer_stall_XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    bs_app_config cfg = {.data_dir = dir, .threads = 2};
    app = bs_app_new(&cfg);
    bs_error err;
    bs_error_init(&err);
    if (!app || bs_app_bootstrap(app, &err) != 0 ||
        bs_run_in_transaction(app, create_collection_tx, &err, &err) != 0 ||
        bs_app_reload_schema(app) != 0) {
        fprintf(stderr, "setup failed\n");
        return 1;
    }
    bs_error_dispose(&err);

    size_t cap = 1 << 20, n = 0;
    double *lat = malloc(cap * sizeof *lat);
    pthread_t t;
    pthread_create(&t, NULL, password_saver, NULL);
    while (!done && n < cap) {
        double t0 = now_us();
        save("notes", "title", "plain", NULL);
        lat[n++] = now_us() - t0;
    }
    pthread_join(t, NULL);
    qsort(lat, n, sizeof *lat, cmp_double);
    printf("password saves: %d in %.0f ms\n", n_passwords, pw_wall_ms);
    printf("plain saves meanwhile: %zu (%.0f/s)\n", n,
           (double)n / (pw_wall_ms / 1e3));
    printf("plain save latency us: p50 %.0f  p99 %.0f  p99.9 %.0f  max %.0f\n",
           lat[n / 2], lat[n * 99 / 100], lat[n * 999 / 1000], lat[n - 1]);
    free(lat);
    bs_app_free(app);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : 1;
}
