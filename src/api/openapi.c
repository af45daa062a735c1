/*
 * openapi.c - GET /api/openapi.json: an OpenAPI 3.1 description of the
 * live API, generated from the current collection schema.
 *
 * The document names every collection, with concrete paths per
 * collection (/api/collections/posts/records ...) so that a generated
 * client is typed per collection: records as the API returns them
 * (hidden fields left out, `expand` typed by relation), the bodies of
 * create and update (JSON, and multipart with file fields as binary
 * parts; the update modifiers `field+`, `+field`, `field-`; an auth
 * collection's password, passwordConfirm and oldPassword), the list
 * query parameters, and per auth collection the auth endpoints its
 * options enable. Then the routes that are the same for every schema:
 * files, realtime, batch and the system APIs (superusers only).
 *
 * What a field type becomes in JSON Schema is one table, `ftype_schemas`,
 * indexed by bs_ftype; the per-field refinements (select values, integer
 * numbers, arrays for multi-valued fields) are in field_schema().
 *
 * Generation costs a few milliseconds for a large schema, so the text is
 * cached with the schema and settings snapshots it was made from (both
 * are immutable and swapped as a whole on a change, so a pointer
 * comparison says whether it is current) and rebuilt on the first
 * request after a change.
 *
 * Who may read it: PocketBase has no such endpoint, and the document
 * reveals the schema (collection and field names, which auth methods are
 * on), which PocketBase shows only to superusers (GET /api/collections).
 * So it is for superusers by default; BASALT_OPENAPI_PUBLIC=1 in the
 * environment makes it public, for a deployment whose schema is no
 * secret (docs/openapi.md).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/json.h"
#include "../core/auth.h"
#include "../core/search.h"
#include "api.h"

/* ---- the field types ------------------------------------------------------ */

/* The JSON Schema of one value of a field type. */
typedef struct ftype_schema {
    const char *type;   /* JSON Schema type; NULL for any JSON value */
    const char *format; /* a format for required fields, or NULL */
    const char *desc;   /* a description, or NULL */
    bool response;      /* appears in records */
    bool request;       /* may be sent in create and update bodies */
    bool upload;        /* multipart: sent as file parts */
    bool modifiers;     /* takes `name+` / `name-` in updates (numbers;
                         * multi-valued types when multiple) */
} ftype_schema;

static const ftype_schema ftype_schemas[BS_F_COUNT] = {
    [BS_F_TEXT] = {"string", NULL, NULL, true, true, false, false},
    [BS_F_NUMBER] = {"number", NULL, NULL, true, true, false, true},
    [BS_F_BOOL] = {"boolean", NULL, NULL, true, true, false, false},
    [BS_F_EMAIL] = {"string", "email", NULL, true, true, false, false},
    [BS_F_URL] = {"string", "uri", NULL, true, true, false, false},
    [BS_F_EDITOR] = {"string", NULL, "HTML text.", true, true, false, false},
    [BS_F_DATE] = {"string", NULL,
                   "A UTC date as \"2006-01-02 15:04:05.000Z\", or \"\".",
                   true, true, false, false},
    [BS_F_AUTODATE] = {"string", NULL,
                       "A UTC date as \"2006-01-02 15:04:05.000Z\", set by "
                       "the server.",
                       true, false, false, false},
    [BS_F_SELECT] = {"string", NULL, NULL, true, true, false, true},
    [BS_F_JSON] = {NULL, NULL, "Any JSON value.", true, true, false, false},
    [BS_F_FILE] = {"string", NULL,
                   "A file name; the file is at "
                   "/api/files/{collection}/{recordId}/{filename}.",
                   true, true, true, true},
    [BS_F_RELATION] = {"string", NULL,
                       "The id of a record of the related collection.",
                       true, true, false, true},
    [BS_F_PASSWORD] = {"string", NULL, "Write-only: never returned.", false,
                       true, false, false},
    [BS_F_GEOPOINT] = {"object", NULL, "A point: longitude and latitude.",
                       true, true, false, false},
    [BS_F_UNKNOWN] = {NULL, NULL, NULL, true, true, false, false},
};

/* ---- building JSON -------------------------------------------------------- */

static json_object *obj(void)
{
    return json_object_new_object();
}

static json_object *str(const char *s)
{
    return json_object_new_string(s ? s : "");
}

static void put(json_object *o, const char *key, json_object *v)
{
    json_object_object_add(o, key, v);
}

static void put_str(json_object *o, const char *key, const char *s)
{
    put(o, key, str(s));
}

/* {"$ref":"#/components/<kind>/<name>"} */
static json_object *ref_to(const char *kind, const char *name)
{
    char buf[700];
    snprintf(buf, sizeof buf, "#/components/%s/%s", kind, name);
    json_object *o = obj();
    put_str(o, "$ref", buf);
    return o;
}

static json_object *schema_ref(const char *name)
{
    return ref_to("schemas", name);
}

/* {"type":type} with an optional description. */
static json_object *typed(const char *type, const char *desc)
{
    json_object *o = obj();
    if (type)
        put_str(o, "type", type);
    if (desc)
        put_str(o, "description", desc);
    return o;
}

static json_object *array_of(json_object *items)
{
    json_object *o = typed("array", NULL);
    put(o, "items", items);
    return o;
}

/* An object schema with the given properties object and required list
 * (either may be NULL). */
static json_object *object_of(json_object *props, json_object *required)
{
    json_object *o = typed("object", NULL);
    put(o, "properties", props ? props : obj());
    if (required && json_object_array_length(required) > 0)
        put(o, "required", required);
    else if (required)
        json_object_put(required);
    return o;
}

/* A name: "<collection>.<suffix>" (collection names have no dots). */
static const char *cname(char *buf, size_t cap, const bs_collection *c,
                         const char *suffix)
{
    snprintf(buf, cap, "%s%s%s", c->name, *suffix ? "." : "", suffix);
    return buf;
}

/* ---- field schemas -------------------------------------------------------- */

typedef enum shape { SHAPE_RESPONSE, SHAPE_JSON, SHAPE_FORM } shape;

