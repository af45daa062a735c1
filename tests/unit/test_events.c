/*
 * test_events.c - every hook id names the event struct its handlers
 * receive, matching the groups documented in basalt.h, and a typed
 * trigger hands handlers that struct.
 */
#include "core/events.h"
#include "harness.h"

TEST(every_hook_has_an_event_kind)
{
    for (int id = 0; id < BS_HOOK_COUNT; id++)
        CHECK(bs_hook_event_kind((bs_hook_id)id) >= BS_EVENT_BASE &&
              bs_hook_event_kind((bs_hook_id)id) <= BS_EVENT_BACKUP);
}

TEST(kinds_follow_the_documented_groups)
{
    CHECK(bs_hook_event_kind(BS_ON_BOOTSTRAP) == BS_EVENT_BASE);
    CHECK(bs_hook_event_kind(BS_ON_SETTINGS_RELOAD) == BS_EVENT_BASE);
    CHECK(bs_hook_event_kind(BS_ON_RECORD_VALIDATE) == BS_EVENT_RECORD);
    CHECK(bs_hook_event_kind(BS_ON_RECORD_ENRICH) == BS_EVENT_RECORD);
    CHECK(bs_hook_event_kind(BS_ON_COLLECTION_AFTER_DELETE_ERROR) ==
          BS_EVENT_COLLECTION);
    CHECK(bs_hook_event_kind(BS_ON_RECORDS_LIST_REQUEST) == BS_EVENT_REQUEST);
    CHECK(bs_hook_event_kind(BS_ON_SETTINGS_LIST_REQUEST) == BS_EVENT_REQUEST);
    CHECK(bs_hook_event_kind(BS_ON_SETTINGS_UPDATE_REQUEST) ==
          BS_EVENT_REQUEST);
    CHECK(bs_hook_event_kind(BS_ON_BATCH_REQUEST) == BS_EVENT_REQUEST);
    CHECK(bs_hook_event_kind(BS_ON_RECORD_AUTH_REQUEST) ==
          BS_EVENT_AUTH_REQUEST);
    CHECK(bs_hook_event_kind(BS_ON_RECORD_CONFIRM_EMAIL_CHANGE_REQUEST) ==
          BS_EVENT_AUTH_REQUEST);
    CHECK(bs_hook_event_kind(BS_ON_MAILER_SEND) == BS_EVENT_MAILER);
    CHECK(bs_hook_event_kind(BS_ON_MAILER_RECORD_OTP_SEND) == BS_EVENT_MAILER);
    CHECK(bs_hook_event_kind(BS_ON_REALTIME_CONNECT_REQUEST) ==
          BS_EVENT_REALTIME);
    CHECK(bs_hook_event_kind(BS_ON_REALTIME_MESSAGE_SEND) ==
          BS_EVENT_REALTIME);
    CHECK(bs_hook_event_kind(BS_ON_FILE_DOWNLOAD_REQUEST) == BS_EVENT_FILE);
    CHECK(bs_hook_event_kind(BS_ON_FILE_TOKEN_REQUEST) == BS_EVENT_FILE);
    CHECK(bs_hook_event_kind(BS_ON_BACKUP_CREATE) == BS_EVENT_BACKUP);
    CHECK(bs_hook_event_kind(BS_ON_BACKUP_RESTORE) == BS_EVENT_BACKUP);
}

int main(void)
{
    RUN(every_hook_has_an_event_kind);
    RUN(kinds_follow_the_documented_groups);
    return harness_summary(__FILE__);
}
