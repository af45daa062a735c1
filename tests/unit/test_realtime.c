/*
 * test_realtime.c - the realtime broker through a real app on a temp dir:
 * messages only after a commit (none for a rollback), a delete rendered
 * before it happens, the message send hook changing or dropping a
 * message, the bounded queue dropping a slow client, and the one-shot
 * send of the OAuth2 hand-off.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basalt.h"
#include "core/app.h"
#include "core/collection.h"
#include "core/realtime.h"
#include "core/record.h"
#include "core/tx.h"
#include "harness.h"
#include "testapp.h"

static bs_app *app;
static char dir[64];

static int create_collection_tx(bs_tx *tx, void *data)
{
    bs_error *err = data;
    json_object *col = json_tokener_parse(
        "{\"name\":\"posts\",\"type\":\"base\",\"listRule\":\"\","
        "\"fields\":[{\"name\":\"title\",\"type\":\"text\"}]}");
    int rc = bs_collection_normalize(col, err);
    if (rc == 0)
        rc = bs_collection_create(bs_tx_conn(tx), col, err);
    json_object_put(col);
    return rc;
}

/* A renderer that shows every record to everybody as {action,title}. */
static char *render(bs_app *a, const bs_rt_view *v, const char *action,
                    const bs_record *rec, size_t *len)
{
    (void)a;
    (void)v;
    char *out = NULL;
    int n = asprintf(&out, "{\"action\":\"%s\",\"title\":\"%s\"}", action,
                     bs_record_get_string(rec, "title"));
    *len = n > 0 ? (size_t)n : 0;
    return n > 0 ? out : NULL;
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/bs_test_realtime_%d", (int)getpid());
    setenv("BASALT_REALTIME_QUEUE_MAX", "4096", 1);
    app = testapp_open(dir, create_collection_tx);
    if (bs_realtime_start(app->realtime, render) != 0) {
        fprintf(stderr, "setup failed: the broadcaster did not start\n");
        exit(1);
    }
}

/* A registered client (no stream) subscribed to topic. */
static bs_rt_client *subscriber(const char *topic)
{
    bs_rt_client *c = bs_rt_client_new(app->realtime, "10.0.0.1");
    bs_rt_client_register(c, NULL, 0, 0);
    json_object *t = json_object_new_array();
    json_object_array_add(t, json_object_new_string(topic));
    bs_rt_client_set(c, t, NULL);
    json_object_put(t);
    return c;
}

/* What c has queued, waiting up to a second for at least `want` bytes
 * (the broadcaster delivers asynchronously). */
static const char *drain(bs_rt_client *c, size_t want)
{
    static char buf[8192];
    size_t n = 0;
    for (int i = 0; i < 200; i++) {
        ssize_t k = bs_rt_client_read(c, buf + n, sizeof buf - 1 - n);
        if (k > 0)
            n += (size_t)k;
        if (k < 0 || (n >= want && k == 0))
            break;
        usleep(5000);
    }
    buf[n] = '\0';
    return buf;
}

static bs_record *save(const char *title)
{
    bs_schema *s = bs_app_schema(app);
    bs_record *r = bs_record_new(s, bs_schema_find(s, "posts"));
    bs_schema_unref(s);
    bs_record_set(r, "title", json_object_new_string(title));
    bs_error err;
    bs_error_init(&err);
    int rc = bs_record_save(app, r, &err);
    bs_error_dispose(&err);
    if (rc) {
        bs_record_free(r);
        return NULL;
    }
    return r;
}

static int save_then_fail(bs_tx *tx, void *data)
{
    (void)tx;
    bs_record_free(save(data));
    return BS_EABORT;
}

static int delete_then_fail(bs_tx *tx, void *data)
{
    (void)tx;
    bs_error err;
    bs_error_init(&err);
    bs_record_delete(app, data, &err);
    bs_error_dispose(&err);
    return BS_EABORT;
}

TEST(messages_after_commit_only)
{
    bs_rt_client *c = subscriber("posts/*");
    bs_error err;
    bs_error_init(&err);
    CHECK(bs_run_in_transaction(app, save_then_fail, "never", &err) != 0);
    bs_error_dispose(&err);
    bs_record *r = save("first");
    CHECK(r != NULL);
    const char *got = drain(c, 10);
    char want[256];
    snprintf(want, sizeof want,
             "id:%s\nevent:posts/*\ndata:{\"action\":\"create\","
             "\"title\":\"first\"}\n\n",
             bs_rt_client_id(c));
    CHECK_STR(got, want);

    /* A delete is rendered before it happens and sent on commit only. */
    bs_error_init(&err);
    CHECK(bs_run_in_transaction(app, delete_then_fail, r, &err) != 0);
    bs_error_dispose(&err);
    bs_error_init(&err);
    CHECK(bs_record_delete(app, r, &err) == 0);
    bs_error_dispose(&err);
    got = drain(c, 10);
    CHECK(strstr(got, "\"action\":\"delete\",\"title\":\"first\"") != NULL);
    CHECK(strstr(got + 1, "id:") == NULL); /* one message only */
    bs_record_free(r);
    bs_rt_client_done(bs_rt_client_ref(c));
    bs_rt_client_unref(c);
}