/* One value of field f (not the array of a multi-valued field). */
static json_object *value_schema(const bs_finfo *f, shape sh)
{
    const ftype_schema *t = &ftype_schemas[f->type];
    if (sh == SHAPE_FORM && t->upload) {
        json_object *o = typed("string", "A file to upload.");
        put_str(o, "format", "binary");
        return o;
    }
    const char *type = t->type;
    if (f->type == BS_F_NUMBER && bs_json_get_bool(f->def, "onlyInt", false))
        type = "integer";
    json_object *o = typed(type, t->desc);
    if (t->format && f->required)
        put_str(o, "format", t->format);
    if (f->type == BS_F_GEOPOINT) {
        json_object *p = obj();
        put(p, "lon", typed("number", NULL));
        put(p, "lat", typed("number", NULL));
        json_object *req = json_object_new_array();
        json_object_array_add(req, str("lon"));
        json_object_array_add(req, str("lat"));
        json_object_put(o);
        o = object_of(p, req);
        put_str(o, "description", t->desc);
    }
    if (f->type == BS_F_SELECT) {
        json_object *vals = bs_json_get(f->def, "values");
        json_object *e = json_object_new_array();
        size_t n = vals ? json_object_array_length(vals) : 0;
        for (size_t i = 0; i < n; i++)
            json_object_array_add(
                e, str(json_object_get_string(
                       json_object_array_get_idx(vals, i))));
        /* An empty single select is "". */
        if (!f->multiple && (!f->required || sh != SHAPE_RESPONSE))
            json_object_array_add(e, str(""));
        put(o, "enum", e);
    }
    return o;
}

/* The schema of field f's value: an array for a multi-valued field. */
static json_object *field_schema(const bs_finfo *f, shape sh)
{
    json_object *v = value_schema(f, sh);
    return f->multiple ? array_of(v) : v;
}

/* ---- record schemas ------------------------------------------------------- */

/* The record as the API returns it. */
static json_object *record_schema(const bs_schema *s, const bs_collection *c)
{
    json_object *props = obj();
    json_object *req = json_object_new_array();
    json_object *cid = typed("string", NULL);
    put_str(cid, "const", c->id);
    json_object *cn = typed("string", NULL);
    put_str(cn, "const", c->name);
    put(props, "collectionId", cid);
    put(props, "collectionName", cn);
    json_object_array_add(req, str("collectionId"));
    json_object_array_add(req, str("collectionName"));
    json_object *expand = obj();
    bool auth = bs_collection_is_auth(c);
    for (int i = 0; i < c->nfields; i++) {
        const bs_finfo *f = &c->finfo[i];
        if (f->hidden || !ftype_schemas[f->type].response)
            continue;
        put(props, f->name, field_schema(f, SHAPE_RESPONSE));
        /* An auth record's email is left out for others unless
         * emailVisibility is on. */
        if (!(auth && strcmp(f->name, "email") == 0))
            json_object_array_add(req, str(f->name));
        if (f->type == BS_F_RELATION) {
            const bs_collection *rc = bs_schema_find(s, f->collection_id);
            if (rc) {
                json_object *r = schema_ref(rc->name);
                put(expand, f->name, f->multiple ? array_of(r) : r);
            }
        }
    }
    json_object *ex = object_of(expand, NULL);
    put_str(ex, "description",
            "The related records asked for with the expand parameter.");
    put(props, "expand", ex);
    return object_of(props, req);
}

/* The body of a create (update false) or an update, as JSON or as a
 * multipart form. */
static json_object *body_schema(const bs_collection *c, bool update,
                                shape sh)
{
    json_object *props = obj();
    json_object *req = json_object_new_array();
    bool auth = bs_collection_is_auth(c);
    for (int i = 0; i < c->nfields; i++) {
        const bs_finfo *f = &c->finfo[i];
        const ftype_schema *t = &ftype_schemas[f->type];
        /* Hidden fields other than the password (an auth record's
         * tokenKey) are the server's business. */
        if (!t->request || (f->hidden && f->type != BS_F_PASSWORD))
            continue;
        if (f->primary_key && update)
            continue;
        /* In a JSON body a file field only keeps or clears names. */
        json_object *v = field_schema(f, sh == SHAPE_FORM ? SHAPE_FORM
                                                          : SHAPE_JSON);
        put(props, f->name, v);
        if (!update && f->required && !f->primary_key && !*f->autogenerate)
            json_object_array_add(req, str(f->name));
        if (!update || !t->modifiers ||
            (f->type != BS_F_NUMBER && !f->multiple))
            continue;
        char key[300];
        snprintf(key, sizeof key, "%s+", f->name);
        put(props, key,
            f->type == BS_F_NUMBER
                ? typed("number", "Added to the current value.")
                : field_schema(f, sh == SHAPE_FORM ? SHAPE_FORM
                                                   : SHAPE_JSON));
        if (f->type == BS_F_NUMBER) {
            snprintf(key, sizeof key, "%s-", f->name);
            put(props, key, typed("number", "Subtracted from the value."));
            continue;
        }
        snprintf(key, sizeof key, "+%s", f->name);
        put(props, key, field_schema(f, sh == SHAPE_FORM ? SHAPE_FORM
                                                         : SHAPE_JSON));
        snprintf(key, sizeof key, "%s-", f->name);
        json_object *rm = array_of(typed("string", NULL));
        put_str(rm, "description", f->type == BS_F_FILE
                                       ? "File names to remove."
                                       : "Values to remove.");
        put(props, key, rm);
    }
    if (auth) {
        put(props, "passwordConfirm", typed("string", "Must equal password."));
        if (update)
            put(props, "oldPassword",
                typed("string", "The current password, required to change "
                                "it unless the requester may manage the "
                                "record."));
        else
            json_object_array_add(req, str("passwordConfirm"));
    }
    if (sh == SHAPE_FORM)
        put(props, "@jsonPayload",
            typed("string", "A JSON object of more values, merged into "
                            "the form."));
    return object_of(props, req);
}

/* ---- operations ----------------------------------------------------------- */

typedef struct doc {
    const bs_schema *schema;
    json_object *paths;
    json_object *schemas;
} doc;

/* The path item for path, created on first use. */
static json_object *path_item(doc *d, const char *path)
{
    json_object *p = bs_json_get(d->paths, path);
    if (!p) {
        p = obj();
        put(d->paths, path, p);
    }
    return p;
}

/* Adds responses[code] = a reference to a shared response. */
static void put_errors(json_object *responses, const char *codes)
{
    for (const char *c = codes; *c; c += 4) {
        char code[4] = {c[0], c[1], c[2], 0};
        const char *name = strcmp(code, "400") == 0   ? "BadRequest"
                           : strcmp(code, "401") == 0 ? "Unauthorized"
                           : strcmp(code, "403") == 0 ? "Forbidden"
                           : strcmp(code, "404") == 0 ? "NotFound"
                                                      : "TooManyRequests";
        put(responses, code, ref_to("responses", name));
        if (!c[3])
            break;
    }
}

/* security: who may call. */
enum who { WHO_ANYONE, WHO_RULES, WHO_AUTH, WHO_SUPERUSER };

/* A new operation on method of path. codes: error statuses, space
 * separated ("400 403"). Returns the operation to fill further. */
