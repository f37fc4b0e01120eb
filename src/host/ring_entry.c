/*
 * Reading one entry of a program's ring (callpage.h, struct hh_ring): the
 * checks the ring transport (ring.c) makes before it trusts an index or a
 * size.  Apart so that the unit tests can take it alone.
 */
#include "ring.h"

#include <string.h>

int hh_ring_next(const unsigned char *data, uint32_t head, uint32_t tail, struct hh_ring_entry *hdr)
{
	uint32_t avail = tail - head;
	if (avail == 0)
		return 0;
	uint32_t off = head % HH_RING_BYTES, room = HH_RING_BYTES - off;
	if (avail > HH_RING_BYTES || off % 8)
		return -1;
	/* size and call first: a padding entry may be as short as that. */
	memcpy(hdr, data + off, 2 * sizeof(uint32_t));
	uint32_t size = hdr->size;
	if (size < 2 * sizeof(uint32_t) || size % 8 || size > room || size > avail)
		return -1;
	if (hdr->call == 0)
		return (int)size;
	if (size < sizeof(*hdr))
		return -1;
	memcpy(hdr, data + off, sizeof(*hdr));
	hdr->size = size;       /* the program may have changed it since the first read */
	return (int)size;
}
