/*
 * cluster_kinds.h - one collection with a field of every kind, for the
 * tests of the messages nodes exchange (tests/unit/test_cluster.c and
 * tests/fuzz/fuzz_cluster.c).
 */
#ifndef BS_TEST_CLUSTER_KINDS_H
#define BS_TEST_CLUSTER_KINDS_H

#include "base/json.h"
#include "filter_schema.h"

static const coll_def cluster_kinds[] = {
    {"pbc_kinds", "kinds", "base", "",
     "[{\"name\":\"id\",\"type\":\"text\",\"primaryKey\":true},"
     "{\"name\":\"title\",\"type\":\"text\"},"
     "{\"name\":\"secret\",\"type\":\"text\",\"hidden\":true},"
     "{\"name\":\"n\",\"type\":\"number\"},"
     "{\"name\":\"ok\",\"type\":\"bool\"},"
     "{\"name\":\"data\",\"type\":\"json\"},"
     "{\"name\":\"empty\",\"type\":\"json\"},"
     "{\"name\":\"tags\",\"type\":\"select\",\"values\":[\"a\",\"b\"],"
     "\"maxSelect\":2},"
     "{\"name\":\"one\",\"type\":\"select\",\"values\":[\"a\",\"b\"],"
     "\"maxSelect\":1},"
     "{\"name\":\"files\",\"type\":\"file\",\"maxSelect\":3},"
     "{\"name\":\"owner\",\"type\":\"relation\",\"collectionId\":"
     "\"pbc_kinds\",\"maxSelect\":1},"
     "{\"name\":\"at\",\"type\":\"geoPoint\"},"
     "{\"name\":\"when\",\"type\":\"date\"},"
     "{\"name\":\"created\",\"type\":\"autodate\"}]",
     "[]"},
};

/* The values as text, keys sorted (a rebuilt record lists its fields in
 * the order the message gave them). malloc'ed. */
static inline char *cluster_kinds_text(const json_object *v)
{
    bs_buf b;
    bs_buf_init(&b);
    bs_json_write_sorted(&b, v);
    size_t n;
    return bs_buf_steal(&b, &n);
}

#endif