static json_object *op(doc *d, const char *path, const char *method,
                       const char *id, const char *tag, const char *summary,
                       enum who who, const char *codes)
{
    json_object *o = obj();
    put_str(o, "operationId", id);
    json_object *tags = json_object_new_array();
    json_object_array_add(tags, str(tag));
    put(o, "tags", tags);
    put_str(o, "summary", summary);
    if (who != WHO_ANYONE) {
        json_object *sec = json_object_new_array();
        if (who == WHO_RULES)
            json_object_array_add(sec, obj()); /* a guest may pass */
        json_object *bearer = obj();
        put(bearer, "bearerAuth", json_object_new_array());
        json_object_array_add(sec, bearer);
        put(o, "security", sec);
    } else {
        put(o, "security", json_object_new_array());
    }
    json_object *responses = obj();
    put(o, "responses", responses);
    if (codes && *codes)
        put_errors(responses, codes);
    if (who == WHO_SUPERUSER && !bs_json_get(responses, "401"))
        put_errors(responses, "401 403");
    put(path_item(d, path), method, o);
    return o;
}

/* responses[code] = {description, content: {type: {schema}}} */
static void put_response(json_object *operation, const char *code,
                         const char *desc, const char *type,
                         json_object *schema)
{
    json_object *r = obj();
    put_str(r, "description", desc);
    if (schema) {
        json_object *content = obj();
        json_object *media = obj();
        put(media, "schema", schema);
        put(content, type ? type : "application/json", media);
        put(r, "content", content);
    }
    put(bs_json_get(operation, "responses"), code, r);
}

static void put_json_ok(json_object *operation, json_object *schema)
{
    put_response(operation, "200", "Success.", NULL, schema);
}

static void put_no_content(json_object *operation)
{
    put_response(operation, "204", "Done; no content.", NULL, NULL);
}

/* requestBody with a JSON schema, and a multipart one when form. */
static void put_body(json_object *operation, json_object *json,
                     json_object *form, bool required)
{
    json_object *b = obj();
    json_object *content = obj();
    json_object *m = obj();
    put(m, "schema", json);
    put(content, "application/json", m);
    if (form) {
        json_object *mf = obj();
        put(mf, "schema", form);
        put(content, "multipart/form-data", mf);
    }
    put(b, "content", content);
    put(b, "required", json_object_new_boolean(required));
    put(operation, "requestBody", b);
}

/* parameters: references to shared ones, names separated by spaces. */
static void put_params(json_object *operation, const char *names)
{
    json_object *ps = bs_json_get(operation, "parameters");
    if (!ps) {
        ps = json_object_new_array();
        put(operation, "parameters", ps);
    }
    char name[64];
    for (const char *p = names; *p;) {
        size_t n = strcspn(p, " ");
        snprintf(name, sizeof name, "%.*s", (int)n, p);
        json_object_array_add(ps, ref_to("parameters", name));
        p += n;
        while (*p == ' ')
            p++;
    }
}

/* A path parameter of its own. */
static void put_path_param(json_object *operation, const char *name,
                           const char *desc)
{
    json_object *ps = bs_json_get(operation, "parameters");
    if (!ps) {
        ps = json_object_new_array();
        put(operation, "parameters", ps);
    }
    json_object *p = obj();
    put_str(p, "name", name);
    put_str(p, "in", "path");
    put(p, "required", json_object_new_boolean(true));
    put_str(p, "description", desc);
    put(p, "schema", typed("string", NULL));
    json_object_array_add(ps, p);
}

/* A JSON object body with string properties, required ones first
 * ("identity! password! identityField": '!' marks a required one). */
static json_object *strings_object(const char *spec)
{
    json_object *props = obj();
    json_object *req = json_object_new_array();
    char name[64];
    for (const char *p = spec; *p;) {
        size_t n = strcspn(p, " ");
        bool must = n > 0 && p[n - 1] == '!';
        snprintf(name, sizeof name, "%.*s", (int)(must ? n - 1 : n), p);
        put(props, name, typed("string", NULL));
        if (must)
            json_object_array_add(req, str(name));
        p += n;
        while (*p == ' ')
            p++;
    }
    return object_of(props, req);
}

/* ---- per collection ------------------------------------------------------- */

static void records_ops(doc *d, const bs_collection *c)
{
    char path[300], id[300], nm[300], summary[300];
    const char *tag = c->name;
    bool view = strcmp(c->type, "view") == 0;
    snprintf(path, sizeof path, "/api/collections/%s/records", c->name);

    snprintf(id, sizeof id, "%s.list", c->name);
    snprintf(summary, sizeof summary, "List %s records", c->name);
    json_object *o = op(d, path, "get", id, tag, summary, WHO_RULES,
                        "400 403");
    put_params(o, "page perPage sort filter expand fields skipTotal");
    const char *searchable[BS_SEARCH_MAX_FIELDS];
    if (!view && bs_search_columns(c->fields, searchable,
                                   BS_SEARCH_MAX_FIELDS) > 0)
        put_params(o, "search");
    put_json_ok(o, schema_ref(cname(nm, sizeof nm, c, "list")));

    if (!view) {
        snprintf(id, sizeof id, "%s.create", c->name);
        snprintf(summary, sizeof summary, "Create a %s record", c->name);
        o = op(d, path, "post", id, tag, summary, WHO_RULES, "400 403");
        put_params(o, "expand fields");
        char form[300];
        put_body(o, schema_ref(cname(nm, sizeof nm, c, "create")),
                 schema_ref(cname(form, sizeof form, c, "createForm")), true);
        put_json_ok(o, schema_ref(c->name));
    }

    snprintf(path, sizeof path, "/api/collections/%s/records/{id}", c->name);
    snprintf(id, sizeof id, "%s.view", c->name);
    snprintf(summary, sizeof summary, "View a %s record", c->name);
    o = op(d, path, "get", id, tag, summary, WHO_RULES, "403 404");
    put_path_param(o, "id", "The record id.");
    put_params(o, "expand fields");
    put_json_ok(o, schema_ref(c->name));
    if (view)
        return;

    snprintf(id, sizeof id, "%s.update", c->name);
    snprintf(summary, sizeof summary, "Update a %s record", c->name);
    o = op(d, path, "patch", id, tag, summary, WHO_RULES, "400 403 404");
    put_path_param(o, "id", "The record id.");
    put_params(o, "expand fields");
    char form[300];
    put_body(o, schema_ref(cname(nm, sizeof nm, c, "update")),
             schema_ref(cname(form, sizeof form, c, "updateForm")), false);
    put_json_ok(o, schema_ref(c->name));

    snprintf(id, sizeof id, "%s.delete", c->name);
    snprintf(summary, sizeof summary, "Delete a %s record", c->name);
    o = op(d, path, "delete", id, tag, summary, WHO_RULES, "400 403 404");
    put_path_param(o, "id", "The record id.");
    put_no_content(o);
}

