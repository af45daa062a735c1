/*
 * mail.c - record mails, templates and transports (SMTP, sendmail, log).
 *
 * Sending is split in two halves. The first half runs on the caller's
 * thread: render the template, run the mailer hooks (which may change or
 * suppress the message), pick the transport from the settings and format
 * the message. The second half - talking to the SMTP server or to the
 * sendmail program - works only on a self-contained job (the formatted
 * message, the envelope and a copy of the SMTP settings), so it can run
 * on a detached thread without holding anything of the app.
 */
#include "events.h"
#include "mail.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../base/json.h"
#include "../base/util.h"
#include "app.h"
#include "field.h"
#include "record.h"
#include "token.h"

extern char **environ;

void bs_mail_message_dispose(bs_mail_message *m)
{
    if (!m)
        return;
    free(m->from_name);
    free(m->from_address);
    free(m->to);
    free(m->cc);
    free(m->bcc);
    free(m->subject);
    free(m->html);
    free(m->text);
    memset(m, 0, sizeof *m);
}

/* ---- templates --------------------------------------------------------- */

/* The HTML around every template body. */
static const char LAYOUT_HEAD[] =
    "<!DOCTYPE html>\n"
    "<html>\n"
    "<head>\n"
    "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=UTF-8\" />\n"
    "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\" />\n"
    "<style>\n"
    "body { margin: 0; padding: 20px 30px; color: #1b1b1f; background: #fff;"
    " font: 14px/20px system-ui, sans-serif; }\n"
    "p { margin: 10px 0; }\n"
    "a { color: inherit; }\n"
    ".btn { display: inline-block; margin: 5px 0; padding: 0 20px;"
    " min-width: 150px; line-height: 40px; text-align: center;"
    " border-radius: 6px; font-weight: bold; text-decoration: none !important;"
    " color: #fff !important; background: #1b1b1f !important; }\n"
    "</style>\n"
    "</head>\n"
    "<body>\n";
static const char LAYOUT_TAIL[] = "\n</body>\n</html>\n";

/* Go's html.EscapeString. */
static void html_escape(bs_buf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': bs_buf_puts(b, "&lt;"); break;
        case '>': bs_buf_puts(b, "&gt;"); break;
        case '&': bs_buf_puts(b, "&amp;"); break;
        case '\'': bs_buf_puts(b, "&#39;"); break;
        case '"': bs_buf_puts(b, "&#34;"); break;
        default: bs_buf_putc(b, *s);
        }
    }
}

/* A field value as text, the way PocketBase's GetString casts it. */
static void value_text(const json_object *v, bs_buf *b)
{
    if (!v)
        return;
    switch (json_object_get_type(v)) {
    case json_type_string:
        bs_buf_puts(b, json_object_get_string((json_object *)v));
        break;
    case json_type_boolean:
        bs_buf_puts(b, json_object_get_boolean(v) ? "true" : "false");
        break;
    case json_type_int:
    case json_type_double:
        bs_buf_json_num(b, json_object_get_double(v));
        break;
    default:
        break;
    }
}

/* Replaces every occurrence of name in *text (a bs_buf) with value. */
static void replace_all(bs_buf *text, const char *name, const char *value)
{
    size_t nn = strlen(name);
    if (!nn || !text->data || !strstr(text->data, name))
        return;
    bs_buf out;
    bs_buf_init(&out);
    const char *p = text->data;
    const char *hit;
    while ((hit = strstr(p, name))) {
        bs_buf_append(&out, p, (size_t)(hit - p));
        bs_buf_puts(&out, value);
        p = hit + nn;
    }
    bs_buf_puts(&out, p);
    bs_buf_dispose(text);
    *text = out;
}

/* Types whose values go into a mail without HTML escaping. */
static bool plain_type(bs_ftype type)
{
    return type == BS_F_AUTODATE || type == BS_F_DATE || type == BS_F_BOOL ||
           type == BS_F_NUMBER;
}

int bs_mail_render(const json_object *settings, const bs_record *rec,
                   const json_object *tmpl, const char *const *placeholders,
                   char **subject, char **html)
{
    *subject = *html = NULL;
    bs_buf subj, body;
    bs_buf_init(&subj);
    bs_buf_init(&body);
    bs_buf_puts(&subj, bs_json_get_str(tmpl, "subject", ""));
    bs_buf_puts(&body, bs_json_get_str(tmpl, "body", ""));
    for (const char *const *p = placeholders; p && p[0]; p += 2) {
        replace_all(&subj, p[0], p[1] ? p[1] : "");
        replace_all(&body, p[0], p[1] ? p[1] : "");
    }
    json_object *meta = bs_json_get(settings, "meta");
    const char *app_name = bs_json_get_str(meta, "appName", "");
    const char *app_url = bs_json_get_str(meta, "appURL", "");
    replace_all(&subj, "{APP_NAME}", app_name);
    replace_all(&body, "{APP_NAME}", app_name);
    replace_all(&subj, "{APP_URL}", app_url);
    replace_all(&body, "{APP_URL}", app_url);
    for (int i = 0; i < rec->collection->nfields; i++) {
        const bs_finfo *f = &rec->collection->finfo[i];
        if (f->hidden)
            continue;
        char name[300];
        snprintf(name, sizeof name, "{RECORD:%s}", f->name);
        bool in_subj = subj.data && strstr(subj.data, name);
        bool in_body = body.data && strstr(body.data, name);
        if (!in_subj && !in_body)
            continue;
        bs_buf raw, val;
        bs_buf_init(&raw);
        bs_buf_init(&val);
        value_text(bs_record_get(rec, f->name), &raw);
        if (plain_type(f->type))
            bs_buf_puts(&val, raw.data ? raw.data : "");
        else
            html_escape(&val, raw.data ? raw.data : "");
        replace_all(&subj, name, val.data ? val.data : "");
        replace_all(&body, name, val.data ? val.data : "");
        bs_buf_dispose(&raw);
        bs_buf_dispose(&val);
    }
    bs_buf page;
    bs_buf_init(&page);
    bs_buf_puts(&page, LAYOUT_HEAD);
    bs_buf_puts(&page, body.data ? body.data : "");
    bs_buf_puts(&page, LAYOUT_TAIL);
    bs_buf_dispose(&body);
    int rc = subj.oom || page.oom ? BS_ENOMEM : 0;
    if (rc == 0) {
        *subject = bs_buf_steal(&subj, NULL);
        *html = bs_buf_steal(&page, NULL);
    }
    bs_buf_dispose(&subj);
    bs_buf_dispose(&page);
    return rc;
}

