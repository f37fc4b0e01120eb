/*
 * The registry (helhost.h): programs publish a descriptor, usually a lane,
 * under a name, and others look the name up.  A lookup of a name not yet
 * published waits, through a queue, until it appears or its deadline passes.
 * A program's names go away when it exits, so that nobody finds the lane of
 * a dead server.
 */
#ifndef HH_REGISTRY_H
#define HH_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "hel.h"
#include "pending.h"
#include "universe.h"

struct hh_process;
struct hh_queue;

#define HH_NAME_MAX 255

HelError hh_registry_publish(const char *name, struct hh_desc desc, struct hh_process *owner);
HelError hh_registry_unpublish(const char *name, struct hh_process *owner);
/*
 * Look name up for universe u; the HelHandleResult goes to q with context.
 * deadline is helGetClock time or -1; owner lists the lookup while it waits.
 * Returns the async ID, or 0 when out of memory.
 */
uint64_t hh_registry_lookup(const char *name, int64_t deadline, struct hh_universe *u,
		struct hh_queue *q, uint64_t context, struct hh_pending_list *owner);
/* The program is gone: its names are too. */
void hh_registry_forget(struct hh_process *owner);
/*
 * The name under which descriptor aux of obj is published, or NULL: a lane
 * whose other end is published can still be reached by a program that looks
 * the name up (the hang report and the state dump).
 */
const char *hh_registry_name_of(const struct hh_object *obj, uint32_t aux);
/* Every published name with its owner (for the state dump). */
void hh_registry_each(void (*fn)(const char *name, const struct hh_process *owner, void *arg),
		void *arg);

#endif