/* One auth endpoint: POST /api/collections/<c>/<what>. */
static json_object *auth_op(doc *d, const bs_collection *c,
                            const char *method, const char *what,
                            const char *summary, enum who who,
                            const char *codes, const char *body)
{
    char path[300], id[300];
    snprintf(path, sizeof path, "/api/collections/%s/%s", c->name, what);
    snprintf(id, sizeof id, "%s.%s", c->name, what);
    json_object *o = op(d, path, method, id, c->name, summary, who, codes);
    if (body)
        put_body(o, strings_object(body), NULL, true);
    return o;
}

static void auth_ops(doc *d, const bs_collection *c)
{
    const json_object *opt = c->options;
    bool pw = bs_json_get_bool(bs_json_get(opt, "passwordAuth"), "enabled",
                               false);
    bool otp = bs_json_get_bool(bs_json_get(opt, "otp"), "enabled", false);
    bool oa = bs_json_get_bool(bs_json_get(opt, "oauth2"), "enabled", false);
    bool su = strcmp(c->name, "_superusers") == 0;
    char nm[300];
    const char *auth = cname(nm, sizeof nm, c, "auth");

    json_object *o = auth_op(d, c, "get", "auth-methods",
                             "The auth methods the collection allows",
                             WHO_ANYONE, "400", NULL);
    put_params(o, "fields");
    put_json_ok(o, schema_ref("AuthMethods"));

    o = auth_op(d, c, "post", "auth-refresh",
                "A new token for the authenticated record", WHO_AUTH,
                "401 403 404", NULL);
    put_params(o, "expand fields");
    put_json_ok(o, schema_ref(auth));

    if (pw) {
        o = auth_op(d, c, "post", "auth-with-password",
                    "Sign in with an identity (email or another identity "
                    "field) and a password",
                    WHO_ANYONE, "400 401 429",
                    "identity! password! identityField");
        put_params(o, "expand fields");
        put_json_ok(o, schema_ref(auth));
        o = auth_op(d, c, "post", "request-password-reset",
                    "Mail a password reset link", WHO_ANYONE, "400 429",
                    "email!");
        put_no_content(o);
        o = auth_op(d, c, "post", "confirm-password-reset",
                    "Set a new password with the mailed token", WHO_ANYONE,
                    "400", "token! password! passwordConfirm!");
        put_no_content(o);
    }
    if (otp) {
        o = auth_op(d, c, "post", "request-otp", "Mail a one-time password",
                    WHO_ANYONE, "400 429", "email!");
        json_object *p = obj();
        put(p, "otpId", typed("string", NULL));
        json_object *req = json_object_new_array();
        json_object_array_add(req, str("otpId"));
        put_json_ok(o, object_of(p, req));
        o = auth_op(d, c, "post", "auth-with-otp",
                    "Sign in with a one-time password", WHO_ANYONE,
                    "400 401 429", "otpId! password!");
        put_params(o, "expand fields");
        put_json_ok(o, schema_ref(auth));
    }
    if (oa) {
        o = auth_op(d, c, "post", "auth-with-oauth2",
                    "Sign in (or sign up) with an OAuth2 provider's code",
                    WHO_ANYONE, "400 401 429", NULL);
        json_object *p = obj();
        put(p, "provider", typed("string", NULL));
        put(p, "code", typed("string", NULL));
        put(p, "codeVerifier", typed("string", NULL));
        put(p, "redirectURL", typed("string", NULL));
        put(p, "createData",
            typed("object", "Values for a record created on sign-up."));
        json_object *req = json_object_new_array();
        json_object_array_add(req, str("provider"));
        json_object_array_add(req, str("code"));
        json_object_array_add(req, str("redirectURL"));
        put_body(o, object_of(p, req), NULL, true);
        put_params(o, "expand fields");
        put_json_ok(o, schema_ref(auth));
    }
    if (!su) {
        o = auth_op(d, c, "post", "request-verification",
                    "Mail an email verification link", WHO_ANYONE, "400 429",
                    "email!");
        put_no_content(o);
        o = auth_op(d, c, "post", "confirm-verification",
                    "Verify the email with the mailed token", WHO_ANYONE,
                    "400", "token!");
        put_no_content(o);
        o = auth_op(d, c, "post", "request-email-change",
                    "Mail a link that confirms a new email", WHO_AUTH,
                    "400 401 403", "newEmail!");
        put_no_content(o);
        o = auth_op(d, c, "post", "confirm-email-change",
                    "Change the email with the mailed token and the password",
                    WHO_ANYONE, "400", "token! password!");
        put_no_content(o);
    }
    char path[300], id[300];
    snprintf(path, sizeof path, "/api/collections/%s/impersonate/{id}",
             c->name);
    snprintf(id, sizeof id, "%s.impersonate", c->name);
    o = op(d, path, "post", id, c->name,
           "A non-renewable token for a record, for superusers",
           WHO_SUPERUSER, "400 404");
    put_path_param(o, "id", "The record id.");
    json_object *p = obj();
    put(p, "duration",
        typed("integer", "The token's lifetime in seconds (0: the "
                         "collection's auth token duration)."));
    put_body(o, object_of(p, NULL), NULL, false);
    put_json_ok(o, schema_ref(auth));
}

static void collection_schemas(doc *d, const bs_collection *c)
{
    char nm[300];
    put(d->schemas, c->name, record_schema(d->schema, c));
    json_object *props = obj();
    put(props, "page", typed("integer", NULL));
    put(props, "perPage", typed("integer", NULL));
    put(props, "totalItems",
        typed("integer", "-1 when the request sets skipTotal."));
    put(props, "totalPages",
        typed("integer", "-1 when the request sets skipTotal."));
    put(props, "items", array_of(schema_ref(c->name)));
    json_object *req = json_object_new_array();
    static const char *const list_keys[] = {"page", "perPage", "totalItems",
                                            "totalPages", "items"};
    for (size_t i = 0; i < 5; i++)
        json_object_array_add(req, str(list_keys[i]));
    put(d->schemas, cname(nm, sizeof nm, c, "list"), object_of(props, req));
    if (strcmp(c->type, "view") == 0)
        return;
    put(d->schemas, cname(nm, sizeof nm, c, "create"),
        body_schema(c, false, SHAPE_JSON));
    put(d->schemas, cname(nm, sizeof nm, c, "createForm"),
        body_schema(c, false, SHAPE_FORM));
    put(d->schemas, cname(nm, sizeof nm, c, "update"),
        body_schema(c, true, SHAPE_JSON));
    put(d->schemas, cname(nm, sizeof nm, c, "updateForm"),
        body_schema(c, true, SHAPE_FORM));
    if (!bs_collection_is_auth(c))
        return;
    props = obj();
    put(props, "token", typed("string", "The auth token (a JWT)."));
    put(props, "record", schema_ref(c->name));
    put(props, "meta", typed("object", "OAuth2: the provider's user data."));
    req = json_object_new_array();
    json_object_array_add(req, str("token"));
    json_object_array_add(req, str("record"));
    put(d->schemas, cname(nm, sizeof nm, c, "auth"), object_of(props, req));
}