/* ---- HTML to text ----------------------------------------------------- */

static bool tag_is(const char *tag, size_t n, const char *name)
{
    size_t k = strlen(name);
    return n == k && strncasecmp(tag, name, k) == 0;
}

/* The value of attribute `attr` inside the tag text t[0..n). */
static bool tag_attr(const char *t, size_t n, const char *attr, bs_buf *out)
{
    size_t an = strlen(attr);
    for (size_t i = 0; i + an + 1 < n; i++) {
        if (strncasecmp(t + i, attr, an) != 0 || t[i + an] != '=' ||
            (i > 0 && t[i - 1] != ' ' && t[i - 1] != '\t' && t[i - 1] != '\n'))
            continue;
        size_t j = i + an + 1;
        char q = t[j];
        if (q == '"' || q == '\'') {
            size_t k = j + 1;
            while (k < n && t[k] != q)
                k++;
            bs_buf_append(out, t + j + 1, k - j - 1);
        } else {
            size_t k = j;
            while (k < n && t[k] != ' ' && t[k] != '>')
                k++;
            bs_buf_append(out, t + j, k - j);
        }
        return true;
    }
    return false;
}

static void put_entity_decoded(bs_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '&') {
            bs_buf_putc(b, s[i]);
            continue;
        }
        static const struct { const char *e; const char *c; } ents[] = {
            {"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""},
            {"&#34;", "\""}, {"&#39;", "'"}, {"&apos;", "'"}, {"&nbsp;", " "},
        };
        bool done = false;
        for (size_t k = 0; k < sizeof ents / sizeof ents[0]; k++) {
            size_t en = strlen(ents[k].e);
            if (n - i >= en && strncmp(s + i, ents[k].e, en) == 0) {
                bs_buf_puts(b, ents[k].c);
                i += en - 1;
                done = true;
                break;
            }
        }
        if (!done)
            bs_buf_putc(b, '&');
    }
}

char *bs_mail_html_to_text(const char *html)
{
    bs_buf raw;
    bs_buf_init(&raw);
    bs_buf href;
    bs_buf_init(&href);
    size_t link_start = 0;
    const char *p = html ? html : "";
    /* Only the body, when there is one. */
    const char *bodytag = strstr(p, "<body");
    if (bodytag) {
        const char *gt = strchr(bodytag, '>');
        if (gt)
            p = gt + 1;
    }
    while (*p) {
        if (*p != '<') {
            const char *lt = strchr(p, '<');
            size_t n = lt ? (size_t)(lt - p) : strlen(p);
            /* Source whitespace collapses to single spaces. */
            bs_buf chunk;
            bs_buf_init(&chunk);
            for (size_t i = 0; i < n; i++) {
                char ch = p[i];
                if (ch == '\n' || ch == '\r' || ch == '\t')
                    ch = ' ';
                char prev = chunk.len ? chunk.data[chunk.len - 1]
                            : raw.len ? raw.data[raw.len - 1]
                                      : '\n';
                if (ch == ' ' && (prev == ' ' || prev == '\n'))
                    continue;
                bs_buf_putc(&chunk, ch);
            }
            put_entity_decoded(&raw, chunk.data ? chunk.data : "", chunk.len);
            bs_buf_dispose(&chunk);
            p += n;
            continue;
        }
        const char *gt = strchr(p, '>');
        if (!gt)
            break;
        const char *t = p + 1;
        size_t tn = (size_t)(gt - t);
        bool closing = tn && t[0] == '/';
        const char *name = closing ? t + 1 : t;
        size_t nn = 0;
        while (name + nn < gt && name[nn] != ' ' && name[nn] != '/' &&
               name[nn] != '\t' && name[nn] != '\n')
            nn++;
        if (!closing && (tag_is(name, nn, "style") ||
                         tag_is(name, nn, "script") ||
                         tag_is(name, nn, "head"))) {
            char end[16];
            snprintf(end, sizeof end, "</%.*s", (int)nn, name);
            const char *q = gt;
            while ((q = strchr(q, '<')) && strncasecmp(q, end, strlen(end)))
                q++;
            if (!q)
                break;
            gt = strchr(q, '>');
            if (!gt)
                break;
        } else if (tag_is(name, nn, "br")) {
            bs_buf_putc(&raw, '\n');
        } else if (tag_is(name, nn, "p") || tag_is(name, nn, "div") ||
                   tag_is(name, nn, "tr") || tag_is(name, nn, "li") ||
                   tag_is(name, nn, "h1") || tag_is(name, nn, "h2") ||
                   tag_is(name, nn, "h3") || tag_is(name, nn, "h4")) {
            bs_buf_putc(&raw, '\n');
        } else if (tag_is(name, nn, "a")) {
            if (!closing) {
                bs_buf_reset(&href);
                tag_attr(t, tn, "href", &href);
                link_start = raw.len;
            } else if (href.len) {
                /* "text (url)" unless the text already is the url. */
                size_t tl = raw.len - link_start;
                if (tl != href.len ||
                    memcmp(raw.data + link_start, href.data, tl) != 0) {
                    bs_buf_puts(&raw, " (");
                    bs_buf_append(&raw, href.data, href.len);
                    bs_buf_putc(&raw, ')');
                }
                bs_buf_reset(&href);
            }
        }
        p = gt + 1;
    }
    bs_buf_dispose(&href);
    /* Trim every line and keep at most one empty line in a row. */
    bs_buf out;
    bs_buf_init(&out);
    const char *s = raw.data ? raw.data : "";
    int blank = 1;
    while (*s) {
        const char *nl = strchr(s, '\n');
        size_t n = nl ? (size_t)(nl - s) : strlen(s);
        size_t a = 0, z = n;
        while (a < z && s[a] == ' ')
            a++;
        while (z > a && s[z - 1] == ' ')
            z--;
        if (z > a) {
            if (blank == 2 && out.len)
                bs_buf_putc(&out, '\n');
            bs_buf_append(&out, s + a, z - a);
            bs_buf_putc(&out, '\n');
            blank = 0;
        } else if (blank < 2) {
            blank++;
        }
        s += n + (nl ? 1 : 0);
    }
    bs_buf_dispose(&raw);
    if (out.oom) {
        bs_buf_dispose(&out);
        return NULL;
    }
    return bs_buf_steal(&out, NULL);
}

