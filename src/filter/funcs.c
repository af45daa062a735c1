/*
 * funcs.c - the date macros (@now, @todayStart, ...) and the filter
 * functions geoDistance() and strftime().
 *
 * Macros are evaluated once, at compile time, from the context's clock
 * in UTC and bound as parameters, as PocketBase does. Functions compile
 * to SQL over their resolved arguments.
 */
#include "compile.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static int days_in_month(int year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0))
        return 29;
    return days[month - 1];
}

static char *datetime(bs_filter_query *q, int y, int mo, int d, int h, int mi,
                      int s, int ms)
{
    return bs_arena_printf(&q->arena, "%04d-%02d-%02d %02d:%02d:%02d.%03dZ",
                           y, mo, d, h, mi, s, ms);
}

/* Resolves the date and time macros (@now, @todayStart, ...) against the
 * context's clock, in UTC. *matched is false for any other name. */
int bsf_resolve_macro(bsf_pass *p, const char *name, bsf_operand *out,
                      bool *matched)
{
    bs_filter_query *q = p->q;
    *matched = false;
    if (name[0] != '@')
        return 0;
    int64_t now = q->ctx.now_ms;
    if (now == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    }
    int64_t secs = now >= 0 ? now / 1000 : (now - 999) / 1000;
    int ms = (int)(now - secs * 1000);
    struct tm tm;
    time_t t = (time_t)secs;
    if (!gmtime_r(&t, &tm))
        return bsf_fail(q, "invalid clock for %s", name);
    int y = tm.tm_year + 1900, mo = tm.tm_mon + 1, d = tm.tm_mday;
    char *text = NULL;
    int64_t num = 0;
    bool is_num = false;
    if (strcmp(name, "@now") == 0) {
        text = datetime(q, y, mo, d, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
    } else if (strcmp(name, "@yesterday") == 0 ||
               strcmp(name, "@tomorrow") == 0) {
        struct tm o;
        time_t ot = t + (name[1] == 'y' ? -86400 : 86400);
        if (!gmtime_r(&ot, &o))
            return bsf_fail(q, "invalid clock for %s", name);
        text = datetime(q, o.tm_year + 1900, o.tm_mon + 1, o.tm_mday,
                        o.tm_hour, o.tm_min, o.tm_sec, ms);
    } else if (strcmp(name, "@second") == 0) {
        num = tm.tm_sec, is_num = true;
    } else if (strcmp(name, "@minute") == 0) {
        num = tm.tm_min, is_num = true;
    } else if (strcmp(name, "@hour") == 0) {
        num = tm.tm_hour, is_num = true;
    } else if (strcmp(name, "@day") == 0) {
        num = d, is_num = true;
    } else if (strcmp(name, "@month") == 0) {
        num = mo, is_num = true;
    } else if (strcmp(name, "@weekday") == 0) {
        num = tm.tm_wday, is_num = true;
    } else if (strcmp(name, "@year") == 0) {
        num = y, is_num = true;
    } else if (strcmp(name, "@todayStart") == 0) {
        text = datetime(q, y, mo, d, 0, 0, 0, 0);
    } else if (strcmp(name, "@todayEnd") == 0) {
        text = datetime(q, y, mo, d, 23, 59, 59, 999);
    } else if (strcmp(name, "@monthStart") == 0) {
        text = datetime(q, y, mo, 1, 0, 0, 0, 0);
    } else if (strcmp(name, "@monthEnd") == 0) {
        text = datetime(q, y, mo, days_in_month(y, mo), 23, 59, 59, 999);
    } else if (strcmp(name, "@yearStart") == 0) {
        text = datetime(q, y, 1, 1, 0, 0, 0, 0);
    } else if (strcmp(name, "@yearEnd") == 0) {
        text = datetime(q, y, 12, 31, 23, 59, 59, 999);
    } else {
        return 0;
    }
    *matched = true;
    if (is_num)
        return bsf_op_param(q, out, bsf_param_int(q, num, false), false);
    if (!text)
        return bsf_nomem(q);
    return bsf_op_param(q, out, bsf_param_text(q, text, strlen(text)), false);
}

/* Concatenates the value parameters of several operands. */
static int merge_vp(bs_filter_query *q, bsf_operand *out,
                    const bsf_operand *ops, int n)
{
    int total = 0;
    for (int i = 0; i < n; i++)
        total += ops[i].nvp;
    int *vp = bs_arena_alloc(&q->arena, sizeof *vp * (size_t)(total + 1));
    if (!vp)
        return bsf_nomem(q);
    int k = 0;
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < ops[i].nvp; j++)
            vp[k++] = ops[i].vp[j];
    }
    out->vp = vp;
    out->nvp = k;
    return 0;
}

