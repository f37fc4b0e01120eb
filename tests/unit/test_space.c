/*
 * Address spaces (src/objects/space.c), linked directly: placement in the arena,
 * kHelMapFixed / kHelMapFixedNoReplace, unmap with splitting, the plan of
 * operations for the shim, protection normalisation and clone
 * (OBJECTS.md §4.2-4.3).
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "memory.h"
#include "object.h"
#include "space.h"

#define PAGE 0x1000ull
/* A 1 MiB arena well inside the usable range. */
#define ARENA_BASE 0x10000000ull
#define ARENA_LEN 0x100000ull
#define ARENA_TOP (ARENA_BASE + ARENA_LEN)
/* Somewhere outside the arena. */
#define OUTSIDE 0x40000000ull

#define RW (kHelMapProtRead | kHelMapProtWrite)

static struct hh_memory *mem;
static struct hh_space *space;

static void setup(void)
{
	ck_assert_int_eq(hh_memory_allocate(64 * PAGE, 0, &mem), kHelErrNone);
	space = hh_space_create(ARENA_BASE, ARENA_LEN);
	ck_assert_ptr_nonnull(space);
}

static void teardown(void)
{
	if (space)
		hh_object_unref(&space->base);
	hh_object_unref(&mem->base);
	hh_object_reap();
}

/* Map and expect success; returns the address. */
static uint64_t map_ok(uint64_t offset, uint64_t len, uint64_t hint, uint32_t flags)
{
	struct hh_mm_plan plan = { .count = 0 };
	uint64_t addr = 0;
	ck_assert_int_eq(hh_space_map(space, &mem->base, offset, len, hint, flags, &addr, &plan),
			kHelErrNone);
	ck_assert_uint_eq(plan.count, 1);
	ck_assert_uint_eq(plan.ops[0].kind, HH_MM_MAP);
	ck_assert_int_eq(plan.ops[0].fd, -1);
	ck_assert_uint_eq(plan.ops[0].addr, addr);
	ck_assert_uint_eq(plan.ops[0].len, len);
	ck_assert_uint_eq(plan.ops[0].offset, offset);
	ck_assert_uint_eq(plan.ops[0].prot, hh_space_prot(flags));
	return addr;
}

static void unmap_ok(uint64_t addr, uint64_t len, struct hh_mm_plan *plan)
{
	*plan = (struct hh_mm_plan){ .count = 0 };
	ck_assert_int_eq(hh_space_unmap(space, addr, len, plan), kHelErrNone);
}

/* The table is sorted, its entries do not overlap and are not empty. */
static void check_table(const struct hh_space *s)
{
	for (size_t i = 0; i < s->count; i++) {
		ck_assert_uint_gt(s->maps[i].len, 0);
		ck_assert_ptr_nonnull(s->maps[i].source);
		if (i > 0)
			ck_assert_uint_le(s->maps[i - 1].addr + s->maps[i - 1].len, s->maps[i].addr);
	}
}

static void check_entry(size_t i, uint64_t addr, uint64_t len, uint64_t offset)
{
	ck_assert_uint_gt(space->count, i);
	ck_assert_uint_eq(space->maps[i].addr, addr);
	ck_assert_uint_eq(space->maps[i].len, len);
	ck_assert_uint_eq(space->maps[i].offset, offset);
	ck_assert_ptr_eq(space->maps[i].source, &mem->base);
}

static void check_op(const struct hh_mm_plan *plan, uint32_t i, uint32_t kind,
		uint64_t addr, uint64_t len)
{
	ck_assert_uint_gt(plan->count, i);
	ck_assert_uint_eq(plan->ops[i].kind, kind);
	ck_assert_uint_eq(plan->ops[i].addr, addr);
	ck_assert_uint_eq(plan->ops[i].len, len);
}

/* ---- placement ---- */

START_TEST(test_space_create_empty)
{
	/* should succeed: an empty table with the arena */
	ck_assert_int_eq(hh_object_type(&space->base), HH_OBJ_SPACE);
	ck_assert_uint_eq(space->count, 0);
	ck_assert_uint_eq(space->arena_base, ARENA_BASE);
	ck_assert_uint_eq(space->arena_len, ARENA_LEN);
	ck_assert_ptr_null(hh_space_find(space, ARENA_BASE));
}
END_TEST

START_TEST(test_space_map_first_at_top)
{
	/* should succeed: an unhinted mapping lands at the top end of the arena */
	struct hh_mm_plan plan = { .count = 0 };
	uint64_t addr = 0;
	ck_assert_int_eq(hh_space_map(space, &mem->base, 2 * PAGE, 4 * PAGE, 0, RW, &addr, &plan),
			kHelErrNone);
	ck_assert_uint_eq(addr, ARENA_TOP - 4 * PAGE);
	ck_assert_uint_eq(plan.count, 1);
	ck_assert_uint_eq(plan.ops[0].kind, HH_MM_MAP);
	ck_assert_int_eq(plan.ops[0].fd, -1);
	ck_assert_uint_eq(plan.ops[0].addr, addr);
	ck_assert_uint_eq(plan.ops[0].len, 4 * PAGE);
	ck_assert_uint_eq(plan.ops[0].offset, 2 * PAGE);
	ck_assert_uint_eq(plan.ops[0].prot, PROT_READ | PROT_WRITE);
	ck_assert_uint_eq(plan.ops[0].place, HH_PLACE_REPLACE);
	ck_assert_uint_eq(space->count, 1);
	check_entry(0, addr, 4 * PAGE, 2 * PAGE);
	ck_assert_uint_eq(space->maps[0].prot, PROT_READ | PROT_WRITE);
	/* the table holds one reference per mapping */
	ck_assert_uint_eq(mem->base.refs, 2);
}
END_TEST

