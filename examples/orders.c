/*
 * orders.c - a program that embeds Basalt and hooks order creation.
 *
 * It serves the normal API and adds one rule in C: an order must have
 * at least one item, and every new order starts as "pending" whatever
 * the client sent.
 *
 *   build/examples/orders [DATA_DIR] [ADDR]
 */
#include <basalt.h>
#include <stdio.h>

static int on_order_create(bs_event *e, void *user)
{
    bs_record_event *re = (bs_record_event *)e;
    (void)user;
    json_object *items = bs_record_get(re->record, "items");
    if (!items || !json_object_is_type(items, json_type_array) ||
        json_object_array_length(items) == 0) {
        bs_error_field(e->error, "items", "validation_required",
                       "An order needs at least one item.");
        return bs_error_set(e->error, 400, "Failed to create record.");
    }
    bs_record_set(re->record, "status", json_object_new_string("pending"));
    return bs_event_next(e); /* the built-in save runs here */
}

int main(int argc, char **argv)
{
    bs_app_config cfg = {
        .data_dir = argc > 1 ? argv[1] : "pb_data",
        .http_addr = argc > 2 ? argv[2] : "127.0.0.1:8090",
    };
    bs_app *app = bs_app_new(&cfg);
    if (!app)
        return 1;
    bs_error err;
    bs_error_init(&err);
    int rc = bs_app_bootstrap(app, &err);
    if (rc == 0) {
        static const char *const tags[] = {"orders", NULL};
        bs_handler h = {.fn = on_order_create, .tags = tags};
        rc = bs_hook_bind(bs_app_hook(app, BS_ON_RECORD_CREATE), &h);
    }
    if (rc == 0)
        rc = bs_app_serve(app, true, &err);
    if (rc)
        fprintf(stderr, "orders: %s\n",
                err.message ? err.message : bs_strerror(rc));
    bs_error_dispose(&err);
    bs_app_free(app);
    return rc ? 1 : 0;
}
