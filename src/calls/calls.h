/*
 * The decode layer: one hh_call_<Name>() per Hel call checks the arguments
 * and resolves handles, then hands over to an object operation.  All calls
 * are listed once, in calls.def, which also drives the trace's call names and
 * argument formats and the coverage table.
 */
#ifndef HH_CALLS_H
#define HH_CALLS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "callpage.h"
#include "hel.h"
#include "space.h"

struct hh_thread;
struct hh_process;
struct hh_universe;

enum hh_coverage {
	HH_WORKS = 1,           /* behaves as in thor */
	HH_NOT_YET,             /* answers kHelErrUnsupportedOperation for now */
	HH_HOSTED_NO,           /* cannot exist hosted; answers the documented error */
};

struct hh_call {
	struct hh_thread *thread;
	struct hh_process *proc;
	struct hh_universe *universe;
	uint32_t number;
	uint64_t arg[HH_CALL_MAX_ARGS];
	uint64_t out[2];
	const struct hh_callpage *page; /* for inline data; the program may scribble on it */
	struct hh_mm_plan plan;         /* address-space changes for the shim */
	bool queued;                    /* posted in the thread's ring, not trapped (src/host/ring.c) */
	size_t reserved;                /* pending operations promised to the caller's ring entries (check_pending) */
	char why[160];                  /* why the call was refused, for the trace */
	/* A submission's queue (referenced) and its posts before it: see src/host/trap.c. */
	struct hh_queue *results;
	uint64_t results_posts;
};

typedef HelError (*hh_decode_fn)(struct hh_call *c);

struct hh_call_info {
	uint32_t number;
	const char *name;               /* "helNop" */
	hh_decode_fn decode;
	const char *args;               /* "kind:name ..." for the trace, see trace.c */
	enum hh_coverage coverage;
	const char *note;               /* for the coverage table */
};

#define HH_CALL(number, name, decode, args, coverage, note) HelError hh_call_##name(struct hh_call *c);
#include "calls.def"
#undef HH_CALL
HelError hh_call_not_yet(struct hh_call *c);
HelError hh_call_no_hardware(struct hh_call *c);
HelError hh_call_no_hosted(struct hh_call *c);
HelError hh_call_in_shim(struct hh_call *c);

/* The table row of a call number, or NULL for an unassigned number. */
const struct hh_call_info *hh_call_lookup(uint32_t number);
/* Iterate the table in number order: index 0, 1, ... until NULL. */
const struct hh_call_info *hh_call_at(size_t index);

/* Run a call: decode and operate; outputs and plan land in c. */
HelError hh_call_dispatch(struct hh_call *c);

/*
 * After a dispatched call and the loop's settling: true if the call
 * submitted work whose queue has had no result since, so that its caller
 * will only wait.  Drops the submission's reference to the queue: called
 * once for every dispatched call.
 */
bool hh_call_awaits_result(struct hh_call *c);

/* Record why a call is refused (for the trace) and return err. */
HelError hh_call_refuse(struct hh_call *c, HelError err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Resolve a handle of the caller's universe; refusals say which argument. */
struct hh_desc;
HelError hh_call_resolve(struct hh_call *c, unsigned arg, unsigned type_mask, struct hh_desc *out);

/* A queue handle. */
struct hh_queue;
HelError hh_call_resolve_queue(struct hh_call *c, unsigned arg, struct hh_queue **out);
/* kHelErrNoMemory when the caller has as many operations pending as it may. */
HelError hh_call_check_pending(struct hh_call *c);
/* kHelNullHandle (the caller's own space) or a space from helCreateSpace. */
HelError hh_call_resolve_space(struct hh_call *c, unsigned arg, struct hh_space **out);
/*
 * After a change to space: a space no program runs in keeps the change in
 * its table only, so the shim gets no plan.  Returns e.
 */
HelError hh_call_apply_to(struct hh_call *c, const struct hh_space *space, HelError e);

/*
 * A new object for the caller: attach it to the caller's universe (taking
 * over the creation reference) and return its handle in out0.
 */
struct hh_object;
HelError hh_call_give(struct hh_call *c, struct hh_object *obj);

#define HH_TYPE(t) (1u << (t))

#endif
