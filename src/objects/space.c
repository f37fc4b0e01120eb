#include "space.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static void space_destroy(struct hh_object *obj);

static const struct hh_object_ops space_ops = {
	.type = HH_OBJ_SPACE,
	.name = "space",
	.destroy = space_destroy,
};

struct hh_space *hh_space_create(uint64_t arena_base, uint64_t arena_len)
{
	struct hh_space *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	hh_object_init(&s->base, &space_ops);
	s->arena_base = arena_base;
	s->arena_len = arena_len;
	return s;
}

static bool reserve(struct hh_space *s, size_t n)
{
	if (n <= s->capacity)
		return true;
	size_t cap = s->capacity ? s->capacity * 2 : 16;
	while (cap < n)
		cap *= 2;
	struct hh_mapping *maps = realloc(s->maps, cap * sizeof(*maps));
	if (!maps)
		return false;
	s->maps = maps;
	s->capacity = cap;
	return true;
}

static bool reserve_holes(struct hh_space *s, size_t n)
{
	if (n <= s->hole_capacity)
		return true;
	size_t cap = s->hole_capacity ? s->hole_capacity * 2 : 16;
	while (cap < n)
		cap *= 2;
	struct hh_hole *holes = realloc(s->holes, cap * sizeof(*holes));
	if (!holes)
		return false;
	s->holes = holes;
	s->hole_capacity = cap;
	return true;
}

struct hh_space *hh_space_clone(const struct hh_space *src)
{
	struct hh_space *s = hh_space_create(src->arena_base, src->arena_len);
	if (!s || !reserve(s, src->count) || !reserve_holes(s, src->hole_count)) {
		if (s)
			hh_object_unref(&s->base);
		return NULL;
	}
	for (size_t i = 0; i < src->count; i++) {
		s->maps[i] = src->maps[i];
		hh_object_ref(s->maps[i].source);
	}
	s->count = src->count;
	if (src->hole_count)
		memcpy(s->holes, src->holes, src->hole_count * sizeof(*s->holes));
	s->hole_count = src->hole_count;
	return s;
}

uint32_t hh_space_prot(uint32_t flags)
{
	uint32_t prot = 0;
	if (flags & kHelMapProtRead)
		prot |= PROT_READ;
	/* Write implies read, execute implies read (OBJECTS.md §4.2). */
	if (flags & kHelMapProtWrite)
		prot |= PROT_READ | PROT_WRITE;
	if (flags & kHelMapProtExecute)
		prot |= PROT_READ | PROT_EXEC;
	return prot;
}