START_TEST(test_space_map_second_below)
{
	/* should succeed: the next mapping goes right below the first */
	uint64_t a = map_ok(0, 4 * PAGE, 0, RW);
	uint64_t b = map_ok(0, 2 * PAGE, 0, RW);
	uint64_t c = map_ok(0, PAGE, 0, kHelMapProtRead);
	ck_assert_uint_eq(a, ARENA_TOP - 4 * PAGE);
	ck_assert_uint_eq(b, a - 2 * PAGE);
	ck_assert_uint_eq(c, b - PAGE);
	ck_assert_uint_eq(space->count, 3);
	check_table(space);
	check_entry(0, c, PAGE, 0);
	check_entry(1, b, 2 * PAGE, 0);
	check_entry(2, a, 4 * PAGE, 0);
	ck_assert_uint_eq(mem->base.refs, 4);
}
END_TEST

START_TEST(test_space_map_reuses_highest_gap)
{
	/* should succeed: a freed gap is used when it is the highest that fits */
	uint64_t a = map_ok(0, 4 * PAGE, 0, RW);
	uint64_t b = map_ok(0, 4 * PAGE, 0, RW);
	uint64_t c = map_ok(0, 4 * PAGE, 0, RW);
	struct hh_mm_plan plan;
	unmap_ok(b, 4 * PAGE, &plan);
	ck_assert_uint_eq(mem->base.refs, 3);
	/* 2 pages: top end of b's old gap */
	uint64_t d = map_ok(0, 2 * PAGE, 0, RW);
	ck_assert_uint_eq(d, a - 2 * PAGE);
	/* 8 pages do not fit the 2 pages left: below c */
	uint64_t e = map_ok(0, 8 * PAGE, 0, RW);
	ck_assert_uint_eq(e, c - 8 * PAGE);
	/* 2 pages fill the rest of b's gap exactly */
	uint64_t f = map_ok(0, 2 * PAGE, 0, RW);
	ck_assert_uint_eq(f, b);
	/* and the next one goes below e */
	uint64_t g = map_ok(0, PAGE, 0, RW);
	ck_assert_uint_eq(g, e - PAGE);
	ck_assert_uint_eq(space->count, 6);
	check_table(space);
	ck_assert_uint_eq(mem->base.refs, 7);
}
END_TEST

START_TEST(test_space_map_gap_at_arena_top)
{
	/* should succeed: freeing the top mapping makes the top of the arena usable again */
	uint64_t a = map_ok(0, 4 * PAGE, 0, RW);
	uint64_t b = map_ok(0, 4 * PAGE, 0, RW);
	struct hh_mm_plan plan;
	unmap_ok(a, 4 * PAGE, &plan);
	uint64_t c = map_ok(0, PAGE, 0, RW);
	ck_assert_uint_eq(c, ARENA_TOP - PAGE);
	/* a mapping larger than the gap left above b goes below b */
	uint64_t d = map_ok(0, 4 * PAGE, 0, RW);
	ck_assert_uint_eq(d, b - 4 * PAGE);
	check_table(space);
}
END_TEST

START_TEST(test_space_map_ignores_mappings_outside_arena)
{
	/* should succeed: Fixed mappings above and below the arena do not disturb placement */
	map_ok(0, 4 * PAGE, ARENA_TOP, RW | kHelMapFixed);
	map_ok(0, 4 * PAGE, ARENA_BASE - 4 * PAGE, RW | kHelMapFixed);
	uint64_t a = map_ok(0, 2 * PAGE, 0, RW);
	ck_assert_uint_eq(a, ARENA_TOP - 2 * PAGE);
	check_table(space);
}
END_TEST

START_TEST(test_space_map_straddling_arena_top)
{
	/* should succeed: a Fixed mapping reaching into the arena from above is avoided */
	map_ok(0, 4 * PAGE, ARENA_TOP - 2 * PAGE, RW | kHelMapFixed);
	uint64_t a = map_ok(0, PAGE, 0, RW);
	ck_assert_uint_eq(a, ARENA_TOP - 3 * PAGE);
	check_table(space);
}
END_TEST

START_TEST(test_space_map_fills_arena)
{
	/* should succeed: the whole arena in pieces, then no room (should fail) */
	uint64_t n = ARENA_LEN / (16 * PAGE);
	for (uint64_t i = 0; i < n; i++)
		ck_assert_uint_eq(map_ok(0, 16 * PAGE, 0, RW), ARENA_TOP - (i + 1) * 16 * PAGE);
	ck_assert_uint_eq(space->count, n);
	struct hh_mm_plan plan = { .count = 0 };
	uint64_t addr = 0;
	ck_assert_int_eq(hh_space_map(space, &mem->base, 0, PAGE, 0, RW, &addr, &plan),
			kHelErrNoMemory);
	ck_assert_uint_eq(plan.count, 0);
	ck_assert_uint_eq(space->count, n);
	ck_assert_uint_eq(mem->base.refs, 1 + n);
}
END_TEST