/* geoDistance(lonA, latA, lonB, latB): the Haversine distance in km. Like
 * PocketBase, several-valued arguments match if any value does. */
static int geo_distance(bsf_pass *p, const bs_fopd *o, bsf_operand *out)
{
    bs_filter_query *q = p->q;
    if (o->nargs != 4)
        return bsf_fail(q, "[geoDistance] expected 4 arguments, got %d",
                        o->nargs);
    bsf_operand a[4];
    for (int i = 0; i < 4; i++) {
        if (o->args[i].kind != BS_FOPD_IDENT &&
            o->args[i].kind != BS_FOPD_NUMBER)
            return bsf_fail(q, "[geoDistance] argument %d must be an "
                            "identifier or number", i);
        int rc = bsf_resolve(p, &o->args[i], &a[i]);
        if (rc == BS_EINVAL) {
            char inner[sizeof q->reason];
            memcpy(inner, q->reason, sizeof inner);
            return bsf_fail(q, "[geoDistance] failed to resolve argument %d: "
                            "%s", i, inner);
        }
        if (rc)
            return rc;
    }
    const char *lon_a = a[0].sql, *lat_a = a[1].sql;
    const char *lon_b = a[2].sql, *lat_b = a[3].sql;
    memset(out, 0, sizeof *out);
    out->nf = BSF_NF_OFF;
    out->sql = bs_arena_printf(
        &q->arena,
        "6371 * acos(cos(radians(%s)) * cos(radians(%s)) * "
        "cos(radians(%s) - radians(%s)) + sin(radians(%s)) * "
        "sin(radians(%s)))",
        lat_a, lat_b, lon_b, lon_a, lat_a, lat_b);
    if (!out->sql)
        return bsf_nomem(q);
    return merge_vp(q, out, a, 4);
}

/* strftime(format[, time-value[, modifiers...]]) with SQLite's meaning;
 * NULL results compare as ''. A several-valued time value must match
 * for every value (unless an ?-operator is used). */
static int str_ftime(bsf_pass *p, const bs_fopd *o, bsf_operand *out)
{
    bs_filter_query *q = p->q;
    int n = o->nargs;
    if (n < 1)
        return bsf_fail(q, "[strftime] expected at least 1 arguments, got %d",
                        n);
    if (n > 10)
        return bsf_fail(q, "[strftime] too many arguments (max allowed 10, "
                        "got %d)", n);
    if (o->args[0].kind != BS_FOPD_TEXT)
        return bsf_fail(q, "[strftime] expects the first argument to be a "
                        "format string");
    if (n > 1 && o->args[1].kind == BS_FOPD_FUNC)
        return bsf_fail(q, "[strftime] expects the second argument to be of "
                        "a valid time-value type");
    for (int i = 2; i < n; i++) {
        if (o->args[i].kind != BS_FOPD_TEXT)
            return bsf_fail(q, "[strftime] invalid modifier argument %d - can "
                            "be only string", i - 2);
    }
    bsf_operand a[10];
    for (int i = 0; i < n; i++) {
        int rc = bsf_resolve(p, &o->args[i], &a[i]);
        if (rc == BS_EINVAL) {
            char inner[sizeof q->reason];
            memcpy(inner, q->reason, sizeof inner);
            return bsf_fail(q, "[strftime] failed to resolve argument %d: %s",
                            i, inner);
        }
        if (rc)
            return rc;
    }
    const char *args[10];
    for (int i = 0; i < n; i++)
        args[i] = a[i].sql;
    bs_buf b;
    bs_buf_init(&b);
    q->d->strftime(&b, args, n);
    memset(out, 0, sizeof *out);
    out->nf = BSF_NF_FORCE;
    out->sql = bsf_take(q, &b);
    int rc = out->sql ? merge_vp(q, out, a, n) : bsf_nomem(q);
    if (rc == 0 && n > 1 && a[1].mm) {
        args[1] = a[1].mm->value;
        q->d->strftime(&b, args, n);
        bsf_mm *mm = bs_arena_alloc(&q->arena, sizeof *mm);
        if (mm) {
            mm->from = a[1].mm->from;
            mm->value = bsf_take(q, &b);
        }
        if (!mm || !mm->value)
            rc = bsf_nomem(q);
        else
            out->mm = mm;
    }
    bs_buf_dispose(&b);
    return rc;
}

int bsf_resolve_func(bsf_pass *p, const bs_fopd *o, bsf_operand *out)
{
    if (strcmp(o->text.ptr, "geoDistance") == 0)
        return geo_distance(p, o, out);
    if (strcmp(o->text.ptr, "strftime") == 0)
        return str_ftime(p, o, out);
    return bsf_fail(p->q, "unknown function \"%s\"", o->text.ptr);
}
