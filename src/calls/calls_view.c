/*
 * Decoding of the calls that look at memory from outside a mapping:
 * helCreateSliceView (OBJECTS.md §3.8) and helSubmitReadMemory /
 * helSubmitWriteMemory (§4.6).  Hosted, the targets of the latter are memory
 * objects only: spaces and threads cannot be named by a handle until
 * helCreateSpace / helCreateThread exist.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

#include "calls.h"
#include "cow.h"
#include "managed.h"
#include "memlock.h"
#include "memory.h"
#include "process.h"
#include "queue.h"
#include "slice.h"
#include "space.h"
#include "thread.h"
#include "universe.h"
#include "usermem.h"

/* One process_vm_* call moves at most ~2 GiB; smaller pieces keep each call short. */
#define PIECE (1024 * 1024)
/*
 * The copy runs on the loop thread before the call returns: a longer one
 * completes with kHelErrNoMemory and copies nothing, so that one call
 * cannot stall every program (docs/RELIABILITY.md, "Limits and starvation").
 */
#define MAX_COPY_BYTES (16ull << 20)

HelError hh_call_CreateSliceView(struct hh_call *c)
{
	uint64_t offset = c->arg[1], size = c->arg[2];
	uint32_t flags = (uint32_t)c->arg[3];
	/* thor checks the arguments before the handle; it used to assert ([emu]). */
	if (offset % HH_PAGE_SIZE || size % HH_PAGE_SIZE)
		return hh_call_refuse(c, kHelErrIllegalArgs, "offset and size must be page multiples");
	if (c->arg[3] & ~(uint64_t)kHelSliceCacheWriteCombine)
		return hh_call_refuse(c, kHelErrIllegalArgs, "flags %#llx",
				(unsigned long long)c->arg[3]);
	struct hh_desc desc;
	HelError e = hh_call_resolve(c, 0, HH_TYPE(HH_OBJ_MEMORY), &desc);
	if (e)
		return e;
	struct hh_slice *s = hh_slice_create(desc.obj, offset, size, flags);
	if (!s)
		return hh_call_refuse(c, kHelErrNoMemory, "no memory for the slice");
	return hh_call_give(c, &s->base);
}

/* A read or write, decoded: everything it needs is in hand, so it cannot fail. */
struct copy {
	const struct hh_usermem *mem;   /* the submitter's memory, where the buffer is */
	char *view;                     /* the emulator's mapping of the object */
	uint64_t size;                  /* the object's length */
	uint64_t address;               /* offset into the object */
	uint64_t length;
	uint64_t buffer;
	bool to_object;                 /* helSubmitWriteMemory */
};

/* The checks of a copy before any byte moves. */
static HelError copy_checked(const struct copy *k)
{
	if (k->buffer + k->length < k->buffer)
		return kHelErrIllegalArgs;
	/* thor asserts for out-of-range offsets; [emu] kHelErrFault, like an unmapped range. */
	if (k->address > k->size || k->length > k->size - k->address)
		return kHelErrFault;
	if (k->length > MAX_COPY_BYTES)
		return kHelErrNoMemory;
	return kHelErrNone;
}

/* The copy's outcome, for its HelSimpleResult. */
static HelError run_copy(const struct copy *k)
{
	HelError checked = copy_checked(k);
	if (checked)
		return checked;
	/* Pieces before a fault stay copied, as in thor's piecewise copy. */
	for (uint64_t done = 0; done < k->length;) {
		size_t n = k->length - done < PIECE ? (size_t)(k->length - done) : PIECE;
		char *at = k->view + k->address + done;
		HelError e = k->to_object ? hh_user_read(k->mem, k->buffer + done, at, n)
				: hh_user_write(k->mem, k->buffer + done, at, n);
		/* [emu] an unwritable buffer is kHelErrFault for reads too (thor asserts). */
		if (e)
			return e;
		done += n;
	}
	return kHelErrNone;
}

/*
 * The same through an address space: the range may cross mappings, and a
 * part with no mapping is a fault.  Protections do not matter (OBJECTS.md §4.6).
 */
