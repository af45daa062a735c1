/*
 * test_hook.c - handler chains: order, tags, ids, chain control, nesting
 * and binding from another thread while triggering.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/hook.h"
#include "basalt.h"
#include "harness.h"

/* An event with a payload, and a trace of which handlers ran. */
typedef struct test_event {
    bs_event ev;
    int value;
    char trace[256];
} test_event;

static void trace(bs_event *e, const char *s)
{
    test_event *t = (test_event *)e;
    size_t have = strlen(t->trace), add = strlen(s);
    if (add > sizeof t->trace - 1 - have)
        add = sizeof t->trace - 1 - have;
    memcpy(t->trace + have, s, add);
    t->trace[have + add] = '\0';
}

/* Appends its user string to the trace and continues. */
static int h_trace(bs_event *e, void *user)
{
    trace(e, user);
    return bs_event_next(e);
}

/* Appends its user string and stops the chain. */
static int h_stop(bs_event *e, void *user)
{
    trace(e, user);
    return 0;
}

static int h_fail(bs_event *e, void *user)
{
    trace(e, user);
    return BS_EABORT;
}

static int final_trace(bs_event *e, void *user)
{
    trace(e, user ? user : "F");
    return 0;
}

static int final_fail(bs_event *e, void *user)
{
    trace(e, "F");
    return BS_EINVAL;
}

static bs_handler H(const char *id, int prio, bs_handler_fn fn, void *user)
{
    bs_handler h = {.id = id, .priority = prio, .fn = fn, .user = user};
    return h;
}

static int run(bs_hook *h, test_event *t)
{
    t->trace[0] = '\0';
    return bs_hook_trigger(h, &t->ev, final_trace, NULL);
}

TEST(priority_then_registration_order)
{
    bs_hook *h = bs_hook_new();
    REQUIRE(h != NULL);
    bs_handler a = H("a", 5, h_trace, "a");
    bs_handler b = H("b", -1, h_trace, "b");
    bs_handler c = H("c", 5, h_trace, "c");
    bs_handler d = H("d", 0, h_trace, "d");
    bs_handler e = H(NULL, -1, h_trace, "e");
    CHECK(bs_hook_bind(h, &a) == 0);
    CHECK(bs_hook_bind(h, &b) == 0);
    CHECK(bs_hook_bind(h, &c) == 0);
    CHECK(bs_hook_bind(h, &d) == 0);
    CHECK(bs_hook_bind(h, &e) == 0);
    CHECK(bs_hook_length(h) == 5);
    test_event t = {0};
    CHECK(run(h, &t) == 0);
    CHECK_STR(t.trace, "bedacF");
    bs_hook_free(h);
}

TEST(bind_rejects_missing_fn)
{
    bs_hook *h = bs_hook_new();
    bs_handler none = H("x", 0, NULL, NULL);
    CHECK(bs_hook_bind(h, &none) == BS_EINVAL);
    CHECK(bs_hook_bind(h, NULL) == BS_EINVAL);
    CHECK(bs_hook_bind_func(h, NULL, NULL) == NULL);
    CHECK(bs_hook_length(h) == 0);
    bs_hook_free(h);
}

TEST(tags_match_collection_id_or_name)
{
    bs_hook *h = bs_hook_new();
    static const char *const by_name[] = {"posts", NULL};
    static const char *const by_id[] = {"pbc_123", NULL};
    static const char *const other[] = {"users", "pbc_999", NULL};
    static const char *const empty[] = {NULL};
    bs_handler a = H("a", 0, h_trace, "n");
    a.tags = by_name;
    bs_handler b = H("b", 0, h_trace, "i");
    b.tags = by_id;
    bs_handler c = H("c", 0, h_trace, "o");
    c.tags = other;
    bs_handler d = H("d", 0, h_trace, "*");
    d.tags = empty; /* an empty list means every event */
    bs_handler e = H("e", 0, h_trace, "-");
    REQUIRE(bs_hook_bind(h, &a) == 0);
    REQUIRE(bs_hook_bind(h, &b) == 0);
    REQUIRE(bs_hook_bind(h, &c) == 0);
    REQUIRE(bs_hook_bind(h, &d) == 0);
    REQUIRE(bs_hook_bind(h, &e) == 0);

    test_event t = {0};
    t.ev.tags[0] = "pbc_123";
    t.ev.tags[1] = "posts";
    run(h, &t);
    CHECK_STR(t.trace, "ni*-F");

    t.ev.tags[0] = "pbc_123";
    t.ev.tags[1] = "renamed";
    run(h, &t);
    CHECK_STR(t.trace, "i*-F");

    t.ev.tags[0] = NULL;
    t.ev.tags[1] = "USERS"; /* tags compare exactly */
    run(h, &t);
    CHECK_STR(t.trace, "*-F");

    t.ev.tags[0] = "pbc_999";
    t.ev.tags[1] = NULL;
    run(h, &t);
    CHECK_STR(t.trace, "o*-F");
    bs_hook_free(h);
}

