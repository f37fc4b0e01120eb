/*
 * The contract between the emulator and helhost-stub, the process that backs
 * a thread made by helCreateThread (src/native/native.c).  The stub runs no guest
 * code of its own: the emulator ptraces it, and whenever the stub's address
 * space must change, it points the stub at its command loop, which carries
 * out the operations listed in this page and stops with int3.
 */
#ifndef HH_STUBPAGE_H
#define HH_STUBPAGE_H

#include <stdint.h>

/*
 * The stub's code is linked at HH_STUB_BASE; its command page and the stack
 * it runs batches on follow at HH_STUB_PAGE (one memfd, HH_STUB_SIZE bytes).
 * Nothing else of it is used after start-up, so a guest may map over the
 * stack and vDSO the kernel gave it (wherever address randomisation put
 * them); only these two ranges are the stub's.
 */
#define HH_STUB_BASE 0x7ff000000000ull
#define HH_STUB_PAGE 0x7ff100000000ull
#define HH_STUB_SIZE (3 * 4096ull)

/* Descriptors the stub starts with: the command page's memfd and a socket for memfds. */
#define HH_STUB_PAGE_FD 3
#define HH_STUB_SOCK_FD 4

enum hh_stub_kind {
	HH_STUB_MAP = 1,        /* mmap(addr, len, prot, MAP_SHARED|MAP_FIXED, next fd on the socket, offset) */
	HH_STUB_UNMAP,          /* munmap(addr, len) */
	HH_STUB_PROTECT,        /* mprotect(addr, len, prot) */
};

struct hh_stub_op {
	uint32_t kind;
	uint32_t prot;
	uint64_t addr;
	uint64_t len;
	uint64_t offset;
	int64_t result;         /* written by the stub: 0 or -errno */
};

#define HH_STUB_MAX_OPS 96

struct hh_stub_page {
	uint32_t count;         /* written by the emulator */
	uint32_t done;          /* written by the stub: ops carried out */
	int32_t emulator;       /* written by the emulator before the stub starts: its pid */
	uint32_t reserved;
	/* A guest's helFutexWait deadline as the futex(2) timespec it waits with. */
	int64_t deadline[2];
	struct hh_stub_op ops[HH_STUB_MAX_OPS];
};

_Static_assert(sizeof(struct hh_stub_page) <= 4096, "the command page is one page");

#endif
