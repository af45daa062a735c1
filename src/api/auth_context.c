/*
 * auth_context.c - the request context of the auth endpoints: starting
 * and ending a handler on its auth collection, reading the submitted
 * body, form values with Go's binding rules, the field checks of the
 * forms (required, length, email) and the 400 answers built from them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/error.h"
#include "../base/json.h"
#include "../base/util.h"
#include "../core/rules.h"
#include "auth_internal.h"

int bsa_auth_begin(bs_req *r, auth_api *api, auth_req *ar)
{
    memset(ar, 0, sizeof *ar);
    bsa_req_init(&ar->q, r, bs_req_param(r, "collection"));
    ar->api = api;
    if (!ar->q.c || !bs_collection_is_auth(ar->q.c)) {
        bs_resp_status_error(r, 404, "Missing or invalid auth collection "
                                     "context.");
        return BS_ENOTFOUND;
    }
    return 0;
}

void bsa_auth_end(auth_req *ar)
{
    bsa_req_dispose(&ar->q);
}

void bsa_fail_loading(auth_req *ar)
{
    bs_resp_status_error(ar->q.r, 400, "An error occurred while loading the "
                                     "submitted data.");
}

int bsa_auth_read_body(auth_req *ar)
{
    bs_error err;
    bs_error_init(&err);
    int rc = bs_req_read_body(ar->q.r, &ar->q.body, &err);
    bs_error_dispose(&err);
    if (rc) {
        bsa_fail_loading(ar);
        return rc;
    }
    ar->q.have_body = true;
    return 0;
}

bool bsa_form_str(auth_req *ar, const char *key, const char **out)
{
    *out = "";
    json_object *v = ar->q.have_body ? bs_json_get(ar->q.body.data, key) : NULL;
    if (!v)
        return true;
    if (ar->q.body.form && json_object_is_type(v, json_type_array)) {
        /* A form key sent several times: the first value binds. */
        if (json_object_array_length(v) == 0)
            return true;
        v = json_object_array_get_idx(v, 0);
        if (!v)
            return true;
    }
    if (!json_object_is_type(v, json_type_string))
        return false;
    *out = json_object_get_string(v);
    return true;
}

bool bsa_check_required(bs_error *e, const char *field, const char *v)
{
    if (v && *v)
        return true;
    bs_error_field(e, field, "validation_required", "Cannot be blank.");
    return false;
}

/* Length in characters (runes), as ozzo counts it. */
static size_t rune_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

bool bsa_check_length(bs_error *e, const char *field, const char *v, size_t min,
                      size_t max)
{
    if (!v || !*v)
        return true; /* emptiness is Required's business */
    size_t n = rune_len(v);
    if ((min && n < min) || (max && n > max)) {
        char msg[96];
        if (min == max) {
            snprintf(msg, sizeof msg, "The length must be exactly %zu.", min);
            bs_error_field(e, field, "validation_length_invalid", msg);
        } else if (!min) {
            snprintf(msg, sizeof msg, "The length must be no more than %zu.",
                     max);
            bs_error_field(e, field, "validation_length_too_long", msg);
        } else if (!max) {
            snprintf(msg, sizeof msg, "The length must be no less than %zu.",
                     min);
            bs_error_field(e, field, "validation_length_too_short", msg);
        } else {
            snprintf(msg, sizeof msg,
                     "The length must be between %zu and %zu.", min, max);
            bs_error_field(e, field, "validation_length_out_of_range", msg);
        }
        return false;
    }
    return true;
}

bool bsa_check_email(bs_error *e, const char *field, const char *v)
{
    if (!v || !*v || bs_email_valid(v))
        return true;
    bs_error_field(e, field, "validation_is_email",
                   "Must be a valid email address.");
    return false;
}

static int key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void bsa_fail_validation(auth_req *ar, const char *message)
{
    /* Go marshals the errors map with sorted keys. */
    json_object *data = ar->q.err.data;
    if (data) {
        size_t n = (size_t)json_object_object_length(data), i = 0;
        const char **keys = calloc(n ? n : 1, sizeof *keys);
        if (keys) {
            json_object_object_foreach(data, k, v) {
                (void)v;
                keys[i++] = k;
            }
            qsort(keys, n, sizeof *keys, key_cmp);
            json_object *sorted = json_object_new_object();
            for (i = 0; i < n; i++)
                json_object_object_add(
                    sorted, keys[i],
                    json_object_get(bs_json_get(data, keys[i])));
            free(keys);
            json_object_put(data);
            ar->q.err.data = sorted;
        }
    }
    bs_error_set(&ar->q.err, 400, "%s", message);
    bs_resp_error(ar->q.r, &ar->q.err);
}

void bsa_random_password(char out[31])
{
    if (bs_random_string(out, 30,
                         "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                         "0123456789") != 0)
        strcpy(out, "fallback-password-never-used-0");
}