TEST(tags_are_copied)
{
    bs_hook *h = bs_hook_new();
    char name[16] = "posts";
    const char *tags[] = {name, NULL};
    bs_handler a = H("a", 0, h_trace, "a");
    a.tags = tags;
    REQUIRE(bs_hook_bind(h, &a) == 0);
    strcpy(name, "other");
    test_event t = {0};
    t.ev.tags[1] = "posts";
    run(h, &t);
    CHECK_STR(t.trace, "aF");
    bs_hook_free(h);
}

TEST(unbind_and_unbind_all)
{
    bs_hook *h = bs_hook_new();
    bs_handler a = H("a", 0, h_trace, "a");
    bs_handler b = H("b", 0, h_trace, "b");
    bs_handler c = H("c", 0, h_trace, "c");
    bs_hook_bind(h, &a);
    bs_hook_bind(h, &b);
    bs_hook_bind(h, &c);
    CHECK(bs_hook_unbind(h, "b"));
    CHECK(!bs_hook_unbind(h, "b"));
    CHECK(!bs_hook_unbind(h, "missing"));
    CHECK(bs_hook_length(h) == 2);
    test_event t = {0};
    run(h, &t);
    CHECK_STR(t.trace, "acF");
    bs_hook_unbind_all(h);
    CHECK(bs_hook_length(h) == 0);
    run(h, &t);
    CHECK_STR(t.trace, "F");
    /* Binding again after unbind_all works, with a fresh order. */
    bs_hook_bind(h, &b);
    bs_hook_bind(h, &a);
    run(h, &t);
    CHECK_STR(t.trace, "baF");
    bs_hook_free(h);
}

TEST(bind_same_id_replaces_in_place)
{
    bs_hook *h = bs_hook_new();
    bs_handler a = H("a", 0, h_trace, "a");
    bs_handler b = H("b", 0, h_trace, "b");
    bs_handler c = H("c", 0, h_trace, "c");
    bs_hook_bind(h, &a);
    bs_hook_bind(h, &b);
    bs_hook_bind(h, &c);
    bs_handler b2 = H("b", 0, h_trace, "B");
    CHECK(bs_hook_bind(h, &b2) == 0);
    CHECK(bs_hook_length(h) == 3);
    test_event t = {0};
    run(h, &t);
    CHECK_STR(t.trace, "aBcF");
    /* Unbinding the id removes the replacement. */
    CHECK(bs_hook_unbind(h, "b"));
    run(h, &t);
    CHECK_STR(t.trace, "acF");
    bs_hook_free(h);
}

TEST(bind_func_ids_unique)
{
    bs_hook *h = bs_hook_new();
    const char *ids[50];
    for (int i = 0; i < 50; i++) {
        ids[i] = bs_hook_bind_func(h, h_trace, "x");
        REQUIRE(ids[i] != NULL);
        CHECK(ids[i][0] != '\0');
    }
    int dup = 0;
    for (int i = 0; i < 50; i++)
        for (int j = i + 1; j < 50; j++)
            dup += strcmp(ids[i], ids[j]) == 0;
    CHECK(dup == 0);
    CHECK(bs_hook_length(h) == 50);
    /* A generated id can be used to unbind, and stays readable after. */
    char saved[64];
    snprintf(saved, sizeof saved, "%s", ids[10]);
    CHECK(bs_hook_unbind(h, ids[10]));
    CHECK_STR(ids[10], saved);
    CHECK(bs_hook_length(h) == 49);
    bs_hook_free(h);
}

