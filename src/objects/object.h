/*
 * The common head of every kernel object: a type and a reference count.
 * Objects are owned by the emulator's one thread, so counts need no atomics.
 * Dropping the last reference queues the object's teardown for the loop's
 * closing phase instead of running it inside the operation that dropped it.
 */
#ifndef HH_OBJECT_H
#define HH_OBJECT_H

#include <stdbool.h>
#include <stdint.h>

enum hh_type {
	HH_OBJ_UNIVERSE = 1,
	HH_OBJ_QUEUE,
	HH_OBJ_MEMORY,
	HH_OBJ_SPACE,
	HH_OBJ_THREAD,
	HH_OBJ_STREAM,
	HH_OBJ_ONESHOT_EVENT,
	HH_OBJ_BITSET_EVENT,
	HH_OBJ_TOKEN,
	HH_OBJ_SLICE,
	HH_OBJ_MEMORY_LOCK,
	HH_OBJ_TYPE_LAST
};

struct hh_object;

struct hh_object_ops {
	enum hh_type type;
	const char *name;                               /* for the trace */
	void (*destroy)(struct hh_object *obj);         /* last reference gone */
	/* Optional: a descriptor naming the object was attached / detached. */
	void (*attach)(struct hh_object *obj, uint32_t aux);
	void (*detach)(struct hh_object *obj, uint32_t aux);
};

struct hh_object {
	const struct hh_object_ops *ops;
	uint32_t refs;
	bool dying;                     /* queued for teardown */
	struct hh_object *next_dying;
};

void hh_object_init(struct hh_object *obj, const struct hh_object_ops *ops);
struct hh_object *hh_object_ref(struct hh_object *obj);
void hh_object_unref(struct hh_object *obj);
/* Closing phase: run the teardown of every object whose last reference went. */
bool hh_object_reap(void);

static inline enum hh_type hh_object_type(const struct hh_object *obj)
{
	return obj->ops->type;
}

#endif
