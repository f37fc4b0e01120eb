/*
 * Universes (src/objects/universe.c), linked directly: handle numbering, lookups,
 * detach, tombstone housekeeping, clone and the attach/detach hooks
 * (OBJECTS.md §1).
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "object.h"
#include "universe.h"

/* ---- a dummy object type that counts what happens to it ---- */

struct dummy {
	struct hh_object base;
	int attached, detached, destroyed;
	uint32_t last_attach_aux, last_detach_aux;
};

static void dummy_destroy(struct hh_object *obj)
{
	((struct dummy *)obj)->destroyed++;
}

static void dummy_attach(struct hh_object *obj, uint32_t aux)
{
	struct dummy *d = (struct dummy *)obj;
	d->attached++;
	d->last_attach_aux = aux;
}

static void dummy_detach(struct hh_object *obj, uint32_t aux)
{
	struct dummy *d = (struct dummy *)obj;
	d->detached++;
	d->last_detach_aux = aux;
}

static const struct hh_object_ops token_ops = {
	.type = HH_OBJ_TOKEN,
	.name = "dummy-token",
	.destroy = dummy_destroy,
	.attach = dummy_attach,
	.detach = dummy_detach,
};

/* Same counting, another type, no hooks. */
static const struct hh_object_ops event_ops = {
	.type = HH_OBJ_ONESHOT_EVENT,
	.name = "dummy-event",
	.destroy = dummy_destroy,
};

static void dummy_init(struct dummy *d, const struct hh_object_ops *ops)
{
	*d = (struct dummy){ 0 };
	hh_object_init(&d->base, ops);
}

static struct hh_universe *new_universe(void)
{
	struct hh_universe *u = hh_universe_create();
	ck_assert_ptr_nonnull(u);
	return u;
}

static void drop_universe(struct hh_universe *u)
{
	hh_object_unref(&u->base);
	ck_assert(hh_object_reap());
}

/* ---- numbering ---- */

START_TEST(test_universe_create_empty)
{
	/* should succeed: a fresh universe is empty and numbers from 1 */
	struct hh_universe *u = new_universe();
	ck_assert_int_eq(hh_object_type(&u->base), HH_OBJ_UNIVERSE);
	ck_assert_uint_eq(u->base.refs, 1);
	ck_assert_uint_eq(u->count, 0);
	ck_assert_int_eq(u->next_handle, 1);
	struct hh_desc d;
	ck_assert_int_eq(hh_universe_resolve(u, 1, 0, &d), kHelErrNoDescriptor);
	drop_universe(u);
}
END_TEST

START_TEST(test_universe_attach_numbers_from_one)
{
	/* should succeed: consecutive attaches return 1, 2, 3 and take references */
	struct hh_universe *u = new_universe();
	struct dummy a, b;
	dummy_init(&a, &token_ops);
	dummy_init(&b, &token_ops);
	ck_assert_int_eq(hh_universe_attach(u, &a.base, 0), 1);
	ck_assert_int_eq(hh_universe_attach(u, &b.base, 7), 2);
	ck_assert_int_eq(hh_universe_attach(u, &a.base, 9), 3);
	ck_assert_uint_eq(u->count, 3);
	ck_assert_uint_eq(a.base.refs, 3);
	ck_assert_uint_eq(b.base.refs, 2);

	struct hh_desc d;
	ck_assert_int_eq(hh_universe_resolve(u, 1, HH_OBJ_TOKEN, &d), kHelErrNone);
	ck_assert_ptr_eq(d.obj, &a.base);
	ck_assert_uint_eq(d.aux, 0);
	ck_assert_int_eq(hh_universe_resolve(u, 2, HH_OBJ_TOKEN, &d), kHelErrNone);
	ck_assert_ptr_eq(d.obj, &b.base);
	ck_assert_uint_eq(d.aux, 7);
	ck_assert_int_eq(hh_universe_resolve(u, 3, HH_OBJ_TOKEN, &d), kHelErrNone);
	ck_assert_ptr_eq(d.obj, &a.base);
	ck_assert_uint_eq(d.aux, 9);
	/* resolving does not take a reference */
	ck_assert_uint_eq(a.base.refs, 3);

	drop_universe(u);
	ck_assert_uint_eq(a.base.refs, 1);
	ck_assert_uint_eq(b.base.refs, 1);
	ck_assert_int_eq(a.destroyed, 0);
}
END_TEST

