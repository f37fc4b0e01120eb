/*
 * libhelhost-managarm: what Managarm's C library gives a program at start-up
 * and glibc does not, for Managarm code hosted by helhost.
 *
 * peekauxval answers Linux's keys from getauxval and Managarm's handle keys
 * (AT_XPIPE, AT_FS_SERVER, AT_MBUS_SERVER) from the environment variable
 * HELHOST_AUXV, a comma-separated list of KEY=SPEC:
 *   KEY=+NAME  a new lane, whose other end is published under NAME in the
 *              registry (the program serves it: mbus's AT_XPIPE);
 *   KEY=NAME   a handle to what the registry holds under NAME, waiting up to
 *              30 s for it to be published.
 * KEY is a number (0x1000) or a name (AT_XPIPE).  `helhost run --mbus` sets
 * it for mbus; anyone may set it for their own programs.
 *
 * frigg's frg_log and frg_panic, which frigg leaves to the C library, print
 * to stderr: without them a failed FRG_ASSERT traps without a word.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

#define EXPORT __attribute__((visibility("default")))

#include "helhost.h"

/* `helhost run --mbus` sets it by this name (HH_ENV_AUXV in src/callpage.h). */
#define ENV_AUXV "HELHOST_AUXV"
#define LOOKUP_WAIT_NS 30000000000ll
#define NAME_MAX_LEN 255
#define MAX_KEYS 8

static const struct { const char *name; unsigned long key; } key_names[] = {
	{ "AT_XPIPE", AT_XPIPE }, { "AT_OPENFILES", AT_OPENFILES },
	{ "AT_FS_SERVER", AT_FS_SERVER }, { "AT_MBUS_SERVER", AT_MBUS_SERVER },
};

/* Handles made once per process: a second peekauxval must see the same lane. */
static struct {
	pthread_mutex_t lock;
	size_t count;
	struct { unsigned long key, value; } entry[MAX_KEYS];
} made = { .lock = PTHREAD_MUTEX_INITIALIZER };

static bool is_managarm_key(unsigned long key)
{
	for (size_t i = 0; i < sizeof(key_names) / sizeof(key_names[0]); i++)
		if (key_names[i].key == key)
			return true;
	return false;
}

static bool parse_key(const char *text, size_t len, unsigned long *key)
{
	for (size_t i = 0; i < sizeof(key_names) / sizeof(key_names[0]); i++)
		if (strlen(key_names[i].name) == len && !memcmp(key_names[i].name, text, len)) {
			*key = key_names[i].key;
			return true;
		}
	char *end;
	*key = strtoul(text, &end, 0);
	return end == text + len && len;
}

/* The SPEC HELHOST_AUXV gives for key, copied into spec; false if none. */
static bool find_spec(unsigned long key, char spec[NAME_MAX_LEN + 2])
{
	const char *list = getenv(ENV_AUXV);
	while (list && *list) {
		const char *end = strchrnul(list, ','), *eq = memchr(list, '=', (size_t)(end - list));
		unsigned long k;
		size_t len = eq ? (size_t)(end - eq - 1) : 0;
		if (eq && len && len <= NAME_MAX_LEN + 1 && parse_key(list, (size_t)(eq - list), &k) &&
				k == key) {
			memcpy(spec, eq + 1, len);
			spec[len] = 0;
			return true;
		}
		list = *end ? end + 1 : end;
	}
	return false;
}

/* Make the handle SPEC describes. */
static HelError make_handle(const char *spec, HelHandle *handle)
{
	HelError e;
	if (spec[0] == '+') {
		HelHandle theirs;
		if ((e = helCreateStream(handle, &theirs, 0)))
			return e;
		/* The registry keeps its own reference to the published end. */
		e = helhost_publish(spec + 1, theirs);
		HelError closed = helCloseDescriptor(kHelThisUniverse, theirs);
		if (!e && !closed)
			return kHelErrNone;
		helCloseDescriptor(kHelThisUniverse, *handle);
		return e ? e : closed;
	}
	uint64_t now;
	if ((e = helGetClock(&now)))
		return e;
	return helhost_lookup(spec, (int64_t)(now + LOOKUP_WAIT_NS), handle);
}

static int managarm_value(unsigned long key, unsigned long *value)
{
	for (size_t i = 0; i < made.count; i++)
		if (made.entry[i].key == key) {
			*value = made.entry[i].value;
			return 0;
		}
	char spec[NAME_MAX_LEN + 2];
	if (!find_spec(key, spec) || made.count == MAX_KEYS)
		return ENOENT;
	HelHandle handle;
	HelError e = make_handle(spec, &handle);
	if (e) {
		fprintf(stderr, "helhost: peekauxval(%#lx): %s \"%s\": %s\n", key,
				spec[0] == '+' ? "cannot publish" : "nothing published as",
				spec + (spec[0] == '+'), _helErrorString(e));
		return ENOENT;
	}
	made.entry[made.count].key = key;
	made.entry[made.count++].value = (unsigned long)handle;
	*value = (unsigned long)handle;
	return 0;
}

int peekauxval(unsigned long type, unsigned long *value)
{
	int err;
	if (is_managarm_key(type)) {
		pthread_mutex_lock(&made.lock);
		err = managarm_value(type, value);
		pthread_mutex_unlock(&made.lock);
	} else {
		errno = 0;
		unsigned long v = getauxval(type);
		err = errno == ENOENT ? ENOENT : 0;
		if (!err)
			*value = v;
	}
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

EXPORT void frg_log(const char *message)
{
	fprintf(stderr, "%s\n", message);
}

EXPORT void frg_panic(const char *message)
{
	fprintf(stderr, "frigg: %s\n", message);
	abort();
}