/* ---- the routes every schema has ------------------------------------------ */

static void files_ops(doc *d)
{
    const char *path = "/api/files/{collection}/{recordId}/{filename}";
    json_object *o = op(d, path, "get", "files.download", "files",
                        "Download a record's file", WHO_ANYONE, "400 404");
    put_path_param(o, "collection", "The collection's id or name.");
    put_path_param(o, "recordId", "The record id.");
    put_path_param(o, "filename", "The file name, as in the record.");
    json_object *ps = bs_json_get(o, "parameters");
    static const struct {
        const char *name, *desc;
    } q[] = {
        {"thumb", "A thumbnail size of the field, as WxH, WxHt, WxHb, "
                  "WxHf, 0xH or Wx0 (images only)."},
        {"token", "A file token (POST /api/files/token) for protected "
                  "files."},
        {"download", "Any non-empty value asks for an attachment."},
    };
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
        json_object *p = obj();
        put_str(p, "name", q[i].name);
        put_str(p, "in", "query");
        put_str(p, "description", q[i].desc);
        put(p, "schema", typed("string", NULL));
        json_object_array_add(ps, p);
    }
    json_object *bin = typed("string", NULL);
    put_str(bin, "format", "binary");
    put_response(o, "200", "The file (byte ranges are honoured).", "*/*",
                 bin);
    o = op(d, "/api/files/token", "post", "files.token", "files",
           "A short-lived token for protected files", WHO_AUTH, "400 401");
    put_json_ok(o, strings_object("token!"));
}

static void realtime_ops(doc *d)
{
    json_object *o = op(d, "/api/realtime", "get", "realtime.connect",
                        "realtime",
                        "Open the event stream (server-sent events)",
                        WHO_ANYONE, NULL);
    put_str(o, "description",
            "A text/event-stream. The first event, PB_CONNECT, carries "
            "{\"clientId\":\"...\"} in its data; set the subscriptions with "
            "POST /api/realtime and that id. Then each event is named by "
            "its topic (\"posts/*\", \"posts/RECORD_ID\", with ?options= "
            "when given) and carries {\"action\":\"create|update|delete\","
            "\"record\":{...}} shaped as the records API would for the "
            "subscriber. The stream closes after 5 minutes without "
            "subscriptions and after 30 minutes in any case.");
    put_response(o, "200", "The event stream.", "text/event-stream",
                 typed("string", NULL));
    o = op(d, "/api/realtime", "post", "realtime.subscribe", "realtime",
           "Set a realtime client's subscriptions", WHO_RULES,
           "400 403 404");
    json_object *p = obj();
    put(p, "clientId", typed("string", NULL));
    put(p, "subscriptions", array_of(typed("string", NULL)));
    json_object *req = json_object_new_array();
    json_object_array_add(req, str("clientId"));
    put_body(o, object_of(p, req), NULL, true);
    put_no_content(o);
}

/* One request of a batch. */
static json_object *batch_request(void)
{
    json_object *rp = obj();
    json_object *m = typed("string", NULL);
    json_object *e = json_object_new_array();
    static const char *const methods[] = {"POST", "PUT", "PATCH", "DELETE"};
    for (size_t i = 0; i < 4; i++)
        json_object_array_add(e, str(methods[i]));
    put(m, "enum", e);
    put(rp, "method", m);
    put(rp, "url", typed("string", "A records URL, with its query."));
    put(rp, "headers", typed("object", NULL));
    put(rp, "body", typed("object", NULL));
    json_object *rreq = json_object_new_array();
    json_object_array_add(rreq, str("method"));
    json_object_array_add(rreq, str("url"));
    return object_of(rp, rreq);
}

static void batch_ops(doc *d)
{
    json_object *o = op(d, "/api/batch", "post", "batch.run", "batch",
                        "Run several record creates, updates, upserts and "
                        "deletes in one transaction",
                        WHO_RULES, "400 403");
    json_object *p = obj();
    put(p, "requests", array_of(batch_request()));
    json_object *req = json_object_new_array();
    json_object_array_add(req, str("requests"));
    json_object *fp = obj();
    put(fp, "@jsonPayload",
        typed("string", "The requests as JSON; file parts are named "
                        "requests.N.field."));
    put_body(o, object_of(p, req), object_of(fp, NULL), true);
    json_object *res = obj();
    put(res, "status", typed("integer", NULL));
    put(res, "body", typed(NULL, NULL));
    put_json_ok(o, array_of(object_of(res, NULL)));
}

/* A superuser operation answering a loose JSON object (or 204). */
static json_object *su_op(doc *d, const char *path, const char *method,
                          const char *id, const char *tag,
                          const char *summary, const char *result)
{
    json_object *o = op(d, path, method, id, tag, summary, WHO_SUPERUSER,
                        "400 401 403");
    if (!result)
        put_no_content(o);
    else if (*result)
        put_json_ok(o, schema_ref(result));
    return o;
}

/* The webhooks API (a Basalt extension, docs/webhooks.md). */
static void webhook_ops(doc *d)
{
    json_object *o = su_op(d, "/api/webhooks", "get", "webhooks.list",
                           "webhooks", "List webhooks", "");
    put_params(o, "page perPage");
    put_json_ok(o, schema_ref("Object"));
    o = su_op(d, "/api/webhooks", "post", "webhooks.create", "webhooks",
              "Create a webhook", "Object");
    put_body(o, schema_ref("Object"), NULL, true);
    o = su_op(d, "/api/webhooks/{id}", "get", "webhooks.view", "webhooks",
              "View a webhook", "Object");
    put_path_param(o, "id", "The webhook's id.");
    o = su_op(d, "/api/webhooks/{id}", "patch", "webhooks.update",
              "webhooks", "Update a webhook", "Object");
    put_path_param(o, "id", "The webhook's id.");
    put_body(o, schema_ref("Object"), NULL, true);
    o = su_op(d, "/api/webhooks/{id}", "delete", "webhooks.delete",
              "webhooks", "Delete a webhook and its delivery log", NULL);
    put_path_param(o, "id", "The webhook's id.");
    o = su_op(d, "/api/webhooks/{id}/deliveries", "get",
              "webhooks.deliveries", "webhooks",
              "A webhook's delivery log (?status=pending|delivered|failed)",
              "Object");
    put_path_param(o, "id", "The webhook's id.");
    put_params(o, "page perPage");
    o = su_op(d, "/api/webhooks/{id}/deliveries/{delivery}/retry", "post",
              "webhooks.retry", "webhooks", "Queue a failed delivery again",
              NULL);
    put_path_param(o, "id", "The webhook's id.");
    put_path_param(o, "delivery", "The delivery's id.");
}