START_TEST(test_universe_detach_numbers_not_reused)
{
	/* should succeed: numbers of detached handles are never issued again */
	struct hh_universe *u = new_universe();
	struct dummy a;
	dummy_init(&a, &token_ops);
	ck_assert_int_eq(hh_universe_attach(u, &a.base, 0), 1);
	ck_assert_int_eq(hh_universe_attach(u, &a.base, 0), 2);
	ck_assert_int_eq(hh_universe_detach(u, 2), kHelErrNone);
	ck_assert_int_eq(hh_universe_attach(u, &a.base, 0), 3);
	ck_assert_int_eq(hh_universe_detach(u, 1), kHelErrNone);
	ck_assert_int_eq(hh_universe_detach(u, 3), kHelErrNone);
	ck_assert_uint_eq(u->count, 0);
	ck_assert_int_eq(hh_universe_attach(u, &a.base, 0), 4);

	struct hh_desc d;
	/* detached numbers stay missing (should fail) */
	ck_assert_int_eq(hh_universe_resolve(u, 1, 0, &d), kHelErrNoDescriptor);
	ck_assert_int_eq(hh_universe_resolve(u, 2, 0, &d), kHelErrNoDescriptor);
	ck_assert_int_eq(hh_universe_resolve(u, 3, 0, &d), kHelErrNoDescriptor);
	ck_assert_int_eq(hh_universe_resolve(u, 4, 0, &d), kHelErrNone);
	ck_assert_uint_eq(a.base.refs, 2);
	drop_universe(u);
	ck_assert_uint_eq(a.base.refs, 1);
}
END_TEST

/* ---- lookups ---- */

START_TEST(test_universe_resolve_missing)
{
	struct hh_universe *u = new_universe();
	struct dummy a;
	dummy_init(&a, &token_ops);
	ck_assert_int_eq(hh_universe_attach(u, &a.base, 0), 1);
	struct hh_desc d;
	/* never issued, 0 and negative values (should fail) */
	ck_assert_int_eq(hh_universe_resolve(u, 2, 0, &d), kHelErrNoDescriptor);
	ck_assert_int_eq(hh_universe_resolve(u, 12345, HH_OBJ_TOKEN, &d), kHelErrNoDescriptor);
	ck_assert_int_eq(hh_universe_resolve(u, kHelNullHandle, 0, &d), kHelErrNoDescriptor);
	ck_assert_int_eq(hh_universe_resolve(u, kHelThisUniverse, 0, &d), kHelErrNoDescriptor);
	ck_assert_int_eq(hh_universe_resolve(u, kHelThisThread, 0, &d), kHelErrNoDescriptor);
	ck_assert_int_eq(hh_universe_resolve(u, kHelZeroMemory, 0, &d), kHelErrNoDescriptor);
	ck_assert_int_eq(hh_universe_resolve(u, INT64_MIN, 0, &d), kHelErrNoDescriptor);
	ck_assert_int_eq(hh_universe_resolve(u, INT64_MAX, 0, &d), kHelErrNoDescriptor);
	ck_assert_int_eq(hh_universe_resolve_any(u, 0, 1u << HH_OBJ_TOKEN, &d), kHelErrNoDescriptor);
	ck_assert_int_eq(hh_universe_resolve_any(u, -1, 0, &d), kHelErrNoDescriptor);
	/* should succeed: the one that exists */
	ck_assert_int_eq(hh_universe_resolve(u, 1, 0, &d), kHelErrNone);
	drop_universe(u);
}
END_TEST