START_TEST(test_space_map_hint)
{
	/* should succeed: a free hint inside the arena is taken as is */
	uint64_t hint = ARENA_BASE + 16 * PAGE;
	uint64_t a = map_ok(0, 2 * PAGE, hint, RW);
	ck_assert_uint_eq(a, hint);
	/* should succeed: an overlapping hint falls back to the highest gap */
	uint64_t b = map_ok(0, 2 * PAGE, hint + PAGE, RW);
	ck_assert_uint_eq(b, ARENA_TOP - 2 * PAGE);
	/* should succeed: a hint outside the arena is not taken without Fixed */
	uint64_t c = map_ok(0, 2 * PAGE, OUTSIDE, RW);
	ck_assert_uint_eq(c, b - 2 * PAGE);
	/* should succeed: a hint that runs past the arena's end falls back too */
	uint64_t d = map_ok(0, 4 * PAGE, ARENA_TOP - 2 * PAGE, RW);
	ck_assert_uint_eq(d, c - 4 * PAGE);
	check_table(space);
	ck_assert_uint_eq(space->count, 4);
}
END_TEST

/* ---- Fixed ---- */

START_TEST(test_space_map_fixed_replaces_middle)
{
	/* should succeed: Fixed inside a mapping splits it around the new one */
	uint64_t a = map_ok(0, 8 * PAGE, 0, RW);
	uint64_t b = map_ok(32 * PAGE, 2 * PAGE, a + 3 * PAGE, kHelMapProtRead | kHelMapFixed);
	ck_assert_uint_eq(b, a + 3 * PAGE);
	ck_assert_uint_eq(space->count, 3);
	check_table(space);
	check_entry(0, a, 3 * PAGE, 0);
	check_entry(1, b, 2 * PAGE, 32 * PAGE);
	check_entry(2, a + 5 * PAGE, 3 * PAGE, 5 * PAGE);
	ck_assert_uint_eq(space->maps[1].prot, PROT_READ);
	ck_assert_uint_eq(space->maps[2].prot, PROT_READ | PROT_WRITE);
	ck_assert_uint_eq(mem->base.refs, 4);
}
END_TEST

START_TEST(test_space_map_fixed_replaces_several)
{
	/* should succeed: Fixed over several mappings removes and trims them, refs released */
	uint64_t a = map_ok(0, 4 * PAGE, ARENA_BASE + 0x10 * PAGE, RW | kHelMapFixed);
	uint64_t b = map_ok(4 * PAGE, 2 * PAGE, ARENA_BASE + 0x16 * PAGE, RW | kHelMapFixed);
	uint64_t c = map_ok(8 * PAGE, 4 * PAGE, ARENA_BASE + 0x1a * PAGE, RW | kHelMapFixed);
	ck_assert_uint_eq(mem->base.refs, 4);
	/* covers the tail of a, all of b, the head of c */
	struct hh_mm_plan plan = { .count = 0 };
	uint64_t addr;
	ck_assert_int_eq(hh_space_map(space, &mem->base, 40 * PAGE, 0xa * PAGE, a + 2 * PAGE,
			RW | kHelMapFixed, &addr, &plan), kHelErrNone);
	ck_assert_uint_eq(addr, a + 2 * PAGE);
	/* Fixed replaces in one MAP: no separate unmap op */
	ck_assert_uint_eq(plan.count, 1);
	check_op(&plan, 0, HH_MM_MAP, addr, 0xa * PAGE);
	ck_assert_uint_eq(plan.ops[0].place, HH_PLACE_REPLACE);
	ck_assert_uint_eq(space->count, 3);
	check_table(space);
	check_entry(0, a, 2 * PAGE, 0);
	check_entry(1, addr, 0xa * PAGE, 40 * PAGE);
	check_entry(2, c + 2 * PAGE, 2 * PAGE, 8 * PAGE + 2 * PAGE);
	ck_assert_uint_eq(c + 2 * PAGE, a + 0xc * PAGE);
	/* b is gone: its address now belongs to the new mapping */
	ck_assert_ptr_eq(hh_space_find(space, b), &space->maps[1]);
	ck_assert_uint_eq(mem->base.refs, 4);
}
END_TEST

START_TEST(test_space_map_fixed_exact_replace)
{
	/* should succeed: Fixed on exactly an existing mapping swaps it, source refs move */
	struct hh_memory *other;
	ck_assert_int_eq(hh_memory_allocate(4 * PAGE, 0, &other), kHelErrNone);
	uint64_t a = map_ok(0, 4 * PAGE, 0, RW);
	ck_assert_uint_eq(mem->base.refs, 2);
	struct hh_mm_plan plan = { .count = 0 };
	uint64_t addr;
	ck_assert_int_eq(hh_space_map(space, &other->base, 0, 4 * PAGE, a, RW | kHelMapFixed,
			&addr, &plan), kHelErrNone);
	ck_assert_uint_eq(addr, a);
	ck_assert_uint_eq(space->count, 1);
	ck_assert_ptr_eq(space->maps[0].source, &other->base);
	ck_assert_uint_eq(mem->base.refs, 1);
	ck_assert_uint_eq(other->base.refs, 2);
	hh_object_unref(&other->base);
}
END_TEST

