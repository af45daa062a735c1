/*
 * auth_lookup.c - finding records for the auth endpoints: auth records
 * by email or by an identity field (through its single-column unique
 * index, case-insensitive when the index says NOCASE), whether a value
 * is taken, and the records of the auth system collections (_otps,
 * _mfas, _authOrigins, _externalAuths) that refer to an auth record.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../base/json.h"
#include "../core/auth.h"
#include "../core/rules.h"
#include "../schema/index.h"
#include "auth_internal.h"

static int find_by_field(auth_api *api, bs_schema *schema,
                         const bs_collection *c, const char *field,
                         const char *value, bool nocase, bs_record **out)
{
    bs_record_where w = {.column = field, .value = value, .nocase = nocase};
    return bs_record_find_first_where(api->app, schema, c, &w, 1, NULL, out);
}

int bsa_auth_find_by_email(auth_api *api, bs_schema *schema,
                           const bs_collection *c, const char *email,
                           bs_record **out)
{
    bool nocase = false;
    bs_indexes_single_unique(c->indexes, "email", &nocase);
    return find_by_field(api, schema, c, "email", email, nocase, out);
}

bool bsa_auth_value_taken(auth_req *ar, const char *field, const char *value)
{
    bool nocase = false;
    if (!bs_indexes_single_unique(ar->q.c->indexes, field, &nocase))
        return false;
    bs_record *other = NULL;
    int rc = find_by_field(ar->api, ar->q.schema, ar->q.c, field, value, nocase,
                           &other);
    bs_record_free(other);
    return rc == 0;
}

bool bsa_auth_identity_allowed(const bs_collection *c, const char *field)
{
    json_object *fields = bs_json_get(bs_json_get(c->options, "passwordAuth"),
                                      "identityFields");
    size_t n = fields && json_object_is_type(fields, json_type_array)
                   ? json_object_array_length(fields)
                   : 0;
    for (size_t i = 0; i < n; i++) {
        const char *f =
            json_object_get_string(json_object_array_get_idx(fields, i));
        if (f && strcmp(f, field) == 0)
            return true;
    }
    return false;
}

int bsa_auth_find_by_identity(auth_api *api, bs_schema *schema,
                              const bs_collection *c, const char *field,
                              const char *value, bs_record **out)
{
    *out = NULL;
    bool nocase = false;
    if (!bsa_auth_identity_allowed(c, field) ||
        !bs_collection_field(c, field) ||
        !bs_indexes_single_unique(c->indexes, field, &nocase))
        return BS_ENOTFOUND;
    return find_by_field(api, schema, c, field, value, nocase, out);
}

int64_t bsa_auth_date_secs(const char *s)
{
    struct tm tm = {0};
    if (!s || sscanf(s, "%d-%d-%d %d:%d:%d", &tm.tm_year, &tm.tm_mon,
                     &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm);
}

const bs_collection *bsa_auth_system_collection(auth_req *ar, const char *name)
{
    return bs_schema_find(ar->q.schema, name);
}

int bsa_auth_refs_of(auth_req *ar, const char *coll, const bs_record *rec,
                     bs_record ***out, int *n)
{
    *out = NULL;
    *n = 0;
    const bs_collection *c = bsa_auth_system_collection(ar, coll);
    if (!c)
        return BS_ENOTFOUND;
    bs_record_where w[2] = {
        {.column = "collectionRef", .value = rec->collection->id},
        {.column = "recordRef", .value = bs_record_id(rec)}};
    bs_record_page page;
    int rc = bs_record_find_where(ar->q.r->ev.app, ar->q.schema, c, w, 2,
                                  "created DESC, rowid DESC", 0, &page);
    if (rc == 0) {
        *out = page.items;
        *n = page.n;
    }
    return rc;
}

void bsa_auth_free_recs(bs_record **recs, int n)
{
    for (int i = 0; i < n; i++)
        bs_record_free(recs[i]);
    free(recs);
}

int bsa_auth_find_system_record(auth_req *ar, const char *coll, const char *id,
                                bs_record **out)
{
    *out = NULL;
    const bs_collection *c = bsa_auth_system_collection(ar, coll);
    if (!c)
        return BS_ENOTFOUND;
    bs_conn *conn = bs_store_reader_acquire(ar->q.r->ev.app->store);
    int rc = bs_record_find(conn, ar->q.schema, c, id, out);
    bs_store_reader_release(ar->q.r->ev.app->store, conn);
    return rc;
}