START_TEST(test_universe_resolve_wrong_type)
{
	struct hh_universe *u = new_universe();
	struct dummy tok, ev;
	dummy_init(&tok, &token_ops);
	dummy_init(&ev, &event_ops);
	HelHandle ht = hh_universe_attach(u, &tok.base, 0);
	HelHandle he = hh_universe_attach(u, &ev.base, 0);
	struct hh_desc d;
	/* present but of another type (should fail) */
	ck_assert_int_eq(hh_universe_resolve(u, ht, HH_OBJ_MEMORY, &d), kHelErrBadDescriptor);
	ck_assert_int_eq(hh_universe_resolve(u, ht, HH_OBJ_ONESHOT_EVENT, &d), kHelErrBadDescriptor);
	ck_assert_int_eq(hh_universe_resolve(u, he, HH_OBJ_TOKEN, &d), kHelErrBadDescriptor);
	ck_assert_int_eq(hh_universe_resolve(u, he, HH_OBJ_UNIVERSE, &d), kHelErrBadDescriptor);
	/* should succeed: the right type, and type 0 accepts any */
	ck_assert_int_eq(hh_universe_resolve(u, ht, HH_OBJ_TOKEN, &d), kHelErrNone);
	ck_assert_ptr_eq(d.obj, &tok.base);
	ck_assert_int_eq(hh_universe_resolve(u, he, HH_OBJ_ONESHOT_EVENT, &d), kHelErrNone);
	ck_assert_ptr_eq(d.obj, &ev.base);
	ck_assert_int_eq(hh_universe_resolve(u, ht, 0, &d), kHelErrNone);
	ck_assert_ptr_eq(d.obj, &tok.base);
	ck_assert_int_eq(hh_universe_resolve(u, he, 0, &d), kHelErrNone);
	ck_assert_ptr_eq(d.obj, &ev.base);
	drop_universe(u);
}
END_TEST

START_TEST(test_universe_resolve_any_masks)
{
	struct hh_universe *u = new_universe();
	struct dummy tok, ev;
	dummy_init(&tok, &token_ops);
	dummy_init(&ev, &event_ops);
	HelHandle ht = hh_universe_attach(u, &tok.base, 3);
	HelHandle he = hh_universe_attach(u, &ev.base, 4);
	unsigned events = (1u << HH_OBJ_ONESHOT_EVENT) | (1u << HH_OBJ_BITSET_EVENT);
	struct hh_desc d;
	/* should succeed: any type of the mask */
	ck_assert_int_eq(hh_universe_resolve_any(u, he, events, &d), kHelErrNone);
	ck_assert_ptr_eq(d.obj, &ev.base);
	ck_assert_uint_eq(d.aux, 4);
	ck_assert_int_eq(hh_universe_resolve_any(u, ht, events | (1u << HH_OBJ_TOKEN), &d), kHelErrNone);
	ck_assert_ptr_eq(d.obj, &tok.base);
	ck_assert_uint_eq(d.aux, 3);
	/* should succeed: mask 0 accepts any type */
	ck_assert_int_eq(hh_universe_resolve_any(u, ht, 0, &d), kHelErrNone);
	ck_assert_int_eq(hh_universe_resolve_any(u, he, 0, &d), kHelErrNone);
	/* a type outside the mask (should fail) */
	ck_assert_int_eq(hh_universe_resolve_any(u, ht, events, &d), kHelErrBadDescriptor);
	ck_assert_int_eq(hh_universe_resolve_any(u, he,
			(1u << HH_OBJ_MEMORY) | (1u << HH_OBJ_QUEUE), &d), kHelErrBadDescriptor);
	drop_universe(u);
}
END_TEST

/* ---- detach ---- */

START_TEST(test_universe_detach_missing)
{
	struct hh_universe *u = new_universe();
	struct dummy a;
	dummy_init(&a, &token_ops);
	HelHandle h = hh_universe_attach(u, &a.base, 0);
	/* never issued, 0, negative (should fail) */
	ck_assert_int_eq(hh_universe_detach(u, h + 1), kHelErrNoDescriptor);
	ck_assert_int_eq(hh_universe_detach(u, 0), kHelErrNoDescriptor);
	ck_assert_int_eq(hh_universe_detach(u, -1), kHelErrNoDescriptor);
	ck_assert_int_eq(hh_universe_detach(u, INT64_MIN), kHelErrNoDescriptor);
	ck_assert_uint_eq(u->count, 1);
	ck_assert_int_eq(a.detached, 0);
	/* should succeed once, then the number is gone (should fail) */
	ck_assert_int_eq(hh_universe_detach(u, h), kHelErrNone);
	ck_assert_int_eq(hh_universe_detach(u, h), kHelErrNoDescriptor);
	ck_assert_int_eq(a.detached, 1);
	ck_assert_uint_eq(a.base.refs, 1);
	drop_universe(u);
}
END_TEST