static void system_ops(doc *d)
{
    json_object *o = op(d, "/api/health", "get", "health.check", "health",
                        "Whether the server is up", WHO_ANYONE, NULL);
    json_object *p = obj();
    put(p, "code", typed("integer", NULL));
    put(p, "message", typed("string", NULL));
    put(p, "data", typed("object", "For superusers: canBackup, realIP, "
                                   "possibleProxyHeader."));
    put_json_ok(o, object_of(p, NULL));

    su_op(d, "/api/settings", "get", "settings.get", "settings",
          "The settings (secrets masked)", "Object");
    o = su_op(d, "/api/settings", "patch", "settings.update", "settings",
              "Change settings", "Object");
    put_body(o, schema_ref("Object"), NULL, true);
    o = su_op(d, "/api/settings/test/s3", "post", "settings.testS3",
              "settings", "Check an S3 storage", NULL);
    put_body(o, strings_object("filesystem!"), NULL, true);
    o = su_op(d, "/api/settings/test/email", "post", "settings.testEmail",
              "settings", "Send a test email", NULL);
    put_body(o, strings_object("email! template! collection"), NULL, true);
    o = su_op(d, "/api/settings/apple/generate-client-secret", "post",
              "settings.appleClientSecret", "settings",
              "Make an Apple client secret", "");
    put_body(o, schema_ref("Object"), NULL, true);
    put_json_ok(o, strings_object("secret!"));

    o = su_op(d, "/api/collections", "get", "collections.list",
              "collections", "List collections", "");
    put_params(o, "page perPage sort filter fields skipTotal");
    put_json_ok(o, schema_ref("CollectionList"));
    o = su_op(d, "/api/collections", "post", "collections.create",
              "collections", "Create a collection", "Collection");
    put_body(o, schema_ref("Object"), NULL, true);
    o = su_op(d, "/api/collections/import", "put", "collections.import",
              "collections", "Import collections", NULL);
    p = obj();
    put(p, "collections", array_of(schema_ref("Object")));
    put(p, "deleteMissing", typed("boolean", NULL));
    put_body(o, object_of(p, NULL), NULL, true);
    su_op(d, "/api/collections/meta/scaffolds", "get",
          "collections.scaffolds", "collections",
          "Blank collections of every type", "Object");
    su_op(d, "/api/collections/meta/oauth2-providers", "get",
          "collections.oauth2Providers", "collections",
          "The OAuth2 providers this build knows", "");
    o = su_op(d, "/api/collections/{collection}", "get", "collections.view",
              "collections", "View a collection", "Collection");
    put_path_param(o, "collection", "The collection's id or name.");
    o = su_op(d, "/api/collections/{collection}", "patch",
              "collections.update", "collections", "Update a collection",
              "Collection");
    put_path_param(o, "collection", "The collection's id or name.");
    put_body(o, schema_ref("Object"), NULL, true);
    o = su_op(d, "/api/collections/{collection}", "delete",
              "collections.delete", "collections", "Delete a collection",
              NULL);
    put_path_param(o, "collection", "The collection's id or name.");
    o = su_op(d, "/api/collections/{collection}/truncate", "delete",
              "collections.truncate", "collections",
              "Delete every record of a collection", NULL);
    put_path_param(o, "collection", "The collection's id or name.");

    o = su_op(d, "/api/logs", "get", "logs.list", "logs",
              "List request logs", "");
    put_params(o, "page perPage sort filter fields skipTotal");
    put_json_ok(o, schema_ref("LogList"));
    o = su_op(d, "/api/logs/stats", "get", "logs.stats", "logs",
              "Requests per hour", "");
    put_params(o, "filter fields");
    p = obj();
    put(p, "total", typed("integer", NULL));
    put(p, "date", typed("string", NULL));
    put_json_ok(o, array_of(object_of(p, NULL)));
    o = su_op(d, "/api/logs/{id}", "get", "logs.view", "logs",
              "View a log row", "Log");
    put_path_param(o, "id", "The log row's id.");

    o = su_op(d, "/api/backups", "get", "backups.list", "backups",
              "List backups", "");
    p = obj();
    put(p, "key", typed("string", NULL));
    put(p, "size", typed("integer", NULL));
    put(p, "modified", typed("string", NULL));
    put_json_ok(o, array_of(object_of(p, NULL)));
    o = su_op(d, "/api/backups", "post", "backups.create", "backups",
              "Create a backup", NULL);
    put_body(o, strings_object("name"), NULL, false);
    o = su_op(d, "/api/backups/upload", "post", "backups.upload", "backups",
              "Upload a backup archive", NULL);
    json_object *bin = typed("string", NULL);
    put_str(bin, "format", "binary");
    p = obj();
    put(p, "file", bin);
    json_object *req = json_object_new_array();
    json_object_array_add(req, str("file"));
    json_object *b = obj(), *content = obj(), *mf = obj();
    put(mf, "schema", object_of(p, req));
    put(content, "multipart/form-data", mf);
    put(b, "content", content);
    put(b, "required", json_object_new_boolean(true));
    put(o, "requestBody", b);
    o = op(d, "/api/backups/{key}", "get", "backups.download", "backups",
           "Download a backup (with a superuser's file token)", WHO_ANYONE,
           "400 404");
    put_path_param(o, "key", "The backup's file name.");
    json_object *tok = obj();
    put_str(tok, "name", "token");
    put_str(tok, "in", "query");
    put(tok, "required", json_object_new_boolean(true));
    put_str(tok, "description", "A superuser's file token.");
    put(tok, "schema", typed("string", NULL));
    json_object_array_add(bs_json_get(o, "parameters"), tok);
    bin = typed("string", NULL);
    put_str(bin, "format", "binary");
    put_response(o, "200", "The zip archive.", "application/zip", bin);
    o = su_op(d, "/api/backups/{key}", "delete", "backups.delete", "backups",
              "Delete a backup", NULL);
    put_path_param(o, "key", "The backup's file name.");
    o = su_op(d, "/api/backups/{key}/restore", "post", "backups.restore",
              "backups", "Restore a backup (the server restarts)", NULL);
    put_path_param(o, "key", "The backup's file name.");

    o = su_op(d, "/api/crons", "get", "crons.list", "crons",
              "List cron jobs", "");
    p = obj();
    put(p, "id", typed("string", NULL));
    put(p, "expression", typed("string", NULL));
    put_json_ok(o, array_of(object_of(p, NULL)));
    o = su_op(d, "/api/crons/{id}", "post", "crons.run", "crons",
              "Run a cron job now", NULL);
    put_path_param(o, "id", "The job id.");

    webhook_ops(d);

    o = su_op(d, "/api/sql", "post", "sql.run", "sql",
              "Run SQL in the console", "Object");
    put_body(o, strings_object("query!"), NULL, true);

    o = op(d, "/api/metrics", "get", "metrics.scrape", "metrics",
           "Metrics in the Prometheus text format (a superuser's token or "
           "BASALT_METRICS_TOKEN)",
           WHO_SUPERUSER, NULL);
    put_response(o, "200", "The metrics.", "text/plain",
                 typed("string", NULL));
    o = op(d, "/api/openapi.json", "get", "openapi.get", "openapi",
           "This document (superusers, unless BASALT_OPENAPI_PUBLIC is "
           "set)",
           WHO_SUPERUSER, NULL);
    put_json_ok(o, schema_ref("Object"));
}