START_TEST(test_space_map_fixed_outside_arena)
{
	/* should succeed: Fixed anywhere in the usable range, placed with MAP_FIXED */
	struct hh_mm_plan plan = { .count = 0 };
	uint64_t addr;
	ck_assert_int_eq(hh_space_map(space, &mem->base, 0, 2 * PAGE, OUTSIDE, RW | kHelMapFixed,
			&addr, &plan), kHelErrNone);
	ck_assert_uint_eq(addr, OUTSIDE);
	ck_assert_uint_eq(plan.ops[0].place, HH_PLACE_REPLACE);
	/* the lowest and highest usable pages */
	map_ok(0, PAGE, HH_SPACE_LOW, RW | kHelMapFixed);
	map_ok(0, PAGE, HH_SPACE_HIGH - PAGE, RW | kHelMapFixed);
	ck_assert_uint_eq(space->count, 3);
	check_table(space);
}
END_TEST

START_TEST(test_space_map_fixed_takes_precedence)
{
	/* should succeed: Fixed|FixedNoReplace over a mapping replaces it */
	uint64_t a = map_ok(0, 4 * PAGE, 0, RW);
	uint64_t b = map_ok(0, 2 * PAGE, a, RW | kHelMapFixed | kHelMapFixedNoReplace);
	ck_assert_uint_eq(b, a);
	ck_assert_uint_eq(space->count, 2);
	check_entry(0, a, 2 * PAGE, 0);
	check_entry(1, a + 2 * PAGE, 2 * PAGE, 2 * PAGE);
}
END_TEST

/* ---- FixedNoReplace ---- */

START_TEST(test_space_map_noreplace_collision)
{
	uint64_t a = map_ok(0, 4 * PAGE, 0, RW);
	struct hh_mm_plan plan = { .count = 0 };
	uint64_t addr = 0;
	/* over an existing entry, partly or wholly (should fail) */
	ck_assert_int_eq(hh_space_map(space, &mem->base, 0, 2 * PAGE, a + PAGE,
			RW | kHelMapFixedNoReplace, &addr, &plan), kHelErrAlreadyExists);
	ck_assert_int_eq(hh_space_map(space, &mem->base, 0, 2 * PAGE, a - PAGE,
			RW | kHelMapFixedNoReplace, &addr, &plan), kHelErrAlreadyExists);
	ck_assert_int_eq(hh_space_map(space, &mem->base, 0, 8 * PAGE, a - 2 * PAGE,
			RW | kHelMapFixedNoReplace, &addr, &plan), kHelErrAlreadyExists);
	ck_assert_int_eq(hh_space_map(space, &mem->base, 0, PAGE, a + 3 * PAGE,
			RW | kHelMapFixedNoReplace, &addr, &plan), kHelErrAlreadyExists);
	ck_assert_uint_eq(plan.count, 0);
	ck_assert_uint_eq(space->count, 1);
	check_entry(0, a, 4 * PAGE, 0);
	ck_assert_uint_eq(mem->base.refs, 2);
	/* should succeed: right next to it */
	ck_assert_uint_eq(map_ok(0, PAGE, a - PAGE, RW | kHelMapFixedNoReplace), a - PAGE);
	ck_assert_uint_eq(space->count, 2);
	check_table(space);
}
END_TEST

START_TEST(test_space_map_noreplace_place)
{
	/* should succeed: inside the arena the emulator owns the range (REPLACE) */
	struct hh_mm_plan plan = { .count = 0 };
	uint64_t addr;
	ck_assert_int_eq(hh_space_map(space, &mem->base, 0, 2 * PAGE, ARENA_BASE,
			RW | kHelMapFixedNoReplace, &addr, &plan), kHelErrNone);
	ck_assert_uint_eq(addr, ARENA_BASE);
	ck_assert_uint_eq(plan.ops[0].place, HH_PLACE_REPLACE);
	/* should succeed: outside it a Linux mapping may be there (NOREPLACE) */
	plan.count = 0;
	ck_assert_int_eq(hh_space_map(space, &mem->base, 0, 2 * PAGE, OUTSIDE,
			RW | kHelMapFixedNoReplace, &addr, &plan), kHelErrNone);
	ck_assert_uint_eq(addr, OUTSIDE);
	ck_assert_uint_eq(plan.count, 1);
	ck_assert_uint_eq(plan.ops[0].place, HH_PLACE_NOREPLACE);
	/* should succeed: straddling the arena's end counts as outside */
	plan.count = 0;
	ck_assert_int_eq(hh_space_map(space, &mem->base, 0, 2 * PAGE, ARENA_TOP - PAGE,
			RW | kHelMapFixedNoReplace, &addr, &plan), kHelErrNone);
	ck_assert_uint_eq(plan.ops[0].place, HH_PLACE_NOREPLACE);
	ck_assert_uint_eq(space->count, 3);
	check_table(space);
}
END_TEST

