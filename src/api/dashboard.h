/*
 * dashboard.h - the admin dashboard's files, built from ui/ and compiled
 * into the library (scripts/embed_ui.py writes the table at build time),
 * and the routes that serve them at /_/.
 */
#ifndef BS_API_DASHBOARD_H
#define BS_API_DASHBOARD_H

#include <stddef.h>

typedef struct bs_ui_asset {
    const char *path;            /* relative to /_/, e.g. "assets/app-X.js" */
    const char *content_type;
    const unsigned char *data;
    size_t len;
    const unsigned char *gz;     /* the gzipped bytes, or NULL */
    size_t gz_len;
} bs_ui_asset;

/* The generated table, sorted by path. */
extern const bs_ui_asset bs_ui_assets[];
extern const size_t bs_ui_nassets;

/* The asset at path (relative to /_/; "" is index.html), or NULL. */
const bs_ui_asset *bs_ui_find(const char *path);

#endif
