#include "slice.h"

#include <stdlib.h>

static void slice_destroy(struct hh_object *obj)
{
	struct hh_slice *s = hh_slice_of(obj);
	hh_object_unref(s->memory);
	free(s);
}

static const struct hh_object_ops slice_ops = {
	.type = HH_OBJ_SLICE,
	.name = "slice",
	.destroy = slice_destroy,
};

struct hh_slice *hh_slice_create(struct hh_object *memory, uint64_t offset, uint64_t size,
		uint32_t flags)
{
	struct hh_slice *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	hh_object_init(&s->base, &slice_ops);
	s->memory = hh_object_ref(memory);
	s->offset = offset;
	s->size = size;
	s->flags = flags;
	return s;
}