START_TEST(test_space_map_unusable)
{
	struct hh_mm_plan plan = { .count = 0 };
	uint64_t addr = 0;
	uint32_t modes[] = { kHelMapFixed, kHelMapFixedNoReplace };
	for (int i = 0; i < 2; i++) {
		uint32_t f = RW | modes[i];
		/* page 0, past the top, running over the top, overflowing (should fail) */
		ck_assert_int_eq(hh_space_map(space, &mem->base, 0, PAGE, 0, f, &addr, &plan),
				kHelErrNoMemory);
		ck_assert_int_eq(hh_space_map(space, &mem->base, 0, PAGE, HH_SPACE_HIGH, f, &addr,
				&plan), kHelErrNoMemory);
		ck_assert_int_eq(hh_space_map(space, &mem->base, 0, 2 * PAGE, HH_SPACE_HIGH - PAGE, f,
				&addr, &plan), kHelErrNoMemory);
		ck_assert_int_eq(hh_space_map(space, &mem->base, 0, PAGE, 0xffffffffffff0000ull, f,
				&addr, &plan), kHelErrNoMemory);
		ck_assert_int_eq(hh_space_map(space, &mem->base, 0, 0xfffffffffff00000ull, 0x100000, f,
				&addr, &plan), kHelErrNoMemory);
	}
	/* no hint and bigger than the arena (should fail) */
	ck_assert_int_eq(hh_space_map(space, &mem->base, 0, ARENA_LEN + PAGE, 0, RW, &addr, &plan),
			kHelErrNoMemory);
	ck_assert_uint_eq(plan.count, 0);
	ck_assert_uint_eq(space->count, 0);
	ck_assert_uint_eq(mem->base.refs, 1);
	/* should succeed: exactly the arena */
	ck_assert_uint_eq(map_ok(0, ARENA_LEN, 0, RW), ARENA_BASE);
}
END_TEST

/* ---- unmap ---- */

START_TEST(test_space_unmap_middle_splits)
{
	/* should succeed: a hole in the middle leaves two pieces with their offsets */
	uint64_t a = map_ok(4 * PAGE, 8 * PAGE, 0, RW);
	struct hh_mm_plan plan;
	unmap_ok(a + 2 * PAGE, 3 * PAGE, &plan);
	ck_assert_uint_eq(space->count, 2);
	check_table(space);
	check_entry(0, a, 2 * PAGE, 4 * PAGE);
	check_entry(1, a + 5 * PAGE, 3 * PAGE, 4 * PAGE + 5 * PAGE);
	ck_assert_uint_eq(space->maps[1].prot, PROT_READ | PROT_WRITE);
	/* inside the arena: one op for the range */
	ck_assert_uint_eq(plan.count, 1);
	check_op(&plan, 0, HH_MM_UNMAP, a + 2 * PAGE, 3 * PAGE);
	/* each piece holds a reference */
	ck_assert_uint_eq(mem->base.refs, 3);
	ck_assert_ptr_eq(hh_space_find(space, a + PAGE), &space->maps[0]);
	ck_assert_ptr_null(hh_space_find(space, a + 2 * PAGE));
	ck_assert_ptr_null(hh_space_find(space, a + 4 * PAGE));
	ck_assert_ptr_eq(hh_space_find(space, a + 5 * PAGE), &space->maps[1]);
}
END_TEST

START_TEST(test_space_unmap_edges)
{
	/* should succeed: trimming the head and the tail */
	uint64_t a = map_ok(0, 8 * PAGE, 0, RW);
	struct hh_mm_plan plan;
	unmap_ok(a, 2 * PAGE, &plan);
	check_entry(0, a + 2 * PAGE, 6 * PAGE, 2 * PAGE);
	unmap_ok(a + 6 * PAGE, 2 * PAGE, &plan);
	check_entry(0, a + 2 * PAGE, 4 * PAGE, 2 * PAGE);
	ck_assert_uint_eq(space->count, 1);
	ck_assert_uint_eq(mem->base.refs, 2);
	/* should succeed: the whole mapping */
	unmap_ok(a + 2 * PAGE, 4 * PAGE, &plan);
	ck_assert_uint_eq(space->count, 0);
	ck_assert_uint_eq(mem->base.refs, 1);
}
END_TEST

START_TEST(test_space_unmap_across_mappings_and_gaps)
{
	/* should succeed: from inside a through b to inside c, gaps included */
	uint64_t base = ARENA_BASE + 0x20 * PAGE;
	map_ok(0, 4 * PAGE, base, RW | kHelMapFixed);                   /* a: 0x20-0x24 */
	map_ok(4 * PAGE, 2 * PAGE, base + 6 * PAGE, RW | kHelMapFixed); /* b: 0x26-0x28 */
	map_ok(8 * PAGE, 4 * PAGE, base + 9 * PAGE, RW | kHelMapFixed); /* c: 0x29-0x2d */
	map_ok(0, PAGE, base + 0x10 * PAGE, RW | kHelMapFixed);         /* d: untouched */
	ck_assert_uint_eq(mem->base.refs, 5);
	struct hh_mm_plan plan;
	unmap_ok(base + PAGE, 10 * PAGE, &plan);        /* 0x21-0x2b */
	ck_assert_uint_eq(space->count, 3);
	check_table(space);
	check_entry(0, base, PAGE, 0);
	check_entry(1, base + 11 * PAGE, 2 * PAGE, 8 * PAGE + 2 * PAGE);
	check_entry(2, base + 0x10 * PAGE, PAGE, 0);
	ck_assert_uint_eq(mem->base.refs, 4);
	ck_assert_uint_eq(plan.count, 1);
	check_op(&plan, 0, HH_MM_UNMAP, base + PAGE, 10 * PAGE);
}
END_TEST

