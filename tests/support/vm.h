/*
 * What Linux really maps at an address, for tests that must check the effect
 * of a mapping call rather than libhel's own bookkeeping: the lines of
 * /proc/self/maps, and single accesses made in a forked child (a fault kills
 * the child, not the test).  Unexpected outcomes fail the test (Check).
 */
#ifndef HH_TEST_VM_H
#define HH_TEST_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One line of /proc/self/maps. */
struct vm_area {
	uintptr_t start, end;
	char perms[5];          /* "rw-s", "r--p", "---p", ... */
	char path[96];          /* "/memfd:hel-memory (deleted)", "[heap]", "" */
};

/* The line of /proc/self/maps that holds addr; false if no line does. */
bool vm_area_at(const void *addr, struct vm_area *out);

/*
 * Every page of [p, p+len) lies in a shared mapping of an emulator memfd
 * (what a Hel mapping is in a hosted program) with exactly these permissions,
 * e.g. "rw-s".
 */
bool vm_hel_mapped(const void *p, size_t len, const char *perms);

/* No page of [p, p+len) can be accessed: no line, or a "---p" reservation. */
bool vm_unmapped(const void *p, size_t len);

/*
 * A read of the byte at p in a forked child: true if it completed, false if
 * the child died of SIGSEGV (or SIGBUS).
 */
bool vm_can_read(const void *p);

/*
 * A write of the byte at p (its own value, so the parent's shared memory keeps
 * its contents) in a forked child: true if it completed, false on SIGSEGV/SIGBUS.
 */
bool vm_can_write(void *p);

/* The whole text of /proc/self/maps (malloc'ed), to compare before and after. */
char *vm_snapshot(void);

#endif
