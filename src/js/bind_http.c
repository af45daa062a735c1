/*
 * bind_http.c - $http.send: an outbound HTTP request with libcurl,
 * synchronous as in PocketBase (an async handler may `await` it too).
 *
 * The timeout is the one asked for (120 s by default), cut to what is
 * left of the handler's time limit. The response's headers come back as
 * PocketBase shapes them: lower-case names, each an array of values.
 */
#include <curl/curl.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "../base/util.h"
#include "engine.h"

#define MAX_BODY (64u << 20)

typedef struct http_resp {
    bs_buf body;
    json_object *headers;
} http_resp;

static size_t on_body(char *p, size_t size, size_t n, void *user)
{
    http_resp *r = user;
    if (r->body.len + size * n > MAX_BODY)
        return 0;
    bs_buf_append(&r->body, p, size * n);
    return r->body.oom ? 0 : size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *user)
{
    http_resp *r = user;
    size_t len = size * n;
    char *colon = memchr(p, ':', len);
    if (!colon)
        return len;
    if (strncmp(p, "HTTP/", 5) == 0)
        return len;
    char name[256];
    size_t nn = (size_t)(colon - p) < sizeof name - 1 ? (size_t)(colon - p)
                                                      : sizeof name - 1;
    for (size_t i = 0; i < nn; i++)
        name[i] = (char)tolower((unsigned char)p[i]);
    name[nn] = '\0';
    const char *v = colon + 1;
    const char *end = p + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    json_object *list = json_object_object_get(r->headers, name);
    if (!list) {
        list = json_object_new_array();
        json_object_object_add(r->headers, name, list);
    }
    json_object_array_add(list,
                          json_object_new_string_len(v, (int)(end - v)));
    return len;
}

/* httpSend(url, method, body, headers, timeoutSeconds) ->
 * {statusCode, headers, body} */
static JSValueRef n_send(JSContextRef ctx, JSObjectRef fn, JSObjectRef self,
                         size_t argc, const JSValueRef argv[],
                         JSValueRef *exc)
{
    if (argc < 5)
        return bsj_throw(ctx, exc, "$http.send: bad arguments");
    char *url = bsj_cstr(ctx, argv[0]);
    char *method = bsj_cstr(ctx, argv[1]);
    char *body = bsj_cstr(ctx, argv[2]);
    json_object *hdrs = bsj_to_json(ctx, argv[3]);
    double timeout = JSValueToNumber(ctx, argv[4], NULL);
    bsj_ctx *c = bsj_current();
    if (c) {
        double left = (double)(c->deadline_ms - bs_mono_ms()) / 1000.0;
        if (left < timeout)
            timeout = left > 0.001 ? left : 0.001;
    }
    http_resp resp = {.headers = json_object_new_object()};
    bs_buf_init(&resp.body);
    struct curl_slist *list = NULL;
    JSValueRef result = NULL;
    if (!url || !method || !body || strncmp(url, "http", 4) != 0) {
        bsj_throw(ctx, exc, "$http.send: invalid url");
        goto end;
    }
    if (hdrs && json_object_is_type(hdrs, json_type_object)) {
        json_object_object_foreach(hdrs, k, v)
        {
            bs_buf line;
            bs_buf_init(&line);
            bs_buf_printf(&line, "%s: %s", k, json_object_get_string(v));
            bs_buf_putc(&line, '\0');
            if (!line.oom && !strpbrk(line.data, "\r\n"))
                list = curl_slist_append(list, line.data);
            bs_buf_dispose(&line);
        }
    }
    CURL *curl = curl_easy_init();
    if (!curl) {
        bsj_throw(ctx, exc, "$http.send: out of memory");
        goto end;
    }
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)(timeout * 1000));
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &resp);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &resp);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    else if (*body || strcmp(method, "POST") == 0 ||
             strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    CURLcode cc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    if (cc != CURLE_OK) {
        bsj_throw(ctx, exc, "$http.send: %s", curl_easy_strerror(cc));
        goto end;
    }
    JSObjectRef o = JSObjectMake(ctx, NULL, NULL);
    bsj_set(ctx, o, "statusCode", JSValueMakeNumber(ctx, (double)status));
    bsj_set(ctx, o, "headers", bsj_from_json(ctx, resp.headers));
    bsj_set(ctx, o, "body",
            bsj_string_n(ctx, resp.body.data ? resp.body.data : "",
                         resp.body.len));
    result = o;
end:
    curl_slist_free_all(list);
    json_object_put(resp.headers);
    json_object_put(hdrs);
    bs_buf_dispose(&resp.body);
    free(url);
    free(method);
    free(body);
    return result ? result : JSValueMakeUndefined(ctx);
}

void bsj_bind_http(JSContextRef ctx, JSObjectRef n)
{
    bsj_def(ctx, n, "httpSend", n_send);
}