START_TEST(test_universe_detach_last_reference_defers_destroy)
{
	/* should succeed: the table's reference is the last one; teardown waits for reap */
	struct hh_universe *u = new_universe();
	struct dummy a;
	dummy_init(&a, &token_ops);
	HelHandle h = hh_universe_attach(u, &a.base, 0);
	hh_object_unref(&a.base);       /* only the table holds it now */
	ck_assert_uint_eq(a.base.refs, 1);
	ck_assert_int_eq(hh_universe_detach(u, h), kHelErrNone);
	ck_assert_uint_eq(a.base.refs, 0);
	ck_assert(a.base.dying);
	ck_assert_int_eq(a.destroyed, 0);
	ck_assert(hh_object_reap());
	ck_assert_int_eq(a.destroyed, 1);
	ck_assert(!hh_object_reap());
	drop_universe(u);
}
END_TEST

/* ---- tombstones and growth ---- */

START_TEST(test_universe_churn_keeps_table_small)
{
	/* should succeed: 10000 attach/detach cycles do not grow the table */
	struct hh_universe *u = new_universe();
	struct dummy a;
	dummy_init(&a, &token_ops);
	for (HelHandle i = 1; i <= 10000; i++) {
		HelHandle h = hh_universe_attach(u, &a.base, 0);
		ck_assert_int_eq(h, i);
		ck_assert_int_eq(hh_universe_detach(u, h), kHelErrNone);
		ck_assert_uint_lt(u->capacity, 64);
	}
	ck_assert_uint_eq(u->count, 0);
	ck_assert_uint_eq(a.base.refs, 1);
	ck_assert_int_eq(a.attached, 10000);
	ck_assert_int_eq(a.detached, 10000);
	ck_assert_int_eq(hh_universe_attach(u, &a.base, 0), 10001);
	drop_universe(u);
}
END_TEST

START_TEST(test_universe_churn_with_live_entries)
{
	/* should succeed: churn next to a few long-lived handles keeps them and stays small */
	struct hh_universe *u = new_universe();
	struct dummy keep[5], a;
	HelHandle kept[5];
	for (int i = 0; i < 5; i++) {
		dummy_init(&keep[i], &token_ops);
		kept[i] = hh_universe_attach(u, &keep[i].base, (uint32_t)i);
	}
	dummy_init(&a, &event_ops);
	for (int i = 0; i < 10000; i++) {
		HelHandle h1 = hh_universe_attach(u, &a.base, 0);
		HelHandle h2 = hh_universe_attach(u, &a.base, 0);
		ck_assert_int_eq(h2, h1 + 1);
		ck_assert_int_eq(hh_universe_detach(u, h1), kHelErrNone);
		ck_assert_int_eq(hh_universe_detach(u, h2), kHelErrNone);
		ck_assert_uint_lt(u->capacity, 64);
	}
	ck_assert_uint_eq(u->count, 5);
	for (int i = 0; i < 5; i++) {
		struct hh_desc d;
		ck_assert_int_eq(hh_universe_resolve(u, kept[i], HH_OBJ_TOKEN, &d), kHelErrNone);
		ck_assert_ptr_eq(d.obj, &keep[i].base);
		ck_assert_uint_eq(d.aux, (uint32_t)i);
	}
	ck_assert_int_eq(hh_universe_attach(u, &a.base, 0), 5 + 20000 + 1);
	drop_universe(u);
	ck_assert_uint_eq(a.base.refs, 1);
}
END_TEST