TEST(bind_func_id_does_not_collide_with_named)
{
    bs_hook *h = bs_hook_new();
    const char *id = bs_hook_bind_func(h, h_trace, "1");
    REQUIRE(id != NULL);
    /* A handler bound with the generated id replaces, a different one
     * is added. */
    bs_handler x = H("my-handler", 0, h_trace, "2");
    bs_hook_bind(h, &x);
    const char *id2 = bs_hook_bind_func(h, h_trace, "3");
    REQUIRE(id2 != NULL);
    CHECK(strcmp(id, id2) != 0);
    CHECK(bs_hook_length(h) == 3);
    test_event t = {0};
    run(h, &t);
    CHECK_STR(t.trace, "123F");
    bs_hook_free(h);
}

TEST(handler_not_calling_next_stops_chain)
{
    bs_hook *h = bs_hook_new();
    bs_handler a = H("a", 0, h_trace, "a");
    bs_handler b = H("b", 1, h_stop, "b");
    bs_handler c = H("c", 2, h_trace, "c");
    bs_hook_bind(h, &a);
    bs_hook_bind(h, &b);
    bs_hook_bind(h, &c);
    test_event t = {0};
    CHECK(run(h, &t) == 0);
    CHECK_STR(t.trace, "ab"); /* neither c nor the final step ran */
    bs_hook_free(h);
}

TEST(errors_propagate)
{
    bs_hook *h = bs_hook_new();
    bs_handler a = H("a", 0, h_trace, "a");
    bs_handler b = H("b", 1, h_fail, "b");
    bs_hook_bind(h, &a);
    bs_hook_bind(h, &b);
    test_event t = {0};
    CHECK(run(h, &t) == BS_EABORT);
    CHECK_STR(t.trace, "ab");
    bs_hook_unbind(h, "b");
    t.trace[0] = '\0';
    CHECK(bs_hook_trigger(h, &t.ev, final_fail, NULL) == BS_EINVAL);
    CHECK_STR(t.trace, "aF");
    bs_hook_free(h);
}

static int h_double_then_check(bs_event *e, void *user)
{
    test_event *t = (test_event *)e;
    t->value *= 2;
    int rc = bs_event_next(e);
    /* The final step set value to value+1000; we see it afterwards. */
    if (t->value > 1000)
        trace(e, "saw");
    return rc;
}

static int final_add(bs_event *e, void *user)
{
    test_event *t = (test_event *)e;
    t->value += 1000;
    return 0;
}

TEST(handler_changes_data_and_sees_results)
{
    bs_hook *h = bs_hook_new();
    bs_hook_bind_func(h, h_double_then_check, NULL);
    test_event t = {0};
    t.value = 21;
    CHECK(bs_hook_trigger(h, &t.ev, final_add, NULL) == 0);
    CHECK(t.value == 1042);
    CHECK_STR(t.trace, "saw");
    bs_hook_free(h);
}

TEST(final_gets_its_user_pointer)
{
    bs_hook *h = bs_hook_new();
    test_event t = {0};
    /* Both the fast path and the chain pass final_user through. */
    CHECK(bs_hook_trigger(h, &t.ev, final_trace, "X") == 0);
    CHECK_STR(t.trace, "X");
    bs_hook_bind_func(h, h_trace, "a");
    t.trace[0] = '\0';
    CHECK(bs_hook_trigger(h, &t.ev, final_trace, "Y") == 0);
    CHECK_STR(t.trace, "aY");
    bs_hook_free(h);
}

TEST(no_handlers_fast_path_calls_final)
{
    bs_hook *h = bs_hook_new();
    test_event t = {0};
    CHECK(run(h, &t) == 0);
    CHECK_STR(t.trace, "F");
    t.trace[0] = '\0';
    CHECK(bs_hook_trigger(h, &t.ev, final_fail, NULL) == BS_EINVAL);
    /* A NULL hook and a NULL final are allowed. */
    t.trace[0] = '\0';
    CHECK(bs_hook_trigger(NULL, &t.ev, final_trace, NULL) == 0);
    CHECK_STR(t.trace, "F");
    CHECK(bs_hook_trigger(h, &t.ev, NULL, NULL) == 0);
    bs_hook_bind_func(h, h_trace, "a");
    t.trace[0] = '\0';
    CHECK(bs_hook_trigger(h, &t.ev, NULL, NULL) == 0);
    CHECK_STR(t.trace, "a");
    bs_hook_free(h);
}