/* ---- message format ----------------------------------------------------- */

static bool needs_encoding(const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x80 || c < 0x20 || c == 0x7f)
            return true;
    }
    return false;
}

static void b64(bs_buf *b, const unsigned char *in, size_t n)
{
    static const char tbl[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        char q[4] = {tbl[v >> 18], tbl[(v >> 12) & 63],
                     i + 1 < n ? tbl[(v >> 6) & 63] : '=',
                     i + 2 < n ? tbl[v & 63] : '='};
        bs_buf_append(b, q, 4);
    }
}

/* Appends a header value, as RFC 2047 encoded words when it is not plain
 * ASCII (chunks of whole UTF-8 characters, folded). */
static void header_text(bs_buf *b, const char *s)
{
    if (!needs_encoding(s)) {
        bs_buf_puts(b, s);
        return;
    }
    size_t n = strlen(s), i = 0;
    bool first = true;
    while (i < n) {
        size_t k = i + 45 < n ? i + 45 : n;
        while (k > i && k < n && ((unsigned char)s[k] & 0xC0) == 0x80)
            k--;
        if (k == i)
            k = i + 1;
        if (!first)
            bs_buf_puts(b, "\r\n ");
        bs_buf_puts(b, "=?utf-8?b?");
        b64(b, (const unsigned char *)s + i, k - i);
        bs_buf_puts(b, "?=");
        first = false;
        i = k;
    }
}

/* The address part of "Name <addr>" or of a plain address, trimmed. */
static void addr_only(const char *s, size_t n, bs_buf *out)
{
    const char *lt = memchr(s, '<', n);
    if (lt) {
        const char *gt = memchr(lt, '>', n - (size_t)(lt - s));
        if (gt) {
            bs_buf_append(out, lt + 1, (size_t)(gt - lt - 1));
            return;
        }
    }
    while (n && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    bs_buf_append(out, s, n);
}

/* Calls fn for each address of a comma-separated list. */
static void each_addr(const char *list, void (*fn)(void *, const char *),
                      void *user)
{
    const char *p = list;
    while (p && *p) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        bs_buf a;
        bs_buf_init(&a);
        addr_only(p, n, &a);
        if (a.len && !a.oom)
            fn(user, a.data);
        bs_buf_dispose(&a);
        p = comma ? comma + 1 : NULL;
    }
}

static void put_addr_header(void *user, const char *addr)
{
    bs_buf *b = user;
    if (b->len && b->data[b->len - 1] != ' ')
        bs_buf_puts(b, ", ");
    bs_buf_puts(b, addr);
}

static void address_header(bs_buf *b, const char *name, const char *list)
{
    if (!list || !*list)
        return;
    bs_buf v;
    bs_buf_init(&v);
    bs_buf_putc(&v, ' ');
    each_addr(list, put_addr_header, &v);
    if (v.len > 1) {
        bs_buf_puts(b, name);
        bs_buf_putc(b, ':');
        bs_buf_append(b, v.data, v.len);
        bs_buf_puts(b, "\r\n");
    }
    bs_buf_dispose(&v);
}