START_TEST(test_universe_attach_grows)
{
	/* should succeed: 1000 live handles all resolve; the table grows in powers of two */
	struct hh_universe *u = new_universe();
	struct dummy objs[8];
	for (int i = 0; i < 8; i++)
		dummy_init(&objs[i], &token_ops);
	for (HelHandle h = 1; h <= 1000; h++)
		ck_assert_int_eq(hh_universe_attach(u, &objs[h % 8].base, (uint32_t)h), h);
	ck_assert_uint_eq(u->count, 1000);
	ck_assert_uint_ge(u->capacity, 1000 * 4 / 3);
	ck_assert_uint_eq(u->capacity & (u->capacity - 1), 0);
	for (HelHandle h = 1; h <= 1000; h++) {
		struct hh_desc d;
		ck_assert_int_eq(hh_universe_resolve(u, h, HH_OBJ_TOKEN, &d), kHelErrNone);
		ck_assert_ptr_eq(d.obj, &objs[h % 8].base);
		ck_assert_uint_eq(d.aux, (uint32_t)h);
	}
	/* remove the odd ones; the even ones still resolve */
	for (HelHandle h = 1; h <= 1000; h += 2)
		ck_assert_int_eq(hh_universe_detach(u, h), kHelErrNone);
	for (HelHandle h = 1; h <= 1000; h++) {
		struct hh_desc d;
		ck_assert_int_eq(hh_universe_resolve(u, h, 0, &d),
				h % 2 ? kHelErrNoDescriptor : kHelErrNone);
	}
	ck_assert_uint_eq(u->count, 500);
	drop_universe(u);
	for (int i = 0; i < 8; i++)
		ck_assert_uint_eq(objs[i].base.refs, 1);
}
END_TEST

/* ---- clone ---- */

START_TEST(test_universe_clone_copies_entries)
{
	/* should succeed: same numbers, same objects and aux, references taken */
	struct hh_universe *u = new_universe();
	struct dummy a, b;
	dummy_init(&a, &token_ops);
	dummy_init(&b, &event_ops);
	ck_assert_int_eq(hh_universe_attach(u, &a.base, 11), 1);
	ck_assert_int_eq(hh_universe_attach(u, &b.base, 22), 2);
	ck_assert_int_eq(hh_universe_attach(u, &a.base, 33), 3);
	ck_assert_int_eq(hh_universe_detach(u, 2), kHelErrNone);
	ck_assert_int_eq(hh_universe_attach(u, &b.base, 44), 4);
	ck_assert_uint_eq(a.base.refs, 3);
	ck_assert_uint_eq(b.base.refs, 2);
	int a_attached = a.attached;

	struct hh_universe *c = hh_universe_clone(u);
	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_ne(c, u);
	ck_assert_uint_eq(c->base.refs, 1);
	ck_assert_uint_eq(c->count, 3);
	ck_assert_uint_eq(a.base.refs, 5);
	ck_assert_uint_eq(b.base.refs, 3);
	/* the attach hook runs for each copied descriptor */
	ck_assert_int_eq(a.attached, a_attached + 2);

	struct hh_desc d;
	ck_assert_int_eq(hh_universe_resolve(c, 1, HH_OBJ_TOKEN, &d), kHelErrNone);
	ck_assert_ptr_eq(d.obj, &a.base);
	ck_assert_uint_eq(d.aux, 11);
	ck_assert_int_eq(hh_universe_resolve(c, 3, HH_OBJ_TOKEN, &d), kHelErrNone);
	ck_assert_ptr_eq(d.obj, &a.base);
	ck_assert_uint_eq(d.aux, 33);
	ck_assert_int_eq(hh_universe_resolve(c, 4, HH_OBJ_ONESHOT_EVENT, &d), kHelErrNone);
	ck_assert_ptr_eq(d.obj, &b.base);
	ck_assert_uint_eq(d.aux, 44);
	/* the detached number is missing in the clone too (should fail) */
	ck_assert_int_eq(hh_universe_resolve(c, 2, 0, &d), kHelErrNoDescriptor);
	/* the clone continues the counter: numbers are not reused there either */
	ck_assert_int_eq(hh_universe_attach(c, &a.base, 0), 5);
	ck_assert_int_eq(hh_universe_detach(c, 5), kHelErrNone);

	/* the clone is independent of its source */
	ck_assert_int_eq(hh_universe_detach(c, 1), kHelErrNone);
	ck_assert_int_eq(hh_universe_resolve(u, 1, 0, &d), kHelErrNone);
	ck_assert_int_eq(hh_universe_attach(u, &b.base, 0), 5);
	ck_assert_int_eq(hh_universe_resolve(c, 5, 0, &d), kHelErrNoDescriptor);
	ck_assert_int_eq(hh_universe_detach(u, 5), kHelErrNone);

	/* dropping the clone gives every reference back */
	int a_detached = a.detached;
	hh_object_unref(&c->base);
	ck_assert_uint_eq(a.base.refs, 4);     /* not yet: teardown waits for reap */
	ck_assert(hh_object_reap());
	ck_assert_uint_eq(a.base.refs, 3);
	ck_assert_uint_eq(b.base.refs, 2);
	ck_assert_int_eq(a.detached, a_detached + 1);
	ck_assert_int_eq(b.detached, 0);        /* its type has no hooks */
	drop_universe(u);
	ck_assert_uint_eq(a.base.refs, 1);
	ck_assert_uint_eq(b.base.refs, 1);
}
END_TEST