START_TEST(test_space_unmap_empty_range)
{
	/* should succeed: nothing mapped there; inside the arena the range is still reset */
	struct hh_mm_plan plan;
	unmap_ok(ARENA_BASE, 4 * PAGE, &plan);
	ck_assert_uint_eq(plan.count, 1);
	check_op(&plan, 0, HH_MM_UNMAP, ARENA_BASE, 4 * PAGE);
	/* should succeed: outside the arena nothing to do */
	unmap_ok(OUTSIDE, 4 * PAGE, &plan);
	ck_assert_uint_eq(plan.count, 0);
	ck_assert_uint_eq(space->count, 0);
}
END_TEST

START_TEST(test_space_unmap_outside_arena_ops)
{
	/* should succeed: outside the arena one op per piece, in address order */
	map_ok(0, 4 * PAGE, OUTSIDE, RW | kHelMapFixed);
	map_ok(0, 2 * PAGE, OUTSIDE + 8 * PAGE, RW | kHelMapFixed);
	map_ok(0, 4 * PAGE, OUTSIDE + 12 * PAGE, RW | kHelMapFixed);
	struct hh_mm_plan plan;
	unmap_ok(OUTSIDE + 2 * PAGE, 12 * PAGE, &plan);
	ck_assert_uint_eq(plan.count, 3);
	check_op(&plan, 0, HH_MM_UNMAP, OUTSIDE + 2 * PAGE, 2 * PAGE);
	check_op(&plan, 1, HH_MM_UNMAP, OUTSIDE + 8 * PAGE, 2 * PAGE);
	check_op(&plan, 2, HH_MM_UNMAP, OUTSIDE + 12 * PAGE, 2 * PAGE);
	ck_assert_uint_eq(space->count, 2);
	check_entry(0, OUTSIDE, 2 * PAGE, 0);
	check_entry(1, OUTSIDE + 14 * PAGE, 2 * PAGE, 2 * PAGE);
	ck_assert_uint_eq(mem->base.refs, 3);
}
END_TEST

START_TEST(test_space_unmap_across_arena_edge)
{
	/* should succeed: pieces outside listed one by one, the arena part as one clipped op */
	map_ok(0, 2 * PAGE, ARENA_BASE - 4 * PAGE, RW | kHelMapFixed);  /* outside */
	map_ok(0, 2 * PAGE, ARENA_BASE + 2 * PAGE, RW | kHelMapFixed);  /* inside */
	struct hh_mm_plan plan;
	unmap_ok(ARENA_BASE - 8 * PAGE, 16 * PAGE, &plan);
	ck_assert_uint_eq(space->count, 0);
	ck_assert_uint_eq(mem->base.refs, 1);
	ck_assert_uint_eq(plan.count, 2);
	check_op(&plan, 0, HH_MM_UNMAP, ARENA_BASE - 4 * PAGE, 2 * PAGE);
	check_op(&plan, 1, HH_MM_UNMAP, ARENA_BASE, 8 * PAGE);
	/* a range covering the whole arena and more: the arena op is clipped to it */
	map_ok(0, PAGE, ARENA_TOP, RW | kHelMapFixed);
	unmap_ok(ARENA_BASE - PAGE, ARENA_LEN + 4 * PAGE, &plan);
	ck_assert_uint_eq(plan.count, 2);
	check_op(&plan, 0, HH_MM_UNMAP, ARENA_TOP, PAGE);
	check_op(&plan, 1, HH_MM_UNMAP, ARENA_BASE, ARENA_LEN);
	ck_assert_uint_eq(space->count, 0);
}
END_TEST

START_TEST(test_space_unmap_too_many_pieces)
{
	/* should succeed: 63 pieces outside the arena fit one plan */
	for (uint64_t i = 0; i < 64; i++)
		map_ok(0, PAGE, OUTSIDE + 2 * i * PAGE, RW | kHelMapFixed);
	struct hh_mm_plan plan;
	unmap_ok(OUTSIDE, 2 * 63 * PAGE, &plan);
	ck_assert_uint_eq(plan.count, 63);
	ck_assert_uint_eq(space->count, 1);
	/* more pieces than a plan holds (should fail), and nothing changes */
	for (uint64_t i = 0; i < 63; i++)
		map_ok(0, PAGE, OUTSIDE + 2 * i * PAGE, RW | kHelMapFixed);
	plan.count = 0;
	ck_assert_int_eq(hh_space_unmap(space, OUTSIDE, 2 * 64 * PAGE, &plan), kHelErrNoMemory);
	ck_assert_uint_eq(plan.count, 0);
	ck_assert_uint_eq(space->count, 64);
	ck_assert_uint_eq(mem->base.refs, 65);
}
END_TEST