/* Quoted-printable body with CRLF line ends and soft breaks at 76. */
static void quoted_printable(bs_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t col = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        if (c == '\r' && p[1] == '\n')
            continue;
        if (c == '\n') {
            bs_buf_puts(b, "\r\n");
            col = 0;
            continue;
        }
        bool at_eol = p[1] == '\n' || p[1] == '\0' ||
                      (p[1] == '\r' && p[2] == '\n');
        char enc[3];
        size_t n;
        if ((c >= 33 && c <= 126 && c != '=') ||
            ((c == ' ' || c == '\t') && !at_eol)) {
            enc[0] = (char)c;
            n = 1;
        } else {
            enc[0] = '=';
            enc[1] = hex[c >> 4];
            enc[2] = hex[c & 15];
            n = 3;
        }
        if (col + n > 75) {
            bs_buf_puts(b, "=\r\n");
            col = 0;
        }
        bs_buf_append(b, enc, n);
        col += n;
    }
    bs_buf_puts(b, "\r\n");
}

void bs_mail_format(const bs_mail_message *m, bool with_bcc, bs_buf *out)
{
    char rnd[33];
    if (bs_random_string(rnd, 32, "abcdefghijklmnopqrstuvwxyz0123456789"))
        strcpy(rnd, "basaltboundary00000000000000000");
    const char *from = m->from_address ? m->from_address : "";
    bs_buf_puts(out, "From: ");
    if (m->from_name && *m->from_name) {
        if (needs_encoding(m->from_name)) {
            header_text(out, m->from_name);
        } else {
            bs_buf_putc(out, '"');
            for (const char *q = m->from_name; *q; q++) {
                if (*q == '"' || *q == '\\')
                    bs_buf_putc(out, '\\');
                bs_buf_putc(out, *q);
            }
            bs_buf_putc(out, '"');
        }
        bs_buf_printf(out, " <%s>\r\n", from);
    } else {
        bs_buf_printf(out, "%s\r\n", from);
    }
    address_header(out, "To", m->to);
    address_header(out, "Cc", m->cc);
    if (with_bcc)
        address_header(out, "Bcc", m->bcc);
    bs_buf_puts(out, "Subject: ");
    header_text(out, m->subject ? m->subject : "");
    bs_buf_puts(out, "\r\n");
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    bs_buf_printf(out, "Date: %s\r\n", date);
    const char *at = strchr(from, '@');
    bs_buf_printf(out, "Message-ID: <%.15s@%s>\r\n", rnd,
                  at && at[1] ? at + 1 : "localhost");
    bs_buf_puts(out, "MIME-Version: 1.0\r\n");
    bs_buf_printf(out, "Content-Type: multipart/alternative; "
                       "boundary=\"%s\"\r\n\r\n", rnd);
    char *derived = NULL;
    const char *text = m->text;
    if (!text || !*text)
        text = derived = bs_mail_html_to_text(m->html ? m->html : "");
    bs_buf_printf(out, "--%s\r\nContent-Type: text/plain; charset=UTF-8\r\n"
                       "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
                  rnd);
    quoted_printable(out, text ? text : "");
    if (m->html && *m->html) {
        bs_buf_printf(out, "--%s\r\nContent-Type: text/html; charset=UTF-8\r\n"
                           "Content-Transfer-Encoding: quoted-printable\r\n"
                           "\r\n",
                      rnd);
        quoted_printable(out, m->html);
    }
    bs_buf_printf(out, "--%s--\r\n", rnd);
    free(derived);
}

/* ---- transports ---------------------------------------------------------- */

enum { VIA_LOG, VIA_SMTP, VIA_SENDMAIL };

/* Everything the network half needs, owned by the job. */
typedef struct mail_job {
    int via;
    bs_buf data;            /* the formatted message */
    size_t sent;            /* read position for libcurl */
    char *from;             /* envelope sender */
    struct curl_slist *rcpt;
    char *url;              /* smtp(s)://host:port[/localname] */
    bool tls;
    char *username;
    char *password;
    char *login_options;    /* "AUTH=LOGIN" / "AUTH=PLAIN" or NULL */
    char *sendmail;         /* program path */
    char *what;             /* "to <list>, subject <s>" for the log */
} mail_job;

static void job_free(mail_job *j)
{
    if (!j)
        return;
    bs_buf_dispose(&j->data);
    free(j->from);
    curl_slist_free_all(j->rcpt);
    free(j->url);
    if (j->password) {
        explicit_bzero(j->password, strlen(j->password));
        free(j->password);
    }
    free(j->username);
    free(j->login_options);
    free(j->sendmail);
    free(j->what);
    free(j);
}

static size_t curl_read(char *buf, size_t size, size_t nitems, void *user)
{
    mail_job *j = user;
    size_t room = size * nitems;
    size_t left = j->data.len - j->sent;
    size_t n = left < room ? left : room;
    memcpy(buf, j->data.data + j->sent, n);
    j->sent += n;
    return n;
}

static int smtp_deliver(mail_job *j, char *reason, size_t cap)
{
    CURL *c = curl_easy_init();
    if (!c) {
        snprintf(reason, cap, "failed to initialize libcurl");
        return BS_EIO;
    }
    j->sent = 0;
    curl_easy_setopt(c, CURLOPT_URL, j->url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_USE_SSL,
                     j->tls ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_TRY);
    if (j->username && *j->username)
        curl_easy_setopt(c, CURLOPT_USERNAME, j->username);
    if (j->password && *j->password)
        curl_easy_setopt(c, CURLOPT_PASSWORD, j->password);
    if (j->login_options)
        curl_easy_setopt(c, CURLOPT_LOGIN_OPTIONS, j->login_options);
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, j->from);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, j->rcpt);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, curl_read);
    curl_easy_setopt(c, CURLOPT_READDATA, j);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    CURLcode res = curl_easy_perform(c);
    curl_easy_cleanup(c);
    if (res != CURLE_OK) {
        snprintf(reason, cap, "SMTP: %s", curl_easy_strerror(res));
        return BS_EIO;
    }
    return 0;
}

