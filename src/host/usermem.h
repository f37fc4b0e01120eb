/*
 * The only way the emulator touches a program's memory.  A program's memory
 * is named by handles on that exact process, never by its pid alone: a pid
 * is reused once its process has been reaped (32768 pids here), and bytes
 * meant for a dead program must never reach the stranger that took its pid.
 *
 * Writes go through /proc/PID/mem, opened while the program was known to be
 * alive: the file holds that process's address space, and once the process
 * is gone it writes nothing.  Such writes ignore page protection (debuggers
 * use them to plant breakpoints), so the target range is first checked to be
 * writable with PROCMAP_QUERY on /proc/PID/maps, opened at the same time (on
 * kernels without it, before 6.11, writes fall back to process_vm_writev
 * between two pidfd checks, which leaves a window of a few microseconds).
 * Reads use process_vm_readv, ~2.5x faster than /proc/PID/mem for large
 * copies, confirmed with the pidfd afterwards: if the process still had not
 * exited after the read, the pid named it throughout.
 *
 * Everything returns kHelErrFault (or a short count) unless every byte moved;
 * nothing else in the emulator dereferences or copies a program address.
 */
#ifndef HH_USERMEM_H
#define HH_USERMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hel.h"

/*
 * A part of a program's memory the emulator must not reach through the
 * program's mapping (managed frontal memory: a missing page there would
 * wait for the emulator itself): view is the emulator's own pointer to
 * [start, start+len), or NULL when it cannot be reached now (a fault).
 */
struct hh_usermem_detour {
	uint64_t start;
	size_t len;
	char *view;
};

struct hh_stage;

struct hh_usermem {
	/*
	 * Or NULL: finds the first detour that overlaps [addr, addr+len), if
	 * any, for a read or a write of it.
	 */
	bool (*detour)(const struct hh_usermem *m, uint64_t addr, size_t len, bool write,
			struct hh_usermem_detour *out);
	pid_t pid;
	int pidfd;              /* owned by the program's record, not by this */
	int memfd;              /* /proc/PID/mem of the current image, or -1 */
	int mapsfd;             /* /proc/PID/maps of the same image, or -1 */
	/*
	 * Or NULL: while one of the program's threads is served in the polled
	 * slot, where a message received into its private memory may be left
	 * for that thread to write (stream.h, struct hh_stage).
	 */
	struct hh_stage *stage;
};

/* Open m's /proc/PID/mem for the image the program runs now; -errno on failure. */
int hh_usermem_open(struct hh_usermem *m);
void hh_usermem_close(struct hh_usermem *m);

__attribute__((warn_unused_result))
HelError hh_user_read(const struct hh_usermem *m, uint64_t addr, void *buf, size_t len);
__attribute__((warn_unused_result))
HelError hh_user_write(const struct hh_usermem *m, uint64_t addr, const void *buf, size_t len);
/* Bytes moved before the first fault (a read or a write of the program's memory). */
size_t hh_user_copy_partial(const struct hh_usermem *m, void *local, uint64_t addr, size_t len,
		bool write);

#endif
