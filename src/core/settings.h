/*
 * settings.h - application settings stored in `_params` (id "settings").
 *
 * The settings are a JSON document with PocketBase's shape. A bs_settings
 * is an immutable, reference-counted snapshot; changing settings builds a
 * new document, validates it, saves it and swaps the snapshot.
 */
#ifndef BS_SETTINGS_H
#define BS_SETTINGS_H

#include <json-c/json.h>
#include <stdatomic.h>

#include "../db/store.h"

typedef struct bs_settings {
    atomic_int refs;
    json_object *value; /* full document, secrets included */
} bs_settings;

/* A new snapshot holding the defaults of a fresh install. */
bs_settings *bs_settings_new_default(void);

/* Wraps value (taking its reference) in a new snapshot. */
bs_settings *bs_settings_wrap(json_object *value);

void bs_settings_ref(bs_settings *s);
void bs_settings_unref(bs_settings *s);

/* Loads the stored settings merged over the defaults. *found tells
 * whether a row existed. */
int bs_settings_load(bs_conn *conn, bs_settings **out, bool *found);

/* Inserts or replaces the stored row (inside the caller's transaction). */
int bs_settings_save(bs_conn *conn, const json_object *value, bs_error *err);

/* Checks a full settings document; fills err with field errors (paths
 * like "meta.appName") and returns BS_EHTTP when invalid. */
int bs_settings_validate(const json_object *value, bs_error *err);

/* A copy for clients: the SMTP password and S3 secrets removed. */
json_object *bs_settings_public(const json_object *value);

#endif