static int sendmail_deliver(mail_job *j, char *reason, size_t cap)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        snprintf(reason, cap, "sendmail: %s", strerror(errno));
        return BS_EIO;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[0], 0);
    char *argv[] = {j->sendmail, "-i", "-t", NULL};
    pid_t pid;
    int err = posix_spawn(&pid, j->sendmail, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[0]);
    if (err) {
        close(fds[1]);
        snprintf(reason, cap, "sendmail: %s", strerror(err));
        return BS_EIO;
    }
    /* A sendmail that dies early must not kill us with SIGPIPE. */
    sigset_t pipe_set, old;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    size_t off = 0;
    bool wrote = true;
    while (off < j->data.len) {
        ssize_t w = write(fds[1], j->data.data + off, j->data.len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            wrote = false;
            break;
        }
        off += (size_t)w;
    }
    close(fds[1]);
    struct timespec zero = {0, 0};
    while (sigtimedwait(&pipe_set, NULL, &zero) > 0)
        ;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!wrote || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(reason, cap, "sendmail exited with status %d",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        return BS_EIO;
    }
    return 0;
}

static int deliver(mail_job *j, char *reason, size_t cap)
{
    switch (j->via) {
    case VIA_SMTP:
        return smtp_deliver(j, reason, cap);
    case VIA_SENDMAIL:
        return sendmail_deliver(j, reason, cap);
    default:
        bs_log('W', "mail: no SMTP server configured and no sendmail "
                    "program found; the mail %s was not delivered "
                    "(configure SMTP in the settings)",
               j->what);
        return 0;
    }
}

static void *deliver_thread(void *arg)
{
    mail_job *j = arg;
    char reason[256];
    if (deliver(j, reason, sizeof reason) != 0)
        bs_log('E', "mail: failed to send the mail %s: %s", j->what, reason);
    job_free(j);
    return NULL;
}

/* A sendmail program, as PocketBase looks for one. */
static char *find_sendmail(void)
{
    static const char *const fixed[] = {"/usr/sbin/sendmail",
                                        "/usr/bin/sendmail"};
    for (size_t i = 0; i < 2; i++) {
        if (access(fixed[i], X_OK) == 0)
            return strdup(fixed[i]);
    }
    const char *path = getenv("PATH");
    while (path && *path) {
        const char *colon = strchr(path, ':');
        size_t n = colon ? (size_t)(colon - path) : strlen(path);
        char cand[4096];
        if (n && n + 10 < sizeof cand) {
            memcpy(cand, path, n);
            strcpy(cand + n, "/sendmail");
            struct stat st;
            if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) &&
                access(cand, X_OK) == 0)
                return strdup(cand);
        }
        path = colon ? colon + 1 : NULL;
    }
    return NULL;
}

typedef struct rcpt_ctx {
    struct curl_slist **list;
    bool oom;
} rcpt_ctx;

static void add_rcpt(void *user, const char *addr)
{
    rcpt_ctx *c = user;
    char tmp[600];
    snprintf(tmp, sizeof tmp, "<%s>", addr);
    struct curl_slist *n = curl_slist_append(*c->list, tmp);
    if (!n)
        c->oom = true;
    else
        *c->list = n;
}

static char *dup_or_null(const char *s)
{
    return s && *s ? strdup(s) : NULL;
}

/* Builds the delivery job for m under the current settings. */
static mail_job *make_job(const json_object *settings,
                          const bs_mail_message *m)
{
    mail_job *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    bs_buf_init(&j->data);
    json_object *smtp = bs_json_get(settings, "smtp");
    if (bs_json_get_bool(smtp, "enabled", false)) {
        j->via = VIA_SMTP;
        j->tls = bs_json_get_bool(smtp, "tls", false);
        bs_buf url;
        bs_buf_init(&url);
        const char *host = bs_json_get_str(smtp, "host", "");
        bool v6 = strchr(host, ':') != NULL;
        bs_buf_printf(&url, "%s://%s%s%s:%lld", j->tls ? "smtps" : "smtp",
                      v6 ? "[" : "", host, v6 ? "]" : "",
                      (long long)bs_json_get_int(smtp, "port", 25));
        const char *local = bs_json_get_str(smtp, "localName", "");
        if (*local)
            bs_buf_printf(&url, "/%s", local);
        j->url = bs_buf_steal(&url, NULL);
        j->username = dup_or_null(bs_json_get_str(smtp, "username", ""));
        j->password = dup_or_null(bs_json_get_str(smtp, "password", ""));
        const char *method = bs_json_get_str(smtp, "authMethod", "");
        if (strcasecmp(method, "LOGIN") == 0)
            j->login_options = strdup("AUTH=LOGIN");
        else if (strcasecmp(method, "PLAIN") == 0)
            j->login_options = strdup("AUTH=PLAIN");
    } else if ((j->sendmail = find_sendmail())) {
        j->via = VIA_SENDMAIL;
    } else {
        j->via = VIA_LOG;
    }
    bs_mail_format(m, j->via == VIA_SENDMAIL, &j->data);
    char tmp[600];
    snprintf(tmp, sizeof tmp, "<%s>", m->from_address ? m->from_address : "");
    j->from = strdup(tmp);
    rcpt_ctx rc = {.list = &j->rcpt};
    each_addr(m->to, add_rcpt, &rc);
    each_addr(m->cc, add_rcpt, &rc);
    each_addr(m->bcc, add_rcpt, &rc);
    bs_buf what;
    bs_buf_init(&what);
    bs_buf_printf(&what, "to %s with subject \"%s\"", m->to ? m->to : "",
                  m->subject ? m->subject : "");
    j->what = bs_buf_steal(&what, NULL);
    if (j->data.oom || !j->from || !j->what || rc.oom ||
        (j->via == VIA_SMTP && !j->url)) {
        job_free(j);
        return NULL;
    }
    return j;
}