static HelError run_space_copy(const struct copy *k, const struct hh_space *space)
{
	if (k->buffer + k->length < k->buffer)
		return kHelErrIllegalArgs;
	if (k->address + k->length < k->address)
		return kHelErrFault;
	if (k->length > MAX_COPY_BYTES)
		return kHelErrNoMemory;
	for (uint64_t done = 0; done < k->length;) {
		uint64_t a = k->address + done;
		const struct hh_mapping *m = hh_space_find(space, a);
		char *view = m ? hh_memory_view(m->source) : NULL;
		if (!view)
			return kHelErrFault;
		uint64_t n = m->addr + m->len - a;
		if (n > k->length - done)
			n = k->length - done;
		if (n > PIECE)
			n = PIECE;
		if (hh_cow_touch(m->source, m->offset + (a - m->addr), n))
			return kHelErrNoMemory;
		char *at = view + m->offset + (a - m->addr);
		HelError e = k->to_object ? hh_user_read(k->mem, k->buffer + done, at, (size_t)n)
				: hh_user_write(k->mem, k->buffer + done, at, (size_t)n);
		if (e)
			return e;
		done += n;
	}
	return kHelErrNone;
}

/*
 * A copy to or from managed frontal memory, or a lock of it, waits until
 * the pager has provided every page of the range (OBJECTS.md §3.5, §4.6);
 * a copy's write marks the pages dirty.  It is one of its program's pending
 * operations, so that it goes when the program dies.
 */
struct frontal_op {
	struct hh_managed_wait wait;
	struct hh_pending listed;
	struct hh_memory *frontal;      /* a reference */
	struct hh_queue *queue;         /* a reference */
	struct hh_completion *done;
	struct hh_universe *universe;   /* a lock's, for its handle (a reference); NULL: a copy */
	struct copy k;                  /* a copy's */
	uint64_t offset, size;          /* a lock's range */
};

static void frontal_op_free(struct frontal_op *f)
{
	hh_pending_remove(&f->listed);
	hh_object_unref(&f->frontal->base);
	hh_object_unref(&f->queue->base);
	if (f->universe)
		hh_object_unref(&f->universe->base);
	free(f);
}

static void frontal_op_discard(struct hh_pending *p)
{
	struct frontal_op *f = (struct frontal_op *)((char *)p - offsetof(struct frontal_op, listed));
	hh_managed_unwait(&f->wait);
	free(f->done);
	frontal_op_free(f);
}

static void finish_copy(struct hh_queue *q, struct hh_completion *done, struct hh_memory *mem,
		struct copy *k, HelError error)
{
	if (!error) {
		/* The view may have been remade by a resize meanwhile. */
		k->view = hh_memory_view(&mem->base);
		error = k->view ? run_copy(k) : kHelErrNoMemory;
		if (!error && k->to_object && hh_memory_is_frontal(&mem->base))
			hh_managed_dirty(mem, k->address, k->length);
	}
	struct HelSimpleResult r = { .error = error, .reserved = 0 };
	hh_completion_add(done, &r, sizeof(r));
	hh_queue_post(q, done);
}

/* The lock's handle is attached when its element is built, as in thor (OBJECTS.md §1.1). */
static void finish_lock(struct hh_queue *q, struct hh_completion *done, struct hh_universe *u,
		struct hh_memory *mem, uint64_t offset, uint64_t size, HelError error)
{
	struct HelHandleResult r = { .error = error, .reserved = 0, .handle = kHelNullHandle };
	if (!error) {
		struct hh_memlock *l = hh_memlock_create(mem, offset, size);
		if (l) {
			r.handle = hh_universe_attach(u, &l->base, 0);
			r.error = r.handle ? kHelErrNone : kHelErrNoMemory;
			hh_object_unref(&l->base);
		} else {
			r.error = kHelErrNoMemory;
		}
	}
	hh_completion_add(done, &r, sizeof(r));
	hh_queue_post(q, done);
}

