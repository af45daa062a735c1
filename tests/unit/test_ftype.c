/*
 * test_ftype.c - the table of field types (src/schema/ftype.c), the one
 * builder of a field's info (bs_finfo_init, bs_collection_fill_finfo)
 * and the value operations that read them (src/core/field.c).
 */
#include <stdlib.h>

#include "base/buf.h"
#include "base/json.h"
#include "basalt.h"
#include "core/field.h"
#include "harness.h"
#include "schema/ftype.h"
#include "schema/schema.h"

static json_object *P(const char *s)
{
    json_object *v = NULL;
    if (bs_json_parse(s, strlen(s), &v) != 0)
        return NULL;
    return v;
}

/* The JSON text of v ("null" for NULL); the caller frees it. */
static char *text_of(const json_object *v)
{
    bs_buf b;
    bs_buf_init(&b);
    if (v)
        bs_json_write(&b, v);
    else
        bs_buf_puts(&b, "null");
    char *s = strdup(b.data ? b.data : "");
    bs_buf_dispose(&b);
    return s;
}

/* A finfo for a definition given as JSON text; def is kept in *keep. */
static bs_finfo info(const char *def, json_object **keep)
{
    bs_finfo fi;
    *keep = P(def);
    bs_finfo_init(&fi, *keep);
    return fi;
}

TEST(every_type_has_a_name_that_round_trips)
{
    for (int t = 0; t < BS_F_UNKNOWN; t++) {
        const char *name = bs_ftype_name((bs_ftype)t);
        REQUIRE(name && *name);
        CHECK(bs_ftype_of(name) == (bs_ftype)t);
    }
    CHECK(bs_ftype_of("") == BS_F_UNKNOWN);
    CHECK(bs_ftype_of(NULL) == BS_F_UNKNOWN);
    CHECK(bs_ftype_of("Text") == BS_F_UNKNOWN);
    CHECK(bs_ftype_of("geopoint") == BS_F_UNKNOWN);
    CHECK(strcmp(bs_ftype_name(BS_F_UNKNOWN), "") == 0);
    CHECK(strcmp(bs_ftype_name(BS_F_GEOPOINT), "geoPoint") == 0);
}

TEST(every_type_has_a_column_and_a_zero_value)
{
    for (int t = 0; t < BS_F_COUNT; t++) {
        const bs_ftype_info *ti = &bs_ftypes[t];
        REQUIRE(ti->column && strstr(ti->column, "DEFAULT"));
        REQUIRE(ti->zero && *ti->zero);
        json_object *z = NULL;
        CHECK(bs_json_parse(ti->zero, strlen(ti->zero), &z) == 0);
        if (z)
            json_object_put(z);
        /* The zero value a record gets is the table's. */
        bs_finfo fi = {.name = "x", .type = (bs_ftype)t};
        json_object *v = bs_finfo_zero(&fi);
        char *s = text_of(v);
        CHECK(strcmp(s, ti->zero) == 0);
        free(s);
        if (v)
            json_object_put(v);
        if (ti->multi) {
            fi.multiple = true;
            v = bs_finfo_zero(&fi);
            s = text_of(v);
            CHECK(strcmp(s, BS_FTYPE_MULTI_ZERO) == 0);
            free(s);
            json_object_put(v);
        }
    }
}

TEST(column_definitions)
{
    CHECK(strcmp(bs_ftype_column(BS_F_TEXT, false, true),
                 BS_FTYPE_PK_COLUMN) == 0);
    CHECK(strcmp(bs_ftype_column(BS_F_NUMBER, false, true),
                 "NUMERIC DEFAULT 0 NOT NULL") == 0);
    CHECK(strcmp(bs_ftype_column(BS_F_RELATION, true, false),
                 BS_FTYPE_MULTI_COLUMN) == 0);
    CHECK(strcmp(bs_ftype_column(BS_F_RELATION, false, false),
                 "TEXT DEFAULT '' NOT NULL") == 0);
    /* Only list types become JSON arrays. */
    CHECK(strcmp(bs_ftype_column(BS_F_TEXT, true, false),
                 "TEXT DEFAULT '' NOT NULL") == 0);
    CHECK(strcmp(bs_ftype_column(BS_F_UNKNOWN, false, false),
                 "TEXT DEFAULT '' NOT NULL") == 0);
    CHECK(strcmp(bs_ftype_column(BS_F_GEOPOINT, false, false),
                 "JSON DEFAULT '{\"lon\":0,\"lat\":0}' NOT NULL") == 0);
}

TEST(finfo_init_fills_every_member)
{
    json_object *d;
    bs_finfo fi = info("{\"name\":\"id\",\"type\":\"text\",\"primaryKey\":"
                       "true,\"required\":true,\"hidden\":true}", &d);
    CHECK(strcmp(fi.name, "id") == 0);
    CHECK(fi.type == BS_F_TEXT && fi.primary_key && fi.required && fi.hidden);
    /* Never NULL, whoever builds the info (a loose definition here). */
    REQUIRE(fi.autogenerate && fi.collection_id);
    CHECK(*fi.autogenerate == 0 && *fi.collection_id == 0);
    json_object_put(d);

    fi = info("{\"name\":\"r\",\"type\":\"relation\",\"maxSelect\":5,"
              "\"collectionId\":\"abc\"}", &d);
    CHECK(fi.type == BS_F_RELATION && fi.multiple);
    CHECK(strcmp(fi.collection_id, "abc") == 0);
    json_object_put(d);

    /* maxSelect makes only list types multiple. */
    fi = info("{\"name\":\"t\",\"type\":\"text\",\"maxSelect\":5}", &d);
    CHECK(!fi.multiple && !fi.primary_key);
    json_object_put(d);
    fi = info("{\"name\":\"n\",\"type\":\"number\",\"primaryKey\":true}", &d);
    CHECK(!fi.primary_key);
    json_object_put(d);
    fi = info("{\"name\":\"w\",\"type\":\"weird\"}", &d);
    CHECK(fi.type == BS_F_UNKNOWN);
    json_object_put(d);
}