static void set_topics(bs_rt_client *c, const char *a, const char *b)
{
    json_object *t = json_object_new_array();
    if (a)
        json_object_array_add(t, json_object_new_string(a));
    if (b)
        json_object_array_add(t, json_object_new_string(b));
    bs_rt_client_set(c, t, NULL);
    json_object_put(t);
}

/* A change committed before a client subscribed is not sent to it, even
 * when the broadcaster renders it after the subscription (it runs on its
 * own thread); a topic the client sends again with the SDK's whole list
 * keeps the changes published since it first subscribed. */
TEST(changes_before_a_subscription_are_not_sent)
{
    bs_rt_client *c = subscriber("posts/*"); /* so changes are published */
    for (int i = 0; i < 20; i++) {
        bs_rt_client *d = bs_rt_client_new(app->realtime, "10.0.0.2");
        bs_rt_client_register(d, NULL, 0, 0);
        bs_record_free(save("before"));
        set_topics(d, "posts/*", NULL);
        bs_record_free(save("kept"));
        set_topics(d, "posts/*", "posts/none"); /* the SDK's resubscribe */
        bs_record_free(save("after"));
        const char *got = drain(d, 1);
        for (int k = 0; k < 100 && !strstr(got, "\"after\""); k++) {
            static char all[16384];
            snprintf(all, sizeof all, "%s", got);
            got = drain(d, 1);
            size_t n = strlen(all);
            snprintf(all + n, sizeof all - n, "%s", got);
            got = all;
        }
        CHECK(strstr(got, "\"after\"") != NULL);
        CHECK(strstr(got, "\"kept\"") != NULL);
        CHECK(strstr(got, "\"before\"") == NULL);
        bs_rt_client_done(bs_rt_client_ref(d));
        bs_rt_client_unref(d);
    }
    drain(c, 0);
    bs_rt_client_done(bs_rt_client_ref(c));
    bs_rt_client_unref(c);
}

static int rewrite(bs_event *e, void *user)
{
    (void)user;
    bs_realtime_event *re = (bs_realtime_event *)e;
    if (strcmp(re->name, "drop") == 0)
        return 0; /* not calling next: dropped */
    free(re->data);
    re->data = strdup("\"changed\"");
    re->data_len = strlen(re->data);
    return bs_event_next(e);
}

TEST(message_send_hook_changes_or_drops)
{
    bs_rt_client *c = subscriber("x");
    bs_hook *h = bs_app_hook(app, BS_ON_REALTIME_MESSAGE_SEND);
    const char *id = bs_hook_bind_func(h, rewrite, NULL);
    CHECK(bs_rt_client_send(c, "drop", "1", 1) == 0);
    CHECK(bs_rt_client_send(c, "keep", "1", 1) == 0);
    const char *got = drain(c, 1);
    char want[128];
    snprintf(want, sizeof want, "id:%s\nevent:keep\ndata:\"changed\"\n\n",
             bs_rt_client_id(c));
    CHECK_STR(got, want);
    bs_hook_unbind(h, id);
    bs_rt_client_done(bs_rt_client_ref(c));
    bs_rt_client_unref(c);
}

TEST(slow_client_is_dropped)
{
    bs_rt_client *c = subscriber("x");
    char big[1000];
    memset(big, 'a', sizeof big);
    for (int i = 0; i < 10; i++)
        bs_rt_client_send(c, "x", big, sizeof big);
    char buf[64];
    CHECK(bs_rt_client_read(c, buf, sizeof buf) == BS_STREAM_ABORT);
    bs_rt_client_done(bs_rt_client_ref(c));
    bs_rt_client_unref(c);
}

TEST(send_once_checks_topic_and_address)
{
    bs_rt_client *c = subscriber("@oauth2");
    const char *id = bs_rt_client_id(c);
    CHECK(!bs_realtime_send_once(app->realtime, id, "10.9.9.9", "@oauth2",
                                 "{}"));
    CHECK(!bs_realtime_send_once(app->realtime, "nobody", "10.0.0.1",
                                 "@oauth2", "{}"));
    CHECK(bs_realtime_send_once(app->realtime, id, "10.0.0.1", "@oauth2",
                                "{\"code\":\"c\"}"));
    /* The subscription is used up. */
    CHECK(!bs_realtime_send_once(app->realtime, id, "10.0.0.1", "@oauth2",
                                 "{}"));
    CHECK(strstr(drain(c, 1), "event:@oauth2\ndata:{\"code\":\"c\"}") != NULL);
    CHECK(bs_realtime_count(app->realtime) == 1);
    bs_rt_client_done(bs_rt_client_ref(c));
    CHECK(bs_realtime_count(app->realtime) == 0);
    CHECK(bs_realtime_find(app->realtime, id) == NULL);
    bs_rt_client_unref(c);
}

int main(void)
{
    setup();
    RUN(messages_after_commit_only);
    RUN(changes_before_a_subscription_are_not_sent);
    RUN(message_send_hook_changes_or_drops);
    RUN(slow_client_is_dropped);
    RUN(send_once_checks_topic_and_address);
    bs_app_free(app);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return harness_summary(__FILE__);
}