static void finish_op(struct frontal_op *f, HelError error)
{
	if (f->universe)
		finish_lock(f->queue, f->done, f->universe, f->frontal, f->offset, f->size, error);
	else
		finish_copy(f->queue, f->done, f->frontal, &f->k, error);
}

static void frontal_op_ready(struct hh_managed_wait *w, HelError error)
{
	struct frontal_op *f = (struct frontal_op *)w;
	finish_op(f, error);
	frontal_op_free(f);
}

/* Run f (filled in but for its references) once [offset, offset+len) of frontal is there. */
static HelError start_frontal_op(struct hh_call *c, struct frontal_op *f, uint64_t offset,
		uint64_t len)
{
	f->wait.ready = frontal_op_ready;
	enum hh_managed_fetch r = hh_managed_fetch(f->frontal, offset, len, false, &f->wait);
	if (r != HH_FETCH_WAIT) {
		finish_op(f, r == HH_FETCH_READY ? kHelErrNone : kHelErrFault);
		free(f);
		return kHelErrNone;
	}
	hh_object_ref(&f->frontal->base);
	hh_object_ref(&f->queue->base);
	if (f->universe)
		hh_object_ref(&f->universe->base);
	hh_pending_add(&c->proc->pending, &f->listed, frontal_op_discard);
	return kHelErrNone;
}

static HelError copy_frontal(struct hh_call *c, struct hh_memory *frontal, struct hh_queue *q,
		struct hh_completion *done, struct copy *k)
{
	HelError e = hh_call_check_pending(c);
	struct frontal_op *f = e ? NULL : calloc(1, sizeof(*f));
	if (!f) {
		free(done);
		return e ? e : hh_call_refuse(c, kHelErrNoMemory, "no memory for the copy");
	}
	*f = (struct frontal_op){ .frontal = frontal, .queue = q, .done = done, .k = *k };
	return start_frontal_op(c, f, k->address, k->length);
}

/*
 * helSubmitReadMemory and helSubmitWriteMemory: handle exists → queue →
 * handle type (OBJECTS.md §10), no QueueTooSmall check.  The copy runs at
 * once and its result is posted right away (QUEUES.md §6 allows it).
 */
static HelError submit_copy(struct hh_call *c, bool to_object)
{
	struct hh_desc target, queue;
	HelError e = hh_call_resolve(c, 0, 0, &target);
	if (e || (e = hh_call_resolve(c, 4, HH_TYPE(HH_OBJ_QUEUE), &queue)))
		return e;
	struct hh_space *space = NULL;
	if (hh_object_type(target.obj) == HH_OBJ_SPACE)
		space = hh_space_of(target.obj);
	/* A thread's memory is its space's (the posix server reads a supercall's buffers so). */
	if (hh_object_type(target.obj) == HH_OBJ_THREAD) {
		const struct hh_thread *t = hh_thread_of(target.obj);
		if (!t->proc)
			return hh_call_refuse(c, kHelErrThreadTerminated, "the thread has ended");
		space = t->proc->space;
	}
	if (space) {
		struct hh_completion *done = hh_completion_new(sizeof(struct HelSimpleResult), c->arg[5]);
		if (!done)
			return hh_call_refuse(c, kHelErrNoMemory, "no memory for the element");
		struct copy k = { .mem = &c->proc->mem, .address = c->arg[1], .length = c->arg[2],
			.buffer = c->arg[3], .to_object = to_object };
		struct HelSimpleResult r = { .error = run_space_copy(&k, space),
			.reserved = 0 };
		hh_completion_add(done, &r, sizeof(r));
		hh_queue_post(hh_queue_of(queue.obj), done);
		return kHelErrNone;
	}
	/* Queues map like memory but are no memory view; slices are rejected too. */
	if (hh_object_type(target.obj) != HH_OBJ_MEMORY)
		return hh_call_refuse(c, kHelErrBadDescriptor, "arg 0: handle %lld is a %s",
				(long long)(HelHandle)c->arg[0], target.obj->ops->name);
	/* An indirect object has no bytes of its own to copy ([emu]). */
	if (hh_memory_of(target.obj)->kind == HH_MEMORY_INDIRECT)
		return hh_call_refuse(c, kHelErrUnsupportedOperation, "not for indirect memory");
	/* Everything the operation needs is taken now, so that it cannot fail later. */
	char *view = hh_memory_view(target.obj);    /* kept until the object is resized */
	if (!view && hh_memory_source(target.obj).length)
		return hh_call_refuse(c, kHelErrNoMemory, "cannot map the object");
	struct hh_completion *done = hh_completion_new(sizeof(struct HelSimpleResult), c->arg[5]);
	if (!done)
		return hh_call_refuse(c, kHelErrNoMemory, "no memory for the element");
	struct copy k = {
		.mem = &c->proc->mem, .view = view, .size = hh_memory_of(target.obj)->size,
		.address = c->arg[1], .length = c->arg[2], .buffer = c->arg[3], .to_object = to_object,
	};
	if (hh_memory_is_frontal(target.obj) && copy_checked(&k) == kHelErrNone)
		return copy_frontal(c, hh_memory_of(target.obj), hh_queue_of(queue.obj), done, &k);
	/* A copy is an access: COW pages are copied first (§3.6). */
	HelError error = copy_checked(&k);
	if (!error && hh_cow_touch(target.obj, k.address, k.length))
		error = kHelErrNoMemory;
	struct HelSimpleResult r = { .error = error ? error : run_copy(&k), .reserved = 0 };
	hh_completion_add(done, &r, sizeof(r));
	hh_queue_post(hh_queue_of(queue.obj), done);
	return kHelErrNone;
}