TEST(handlers_skipped_by_tags_still_reach_final)
{
    bs_hook *h = bs_hook_new();
    static const char *const tags[] = {"posts", NULL};
    bs_handler a = H("a", 0, h_trace, "a");
    a.tags = tags;
    bs_hook_bind(h, &a);
    test_event t = {0};
    t.ev.tags[1] = "users";
    CHECK(run(h, &t) == 0);
    CHECK_STR(t.trace, "F");
    bs_hook_free(h);
}

TEST(next_after_final_is_a_noop)
{
    bs_hook *h = bs_hook_new();
    bs_hook_bind_func(h, h_trace, "a");
    test_event t = {0};
    run(h, &t);
    CHECK_STR(t.trace, "aF");
    CHECK(bs_event_next(&t.ev) == 0);
    CHECK_STR(t.trace, "aF");
    bs_hook_free(h);
}

/* ---- nesting ----------------------------------------------------------- */

static bs_hook *inner_hook;

/* Triggers inner_hook with its own event, then continues. */
static int h_nested_other_event(bs_event *e, void *user)
{
    trace(e, "(");
    test_event inner = {0};
    int rc = bs_hook_trigger(inner_hook, &inner.ev, final_trace, "f");
    trace(e, inner.trace);
    trace(e, ")");
    if (rc)
        return rc;
    return bs_event_next(e);
}

/* Triggers inner_hook with the same event, then continues. */
static int h_nested_same_event(bs_event *e, void *user)
{
    trace(e, "(");
    int rc = bs_hook_trigger(inner_hook, e, final_trace, "f");
    trace(e, ")");
    if (rc)
        return rc;
    return bs_event_next(e);
}

TEST(nested_trigger_with_other_event)
{
    bs_hook *outer = bs_hook_new();
    inner_hook = bs_hook_new();
    bs_hook_bind_func(outer, h_trace, "a");
    bs_hook_bind_func(outer, h_nested_other_event, NULL);
    bs_hook_bind_func(outer, h_trace, "b");
    bs_hook_bind_func(inner_hook, h_trace, "x");
    bs_hook_bind_func(inner_hook, h_trace, "y");
    test_event t = {0};
    CHECK(run(outer, &t) == 0);
    CHECK_STR(t.trace, "a(xyf)bF");
    bs_hook_free(inner_hook);
    bs_hook_free(outer);
}

TEST(nested_trigger_with_same_event_keeps_outer_chain)
{
    bs_hook *outer = bs_hook_new();
    inner_hook = bs_hook_new();
    bs_hook_bind_func(outer, h_trace, "a");
    bs_hook_bind_func(outer, h_nested_same_event, NULL);
    bs_hook_bind_func(outer, h_trace, "b");
    bs_hook_bind_func(inner_hook, h_trace, "x");
    test_event t = {0};
    CHECK(run(outer, &t) == 0);
    CHECK_STR(t.trace, "a(xf)bF");
    bs_hook_free(inner_hook);
    bs_hook_free(outer);
}

/* The same as above with an inner hook that has no handlers: the fast
 * path must not clobber the outer chain state stored in the event. */
TEST(nested_trigger_of_empty_hook_with_same_event_keeps_outer_chain)
{
    bs_hook *outer = bs_hook_new();
    inner_hook = bs_hook_new();
    bs_hook_bind_func(outer, h_trace, "a");
    bs_hook_bind_func(outer, h_nested_same_event, NULL);
    bs_hook_bind_func(outer, h_trace, "b");
    test_event t = {0};
    CHECK(run(outer, &t) == 0);
    CHECK_STR(t.trace, "a(f)bF");
    bs_hook_free(inner_hook);
    bs_hook_free(outer);
}

