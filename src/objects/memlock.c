#include "memlock.h"

#include <stdlib.h>

#include "memory.h"

static void memlock_destroy(struct hh_object *obj)
{
	struct hh_memlock *l = (struct hh_memlock *)obj;
	hh_object_unref(&l->memory->base);
	free(l);
}

static const struct hh_object_ops memlock_ops = {
	.type = HH_OBJ_MEMORY_LOCK,
	.name = "memory-lock",
	.destroy = memlock_destroy,
};

struct hh_memlock *hh_memlock_create(struct hh_memory *mem, uint64_t offset, uint64_t size)
{
	struct hh_memlock *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	hh_object_init(&l->base, &memlock_ops);
	l->memory = mem;
	hh_object_ref(&mem->base);
	l->offset = offset;
	l->size = size;
	return l;
}