HelError hh_call_SubmitReadMemory(struct hh_call *c)
{
	return submit_copy(c, false);
}

HelError hh_call_SubmitWriteMemory(struct hh_call *c)
{
	return submit_copy(c, true);
}

/*
 * The lock is taken at once and its handle attached when the element is
 * built, as in thor (OBJECTS.md §1.1: it takes the universe's next number
 * then).  Failure (a range beyond the object) is an element, not an error.
 */
HelError hh_call_SubmitLockMemoryView(struct hh_call *c)
{
	uint64_t offset = c->arg[1], size = c->arg[2];
	struct hh_desc desc, queue;
	HelError e = hh_call_resolve(c, 0, HH_TYPE(HH_OBJ_MEMORY), &desc);
	if (e || (e = hh_call_resolve(c, 3, HH_TYPE(HH_OBJ_QUEUE), &queue)))
		return e;
	struct hh_queue *q = hh_queue_of(queue.obj);
	if ((e = hh_queue_check_size(q, sizeof(struct HelHandleResult))))
		return hh_call_refuse(c, e, "chunks too small");
	struct hh_memory *mem = hh_memory_of(desc.obj);
	struct hh_completion *done = hh_completion_new(sizeof(struct HelHandleResult), c->arg[4]);
	if (!done)
		return hh_call_refuse(c, kHelErrNoMemory, "no memory for the element");
	bool inside = offset <= mem->size && size <= mem->size - offset;
	/* Locking frontal memory touches its pages: they are asked for and waited for (§3.5). */
	if (inside && size && hh_memory_is_frontal(&mem->base)) {
		e = hh_call_check_pending(c);
		struct frontal_op *f = e ? NULL : calloc(1, sizeof(*f));
		if (!f) {
			free(done);
			return e ? e : hh_call_refuse(c, kHelErrNoMemory, "no memory for the lock");
		}
		*f = (struct frontal_op){ .frontal = mem, .queue = q, .done = done,
			.universe = c->universe, .offset = offset, .size = size };
		return start_frontal_op(c, f, offset, size);
	}
	/* Locking is an access: COW pages are copied, so a fork gets them as they are (§3.6). */
	e = !inside ? kHelErrFault : hh_cow_touch(&mem->base, offset, size) ? kHelErrNoMemory
			: kHelErrNone;
	finish_lock(q, done, c->universe, mem, offset, size, e);
	return kHelErrNone;
}