/* ---- shared components ---------------------------------------------------- */

static json_object *list_of(const char *item)
{
    json_object *p = obj();
    put(p, "page", typed("integer", NULL));
    put(p, "perPage", typed("integer", NULL));
    put(p, "totalItems", typed("integer", NULL));
    put(p, "totalPages", typed("integer", NULL));
    put(p, "items", array_of(schema_ref(item)));
    return object_of(p, NULL);
}

static void shared_schemas(doc *d)
{
    json_object *s = d->schemas;
    json_object *any = typed("object", "A JSON object.");
    put(any, "additionalProperties", json_object_new_boolean(true));
    put(s, "Object", any);

    json_object *fe = obj();
    put(fe, "code", typed("string", NULL));
    put(fe, "message", typed("string", NULL));
    json_object *data = typed("object", "Per field errors, by field name.");
    put(data, "additionalProperties", object_of(fe, NULL));
    json_object *p = obj();
    put(p, "status", typed("integer", NULL));
    put(p, "message", typed("string", NULL));
    put(p, "data", data);
    json_object *req = json_object_new_array();
    json_object_array_add(req, str("status"));
    json_object_array_add(req, str("message"));
    json_object_array_add(req, str("data"));
    json_object *err = object_of(p, req);
    put_str(err, "description", "The error body of every failed request.");
    put(s, "Error", err);

    p = obj();
    put(p, "id", typed("string", NULL));
    put(p, "name", typed("string", NULL));
    json_object *t = typed("string", NULL);
    json_object *e = json_object_new_array();
    json_object_array_add(e, str("base"));
    json_object_array_add(e, str("auth"));
    json_object_array_add(e, str("view"));
    put(t, "enum", e);
    put(p, "type", t);
    put(p, "system", typed("boolean", NULL));
    put(p, "fields", array_of(schema_ref("Object")));
    put(p, "indexes", array_of(typed("string", NULL)));
    static const char *const rules[] = {"listRule", "viewRule", "createRule",
                                        "updateRule", "deleteRule"};
    for (size_t i = 0; i < 5; i++) {
        json_object *r = obj();
        json_object *types = json_object_new_array();
        json_object_array_add(types, str("string"));
        json_object_array_add(types, str("null"));
        put(r, "type", types);
        put(p, rules[i], r);
    }
    put(p, "created", typed("string", NULL));
    put(p, "updated", typed("string", NULL));
    json_object *coll = object_of(p, NULL);
    put(coll, "additionalProperties", json_object_new_boolean(true));
    put(s, "Collection", coll);
    put(s, "CollectionList", list_of("Collection"));

    p = obj();
    put(p, "id", typed("string", NULL));
    put(p, "created", typed("string", NULL));
    put(p, "updated", typed("string", NULL));
    put(p, "level", typed("integer", NULL));
    put(p, "message", typed("string", NULL));
    put(p, "data", schema_ref("Object"));
    put(s, "Log", object_of(p, NULL));
    put(s, "LogList", list_of("Log"));

    json_object *pw = obj();
    put(pw, "enabled", typed("boolean", NULL));
    put(pw, "identityFields", array_of(typed("string", NULL)));
    json_object *prov = obj();
    static const char *const pkeys[] = {"name", "displayName", "state",
                                        "authURL", "codeVerifier",
                                        "codeChallenge",
                                        "codeChallengeMethod"};
    for (size_t i = 0; i < sizeof pkeys / sizeof pkeys[0]; i++)
        put(prov, pkeys[i], typed("string", NULL));
    json_object *oa = obj();
    put(oa, "enabled", typed("boolean", NULL));
    put(oa, "providers", array_of(object_of(prov, NULL)));
    json_object *mfa = obj();
    put(mfa, "enabled", typed("boolean", NULL));
    put(mfa, "duration", typed("integer", NULL));
    json_object *otp = obj();
    put(otp, "enabled", typed("boolean", NULL));
    put(otp, "duration", typed("integer", NULL));
    p = obj();
    put(p, "password", object_of(pw, NULL));
    put(p, "oauth2", object_of(oa, NULL));
    put(p, "mfa", object_of(mfa, NULL));
    put(p, "otp", object_of(otp, NULL));
    put(s, "AuthMethods", object_of(p, NULL));
}

