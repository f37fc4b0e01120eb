/*
 * Moving message bytes between programs.  The emulator's copy goes through
 * usermem.h (handles on the exact processes); a side whose buffer is Hel
 * memory is read or written through the emulator's own mapping of it, so
 * that the bytes move once.
 */
#ifndef HH_TRANSFER_H
#define HH_TRANSFER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "usermem.h"

struct hh_space;

/* One side of a copy: an address in a program, whose Hel mappings space lists. */
struct hh_endpoint {
	const struct hh_usermem *mem;
	struct hh_space *space;
	uint64_t addr;
};

enum hh_transfer_result {
	HH_TRANSFER_OK = 0,
	HH_TRANSFER_SOURCE_FAULT,
	HH_TRANSFER_DEST_FAULT,
};

/* Copy len bytes between two programs. */
enum hh_transfer_result hh_transfer(const struct hh_endpoint *src, const struct hh_endpoint *dst,
		size_t len);

/* Copy len bytes from the emulator's src into a program. */
enum hh_transfer_result hh_transfer_out(const void *src, const struct hh_endpoint *dst, size_t len);

#endif
