/*
 * dashboard.c - serves the admin dashboard (ui/, built and compiled into
 * the library as the bs_ui_assets table) at /_/.
 *
 *   GET /_                  redirect to "_/" (relative, so it also works
 *                           under a sub-path behind a reverse proxy)
 *   GET /_/                 index.html: never cached, with a strict CSP
 *   GET /_/assets/NAME-HASH cached for a year (the name changes with the
 *                           content)
 *
 * The dashboard itself is a single-page app with hash routes (#/...), so
 * the server never needs to know its pages; it reaches the server only
 * through the public API. Files are sent gzipped to clients that accept
 * it (the table holds both forms).
 */
#include <string.h>

#include "api.h"
#include "dashboard.h"

/* No inline script or style, no eval, nothing from another origin; the
 * API and the realtime stream are same-origin (connect-src 'self'). */
#define DASHBOARD_CSP                                                       \
    "default-src 'self'; script-src 'self'; style-src 'self'; "            \
    "img-src 'self' data: blob:; media-src 'self' blob:; "                 \
    "connect-src 'self'; font-src 'self'; object-src 'none'; "             \
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

const bs_ui_asset *bs_ui_find(const char *path)
{
    if (!path || !*path)
        path = "index.html";
    size_t lo = 0, hi = bs_ui_nassets;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp(path, bs_ui_assets[mid].path);
        if (cmp == 0)
            return &bs_ui_assets[mid];
        if (cmp < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

static bool accepts_gzip(bs_req *r)
{
    const char *ae = bs_req_header(r, "Accept-Encoding");
    return ae && strstr(ae, "gzip");
}

static int dashboard_redirect(bs_req *r)
{
    bs_resp_empty(r, 301);
    bs_resp_header(r, "Location", "_/");
    return 0;
}

static int dashboard_file(bs_event *e, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)e;
    /* The wildcard route also takes "/_" itself: relative asset URLs
     * need the trailing slash. */
    if (r->url && strncmp(r->url, "/_", 2) == 0 &&
        (r->url[2] == '\0' || r->url[2] == '?'))
        return dashboard_redirect(r);
    const bs_ui_asset *a = bs_ui_find(bs_req_param(r, "path"));
    if (!a) {
        bs_resp_status_error(r, 404, "File not found.");
        return 0;
    }
    bool hashed = strncmp(a->path, "assets/", 7) == 0;
    bool gz = a->gz && accepts_gzip(r);
    if (gz)
        bs_resp_raw(r, 200, a->content_type, (const char *)a->gz, a->gz_len);
    else
        bs_resp_raw(r, 200, a->content_type, (const char *)a->data, a->len);
    if (gz)
        bs_resp_header(r, "Content-Encoding", "gzip");
    if (a->gz)
        bs_resp_header(r, "Vary", "Accept-Encoding");
    bs_resp_header(r, "Cache-Control", hashed
                                           ? "public, max-age=31536000, immutable"
                                           : "no-cache");
    bs_resp_header(r, "Content-Security-Policy", DASHBOARD_CSP);
    bs_resp_header(r, "X-Content-Type-Options", "nosniff");
    bs_resp_header(r, "Referrer-Policy", "same-origin");
    return 0;
}

int bs_api_dashboard_register(bs_app *app)
{
    if (!bs_router_add(app->router, "GET", "/_/{path...}", dashboard_file,
                       NULL))
        return BS_ENOMEM;
    return 0;
}