/* Index of the first mapping that ends after addr. */
static size_t lower_bound(const struct hh_space *s, uint64_t addr)
{
	size_t lo = 0, hi = s->count;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (s->maps[mid].addr + s->maps[mid].len <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Index of the first hole that ends after addr. */
static size_t hole_lower_bound(const struct hh_space *s, uint64_t addr)
{
	size_t lo = 0, hi = s->hole_count;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (s->holes[mid].addr + s->holes[mid].len <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Does [addr, addr+len) touch a mapping or a hole? */
static bool overlaps(const struct hh_space *s, uint64_t addr, uint64_t len)
{
	size_t i = lower_bound(s, addr), j = hole_lower_bound(s, addr);
	return (i < s->count && s->maps[i].addr < addr + len)
		|| (j < s->hole_count && s->holes[j].addr < addr + len);
}

const struct hh_mapping *hh_space_first(const struct hh_space *s, uint64_t addr, uint64_t len)
{
	size_t i = lower_bound(s, addr);
	if (i < s->count && s->maps[i].addr < addr + len)
		return &s->maps[i];
	return NULL;
}

const struct hh_mapping *hh_space_find(const struct hh_space *s, uint64_t addr)
{
	size_t i = lower_bound(s, addr);
	if (i < s->count && s->maps[i].addr <= addr)
		return &s->maps[i];
	return NULL;
}

static bool in_arena(const struct hh_space *s, uint64_t addr, uint64_t len)
{
	return addr >= s->arena_base && addr + len <= s->arena_base + s->arena_len;
}

/*
 * thor takes the highest free gap and places the mapping at its top end.
 * Mappings and holes are taken alike: both lists are walked down together.
 */
static bool find_gap(const struct hh_space *s, uint64_t len, uint64_t *addr)
{
	uint64_t lo = s->arena_base, top = s->arena_base + s->arena_len;
	for (size_t i = s->count, j = s->hole_count; i > 0 || j > 0;) {
		uint64_t m_addr, m_end;
		if (j == 0 || (i > 0 && s->maps[i - 1].addr > s->holes[j - 1].addr)) {
			i--;
			m_addr = s->maps[i].addr;
			m_end = m_addr + s->maps[i].len;
		} else {
			j--;
			m_addr = s->holes[j].addr;
			m_end = m_addr + s->holes[j].len;
		}
		if (m_addr >= top)
			continue;       /* above the arena */
		if (m_end <= lo)
			break;          /* below the arena */
		if (m_end < top && top - m_end >= len) {
			*addr = top - len;
			return true;
		}
		top = m_addr;
		if (top <= lo)
			return false;
	}
	if (top - lo >= len) {
		*addr = top - len;
		return true;
	}
	return false;
}

static void add_op(struct hh_mm_plan *plan, struct hh_mm_op op)
{
	plan->ops[plan->count++] = op;
}

/* Take [addr, end) out of the holes, splitting one at the edges (room for one more is there). */
static void cut_holes(struct hh_space *s, uint64_t addr, uint64_t end)
{
	size_t i = hole_lower_bound(s, addr);
	while (i < s->hole_count && s->holes[i].addr < end) {
		struct hh_hole *h = &s->holes[i];
		uint64_t h_end = h->addr + h->len;
		if (h->addr < addr && h_end > end) {
			memmove(&s->holes[i + 2], &s->holes[i + 1], (s->hole_count - i - 1) * sizeof(*h));
			s->holes[i + 1] = (struct hh_hole){ .addr = end, .len = h_end - end };
			h->len = addr - h->addr;
			s->hole_count++;
			break;
		}
		if (h->addr < addr) {
			h->len = addr - h->addr;
			i++;
		} else if (h_end > end) {
			h->len = h_end - end;
			h->addr = end;
			i++;
		} else {
			memmove(h, h + 1, (s->hole_count - i - 1) * sizeof(*h));
			s->hole_count--;
		}
	}
}

/*
 * Take [addr, addr+len) out of the table, splitting mappings at the edges.
 * Holes in the range go too; they need no op (outside the arena nothing of
 * ours is there, and inside it the one op below covers them).
 * Pieces outside the arena are listed for the shim one by one (there may be
 * Linux mappings between them); inside the arena one op covers the range.
 */
static HelError cut(struct hh_space *s, uint64_t addr, uint64_t len, struct hh_mm_plan *plan,
		bool emit)
{
	uint64_t end = addr + len;
	/* One more entry may be needed when a mapping (or hole) is split in two. */
	if (!reserve(s, s->count + 1) || (s->hole_count && !reserve_holes(s, s->hole_count + 1)))
		return kHelErrNoMemory;
	size_t outside = 0;
	for (size_t i = lower_bound(s, addr); i < s->count && s->maps[i].addr < end; i++) {
		const struct hh_mapping *m = &s->maps[i];
		uint64_t lo = m->addr > addr ? m->addr : addr;
		uint64_t hi = m->addr + m->len < end ? m->addr + m->len : end;
		if (!in_arena(s, lo, hi - lo))
			outside++;
	}
	if (emit && plan->count + outside + 1 > HH_MM_MAX_OPS)
		return kHelErrNoMemory;
	cut_holes(s, addr, end);

	size_t i = lower_bound(s, addr);
	while (i < s->count && s->maps[i].addr < end) {
		struct hh_mapping *m = &s->maps[i];
		uint64_t m_end = m->addr + m->len;
		uint64_t lo = m->addr > addr ? m->addr : addr;
		uint64_t hi = m_end < end ? m_end : end;
		if (emit && !in_arena(s, lo, hi - lo))
			add_op(plan, (struct hh_mm_op){ .kind = HH_MM_UNMAP, .addr = lo, .len = hi - lo });
		if (m->addr < addr && m_end > end) {
			/* Split in two: the tail becomes a new entry after this one. */
			memmove(&s->maps[i + 2], &s->maps[i + 1], (s->count - i - 1) * sizeof(*m));
			s->maps[i + 1] = *m;
			s->maps[i + 1].addr = end;
			s->maps[i + 1].len = m_end - end;
			s->maps[i + 1].offset += end - m->addr;
			hh_object_ref(m->source);
			m->len = addr - m->addr;
			s->count++;
			break;
		}
		if (m->addr < addr) {
			m->len = addr - m->addr;
			i++;
		} else if (m_end > end) {
			m->offset += end - m->addr;
			m->len = m_end - end;
			m->addr = end;
			i++;
		} else {
			hh_object_unref(m->source);
			memmove(m, m + 1, (s->count - i - 1) * sizeof(*m));
			s->count--;
		}
	}
	if (emit) {
		uint64_t a_lo = addr > s->arena_base ? addr : s->arena_base;
		uint64_t a_hi = end < s->arena_base + s->arena_len ? end : s->arena_base + s->arena_len;
		if (a_lo < a_hi)
			add_op(plan, (struct hh_mm_op){ .kind = HH_MM_UNMAP, .addr = a_lo, .len = a_hi - a_lo });
	}
	return kHelErrNone;
}

static HelError insert(struct hh_space *s, struct hh_mapping m)
{
	if (!reserve(s, s->count + 1))
		return kHelErrNoMemory;
	size_t i = lower_bound(s, m.addr);
	memmove(&s->maps[i + 1], &s->maps[i], (s->count - i) * sizeof(m));
	s->maps[i] = m;
	hh_object_ref(m.source);
	s->count++;
	return kHelErrNone;
}

HelError hh_space_place(struct hh_space *s, uint64_t len, uint64_t hint, uint32_t flags,
		uint64_t *addr, uint32_t *place_out)
{
	uint32_t place = HH_PLACE_REPLACE;
	bool usable = hint >= HH_SPACE_LOW && hint <= HH_SPACE_HIGH && len <= HH_SPACE_HIGH - hint;
	if (flags & kHelMapFixed) {
		if (!usable)
			return kHelErrNoMemory;
		/* Fixed replaces what was there: Hel mappings leave the table. */
		HelError e = cut(s, hint, len, NULL, false);
		if (e)
			return e;
		*addr = hint;
	} else if (flags & kHelMapFixedNoReplace) {
		/* thor looks for overlaps before it looks at the usable range. */
		if (hint + len >= hint && overlaps(s, hint, len))
			return kHelErrAlreadyExists;
		if (!usable)
			return kHelErrNoMemory;
		/* Outside the arena a Linux mapping may sit there; the shim finds out. */
		if (!in_arena(s, hint, len))
			place = HH_PLACE_NOREPLACE;
		*addr = hint;
	} else if (hint && usable && in_arena(s, hint, len) && !overlaps(s, hint, len)) {
		*addr = hint;
	} else if (!find_gap(s, len, addr)) {
		return kHelErrNoMemory;
	}
	*place_out = place;
	return kHelErrNone;
}

HelError hh_space_prepare(struct hh_space *s, size_t maps, size_t holes)
{
	/* One more of each for a split when kHelMapFixed cuts what was there. */
	if (!reserve(s, s->count + maps + 1) || !reserve_holes(s, s->hole_count + holes + 1))
		return kHelErrNoMemory;
	return kHelErrNone;
}

HelError hh_space_record(struct hh_space *s, struct hh_object *source, uint64_t offset,
		uint64_t addr, uint64_t len, uint32_t prot, uint32_t place, struct hh_mm_plan *plan)
{
	HelError e = insert(s, (struct hh_mapping){ .addr = addr, .len = len, .source = source,
		.offset = offset, .prot = prot });
	if (e)
		return e;
	add_op(plan, (struct hh_mm_op){ .kind = HH_MM_MAP, .fd = -1, .addr = addr, .len = len,
		.offset = offset, .prot = prot, .place = place });
	return kHelErrNone;
}

HelError hh_space_record_hole(struct hh_space *s, uint64_t addr, uint64_t len, bool clear,
		struct hh_mm_plan *plan)
{
	if (!reserve_holes(s, s->hole_count + 1))
		return kHelErrNoMemory;
	size_t i = hole_lower_bound(s, addr);
	memmove(&s->holes[i + 1], &s->holes[i], (s->hole_count - i) * sizeof(*s->holes));
	s->holes[i] = (struct hh_hole){ .addr = addr, .len = len };
	s->hole_count++;
	if (clear)
		add_op(plan, (struct hh_mm_op){ .kind = HH_MM_UNMAP, .addr = addr, .len = len });
	return kHelErrNone;
}

HelError hh_space_map(struct hh_space *s, struct hh_object *source, uint64_t offset,
		uint64_t len, uint64_t hint, uint32_t flags, uint64_t *addr, struct hh_mm_plan *plan)
{
	uint32_t place;
	HelError e = hh_space_place(s, len, hint, flags, addr, &place);
	if (e)
		return e;
	if ((e = hh_space_record(s, source, offset, *addr, len, hh_space_prot(flags), place, plan)))
		return e;
	s->maps[lower_bound(s, *addr)].no_backing = flags & kHelMapDontRequireBacking;
	return kHelErrNone;
}

HelError hh_space_unmap(struct hh_space *s, uint64_t addr, uint64_t len, struct hh_mm_plan *plan)
{
	return cut(s, addr, len, plan, true);
}

/* Make a mapping boundary at addr (no-op between or at the edge of mappings). */
static HelError split_at(struct hh_space *s, uint64_t addr)
{
	size_t i = lower_bound(s, addr);
	if (i == s->count || s->maps[i].addr >= addr)
		return kHelErrNone;
	if (!reserve(s, s->count + 1))
		return kHelErrNoMemory;
	struct hh_mapping *m = &s->maps[i];
	memmove(m + 2, m + 1, (s->count - i - 1) * sizeof(*m));
	m[1] = *m;
	m[1].addr = addr;
	m[1].len = m->addr + m->len - addr;
	m[1].offset += addr - m->addr;
	m->len = addr - m->addr;
	hh_object_ref(m->source);
	s->count++;
	return kHelErrNone;
}

HelError hh_space_protect(struct hh_space *s, uint64_t addr, uint64_t len, uint32_t prot,
		struct hh_mm_plan *plan)
{
	uint64_t end = addr + len;
	size_t pieces = 0;
	for (size_t i = lower_bound(s, addr); i < s->count && s->maps[i].addr < end; i++)
		pieces++;
	/* Gaps keep their reservation: only the mapped pieces change. */
	if (plan->count + pieces > HH_MM_MAX_OPS)
		return kHelErrNoMemory;
	HelError e = split_at(s, addr);
	if (!e)
		e = split_at(s, end);
	if (e)
		return e;
	for (size_t i = lower_bound(s, addr); i < s->count && s->maps[i].addr < end; i++) {
		struct hh_mapping *m = &s->maps[i];
		m->prot = prot;
		plan->ops[plan->count++] = (struct hh_mm_op){ .kind = HH_MM_PROTECT, .addr = m->addr,
			.len = m->len, .prot = prot };
	}
	return kHelErrNone;
}

static void space_destroy(struct hh_object *obj)
{
	struct hh_space *s = hh_space_of(obj);
	for (size_t i = 0; i < s->count; i++)
		hh_object_unref(s->maps[i].source);
	free(s->maps);
	free(s->holes);
	free(s);
}