typedef struct send_ctx {
    int flags;
    bs_error *err;
} send_ctx;

static int send_final(bs_event *e, void *user)
{
    send_ctx *sc = user;
    bs_mailer_event *me = (bs_mailer_event *)e;
    bs_mail_message *m = me->message;
    if ((!m->to || !*m->to) && (!m->cc || !*m->cc) && (!m->bcc || !*m->bcc))
        return bs_error_set(sc->err, 400, "Failed to send the email: "
                                          "missing recipients.");
    bs_settings *s = bs_app_settings(e->app);
    mail_job *j = make_job(s->value, m);
    bs_settings_unref(s);
    if (!j)
        return BS_ENOMEM;
    if (sc->flags & BS_MAIL_ASYNC) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        int rc = pthread_create(&t, &attr, deliver_thread, j);
        pthread_attr_destroy(&attr);
        if (rc == 0)
            return 0;
        /* No thread to spare: deliver here. */
    }
    char reason[256];
    int rc = deliver(j, reason, sizeof reason);
    if (rc) {
        bs_log('E', "mail: failed to send the mail %s: %s", j->what, reason);
        bs_error_set(sc->err, 400, "Failed to send the email: %s", reason);
    }
    job_free(j);
    return rc;
}

int bs_mail_send(bs_app *app, bs_mail_message *m, int flags, bs_error *err)
{
    send_ctx sc = {.flags = flags, .err = err};
    bs_mailer_event e = {.ev = {.app = app, .error = err}, .message = m};
    return bs_trigger_mailer(app, BS_ON_MAILER_SEND, &e, send_final,
                           &sc);
}

/* ---- record mails ------------------------------------------------------- */

typedef struct record_mail {
    int flags;
    bs_error *err;
    const char *otp_id;   /* the OTP mail updates this OTP's sentTo */
} record_mail;

/* Records the first address an OTP was sent to. */
static void set_otp_sent_to(bs_app *app, const char *otp_id, const char *to)
{
    bs_schema *schema = bs_app_schema(app);
    const bs_collection *otps = bs_schema_find(schema, "_otps");
    bs_record *otp = NULL;
    if (otps) {
        bs_conn *conn = bs_store_reader_acquire(app->store);
        bs_record_find(conn, schema, otps, otp_id, &otp);
        bs_store_reader_release(app->store, conn);
    }
    if (!otp) {
        bs_log('W', "mail: OTP %s is gone; its sentTo was not updated",
               otp_id);
    } else if (!*bs_record_get_string(otp, "sentTo")) {
        bs_error err;
        bs_error_init(&err);
        bs_record_set(otp, "sentTo", json_object_new_string(to));
        if (bs_record_save(app, otp, &err) != 0)
            bs_log('E', "mail: failed to update the sentTo of OTP %s: %s",
                   otp_id, err.message ? err.message : "");
        bs_error_dispose(&err);
    }
    bs_record_free(otp);
    bs_schema_unref(schema);
}

static int record_mail_final(bs_event *e, void *user)
{
    record_mail *rm = user;
    bs_mailer_event *me = (bs_mailer_event *)e;
    int rc = bs_mail_send(e->app, me->message, rm->flags, rm->err);
    if (rc == 0 && rm->otp_id && me->message->to && *me->message->to) {
        bs_buf first;
        bs_buf_init(&first);
        const char *comma = strchr(me->message->to, ',');
        addr_only(me->message->to,
                  comma ? (size_t)(comma - me->message->to)
                        : strlen(me->message->to),
                  &first);
        if (first.len)
            set_otp_sent_to(e->app, rm->otp_id, first.data);
        bs_buf_dispose(&first);
    }
    return rc;
}

/* The template object at options.<key> (or options.<key>.<sub>), with the
 * built-in default when the collection has none. */
static json_object *template_of(const bs_record *rec, const char *key,
                                const char *sub, json_object **defaults)
{
    json_object *t = bs_json_get(rec->collection->options, key);
    if (sub)
        t = bs_json_get(t, sub);
    if (t && json_object_is_type(t, json_type_object) &&
        *bs_json_get_str(t, "body", ""))
        return t;
    extern const char bs_default_auth_options[];
    if (!*defaults)
        bs_json_parse(bs_default_auth_options, strlen(bs_default_auth_options),
                      defaults);
    t = bs_json_get(*defaults, key);
    return sub ? bs_json_get(t, sub) : t;
}

