/*
 * fuzz_cluster.c - the decoder of messages received from the bus
 * (bs_cluster_decode), whose bytes come from any node or anybody who can
 * publish on the NATS server. Whatever the input, decoding never
 * crashes; an accepted record message rebuilds a record against a fixed
 * schema (every field type), and that record, encoded again, decodes
 * again to the same message; after that first pass (which turns invalid
 * UTF-8 into U+FFFD) the values travel unchanged.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/cluster_kinds.h"
#include "base/json.h"
#include "core/cluster.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bs_schema schema;

/* Encodes r as node's change by action, decodes it again (which must
 * succeed with the same header) and rebuilds the record. */
static bs_record *pass(const bs_record *r, const char *node,
                       const char *action)
{
    bs_buf b;
    bs_buf_init(&b);
    bs_cluster_encode_record(&b, node, action, r);
    bs_cluster_msg m;
    if (b.oom || bs_cluster_decode(b.data, b.len, &m) != 0) {
        fprintf(stderr, "re-encoded message refused: %.*s\n", (int)b.len,
                b.data ? b.data : "");
        abort();
    }
    if (m.kind != BS_CLUSTER_MSG_RECORD || strcmp(m.node, node) != 0 ||
        m.action != action || strcmp(m.collection, "pbc_kinds") != 0)
        abort();
    bs_record *out = bs_record_from_raw(&schema, &schema.items[0], m.record);
    if (!out)
        abort();
    bs_cluster_msg_dispose(&m);
    bs_buf_dispose(&b);
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!schema.n) {
        filter_schema_load(&schema, cluster_kinds, 1);
        atomic_init(&schema.refs, 1); /* held for the process */
    }
    bs_cluster_msg m;
    if (bs_cluster_decode((const char *)data, size, &m) != 0)
        return 0;
    if (m.kind != BS_CLUSTER_MSG_RECORD) {
        bs_cluster_msg_dispose(&m);
        return 0;
    }
    bs_record *r = bs_record_from_raw(&schema, &schema.items[0], m.record);
    if (!r)
        abort();
    /* The first pass may normalize (invalid UTF-8 becomes U+FFFD); from
     * then on the values travel unchanged. */
    bs_record *r2 = pass(r, m.node, m.action);
    bs_record *r3 = pass(r2, m.node, m.action);
    char *t2 = cluster_kinds_text(r2->data);
    char *t3 = cluster_kinds_text(r3->data);
    if (!t2 || !t3 || strcmp(t2, t3) != 0) {
        fprintf(stderr, "values changed on the way:\n%s\n%s\n", t2, t3);
        abort();
    }
    free(t2);
    free(t3);
    bs_record_free(r3);
    bs_record_free(r2);
    bs_record_free(r);
    bs_cluster_msg_dispose(&m);
    return 0;
}