START_TEST(test_universe_clone_large)
{
	/* should succeed: a clone of a grown table with tombstones holds every live entry */
	struct hh_universe *u = new_universe();
	struct dummy a;
	dummy_init(&a, &token_ops);
	for (HelHandle h = 1; h <= 300; h++)
		ck_assert_int_eq(hh_universe_attach(u, &a.base, (uint32_t)h), h);
	for (HelHandle h = 3; h <= 300; h += 3)
		ck_assert_int_eq(hh_universe_detach(u, h), kHelErrNone);
	ck_assert_uint_eq(a.base.refs, 1 + 200);
	struct hh_universe *c = hh_universe_clone(u);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(c->count, 200);
	ck_assert_uint_eq(a.base.refs, 1 + 400);
	for (HelHandle h = 1; h <= 300; h++) {
		struct hh_desc d;
		HelError e = hh_universe_resolve(c, h, HH_OBJ_TOKEN, &d);
		if (h % 3 == 0) {
			ck_assert_int_eq(e, kHelErrNoDescriptor);
		} else {
			ck_assert_int_eq(e, kHelErrNone);
			ck_assert_uint_eq(d.aux, (uint32_t)h);
		}
	}
	ck_assert_int_eq(hh_universe_attach(c, &a.base, 0), 301);
	drop_universe(c);
	ck_assert_uint_eq(a.base.refs, 1 + 200);
	drop_universe(u);
	ck_assert_uint_eq(a.base.refs, 1);
}
END_TEST

START_TEST(test_universe_clone_empty)
{
	/* should succeed: cloning an empty universe keeps its counter */
	struct hh_universe *u = new_universe();
	struct dummy a;
	dummy_init(&a, &token_ops);
	ck_assert_int_eq(hh_universe_attach(u, &a.base, 0), 1);
	ck_assert_int_eq(hh_universe_detach(u, 1), kHelErrNone);
	struct hh_universe *c = hh_universe_clone(u);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(c->count, 0);
	ck_assert_int_eq(hh_universe_attach(c, &a.base, 0), 2);
	drop_universe(c);
	drop_universe(u);
	ck_assert_uint_eq(a.base.refs, 1);
}
END_TEST

/* ---- hooks ---- */

