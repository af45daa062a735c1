/*
 * orders.c - the overview's Go program, in C: an order shop on Basalt.
 *
 * It is a whole Basalt program (its command line is basalt's, from
 * bs_app_start) with the seed's three extensions:
 *  - an order without items is refused with a 400, and every new order
 *    starts as "pending" whatever the client sent (OnRecordCreate);
 *  - when an order's status changes to "shipped" (the stored value is
 *    read with bs_record_original), the customer is notified after the
 *    response, on the app's worker pool: a log line and a mail that goes
 *    through the mailer hook (OnRecordAfterUpdateSuccess + bs_app_go);
 *  - GET /api/custom/order-stats, for superusers only, counts the orders
 *    and their revenue with SQL through the query API (OnServe).
 *
 *   build/examples/orders serve --http 127.0.0.1:8090 --dir pb_data
 *   build/examples/orders superuser upsert EMAIL PASSWORD --dir pb_data
 */
#include <basalt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int on_order_create(bs_event *e, void *user)
{
    (void)user;
    bs_record *order = ((bs_record_event *)e)->record;
    json_object *items = bs_record_get_string_list(order, "items");
    size_t n = items ? json_object_array_length(items) : 0;
    json_object_put(items);
    if (n == 0) {
        bs_error_field(e->error, "items", "validation_required",
                       "An order needs at least one item.");
        return bs_error_set(e->error, 400, "Failed to create record.");
    }
    bs_record_set_string(order, "status", "pending");
    return bs_event_next(e); /* the built-in save runs here */
}

/* What the notification needs, copied: it runs after the event ends. */
typedef struct shipped {
    char order_id[32];
    char customer_id[32];
} shipped;

static void send_shipped_notification(bs_app *app, void *arg)
{
    shipped *s = arg;
    bs_record *customer = NULL;
    const char *email = "";
    if (bs_record_find_by_id(app, "users", s->customer_id, &customer) == 0)
        email = bs_record_get_string(customer, "email");
    printf("orders: order %s shipped, notifying customer %s <%s>\n",
           s->order_id, s->customer_id, email);
    fflush(stdout);
    if (*email) {
        char text[256];
        snprintf(text, sizeof text, "<p>Your order %s is on its way.</p>",
                 s->order_id);
        bs_mail_message m = {
            .to = strdup(email),
            .subject = strdup("Your order has shipped"),
            .html = strdup(text),
        };
        bs_error err;
        bs_error_init(&err);
        if (bs_app_send_mail(app, &m, &err) != 0)
            fprintf(stderr, "orders: mail to %s failed: %s\n", email,
                    err.message ? err.message : "?");
        bs_error_dispose(&err);
        free(m.from_name);
        free(m.from_address);
        free(m.to);
        free(m.cc);
        free(m.bcc);
        free(m.subject);
        free(m.html);
        free(m.text);
    }
    bs_record_free(customer);
    free(s);
}

static int on_order_updated(bs_event *e, void *user)
{
    (void)user;
    bs_record *order = ((bs_record_event *)e)->record;
    const char *old_status =
        bs_record_get_string(bs_record_original(order), "status");
    const char *new_status = bs_record_get_string(order, "status");
    if (strcmp(old_status, new_status) != 0 &&
        strcmp(new_status, "shipped") == 0) {
        shipped *s = calloc(1, sizeof *s);
        if (s) {
            snprintf(s->order_id, sizeof s->order_id, "%s",
                     bs_record_id(order));
            snprintf(s->customer_id, sizeof s->customer_id, "%s",
                     bs_record_get_string(order, "customer_id"));
            if (bs_app_go(e->app, send_shipped_notification, s) != 0)
                free(s);
        }
    }
    return bs_event_next(e);
}

static int order_stats(bs_event *e, void *user)
{
    (void)user;
    json_object *params = json_object_new_object();
    json_object_object_add(params, "cancelled",
                           json_object_new_string("cancelled"));
    json_object *stats = NULL;
    int rc = bs_db_one(e->app,
                       "SELECT COUNT(*) AS total_orders,"
                       " COALESCE(SUM(total_cents), 0) AS total_revenue"
                       " FROM orders WHERE status != {:cancelled}",
                       params, &stats, e->error);
    json_object_put(params);
    if (rc)
        return rc;
    bs_resp_json((bs_req *)e, 200, stats);
    json_object_put(stats);
    return 0;
}

static int on_serve(bs_event *e, void *user)
{
    (void)user;
    bs_route *r = bs_app_route(e->app, "GET", "/api/custom/order-stats",
                               order_stats, NULL);
    bs_handler su = {.fn = bs_mw_require_superuser};
    if (!r || bs_route_bind(r, &su) != 0)
        return BS_ENOMEM;
    return bs_event_next(e);
}

int main(int argc, char **argv)
{
    bs_app *app = bs_app_new(NULL);
    if (!app)
        return 1;
    static const char *const orders[] = {"orders", NULL};
    bs_handler create = {.fn = on_order_create, .tags = orders};
    bs_handler updated = {.fn = on_order_updated, .tags = orders};
    if (bs_hook_bind(bs_app_hook(app, BS_ON_RECORD_CREATE), &create) ||
        bs_hook_bind(bs_app_hook(app, BS_ON_RECORD_AFTER_UPDATE_SUCCESS),
                     &updated) ||
        !bs_hook_bind_func(bs_app_hook(app, BS_ON_SERVE), on_serve, NULL)) {
        bs_app_free(app);
        return 1;
    }
    int rc = bs_app_start(app, argc, argv);
    bs_app_free(app);
    return rc;
}
