/*
 * mail.h - outgoing mail: the record mails of the auth flows, their
 * templates, and the transports.
 *
 * A mail is built from one of the auth collection's templates (subject
 * and HTML body with placeholders such as {APP_NAME}, {APP_URL}, {TOKEN},
 * {OTP}, {OTP_ID}, {ALERT_INFO} and {RECORD:<field>}), wrapped in a small
 * HTML layout, then passed through the mailer hooks: first the record
 * mail's own hook (BS_ON_MAILER_RECORD_*_SEND), whose built-in step hands
 * the message to BS_ON_MAILER_SEND, whose built-in step delivers it.
 *
 * Delivery follows PocketBase: SMTP (through libcurl) when the settings
 * enable it; otherwise the local sendmail program when there is one;
 * otherwise a warning in the log naming the recipient and subject - the
 * mail is never dropped silently, and a missing transport never fails
 * the request that asked for the mail.
 *
 * Threads: every function may be called from any thread. With
 * BS_MAIL_ASYNC the hooks run on the calling thread and only the network
 * part runs on a detached thread of its own, which touches nothing of
 * the app (it works on a copy of the message and of the SMTP settings).
 */
#ifndef BS_MAIL_H
#define BS_MAIL_H

#include "../base/buf.h"
#include "basalt.h"

struct bs_record;

enum {
    BS_MAIL_ASYNC = 1 /* deliver in the background; errors are logged */
};

/* Frees every string of m (not m itself) and zeroes it. */
void bs_mail_message_dispose(bs_mail_message *m);

/* Sends m (not taken) through BS_ON_MAILER_SEND and the transport.
 * Returns 0, or a negative code with err set to a 400 "Failed to send
 * the email." carrying the transport's reason. */
int bs_mail_send(bs_app *app, bs_mail_message *m, int flags, bs_error *err);

/* The record mails. Each renders the collection's template for rec,
 * addressed to rec's email (the new address for an email change), and
 * sends it through its hook. The OTP mail also records the address in
 * the OTP's sentTo field once the mail is on its way. */
int bs_mail_send_record_verification(bs_app *app, struct bs_record *rec,
                                     int flags, bs_error *err);
int bs_mail_send_record_password_reset(bs_app *app, struct bs_record *rec,
                                       int flags, bs_error *err);
int bs_mail_send_record_email_change(bs_app *app, struct bs_record *rec,
                                     const char *new_email, int flags,
                                     bs_error *err);
int bs_mail_send_record_otp(bs_app *app, struct bs_record *rec,
                            const char *otp_id, const char *password,
                            int flags, bs_error *err);
int bs_mail_send_record_auth_alert(bs_app *app, struct bs_record *rec,
                                   const char *info, int flags,
                                   bs_error *err);

/* Renders a template object {"subject","body"} for rec: the given
 * placeholders (pairs of name and value, ending with NULL), then
 * {APP_NAME} and {APP_URL} from settings (the settings document), then
 * {RECORD:<field>} for every field that is not hidden (HTML-escaped
 * except dates, booleans and numbers). The body is wrapped in the HTML
 * layout. *subject and *html are malloc'ed. Returns 0 or BS_ENOMEM. */
int bs_mail_render(const json_object *settings, const struct bs_record *rec,
                   const json_object *tmpl, const char *const *placeholders,
                   char **subject, char **html);

/* A plain text rendering of an HTML body (malloc'ed; NULL when out of
 * memory). */
char *bs_mail_html_to_text(const char *html);

/* Appends the message in Internet Message Format (CRLF line ends,
 * multipart/alternative text and HTML parts in quoted-printable). Bcc is
 * written only when with_bcc (sendmail reads and strips it). */
void bs_mail_format(const bs_mail_message *m, bool with_bcc, bs_buf *out);

/* Tells every superuser (one mail each, through BS_ON_MAILER_SEND) that
 * the scheduled backup name failed with reason, as PocketBase v0.39 does.
 * Blocks while the mails are handed over: for the cron job's thread.
 * A mail that cannot be sent is logged. 0, BS_EDB or BS_ENOMEM. */
int bs_mail_send_backup_failed(bs_app *app, const char *name,
                               const char *reason);

#endif