static int send_record_mail(bs_app *app, bs_record *rec, int hook,
                            const char *tmpl_key, const char *tmpl_sub,
                            const char *to, const char *const *ph,
                            json_object *meta, record_mail *rm)
{
    json_object *defaults = NULL;
    bs_settings *s = bs_app_settings(app);
    bs_mail_message m = {0};
    int rc = bs_mail_render(s->value, rec,
                            template_of(rec, tmpl_key, tmpl_sub, &defaults),
                            ph, &m.subject, &m.html);
    json_object *meta_o = bs_json_get(s->value, "meta");
    m.from_name = strdup(bs_json_get_str(meta_o, "senderName", ""));
    m.from_address = strdup(bs_json_get_str(meta_o, "senderAddress", ""));
    m.to = strdup(to ? to : "");
    bs_settings_unref(s);
    if (defaults)
        json_object_put(defaults);
    if (rc == 0 && (!m.from_name || !m.from_address || !m.to))
        rc = BS_ENOMEM;
    if (rc == 0) {
        bs_mailer_event e = {.ev = {.app = app,
                                    .tags = {rec->collection->id,
                                             rec->collection->name},
                                    .error = rm->err},
                             .message = &m,
                             .record = rec,
                             .meta = meta};
        rc = bs_trigger_mailer(app, hook, &e, record_mail_final, rm);
    }
    bs_mail_message_dispose(&m);
    if (meta)
        json_object_put(meta);
    return rc;
}

/* A new token for rec into *out (malloc'ed). */
static int new_token(bs_record *rec, const char *type, const char *new_email,
                     char **out)
{
    bs_buf t;
    bs_buf_init(&t);
    int rc = bs_token_for_record(rec, type, 0, false, new_email, &t);
    if (rc) {
        bs_buf_dispose(&t);
        return rc;
    }
    *out = bs_buf_steal(&t, NULL);
    return *out ? 0 : BS_ENOMEM;
}

static json_object *meta_of(const char *k1, const char *v1, const char *k2,
                            const char *v2)
{
    json_object *m = json_object_new_object();
    if (k1)
        json_object_object_add(m, k1, json_object_new_string(v1 ? v1 : ""));
    if (k2)
        json_object_object_add(m, k2, json_object_new_string(v2 ? v2 : ""));
    return m;
}

int bs_mail_send_record_verification(bs_app *app, bs_record *rec, int flags,
                                     bs_error *err)
{
    char *token = NULL;
    int rc = new_token(rec, BS_TOKEN_VERIFICATION, NULL, &token);
    if (rc)
        return bs_error_set(err, 400, "Failed to create a verification "
                                      "token.");
    const char *ph[] = {"{TOKEN}", token, NULL};
    record_mail rm = {.flags = flags, .err = err};
    rc = send_record_mail(app, rec, BS_ON_MAILER_RECORD_VERIFICATION_SEND,
                          "verificationTemplate", NULL,
                          bs_record_get_string(rec, "email"), ph,
                          meta_of("token", token, NULL, NULL), &rm);
    free(token);
    return rc;
}

int bs_mail_send_record_password_reset(bs_app *app, bs_record *rec,
                                       int flags, bs_error *err)
{
    char *token = NULL;
    int rc = new_token(rec, BS_TOKEN_PASSWORD_RESET, NULL, &token);
    if (rc)
        return bs_error_set(err, 400, "Failed to create a password reset "
                                      "token.");
    const char *ph[] = {"{TOKEN}", token, NULL};
    record_mail rm = {.flags = flags, .err = err};
    rc = send_record_mail(app, rec, BS_ON_MAILER_RECORD_PASSWORD_RESET_SEND,
                          "resetPasswordTemplate", NULL,
                          bs_record_get_string(rec, "email"), ph,
                          meta_of("token", token, NULL, NULL), &rm);
    free(token);
    return rc;
}

int bs_mail_send_record_email_change(bs_app *app, bs_record *rec,
                                     const char *new_email, int flags,
                                     bs_error *err)
{
    char *token = NULL;
    int rc = new_token(rec, BS_TOKEN_EMAIL_CHANGE, new_email, &token);
    if (rc)
        return bs_error_set(err, 400, "Failed to create an email change "
                                      "token.");
    const char *ph[] = {"{TOKEN}", token, NULL};
    record_mail rm = {.flags = flags, .err = err};
    rc = send_record_mail(app, rec, BS_ON_MAILER_RECORD_EMAIL_CHANGE_SEND,
                          "confirmEmailChangeTemplate", NULL, new_email, ph,
                          meta_of("token", token, "newEmail", new_email),
                          &rm);
    free(token);
    return rc;
}

int bs_mail_send_record_otp(bs_app *app, bs_record *rec, const char *otp_id,
                            const char *password, int flags, bs_error *err)
{
    const char *ph[] = {"{OTP_ID}", otp_id, "{OTP}", password, NULL};
    record_mail rm = {.flags = flags, .err = err, .otp_id = otp_id};
    return send_record_mail(app, rec, BS_ON_MAILER_RECORD_OTP_SEND, "otp",
                            "emailTemplate",
                            bs_record_get_string(rec, "email"), ph,
                            meta_of("otpId", otp_id, "password", password),
                            &rm);
}

int bs_mail_send_record_auth_alert(bs_app *app, bs_record *rec,
                                   const char *info, int flags,
                                   bs_error *err)
{
    bs_buf esc;
    bs_buf_init(&esc);
    html_escape(&esc, info ? info : "");
    const char *ph[] = {"{ALERT_INFO}", esc.data ? esc.data : "", NULL};
    record_mail rm = {.flags = flags, .err = err};
    int rc = send_record_mail(app, rec, BS_ON_MAILER_RECORD_AUTH_ALERT_SEND,
                              "authAlert", "emailTemplate",
                              bs_record_get_string(rec, "email"), ph,
                              meta_of("info", esc.data, NULL, NULL), &rm);
    bs_buf_dispose(&esc);
    return rc;
}

