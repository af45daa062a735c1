/*
 * fuzz_form.c - the request decoders that need no connection: the query
 * string and form-value parser (bs_query_string_parse) and the `fields`
 * picker (bs_fields_apply) over a fixed JSON document.
 *
 * The input is split at its first NUL byte: the part before is a query
 * string, the part after a `fields` spec. Every parsed query must be an
 * object of strings; a picked document must still be valid JSON.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "basalt.h"
#include "http/fields.h"
#include "http/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char DOC[] =
    "{\"items\":[{\"id\":\"a1\",\"title\":\"<p>Hello <b>world</b></p>\","
    "\"expand\":{\"author\":{\"id\":\"u1\",\"name\":\"Ann\"}},"
    "\"tags\":[\"x\",\"y\"],\"n\":1.5},{\"id\":\"a2\",\"title\":\"\"}],"
    "\"page\":1,\"perPage\":30,\"totalItems\":2,\"totalPages\":1}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    size_t qlen = strlen(text);
    const char *spec = qlen < size ? text + qlen + 1 : "";

    json_object *q = bs_query_string_parse(text);
    if (!q || !json_object_is_type(q, json_type_object))
        abort();
    json_object_object_foreach(q, k, v) {
        (void)k;
        if (!json_object_is_type(v, json_type_string))
            abort();
    }
    json_object_put(q);

    for (int search = 0; search < 2; search++) {
        bs_buf doc;
        bs_buf_init(&doc);
        bs_buf_puts(&doc, DOC);
        if (bs_fields_apply(spec, search == 1, &doc) == 0) {
            json_object *picked = NULL;
            if (bs_json_parse(doc.data, doc.len, &picked) != 0)
                abort();
            if (picked)
                json_object_put(picked);
        }
        bs_buf_dispose(&doc);
    }
    free(text);
    return 0;
}
