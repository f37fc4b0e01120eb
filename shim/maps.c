/*
 * The process's Hel mappings as the shim carried them out, with their
 * protection.  pointers.c looks a program's pointer up here first: memory
 * found here with the access a call needs is used directly, with no probe.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "shim.h"

struct range {
	uint64_t lo, hi;
	uint32_t prot;
};

static struct {
	pthread_rwlock_t lock;
	struct range *r;
	size_t count, cap;
} maps = { .lock = PTHREAD_RWLOCK_INITIALIZER };

static size_t first_above(uint64_t addr)
{
	size_t lo = 0, hi = maps.count;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (maps.r[mid].hi <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void remove_locked(uint64_t lo, uint64_t hi)
{
	size_t i = first_above(lo);
	while (i < maps.count && maps.r[i].lo < hi) {
		struct range *m = &maps.r[i];
		if (m->lo < lo && m->hi > hi) {
			/* Split: room was reserved by the caller. */
			memmove(m + 2, m + 1, (maps.count - i - 1) * sizeof(*m));
			m[1] = (struct range){ hi, m->hi, m->prot };
			m->hi = lo;
			maps.count++;
			return;
		}
		if (m->lo < lo) {
			m->hi = lo;
			i++;
		} else if (m->hi > hi) {
			m->lo = hi;
			i++;
		} else {
			memmove(m, m + 1, (maps.count - i - 1) * sizeof(*m));
			maps.count--;
		}
	}
}

static void reserve_locked(size_t n)
{
	if (n <= maps.cap)
		return;
	size_t cap = maps.cap ? maps.cap * 2 : 32;
	while (cap < n)
		cap *= 2;
	struct range *r = realloc(maps.r, cap * sizeof(*r));
	if (!r)
		hh_shim_fatal("out of memory for the mapping table");
	maps.r = r;
	maps.cap = cap;
}

void hh_shim_maps_add(uint64_t addr, uint64_t len, uint32_t prot)
{
	pthread_rwlock_wrlock(&maps.lock);
	reserve_locked(maps.count + 2);
	remove_locked(addr, addr + len);
	size_t i = first_above(addr);
	memmove(&maps.r[i + 1], &maps.r[i], (maps.count - i) * sizeof(maps.r[0]));
	maps.r[i] = (struct range){ addr, addr + len, prot };
	maps.count++;
	pthread_rwlock_unlock(&maps.lock);
}

void hh_shim_maps_remove(uint64_t addr, uint64_t len)
{
	pthread_rwlock_wrlock(&maps.lock);
	reserve_locked(maps.count + 1);
	remove_locked(addr, addr + len);
	pthread_rwlock_unlock(&maps.lock);
}

int hh_shim_maps_lookup(uint64_t addr, uint64_t len, uint32_t *prot)
{
	pthread_rwlock_rdlock(&maps.lock);
	size_t i = first_above(addr);
	/* Adjacent mappings are separate entries; an aligned word never spans two. */
	int found = i < maps.count && maps.r[i].lo <= addr && addr + len <= maps.r[i].hi;
	if (found)
		*prot = maps.r[i].prot;
	pthread_rwlock_unlock(&maps.lock);
	return found;
}
