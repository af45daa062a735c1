/*
 * error.h - internal helpers around the public bs_error.
 */
#ifndef BS_ERROR_H
#define BS_ERROR_H

#include "basalt.h"
#include "buf.h"
#include "json.h"

/* PocketBase's default sentence for an HTTP status. */
const char *bs_status_message(int status);

/* Appends {"data":{...},"message":"...","status":N}. */
void bs_error_write_json(const bs_error *e, bs_buf *out);

#endif
