#include "universe.h"

#include <stdlib.h>
#include <string.h>

#include "quota.h"

/*
 * Open addressing with linear probing.  Handles are never reused, so a
 * long-running server that opens and closes millions of handles must not
 * keep a slot per number ever issued: deleted slots are tombstones that a
 * rehash drops.
 */
enum { SLOT_EMPTY = 0, SLOT_LIVE, SLOT_DELETED };

struct hh_universe_slot {
	HelHandle handle;
	int state;
	struct hh_desc desc;
};

static void universe_destroy(struct hh_object *obj);

static const struct hh_object_ops universe_ops = {
	.type = HH_OBJ_UNIVERSE,
	.name = "universe",
	.destroy = universe_destroy,
};

static size_t slot_of(HelHandle handle, size_t capacity)
{
	uint64_t h = (uint64_t)handle * 0x9E3779B97F4A7C15ull;
	return (size_t)(h >> 32) & (capacity - 1);
}

struct hh_universe *hh_universe_create(void)
{
	struct hh_universe *u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	u->capacity = 16;
	u->slots = calloc(u->capacity, sizeof(*u->slots));
	u->account = hh_account_new();
	if (!u->slots || !u->account) {
		free(u->slots);
		hh_account_unref(u->account);
		free(u);
		return NULL;
	}
	hh_object_init(&u->base, &universe_ops);
	u->next_handle = 1;
	return u;
}

static struct hh_universe_slot *find(struct hh_universe *u, HelHandle handle)
{
	if (handle <= 0)
		return NULL;
	for (size_t i = slot_of(handle, u->capacity);; i = (i + 1) & (u->capacity - 1)) {
		struct hh_universe_slot *s = &u->slots[i];
		if (s->state == SLOT_EMPTY)
			return NULL;
		if (s->state == SLOT_LIVE && s->handle == handle)
			return s;
	}
}

static void insert_slot(struct hh_universe_slot *slots, size_t capacity,
		HelHandle handle, struct hh_desc desc)
{
	size_t i = slot_of(handle, capacity);
	while (slots[i].state == SLOT_LIVE)
		i = (i + 1) & (capacity - 1);
	slots[i] = (struct hh_universe_slot){ .handle = handle, .state = SLOT_LIVE, .desc = desc };
}

static bool rehash(struct hh_universe *u, size_t capacity)
{
	struct hh_universe_slot *slots = calloc(capacity, sizeof(*slots));
	if (!slots)
		return false;
	for (size_t i = 0; i < u->capacity; i++)
		if (u->slots[i].state == SLOT_LIVE)
			insert_slot(slots, capacity, u->slots[i].handle, u->slots[i].desc);
	free(u->slots);
	u->slots = slots;
	u->capacity = capacity;
	u->used = u->count;
	return true;
}

static bool put(struct hh_universe *u, HelHandle handle, struct hh_desc desc)
{
	/* Keep the load (tombstones included) under 3/4. */
	if ((u->used + 1) * 4 > u->capacity * 3) {
		size_t capacity = u->capacity;
		while ((u->count + 1) * 2 > capacity)
			capacity *= 2;
		if (!rehash(u, capacity))
			return false;
	}
	size_t i = slot_of(handle, u->capacity);
	while (u->slots[i].state == SLOT_LIVE)
		i = (i + 1) & (u->capacity - 1);
	if (u->slots[i].state == SLOT_EMPTY)
		u->used++;
	u->slots[i] = (struct hh_universe_slot){ .handle = handle, .state = SLOT_LIVE, .desc = desc };
	u->count++;
	return true;
}

void hh_desc_take(struct hh_desc desc)
{
	hh_object_ref(desc.obj);
	if (desc.obj->ops->attach)
		desc.obj->ops->attach(desc.obj, desc.aux);
}

void hh_desc_release(struct hh_desc desc)
{
	if (desc.obj->ops->detach)
		desc.obj->ops->detach(desc.obj, desc.aux);
	hh_object_unref(desc.obj);
}

HelHandle hh_universe_attach(struct hh_universe *u, struct hh_object *obj, uint32_t aux)
{
	struct hh_desc desc = { .obj = obj, .aux = aux };
	HelHandle handle = u->next_handle;
	if (u->count >= hh_limits()->handles || !put(u, handle, desc))
		return 0;
	u->next_handle++;
	hh_desc_take(desc);
	return handle;
}

struct hh_universe *hh_universe_clone(struct hh_universe *src)
{
	struct hh_universe *u = hh_universe_create();
	if (!u)
		return NULL;
	if (!rehash(u, src->capacity)) {
		hh_object_unref(&u->base);
		return NULL;
	}
	for (size_t i = 0; i < src->capacity; i++) {
		struct hh_universe_slot *s = &src->slots[i];
		if (s->state != SLOT_LIVE)
			continue;
		put(u, s->handle, s->desc);   /* cannot grow: same capacity, fewer tombstones */
		hh_desc_take(s->desc);
	}
	u->next_handle = src->next_handle;
	return u;
}

HelError hh_universe_resolve_any(struct hh_universe *u, HelHandle handle, unsigned mask,
		struct hh_desc *out)
{
	struct hh_universe_slot *s = find(u, handle);
	if (!s)
		return kHelErrNoDescriptor;
	*out = s->desc;
	if (mask && !(mask & (1u << hh_object_type(s->desc.obj))))
		return kHelErrBadDescriptor;
	return kHelErrNone;
}

HelError hh_universe_resolve(struct hh_universe *u, HelHandle handle, enum hh_type type,
		struct hh_desc *out)
{
	return hh_universe_resolve_any(u, handle, type ? 1u << type : 0, out);
}

static void (*before_removal)(struct hh_universe *u);

void hh_universe_on_removal(void (*fn)(struct hh_universe *u))
{
	before_removal = fn;
}

HelError hh_universe_detach(struct hh_universe *u, HelHandle handle)
{
	if (!find(u, handle))
		return kHelErrNoDescriptor;
	/* Submissions posted against the handle go first (it may change the table). */
	if (before_removal)
		before_removal(u);
	struct hh_universe_slot *s = find(u, handle);
	if (!s)
		return kHelErrNoDescriptor;
	struct hh_desc desc = s->desc;
	s->state = SLOT_DELETED;
	s->desc = (struct hh_desc){ 0 };
	u->count--;
	hh_desc_release(desc);
	return kHelErrNone;
}

static void universe_destroy(struct hh_object *obj)
{
	struct hh_universe *u = hh_universe_of(obj);
	for (size_t i = 0; i < u->capacity; i++)
		if (u->slots[i].state == SLOT_LIVE)
			hh_desc_release(u->slots[i].desc);
	free(u->slots);
	hh_account_unref(u->account);
	free(u);
}

size_t hh_universe_list(const struct hh_universe *u, HelHandle *out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < u->capacity && n < max; i++)
		if (u->slots[i].state == SLOT_LIVE)
			out[n++] = u->slots[i].handle;
	return n;
}
