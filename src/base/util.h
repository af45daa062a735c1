/*
 * util.h - small shared helpers: time stamps, random strings, checksums,
 * logging.
 */
#ifndef BS_UTIL_H
#define BS_UTIL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Current UTC time as PocketBase stores it: "2006-01-02 15:04:05.000Z".
 * out must hold at least 25 bytes. */
void bs_now_str(char out[25]);

/* Formats t (seconds since the epoch) plus ms milliseconds the same way. */
void bs_time_str(int64_t t, int ms, char out[25]);

/* FNV-1a: the hash of n bytes at p, continuing from h (BS_FNV_SEED to
 * start). */
#define BS_FNV_SEED 1469598103934665603ULL
uint64_t bs_fnv1a(uint64_t h, const void *p, size_t n);

/* Milliseconds from an arbitrary monotonic origin. */
int64_t bs_mono_ms(void);

/* Initialises c to time its waits by the monotonic clock, and sets *ts
 * to ms milliseconds from now on that clock: the deadline of a
 * pthread_cond_timedwait on such a condition. */
void bs_cond_init_monotonic(pthread_cond_t *c);
void bs_mono_deadline(struct timespec *ts, int64_t ms);

/* Calls destroy(p) when the calling thread ends, for objects a thread
 * keeps for itself (caches, library contexts). Up to 8 per thread.
 * Returns 0, or BS_ENOMEM when the thread has no room left (the caller
 * then frees p itself). Not run for the main thread, whose objects last
 * until the process exits. */
int bs_thread_on_exit(void (*destroy)(void *), void *p);

/* The environment variable name read as a positive whole number, or def
 * when it is unset, empty, not a number or not above zero. */
int64_t bs_env_positive(const char *name, int64_t def);

/* Fills out[0..n) with characters drawn uniformly from alphabet using the
 * system CSPRNG, then NUL-terminates (out must hold n+1). Returns 0 or
 * BS_EIO. */
int bs_random_string(char *out, size_t n, const char *alphabet);

/* A new 15-character record id of [a-z0-9]. */
int bs_random_id(char out[16]);

/* IEEE CRC-32 (the one zlib and Go's hash/crc32 compute). */
uint32_t bs_crc32(const void *p, size_t n);

/* The value of a hexadecimal digit, or -1. */
int bs_hex_digit(char c);

/* Whether s is an email address as Basalt accepts one everywhere
 * (fields, auth forms, settings): a non-empty local part, exactly one
 * '@', a domain without a leading or trailing dot or "..", no white
 * space or any of <>(),;:\"[], at most 254 bytes. */
bool bs_email_valid(const char *s);

/* Constant-time comparison of two byte strings. */
bool bs_ct_equal(const void *a, size_t an, const void *b, size_t bn);

/* Creates every missing folder of the file path p (not p itself), mode
 * 0755. Returns 0 or BS_EIO. */
int bs_make_parents(const char *p);

/* Removes name (relative to the directory fd parent, or AT_FDCWD) and,
 * when it is a directory, everything below it; symbolic links are
 * removed, never followed. Errors are ignored. */
void bs_remove_tree(int parent, const char *name);

/* Logging to stderr with a time stamp. level: 'E'rror, 'W'arn, 'I'nfo,
 * 'D'ebug (debug lines only when bs_log_verbose is on). Thread-safe. */
void bs_log(char level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void bs_log_set_verbose(bool on);
/* Whether debug lines are written. */
bool bs_log_verbose(void);

#endif
