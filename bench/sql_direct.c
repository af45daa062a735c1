/*
 * sql_direct.c - the cost of a list request's own SQL: runs the statements
 * Basalt generated for it (the `DEBUG sql list page:` and `list total:`
 * lines a `basalt serve --dev` writes, one JSON object each) straight
 * through the SQLite C API on a read-only connection with the readers'
 * pragmas, stepping every row and reading every column as Basalt does,
 * and prints the mean time of one set (page + total) in microseconds.
 * bench/run.sh's `sqlcost` scenario divides Basalt's per-request time by
 * it.
 *
 *   cc -O2 -o build/bench/sql_direct bench/sql_direct.c -lsqlite3 -ljson-c
 *   build/bench/sql_direct DATA.DB RUNS < statements.jsonl
 *
 * Prints one JSON line: statements, runs, us_per_set, rows (of the last
 * set).
 */
#define _POSIX_C_SOURCE 200809L
#include <json-c/json.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_STATEMENTS 8

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void bind_params(sqlite3_stmt *st, json_object *params)
{
    size_t n = params ? json_object_array_length(params) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *v = json_object_array_get_idx(params, i);
        int idx = (int)i + 1;
        if (!v)
            sqlite3_bind_null(st, idx);
        else if (json_object_is_type(v, json_type_int))
            sqlite3_bind_int64(st, idx, json_object_get_int64(v));
        else if (json_object_is_type(v, json_type_double))
            sqlite3_bind_double(st, idx, json_object_get_double(v));
        else
            sqlite3_bind_text(st, idx, json_object_get_string(v),
                              json_object_get_string_len(v), SQLITE_TRANSIENT);
    }
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: sql_direct DATA.DB RUNS < statements.jsonl\n");
        return 2;
    }
    int runs = atoi(argv[2]);
    sqlite3 *db;
    if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READONLY, NULL) !=
        SQLITE_OK) {
        fprintf(stderr, "sql_direct: cannot open %s\n", argv[1]);
        return 1;
    }
    sqlite3_exec(db,
                 "PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;"
                 "PRAGMA temp_store = MEMORY; PRAGMA cache_size = -4000;",
                 NULL, NULL, NULL);
    sqlite3_stmt *st[MAX_STATEMENTS];
    int n = 0;
    char *line = NULL;
    size_t cap = 0;
    while (n < MAX_STATEMENTS && getline(&line, &cap, stdin) > 0) {
        json_object *o = json_tokener_parse(line);
        json_object *sql = NULL, *params = NULL;
        if (!o || !json_object_object_get_ex(o, "sql", &sql))
            continue;
        json_object_object_get_ex(o, "params", &params);
        if (sqlite3_prepare_v3(db, json_object_get_string(sql), -1,
                               SQLITE_PREPARE_PERSISTENT, &st[n],
                               NULL) != SQLITE_OK) {
            fprintf(stderr, "sql_direct: %s\n", sqlite3_errmsg(db));
            return 1;
        }
        bind_params(st[n], params);
        n++;
        json_object_put(o);
    }
    free(line);
    if (n == 0) {
        fprintf(stderr, "sql_direct: no statements on stdin\n");
        return 1;
    }
    long rows = 0;
    double t0 = now_us();
    for (int r = 0; r < runs; r++) {
        rows = 0;
        for (int i = 0; i < n; i++) {
            while (sqlite3_step(st[i]) == SQLITE_ROW) {
                int cols = sqlite3_column_count(st[i]);
                for (int c = 0; c < cols; c++)
                    (void)sqlite3_column_text(st[i], c);
                rows++;
            }
            sqlite3_reset(st[i]);
        }
    }
    double per = (now_us() - t0) / (runs > 0 ? runs : 1);
    printf("{\"statements\":%d,\"runs\":%d,\"us_per_set\":%.1f,\"rows\":%ld}\n",
           n, runs, per, rows);
    for (int i = 0; i < n; i++)
        sqlite3_finalize(st[i]);
    sqlite3_close(db);
    return 0;
}