TEST(fill_finfo_for_a_collection_and_lookup)
{
    bs_collection c = {0};
    c.fields = P("[{\"name\":\"id\",\"type\":\"text\",\"primaryKey\":true,"
                 "\"autogeneratePattern\":\"[a-z]{5}\"},"
                 "{\"name\":\"when\",\"type\":\"autodate\",\"onCreate\":true},"
                 "{\"name\":\"tags\",\"type\":\"select\",\"maxSelect\":3}]");
    REQUIRE(bs_collection_fill_finfo(&c) == 0);
    CHECK(c.nfields == 3);
    CHECK(strcmp(c.finfo[0].autogenerate, "[a-z]{5}") == 0);
    CHECK(c.finfo[1].on_create && !c.finfo[1].on_update);
    const bs_finfo *t = bs_collection_finfo(&c, "tags");
    REQUIRE(t);
    CHECK(t == &c.finfo[2] && t->multiple);
    CHECK(bs_collection_finfo(&c, "nope") == NULL);
    CHECK(bs_collection_finfo(&c, NULL) == NULL);
    free(c.finfo);
    json_object_put(c.fields);

    /* Fields that are not an array: no fields. */
    c = (bs_collection){0};
    c.fields = P("{}");
    REQUIRE(bs_collection_fill_finfo(&c) == 0);
    CHECK(c.nfields == 0);
    free(c.finfo);
    json_object_put(c.fields);
}

/* prepare of `in` for the definition `def`, as JSON text. */
static int prepared_is(const char *def, const char *in, const char *want)
{
    json_object *d;
    bs_finfo fi = info(def, &d);
    json_object *raw = P(in);
    json_object *v = bs_finfo_prepare(&fi, raw);
    char *s = text_of(v);
    int ok = strcmp(s, want) == 0;
    if (!ok)
        fprintf(stderr, "prepare %s of %s: %s, want %s\n", def, in, s, want);
    free(s);
    if (v)
        json_object_put(v);
    if (raw)
        json_object_put(raw);
    json_object_put(d);
    return ok;
}

TEST(prepare_casts_by_type)
{
    CHECK(prepared_is("{\"type\":\"number\"}", "\"12.5\"", "12.5"));
    CHECK(prepared_is("{\"type\":\"bool\"}", "\"t\"", "true"));
    CHECK(prepared_is("{\"type\":\"text\"}", "12", "\"12\""));
    CHECK(prepared_is("{\"type\":\"weird\"}", "true", "\"true\""));
    CHECK(prepared_is("{\"type\":\"json\"}", "\"[1,2]\"", "[1,2]"));
    CHECK(prepared_is("{\"type\":\"date\"}", "\"2024-01-02\"",
                      "\"2024-01-02 00:00:00.000Z\""));
    CHECK(prepared_is("{\"type\":\"select\"}", "[\"a\",\"b\"]", "\"b\""));
    CHECK(prepared_is("{\"type\":\"select\",\"maxSelect\":2}", "\"a\"",
                      "[\"a\"]"));
    CHECK(prepared_is("{\"type\":\"geoPoint\"}", "\"{\\\"lon\\\":1}\"",
                      "{\"lon\":1,\"lat\":0}"));
}

TEST(modify_and_validate_by_info)
{
    json_object *d;
    bs_finfo fi = info("{\"type\":\"relation\",\"maxSelect\":9,"
                       "\"required\":true}", &d);
    json_object *cur = P("[\"a\",\"b\"]"), *arg = P("\"a\"");
    json_object *v = bs_finfo_modify(&fi, cur, '-', arg);
    char *s = text_of(v);
    CHECK(strcmp(s, "[\"b\"]") == 0);
    free(s);
    json_object_put(v);
    v = bs_finfo_modify(&fi, cur, '-', cur);
    CHECK(bs_finfo_is_empty(&fi, v));
    bs_field_error fe;
    CHECK(!bs_finfo_validate(&fi, v, true, &fe));
    CHECK(strcmp(fe.code, "validation_required") == 0);
    /* The loose-definition form agrees. */
    CHECK(!bs_field_validate(d, v, true, &fe));
    json_object_put(v);
    json_object_put(cur);
    json_object_put(arg);
    json_object_put(d);

    fi = info("{\"type\":\"number\"}", &d);
    cur = P("3");
    arg = P("\"2\"");
    v = bs_finfo_modify(&fi, cur, '+', arg);
    CHECK(json_object_get_double(v) == 5);
    json_object_put(v);
    json_object_put(cur);
    json_object_put(arg);
    json_object_put(d);
}

int main(void)
{
    RUN(every_type_has_a_name_that_round_trips);
    RUN(every_type_has_a_column_and_a_zero_value);
    RUN(column_definitions);
    RUN(finfo_init_fills_every_member);
    RUN(fill_finfo_for_a_collection_and_lookup);
    RUN(prepare_casts_by_type);
    RUN(modify_and_validate_by_info);
    return harness_summary(__FILE__);
}