START_TEST(test_universe_hooks_attach_detach)
{
	/* should succeed: attach and detach hooks get the descriptor's aux */
	struct hh_universe *u = new_universe();
	struct dummy a;
	dummy_init(&a, &token_ops);
	HelHandle h1 = hh_universe_attach(u, &a.base, 5);
	ck_assert_int_eq(a.attached, 1);
	ck_assert_uint_eq(a.last_attach_aux, 5);
	ck_assert_int_eq(a.detached, 0);
	HelHandle h2 = hh_universe_attach(u, &a.base, 6);
	ck_assert_int_eq(a.attached, 2);
	ck_assert_uint_eq(a.last_attach_aux, 6);
	/* a lookup calls no hook */
	struct hh_desc d;
	ck_assert_int_eq(hh_universe_resolve(u, h1, 0, &d), kHelErrNone);
	ck_assert_int_eq(a.attached, 2);
	ck_assert_int_eq(a.detached, 0);
	ck_assert_int_eq(hh_universe_detach(u, h1), kHelErrNone);
	ck_assert_int_eq(a.detached, 1);
	ck_assert_uint_eq(a.last_detach_aux, 5);
	/* a failed detach calls no hook */
	ck_assert_int_eq(hh_universe_detach(u, h1), kHelErrNoDescriptor);
	ck_assert_int_eq(a.detached, 1);
	/* tearing the universe down detaches what is left */
	(void)h2;
	drop_universe(u);
	ck_assert_int_eq(a.detached, 2);
	ck_assert_uint_eq(a.last_detach_aux, 6);
	ck_assert_int_eq(a.attached, 2);
	ck_assert_uint_eq(a.base.refs, 1);
}
END_TEST

START_TEST(test_universe_destroy_releases_objects)
{
	/* should succeed: objects only the universe held are torn down with it */
	struct hh_universe *u = new_universe();
	struct dummy a, b;
	dummy_init(&a, &token_ops);
	dummy_init(&b, &event_ops);
	hh_universe_attach(u, &a.base, 0);
	hh_universe_attach(u, &b.base, 0);
	hh_universe_attach(u, &b.base, 0);
	hh_object_unref(&a.base);
	hh_object_unref(&b.base);
	ck_assert_int_eq(a.destroyed, 0);
	ck_assert_int_eq(b.destroyed, 0);
	hh_object_unref(&u->base);
	ck_assert(hh_object_reap());
	ck_assert_int_eq(a.destroyed, 1);
	ck_assert_int_eq(b.destroyed, 1);
	ck_assert_uint_eq(a.base.refs, 0);
	ck_assert_uint_eq(b.base.refs, 0);
}
END_TEST

START_TEST(test_universe_nested_universe)
{
	/* should succeed: a universe holding a universe; dropping the outer frees both */
	struct hh_universe *outer = new_universe();
	struct hh_universe *inner = new_universe();
	struct dummy a;
	dummy_init(&a, &token_ops);
	hh_universe_attach(inner, &a.base, 0);
	HelHandle h = hh_universe_attach(outer, &inner->base, 0);
	struct hh_desc d;
	ck_assert_int_eq(hh_universe_resolve(outer, h, HH_OBJ_UNIVERSE, &d), kHelErrNone);
	ck_assert_ptr_eq(hh_universe_of(d.obj), inner);
	ck_assert_uint_eq(inner->base.refs, 2);
	hh_object_unref(&inner->base);
	hh_object_unref(&outer->base);
	ck_assert(hh_object_reap());
	ck_assert_uint_eq(a.base.refs, 1);
	ck_assert_int_eq(a.detached, 1);
}
END_TEST

static Suite *universe_suite(void)
{
	Suite *s = suite_create("universe");
	TCase *tc = tcase_create("universe");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_universe_create_empty);
	tcase_add_test(tc, test_universe_attach_numbers_from_one);
	tcase_add_test(tc, test_universe_detach_numbers_not_reused);
	tcase_add_test(tc, test_universe_resolve_missing);
	tcase_add_test(tc, test_universe_resolve_wrong_type);
	tcase_add_test(tc, test_universe_resolve_any_masks);
	tcase_add_test(tc, test_universe_detach_missing);
	tcase_add_test(tc, test_universe_detach_last_reference_defers_destroy);
	tcase_add_test(tc, test_universe_churn_keeps_table_small);
	tcase_add_test(tc, test_universe_churn_with_live_entries);
	tcase_add_test(tc, test_universe_attach_grows);
	tcase_add_test(tc, test_universe_clone_copies_entries);
	tcase_add_test(tc, test_universe_clone_large);
	tcase_add_test(tc, test_universe_clone_empty);
	tcase_add_test(tc, test_universe_hooks_attach_detach);
	tcase_add_test(tc, test_universe_destroy_releases_objects);
	tcase_add_test(tc, test_universe_nested_universe);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(universe_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