static void shared_components(json_object *components)
{
    json_object *params = obj();
    static const struct {
        const char *name, *type, *desc;
    } q[] = {
        {"page", "integer", "The page (1 and up)."},
        {"perPage", "integer", "Items per page (default 30, at most 1000)."},
        {"sort", "string",
         "Fields to sort by, comma separated; -field for descending; "
         "@random."},
        {"filter", "string",
         "A filter expression, e.g. (title ~ 'abc' && created > "
         "'2022-01-01')."},
        {"expand", "string",
         "Relation fields to expand, comma separated; nested with dots "
         "(up to 6 levels)."},
        {"fields", "string",
         "The fields to return, comma separated (*, expand.rel.field, "
         ":excerpt(200,true); with a search, :snippet(12))."},
        {"search", "string",
         "Full-text search over the searchable fields (a Basalt "
         "extension): words, \"phrases\", prefix*, AND, OR, NOT, "
         "parentheses; sort=@rank orders by relevance."},
        {"skipTotal", "boolean",
         "Skip counting: totalItems and totalPages are -1."},
    };
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
        json_object *p = obj();
        put_str(p, "name", q[i].name);
        put_str(p, "in", "query");
        put_str(p, "description", q[i].desc);
        put(p, "schema", typed(q[i].type, NULL));
        put(params, q[i].name, p);
    }
    put(components, "parameters", params);

    json_object *responses = obj();
    static const struct {
        const char *name, *desc;
    } r[] = {
        {"BadRequest", "The request is invalid."},
        {"Unauthorized", "The request needs an auth token."},
        {"Forbidden", "The requester may not do this."},
        {"NotFound", "Nothing found."},
        {"TooManyRequests", "Rate limited."},
    };
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++) {
        json_object *resp = obj();
        put_str(resp, "description", r[i].desc);
        json_object *content = obj(), *media = obj();
        put(media, "schema", schema_ref("Error"));
        put(content, "application/json", media);
        put(resp, "content", content);
        put(responses, r[i].name, resp);
    }
    put(components, "responses", responses);

    json_object *schemes = obj();
    json_object *bearer = obj();
    put_str(bearer, "type", "http");
    put_str(bearer, "scheme", "bearer");
    put_str(bearer, "bearerFormat", "JWT");
    put_str(bearer, "description",
            "An auth token from an auth endpoint, in the Authorization "
            "header (with or without the Bearer prefix, as PocketBase's "
            "SDK sends it).");
    put(schemes, "bearerAuth", bearer);
    put(components, "securitySchemes", schemes);
}

/* The whole document for schema s and settings st. Returns a new
 * object, or NULL when out of memory. */
static json_object *build(const bs_schema *s, const bs_settings *st)
{
    json_object *root = obj();
    put_str(root, "openapi", "3.1.0");
    json_object *info = obj();
    const char *app_name =
        bs_json_get_str(bs_json_get(st->value, "meta"), "appName", "Basalt");
    put_str(info, "title", app_name && *app_name ? app_name : "Basalt");
    put_str(info, "version", BASALT_VERSION);
    put_str(info, "description",
            "The HTTP API of this Basalt server (PocketBase's API), "
            "generated from its current collections. List, view, create, "
            "update and delete records are subject to each collection's "
            "API rules; an empty security requirement means a guest may "
            "call when the rule allows it.");
    put(root, "info", info);
    json_object *servers = json_object_new_array();
    json_object *srv = obj();
    put_str(srv, "url", "/");
    json_object_array_add(servers, srv);
    put(root, "servers", servers);

    doc d = {.schema = s, .paths = obj(), .schemas = obj()};
    json_object *components = obj();
    shared_components(components);
    shared_schemas(&d);
    for (int i = 0; i < s->n; i++) {
        const bs_collection *c = &s->items[i];
        collection_schemas(&d, c);
        records_ops(&d, c);
        if (bs_collection_is_auth(c))
            auth_ops(&d, c);
    }
    files_ops(&d);
    realtime_ops(&d);
    batch_ops(&d);
    system_ops(&d);
    put(root, "paths", d.paths);
    put(components, "schemas", d.schemas);
    put(root, "components", components);
    return root;
}

/* ---- the route ------------------------------------------------------------ */

/* The last document and the snapshots it was made from (a reference
 * to each, so that their addresses cannot be reused meanwhile). */
typedef struct openapi_api {
    pthread_mutex_t lock;
    bs_schema *schema;
    bs_settings *settings;
    char *text;
    size_t len;
    bool public_doc; /* BASALT_OPENAPI_PUBLIC */
} openapi_api;

static int openapi(bs_event *e, void *user)
{
    openapi_api *api = user;
    bs_req *r = (bs_req *)e;
    if (!api->public_doc && !(r->auth && r->auth->superuser)) {
        if (!r->auth)
            bs_resp_status_error(r, 401, "The request requires valid record "
                                         "authorization token.");
        else
            bs_resp_status_error(r, 403, "The authorized record is not "
                                         "allowed to perform this action.");
        return 0;
    }
    bs_schema *s = bs_app_schema(e->app);
    bs_settings *st = bs_app_settings(e->app);
    pthread_mutex_lock(&api->lock);
    if (!api->text || api->schema != s || api->settings != st) {
        json_object *built = build(s, st);
        size_t len = 0;
        const char *t = built ? json_object_to_json_string_length(
                                    built,
                                  JSON_C_TO_STRING_PLAIN |
                                      JSON_C_TO_STRING_NOSLASHESCAPE,
                                  &len)
                            : NULL;
        char *copy = t ? malloc(len + 1) : NULL;
        if (copy) {
            memcpy(copy, t, len + 1);
            free(api->text);
            api->text = copy;
            api->len = len;
            bs_schema_unref(api->schema);
            bs_settings_unref(api->settings);
            bs_schema_ref(s);
            bs_settings_ref(st);
            api->schema = s;
            api->settings = st;
        }
        json_object_put(built);
    }
    if (api->text && api->schema == s && api->settings == st)
        bs_resp_raw(r, 200, "application/json", api->text, api->len);
    else
        bs_resp_status_error(r, 500, NULL);
    pthread_mutex_unlock(&api->lock);
    bs_settings_unref(st);
    bs_schema_unref(s);
    return 0;
}

static int on_terminate(bs_event *e, void *user)
{
    openapi_api *api = user;
    int rc = bs_event_next(e);
    bs_hook_unbind(e->app->hooks[BS_ON_TERMINATE], "basaltOpenapiFree");
    free(api->text);
    bs_schema_unref(api->schema);
    bs_settings_unref(api->settings);
    pthread_mutex_destroy(&api->lock);
    free(api);
    return rc;
}

int bs_api_openapi_register(bs_app *app)
{
    openapi_api *api = calloc(1, sizeof *api);
    if (!api)
        return BS_ENOMEM;
    pthread_mutex_init(&api->lock, NULL);
    const char *pub = getenv("BASALT_OPENAPI_PUBLIC");
    api->public_doc = pub && (strcmp(pub, "1") == 0 ||
                              strcmp(pub, "true") == 0);
    bs_handler term = {.id = "basaltOpenapiFree", .priority = 1000,
                       .fn = on_terminate, .user = api};
    if (bs_hook_bind(app->hooks[BS_ON_TERMINATE], &term) != 0) {
        pthread_mutex_destroy(&api->lock);
        free(api);
        return BS_ENOMEM;
    }
    return bs_router_add(app->router, "GET", "/api/openapi.json", openapi,
                         api)
               ? 0
               : BS_ENOMEM;
}