/* ---- mails from embedding programs -------------------------------------- */

int bs_app_send_mail(bs_app *app, bs_mail_message *m, bs_error *err)
{
    if (!m->from_address || !*m->from_address) {
        bs_settings *s = bs_app_settings(app);
        json_object *meta = s ? bs_json_get(s->value, "meta") : NULL;
        free(m->from_address);
        m->from_address = strdup(bs_json_get_str(meta, "senderAddress", ""));
        if (!m->from_name || !*m->from_name) {
            free(m->from_name);
            m->from_name = strdup(bs_json_get_str(meta, "senderName", ""));
        }
        bs_settings_unref(s);
        if (!m->from_address || !m->from_name)
            return BS_ENOMEM;
    }
    return bs_mail_send(app, m, 0, err);
}

int bs_app_send_record_mail(bs_app *app, const char *kind, bs_record *rec,
                            const char *arg, const char *arg2, bs_error *err)
{
    if (!kind || !rec)
        return bs_error_set(err, 400, "A mail kind and a record are "
                                      "required.");
    if (strcmp(kind, "verification") == 0)
        return bs_mail_send_record_verification(app, rec, 0, err);
    if (strcmp(kind, "passwordReset") == 0)
        return bs_mail_send_record_password_reset(app, rec, 0, err);
    if (strcmp(kind, "emailChange") == 0 && arg && *arg)
        return bs_mail_send_record_email_change(app, rec, arg, 0, err);
    if (strcmp(kind, "otp") == 0 && arg && *arg && arg2)
        return bs_mail_send_record_otp(app, rec, arg, arg2, 0, err);
    if (strcmp(kind, "authAlert") == 0)
        return bs_mail_send_record_auth_alert(app, rec, arg, 0, err);
    return bs_error_set(err, 400, "Unknown record mail or missing "
                                  "argument.");
}

/* ---- system alerts to the superusers ------------------------------------ */

/* The superusers' addresses (the installer's placeholder account left
 * out), as a JSON array; NULL when they cannot be read. */
static json_object *superuser_emails(bs_app *app)
{
    json_object *out = json_object_new_array();
    bs_conn *conn = bs_store_reader_acquire(app->store);
    bs_rows st;
    int rc = bs_rows_open(&st, conn,
                          "SELECT email FROM _superusers WHERE email != "
                          "'__pbinstaller@example.com' ORDER BY email",
                          -1, BS_ROWS_ONCE);
    int step = 0;
    while (rc == 0 && out && (step = bs_rows_next(&st)) == 1) {
        const char *e = bs_rows_text(&st, 0, NULL);
        if (e && *e)
            json_object_array_add(out, json_object_new_string(e));
    }
    bs_rows_close(&st);
    bs_store_reader_release(app->store, conn);
    if (rc != 0 || step < 0) {
        json_object_put(out);
        return NULL;
    }
    return out;
}

int bs_mail_send_backup_failed(bs_app *app, const char *name,
                               const char *reason)
{
    json_object *to = superuser_emails(app);
    if (!to)
        return BS_EDB;
    bs_settings *s = bs_app_settings(app);
    json_object *meta = s ? bs_json_get(s->value, "meta") : NULL;
    const char *app_name = bs_json_get_str(meta, "appName", "");
    const char *app_url = bs_json_get_str(meta, "appURL", "");
    bs_buf subj, page;
    bs_buf_init(&subj);
    bs_buf_init(&page);
    bs_buf_printf(&subj, "%s%sAutomated backup failed", app_name,
                  *app_name ? ": " : "");
    bs_buf_puts(&page, LAYOUT_HEAD);
    bs_buf_puts(&page, "<p>Hello,</p>\n<p>The scheduled backup <strong>");
    html_escape(&page, name);
    bs_buf_puts(&page, "</strong> of ");
    html_escape(&page, *app_name ? app_name : "the application");
    if (*app_url) {
        bs_buf_puts(&page, " (");
        html_escape(&page, app_url);
        bs_buf_puts(&page, ")");
    }
    bs_buf_puts(&page, " could not be created:</p>\n<p><code>");
    html_escape(&page, reason && *reason ? reason : "unknown error");
    bs_buf_puts(&page, "</code></p>\n<p>The server log has the details. "
                       "Until the cause is fixed, no new scheduled backup "
                       "is kept.</p>");
    bs_buf_puts(&page, LAYOUT_TAIL);
    bs_settings_unref(s);
    int rc = subj.oom || page.oom ? BS_ENOMEM : 0;
    size_t n = json_object_array_length(to);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        bs_mail_message m = {0};
        m.to = strdup(json_object_get_string(json_object_array_get_idx(to, i)));
        m.subject = strdup(subj.data);
        m.html = strdup(page.data);
        bs_error err;
        bs_error_init(&err);
        if (!m.to || !m.subject || !m.html)
            rc = BS_ENOMEM;
        else if (bs_app_send_mail(app, &m, &err) != 0)
            bs_log('E', "[Backup cron] Failed to send the failure alert to "
                        "%s: %s", m.to, err.message ? err.message : "?");
        bs_error_dispose(&err);
        bs_mail_message_dispose(&m);
    }
    bs_buf_dispose(&subj);
    bs_buf_dispose(&page);
    json_object_put(to);
    return rc;
}
