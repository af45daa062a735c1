/*
 * record_list.h - reading records: one page of a collection as a
 * requester may see it (the list rule, a client filter and sort, paging
 * and the total), and lookups by column values for internal callers.
 */
#ifndef BS_RECORD_LIST_H
#define BS_RECORD_LIST_H

#include "record.h"
#include "rules.h"

typedef struct bs_record_list_query {
    bs_rule_ctx ctx;       /* collection, @request data, superuser */
    const char *rule;      /* the list rule: NULL or "" adds nothing */
    const char *filter;    /* a client filter, or NULL */
    const char *sort;      /* a client sort ("-created,title"), or NULL;
                            * with a search it may open with @rank or
                            * -@rank (most relevant first, or last) */
    const char *search;    /* full-text search text (fts.h), or NULL */
    int64_t page;          /* >= 1 */
    int64_t per_page;      /* >= 1; 0 with use_offset: no limit */
    bool skip_total;
    /* Internal callers: skip `offset` rows instead of whole pages. */
    bool use_offset;
    int64_t offset;
} bs_record_list_query;

typedef struct bs_record_page {
    bs_record **items;     /* owned, n of them */
    int n;
    int64_t total;         /* matching records; -1 when skipped */
} bs_record_page;

/* Loads one page. A superuser context ignores the rule; hidden fields
 * and unrestricted joins in the filter and sort are for superusers only.
 * On a thread inside a transaction of the app, it reads through that
 * transaction (and so sees its uncommitted writes).
 * Returns 0, or BS_EHTTP with PocketBase's generic 400 in err for a
 * filter or sort that does not compile or run, or a 400 naming the
 * problem for a search the collection cannot run. Any thread. */
int bs_record_list(const bs_record_list_query *lq, bs_record_page *out,
                   bs_error *err);

void bs_record_page_dispose(bs_record_page *p);

/* One condition of a lookup: column = value (COLLATE NOCASE when
 * nocase), or column != value when `differs`. */
typedef struct bs_record_where {
    const char *column;
    const char *value;
    bool nocase;
    bool differs;
} bs_record_where;

/* The records of c matching every condition, ordered by order (trusted
 * SQL such as "created DESC", or NULL: storage order), at most limit of
 * them (0: all). No rule applies. Read from a reader connection; use
 * within a write transaction only for rows committed before it. Returns
 * 0 (possibly with no records) or an error. */
int bs_record_find_where(bs_app *app, bs_schema *schema,
                         const bs_collection *c, const bs_record_where *w,
                         int nw, const char *order, int limit,
                         bs_record_page *out);

/* Ends a lookup that wanted one record: with rc 0, moves the page's
 * first record to *out (BS_ENOTFOUND when the page is empty); disposes
 * the page in every case. Returns the final code. */
int bs_record_page_first(bs_record_page *p, int rc, bs_record **out);

/* The first record of such a lookup: 0, BS_ENOTFOUND or an error. */
int bs_record_find_first_where(bs_app *app, bs_schema *schema,
                               const bs_collection *c,
                               const bs_record_where *w, int nw,
                               const char *order, bs_record **out);

#endif
