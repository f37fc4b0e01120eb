/*
 * Decoding of the address-space calls other than mapping: helCreateSpace,
 * and the asynchronous ones (OBJECTS.md §4.1, §4.4, §4.5).  Both of those
 * complete at once: the emulator decides, the shim applies a change to its
 * own space right after the reply, like a mapping.
 */
#include <stdlib.h>

#include "calls.h"
#include "faults.h"
#include "process.h"
#include "queue.h"
#include "space.h"
#include "stubpage.h"
#include "universe.h"

HelError hh_call_SubmitProtectMemory(struct hh_call *c)
{
	uint64_t pointer = c->arg[1], len = c->arg[2], context = c->arg[5];
	struct hh_space *space = NULL;
	struct hh_queue *q = NULL;
	HelError e = hh_call_resolve_space(c, 0, &space);
	if (e || (e = hh_call_resolve_queue(c, 4, &q)))
		return e;
	if ((e = hh_queue_check_size(q, sizeof(struct HelSimpleResult))))
		return hh_call_refuse(c, e, "chunks too small");
	/* thor has no check here; mprotect needs page alignment ([emu], as for unmapping). */
	if (pointer % 4096 || len % 4096 || pointer + len < pointer)
		return hh_call_refuse(c, kHelErrIllegalArgs, "range must be page aligned");
	struct hh_completion *done = hh_completion_new(sizeof(struct HelSimpleResult), context);
	if (!done)
		return hh_call_refuse(c, kHelErrNoMemory, "no memory for the element");
	/* Dirty bits are collected when thor re-protects pages (§4.4). */
	if (len)
		hh_faults_sync(space, pointer, len);
	if ((e = hh_space_protect(space, pointer, len, hh_space_prot((uint32_t)c->arg[3]), &c->plan))) {
		free(done);
		return hh_call_refuse(c, e, "too many mappings in the range");
	}
	struct HelSimpleResult r = { .error = kHelErrNone, .reserved = 0 };
	hh_completion_add(done, &r, sizeof(r));
	hh_queue_post(q, done);
	return hh_call_apply_to(c, space, kHelErrNone);
}

HelError hh_call_SubmitSynchronizeSpace(struct hh_call *c)
{
	struct hh_space *space = NULL;
	struct hh_queue *q = NULL;
	HelError e = hh_call_resolve_space(c, 0, &space);
	if (e || (e = hh_call_resolve_queue(c, 3, &q)))
		return e;
	uint64_t pointer = c->arg[1], len = c->arg[2];
	if (!hh_queue_post_simple(q, c->arg[4], kHelErrNone))
		return hh_call_refuse(c, kHelErrNoMemory, "no memory for the element");
	/* Written managed frontal pages ask for writeback; it is not waited for (§4.5). */
	if (len && pointer + len > pointer)
		hh_faults_sync(space, pointer, len);
	return kHelErrNone;
}

/*
 * A space of its own: no program's Linux address space, so mappings live in
 * its table, are reached through helSubmitReadMemory / helSubmitWriteMemory,
 * and are carried out in the stub process of each thread that runs in it.
 */
HelError hh_call_CreateSpace(struct hh_call *c)
{
	/* Placement stays below the stub processes that threads run in (stubpage.h). */
	struct hh_space *s = hh_space_create(HH_SPACE_LOW, HH_STUB_BASE - HH_SPACE_LOW);
	if (!s)
		return hh_call_refuse(c, kHelErrNoMemory, "no memory for a space");
	return hh_call_give(c, &s->base);
}