/* ---- find ---- */

START_TEST(test_space_find)
{
	uint64_t a = map_ok(0, 4 * PAGE, ARENA_BASE + 8 * PAGE, RW | kHelMapFixed);
	uint64_t b = map_ok(0, 2 * PAGE, ARENA_BASE + 16 * PAGE, RW | kHelMapFixed);
	/* should succeed: first byte, inside, last byte */
	ck_assert_ptr_eq(hh_space_find(space, a), &space->maps[0]);
	ck_assert_ptr_eq(hh_space_find(space, a + PAGE + 123), &space->maps[0]);
	ck_assert_ptr_eq(hh_space_find(space, a + 4 * PAGE - 1), &space->maps[0]);
	ck_assert_ptr_eq(hh_space_find(space, b), &space->maps[1]);
	ck_assert_ptr_eq(hh_space_find(space, b + 2 * PAGE - 1), &space->maps[1]);
	/* below, in the gap, at the end, above (should fail) */
	ck_assert_ptr_null(hh_space_find(space, 0));
	ck_assert_ptr_null(hh_space_find(space, a - 1));
	ck_assert_ptr_null(hh_space_find(space, a + 4 * PAGE));
	ck_assert_ptr_null(hh_space_find(space, b - 1));
	ck_assert_ptr_null(hh_space_find(space, b + 2 * PAGE));
	ck_assert_ptr_null(hh_space_find(space, UINT64_MAX));
}
END_TEST

/* ---- protection ---- */

START_TEST(test_space_prot_table)
{
	/* should succeed: OBJECTS.md §4.2 normalisation */
	ck_assert_uint_eq(hh_space_prot(0), PROT_NONE);
	ck_assert_uint_eq(hh_space_prot(kHelMapProtRead), PROT_READ);
	ck_assert_uint_eq(hh_space_prot(kHelMapProtWrite), PROT_READ | PROT_WRITE);
	ck_assert_uint_eq(hh_space_prot(kHelMapProtRead | kHelMapProtWrite), PROT_READ | PROT_WRITE);
	ck_assert_uint_eq(hh_space_prot(kHelMapProtExecute), PROT_READ | PROT_EXEC);
	ck_assert_uint_eq(hh_space_prot(kHelMapProtRead | kHelMapProtExecute), PROT_READ | PROT_EXEC);
	ck_assert_uint_eq(hh_space_prot(kHelMapProtWrite | kHelMapProtExecute),
			PROT_READ | PROT_WRITE | PROT_EXEC);
	ck_assert_uint_eq(hh_space_prot(kHelMapProtRead | kHelMapProtWrite | kHelMapProtExecute),
			PROT_READ | PROT_WRITE | PROT_EXEC);
	/* other flag bits do not change the protection */
	ck_assert_uint_eq(hh_space_prot(kHelMapFixed | kHelMapFixedNoReplace |
			kHelMapDontRequireBacking), PROT_NONE);
	ck_assert_uint_eq(hh_space_prot(kHelMapProtRead | kHelMapFixed | 1u | 0x80000000u), PROT_READ);
}
END_TEST

START_TEST(test_space_map_stores_prot)
{
	/* should succeed: the table and the MAP op carry the normalised protection */
	map_ok(0, PAGE, 0, 0);
	map_ok(0, PAGE, 0, kHelMapProtWrite);
	map_ok(0, PAGE, 0, kHelMapProtExecute);
	ck_assert_uint_eq(space->count, 3);
	ck_assert_uint_eq(space->maps[2].prot, PROT_NONE);
	ck_assert_uint_eq(space->maps[1].prot, PROT_READ | PROT_WRITE);
	ck_assert_uint_eq(space->maps[0].prot, PROT_READ | PROT_EXEC);
}
END_TEST

/* ---- clone and lifetime ---- */

START_TEST(test_space_clone)
{
	/* should succeed: the clone has the same arena and mappings and takes references */
	uint64_t a = map_ok(0, 4 * PAGE, 0, RW);
	uint64_t b = map_ok(8 * PAGE, 2 * PAGE, OUTSIDE, kHelMapProtRead | kHelMapFixed);
	ck_assert_uint_eq(mem->base.refs, 3);
	struct hh_space *c = hh_space_clone(space);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(c->base.refs, 1);
	ck_assert_uint_eq(c->arena_base, ARENA_BASE);
	ck_assert_uint_eq(c->arena_len, ARENA_LEN);
	ck_assert_uint_eq(c->count, 2);
	ck_assert_ptr_ne(c->maps, space->maps);
	ck_assert_uint_eq(c->maps[0].addr, a);
	ck_assert_uint_eq(c->maps[0].len, 4 * PAGE);
	ck_assert_ptr_eq(c->maps[0].source, &mem->base);
	ck_assert_uint_eq(c->maps[1].addr, b);
	ck_assert_uint_eq(c->maps[1].len, 2 * PAGE);
	ck_assert_uint_eq(c->maps[1].offset, 8 * PAGE);
	ck_assert_uint_eq(c->maps[1].prot, PROT_READ);
	ck_assert_ptr_eq(c->maps[1].source, &mem->base);
	ck_assert_uint_eq(mem->base.refs, 5);
	check_table(c);

	/* changing the clone leaves the source alone */
	struct hh_mm_plan plan = { .count = 0 };
	ck_assert_int_eq(hh_space_unmap(c, a + PAGE, PAGE, &plan), kHelErrNone);
	ck_assert_uint_eq(c->count, 3);
	ck_assert_uint_eq(space->count, 2);
	check_entry(0, a, 4 * PAGE, 0);
	ck_assert_uint_eq(mem->base.refs, 6);
	uint64_t addr;
	plan.count = 0;
	ck_assert_int_eq(hh_space_map(c, &mem->base, 0, PAGE, 0, RW, &addr, &plan), kHelErrNone);
	/* the hole just made is the highest gap of the clone */
	ck_assert_uint_eq(addr, a + PAGE);
	ck_assert_uint_eq(space->count, 2);

	/* dropping the clone gives the references back (after reap) */
	ck_assert_uint_eq(mem->base.refs, 7);
	hh_object_unref(&c->base);
	ck_assert_uint_eq(mem->base.refs, 7);
	ck_assert(hh_object_reap());
	ck_assert_uint_eq(mem->base.refs, 3);
}
END_TEST

