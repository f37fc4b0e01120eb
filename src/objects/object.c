#include "object.h"

#include <assert.h>
#include <stddef.h>

/* Objects whose last reference is gone, waiting for the closing phase. */
static struct hh_object *dying_head;

void hh_object_init(struct hh_object *obj, const struct hh_object_ops *ops)
{
	obj->ops = ops;
	obj->refs = 1;
	obj->dying = false;
	obj->next_dying = NULL;
}

struct hh_object *hh_object_ref(struct hh_object *obj)
{
	assert(obj->refs > 0);
	obj->refs++;
	return obj;
}

void hh_object_unref(struct hh_object *obj)
{
	assert(obj->refs > 0);
	if (--obj->refs > 0)
		return;
	obj->dying = true;
	obj->next_dying = dying_head;
	dying_head = obj;
}

bool hh_object_reap(void)
{
	bool any = false;
	/* A teardown may release further objects; keep going until none is left. */
	while (dying_head) {
		struct hh_object *obj = dying_head;
		dying_head = obj->next_dying;
		obj->ops->destroy(obj);
		any = true;
	}
	return any;
}
