/*
 * hook.h - ordered handler chains (the mechanism behind every event).
 *
 * The public contract is in basalt.h. Design: the handler list is an
 * immutable snapshot (an array of pointers to immutable handler records,
 * sorted by priority then registration order). bind/unbind build a new
 * snapshot under the hook's mutex and publish it with an atomic store;
 * trigger loads the current snapshot with an atomic load and never locks.
 * Replaced snapshots and unbound records are kept until the hook is freed:
 * binding is rare (start-up, plugins), so this costs little memory and
 * spares readers any reference counting.
 */
#ifndef BS_HOOK_H
#define BS_HOOK_H

#include "basalt.h"

#endif
