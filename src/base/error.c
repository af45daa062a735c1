/*
 * error.c - the client-facing error value and its JSON form.
 */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *bs_strerror(int code)
{
    switch (code) {
    case BS_OK: return "success";
    case BS_ENOMEM: return "out of memory";
    case BS_EINVAL: return "invalid argument";
    case BS_ENOTFOUND: return "not found";
    case BS_EDB: return "database error";
    case BS_EIO: return "input/output error";
    case BS_EHTTP: return "request error";
    case BS_EABORT: return "aborted";
    case BS_ECONSTRAINT: return "constraint failed";
    }
    return "unknown error";
}

void bs_error_init(bs_error *e)
{
    e->status = 0;
    e->message = NULL;
    e->data = NULL;
}

void bs_error_dispose(bs_error *e)
{
    free(e->message);
    if (e->data)
        json_object_put(e->data);
    bs_error_init(e);
}

int bs_error_set(bs_error *e, int status, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    free(e->message);
    e->message = strdup(tmp);
    e->status = status;
    return BS_EHTTP;
}

void bs_error_field(bs_error *e, const char *field, const char *code,
                    const char *message)
{
    if (!e->data)
        e->data = json_object_new_object();
    json_object *parent = e->data;
    const char *p = field;
    const char *dot;
    while ((dot = strchr(p, '.')) != NULL) {
        char key[128];
        size_t n = (size_t)(dot - p);
        if (n >= sizeof key)
            n = sizeof key - 1;
        memcpy(key, p, n);
        key[n] = '\0';
        json_object *child = NULL;
        if (!json_object_object_get_ex(parent, key, &child) ||
            !json_object_is_type(child, json_type_object)) {
            child = json_object_new_object();
            json_object_object_add(parent, key, child);
        }
        parent = child;
        p = dot + 1;
    }
    json_object *leaf = json_object_new_object();
    json_object_object_add(leaf, "code", json_object_new_string(code));
    json_object_object_add(leaf, "message", json_object_new_string(message));
    json_object_object_add(parent, p, leaf);
}

bool bs_error_has_fields(const bs_error *e)
{
    return e->data && json_object_object_length(e->data) > 0;
}

const char *bs_status_message(int status)
{
    switch (status) {
    case 400: return "Something went wrong while processing your request.";
    case 401: return "Missing or invalid authentication.";
    case 403: return "You are not allowed to perform this request.";
    case 404: return "The requested resource wasn't found.";
    case 413: return "Request entity too large.";
    case 429: return "Too Many Requests.";
    }
    return "Something went wrong while processing your request.";
}

void bs_error_write_json(const bs_error *e, bs_buf *out)
{
    int status = e->status ? e->status : 400;
    const char *msg = e->message && *e->message ? e->message
                                                : bs_status_message(status);
    bs_buf_puts(out, "{\"data\":");
    if (e->data) {
        bs_json_write(out, e->data);
    } else {
        bs_buf_puts(out, "{}");
    }
    bs_buf_puts(out, ",\"message\":");
    bs_buf_json_str(out, msg, strlen(msg));
    bs_buf_printf(out, ",\"status\":%d}\n", status);
}