/* A handler that triggers the same hook again (bounded recursion). */
static bs_hook *self_hook;
static int h_recurse(bs_event *e, void *user)
{
    test_event *t = (test_event *)e;
    trace(e, "r");
    if (t->value-- > 0) {
        test_event inner = {0};
        inner.value = t->value;
        t->value = 0;
        bs_hook_trigger(self_hook, &inner.ev, final_trace, "i");
        trace(e, inner.trace);
    }
    return bs_event_next(e);
}

TEST(recursive_trigger_of_same_hook)
{
    self_hook = bs_hook_new();
    bs_hook_bind_func(self_hook, h_recurse, NULL);
    test_event t = {0};
    t.value = 2;
    CHECK(run(self_hook, &t) == 0);
    /* Each level traces "r", the inner ones end with their final "i". */
    CHECK_STR(t.trace, "rrriiF");
    bs_hook_free(self_hook);
}

/* ---- threads ------------------------------------------------------------ */

typedef struct binder_arg {
    bs_hook *h;
    atomic_bool done;
    atomic_int rounds;
} binder_arg;

static int h_count(bs_event *e, void *user)
{
    atomic_fetch_add((atomic_int *)user, 1);
    return bs_event_next(e);
}

static atomic_int counter;

static void *binder(void *p)
{
    binder_arg *a = p;
    char id[32];
    for (int i = 0; i < 20000; i++) {
        snprintf(id, sizeof id, "t%d", i % 7);
        bs_handler hd = {.id = id, .priority = i % 5, .fn = h_count,
                         .user = &counter};
        bs_hook_bind(a->h, &hd);
        if (i % 3 == 0)
            bs_hook_unbind(a->h, id);
        if (i % 11 == 0)
            bs_hook_bind_func(a->h, h_count, &counter);
        if (i % 97 == 0)
            bs_hook_unbind_all(a->h);
        atomic_fetch_add(&a->rounds, 1);
    }
    atomic_store(&a->done, true);
    return NULL;
}

static int final_count(bs_event *e, void *user)
{
    (*(int *)user)++;
    return 0;
}

TEST(bind_from_other_thread_while_triggering)
{
    bs_hook *h = bs_hook_new();
    bs_hook_bind_func(h, h_count, &counter);
    binder_arg arg = {.h = h};
    atomic_init(&arg.done, false);
    atomic_init(&arg.rounds, 0);
    pthread_t th;
    REQUIRE(pthread_create(&th, NULL, binder, &arg) == 0);
    int finals = 0, triggers = 0, failed = 0;
    /* Trigger until the binder is done, and at least 10000 times. */
    while (!atomic_load(&arg.done) || triggers < 10000) {
        test_event t = {0};
        failed += bs_hook_trigger(h, &t.ev, final_count, &finals) != 0;
        triggers++;
    }
    pthread_join(th, NULL);
    CHECK(failed == 0);
    /* Every trigger reached its final step whatever the chain was. */
    CHECK(finals == triggers);
    CHECK(atomic_load(&arg.rounds) == 20000);
    CHECK(atomic_load(&counter) > 0);
    bs_hook_free(h);
}

int main(void)
{
    RUN(priority_then_registration_order);
    RUN(bind_rejects_missing_fn);
    RUN(tags_match_collection_id_or_name);
    RUN(tags_are_copied);
    RUN(unbind_and_unbind_all);
    RUN(bind_same_id_replaces_in_place);
    RUN(bind_func_ids_unique);
    RUN(bind_func_id_does_not_collide_with_named);
    RUN(handler_not_calling_next_stops_chain);
    RUN(errors_propagate);
    RUN(handler_changes_data_and_sees_results);
    RUN(final_gets_its_user_pointer);
    RUN(no_handlers_fast_path_calls_final);
    RUN(handlers_skipped_by_tags_still_reach_final);
    RUN(next_after_final_is_a_noop);
    RUN(nested_trigger_with_other_event);
    RUN(nested_trigger_with_same_event_keeps_outer_chain);
    RUN(nested_trigger_of_empty_hook_with_same_event_keeps_outer_chain);
    RUN(recursive_trigger_of_same_hook);
    RUN(bind_from_other_thread_while_triggering);
    return harness_summary(__FILE__);
}
