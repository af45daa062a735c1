/*
 * hooks_noop.c - Basalt with N do-nothing handlers on the record hooks.
 *
 * It serves the normal API, like `basalt serve`, after binding N handlers
 * that only continue the chain to each hook a record create and a record
 * view run through (the request, validate, create, execute, after-success
 * and enrich hooks). bench/run.sh's `hooks` scenario compares it with
 * build/basalt to measure what bound handlers cost per request.
 *
 *   build/examples/hooks_noop [DATA_DIR] [ADDR] [N]
 *
 * DATA_DIR defaults to pb_data, ADDR to 127.0.0.1:8090, and N to the
 * environment variable HOOKS_NOOP_N or else 10 (0 binds nothing).
 */
#include <basalt.h>
#include <stdio.h>
#include <stdlib.h>

static int noop(bs_event *e, void *user)
{
    (void)user;
    return bs_event_next(e);
}

static const bs_hook_id HOOKS[] = {
    BS_ON_RECORD_CREATE_REQUEST,
    BS_ON_RECORD_VIEW_REQUEST,
    BS_ON_RECORD_CREATE,
    BS_ON_RECORD_VALIDATE,
    BS_ON_RECORD_CREATE_EXECUTE,
    BS_ON_RECORD_AFTER_CREATE_SUCCESS,
    BS_ON_RECORD_ENRICH,
};

/* Binds n no-op handlers to every hook in HOOKS. */
static int bind_noops(bs_app *app, long n)
{
    for (size_t h = 0; h < sizeof HOOKS / sizeof HOOKS[0]; h++)
        for (long i = 0; i < n; i++) {
            bs_handler handler = {.fn = noop};
            int rc = bs_hook_bind(bs_app_hook(app, HOOKS[h]), &handler);
            if (rc)
                return rc;
        }
    return 0;
}

int main(int argc, char **argv)
{
    const char *n_text = argc > 3 ? argv[3] : getenv("HOOKS_NOOP_N");
    char *end = NULL;
    long n = n_text && *n_text ? strtol(n_text, &end, 10) : 10;
    if ((end && *end) || n < 0 || n > 100000) {
        fprintf(stderr, "hooks_noop: N must be a number from 0 to 100000\n");
        return 2;
    }
    bs_app_config cfg = {
        .data_dir = argc > 1 ? argv[1] : "pb_data",
        .http_addr = argc > 2 ? argv[2] : "127.0.0.1:8090",
    };
    bs_app *app = bs_app_new(&cfg);
    if (!app)
        return 1;
    bs_error err;
    bs_error_init(&err);
    int rc = bs_app_bootstrap(app, &err);
    if (rc == 0)
        rc = bind_noops(app, n);
    if (rc == 0) {
        fprintf(stderr, "hooks_noop: %ld no-op handlers on each of %zu hooks\n",
                n, sizeof HOOKS / sizeof HOOKS[0]);
        rc = bs_app_serve(app, true, &err);
    }
    if (rc)
        fprintf(stderr, "hooks_noop: %s\n",
                err.message ? err.message : bs_strerror(rc));
    bs_error_dispose(&err);
    bs_app_free(app);
    return rc ? 1 : 0;
}