START_TEST(test_space_clone_empty)
{
	/* should succeed: an empty space clones to an empty space */
	struct hh_space *c = hh_space_clone(space);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(c->count, 0);
	ck_assert_uint_eq(c->arena_base, ARENA_BASE);
	hh_object_unref(&c->base);
	ck_assert(hh_object_reap());
}
END_TEST

START_TEST(test_space_destroy_releases_sources)
{
	/* should succeed: tearing a space down drops one reference per mapping */
	map_ok(0, 4 * PAGE, 0, RW);
	map_ok(0, 4 * PAGE, 0, RW);
	map_ok(0, 4 * PAGE, OUTSIDE, RW | kHelMapFixed);
	ck_assert_uint_eq(mem->base.refs, 4);
	hh_object_unref(&space->base);
	space = NULL;
	ck_assert(hh_object_reap());
	ck_assert_uint_eq(mem->base.refs, 1);
}
END_TEST

START_TEST(test_space_many_mappings)
{
	/* should succeed: the table grows past its first allocation and stays sorted */
	for (int i = 0; i < 100; i++)
		map_ok(0, PAGE, 0, RW);
	ck_assert_uint_eq(space->count, 100);
	check_table(space);
	ck_assert_uint_eq(space->maps[0].addr, ARENA_TOP - 100 * PAGE);
	ck_assert_uint_eq(mem->base.refs, 101);
	/* every other page out: 50 holes, 50 entries */
	struct hh_mm_plan plan;
	for (int i = 0; i < 100; i += 2)
		unmap_ok(ARENA_TOP - (uint64_t)(i + 1) * PAGE, PAGE, &plan);
	ck_assert_uint_eq(space->count, 50);
	check_table(space);
	ck_assert_uint_eq(mem->base.refs, 51);
	/* the highest hole is reused first */
	ck_assert_uint_eq(map_ok(0, PAGE, 0, RW), ARENA_TOP - PAGE);
}
END_TEST

static Suite *space_suite(void)
{
	Suite *s = suite_create("space");
	TCase *tc = tcase_create("space");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_space_create_empty);
	tcase_add_test(tc, test_space_map_first_at_top);
	tcase_add_test(tc, test_space_map_second_below);
	tcase_add_test(tc, test_space_map_reuses_highest_gap);
	tcase_add_test(tc, test_space_map_gap_at_arena_top);
	tcase_add_test(tc, test_space_map_ignores_mappings_outside_arena);
	tcase_add_test(tc, test_space_map_straddling_arena_top);
	tcase_add_test(tc, test_space_map_fills_arena);
	tcase_add_test(tc, test_space_map_hint);
	tcase_add_test(tc, test_space_map_fixed_replaces_middle);
	tcase_add_test(tc, test_space_map_fixed_replaces_several);
	tcase_add_test(tc, test_space_map_fixed_exact_replace);
	tcase_add_test(tc, test_space_map_fixed_outside_arena);
	tcase_add_test(tc, test_space_map_fixed_takes_precedence);
	tcase_add_test(tc, test_space_map_noreplace_collision);
	tcase_add_test(tc, test_space_map_noreplace_place);
	tcase_add_test(tc, test_space_map_unusable);
	tcase_add_test(tc, test_space_unmap_middle_splits);
	tcase_add_test(tc, test_space_unmap_edges);
	tcase_add_test(tc, test_space_unmap_across_mappings_and_gaps);
	tcase_add_test(tc, test_space_unmap_empty_range);
	tcase_add_test(tc, test_space_unmap_outside_arena_ops);
	tcase_add_test(tc, test_space_unmap_across_arena_edge);
	tcase_add_test(tc, test_space_unmap_too_many_pieces);
	tcase_add_test(tc, test_space_find);
	tcase_add_test(tc, test_space_prot_table);
	tcase_add_test(tc, test_space_map_stores_prot);
	tcase_add_test(tc, test_space_clone);
	tcase_add_test(tc, test_space_clone_empty);
	tcase_add_test(tc, test_space_destroy_releases_sources);
	tcase_add_test(tc, test_space_many_mappings);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(space_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
