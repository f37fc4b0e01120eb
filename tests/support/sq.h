/*
 * Helpers shared by the stream tests: action builders, and a queue that
 * hands out copies of elements by context so that tests can wait for a
 * particular submission's element and parse its results in order.
 * Assertions use Check.
 */
#ifndef HH_TEST_SQ_H
#define HH_TEST_SQ_H

#include <check.h>
#include <hel.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "fixture.h"
#include "quiet.h"

#define WAIT_MS 20000

/* ---- actions ---- */

#define ACT(t, f, b, l, h) ((struct HelAction){ .type = (t), .flags = (uint32_t)(f), \
	.buffer = (void *)(b), .length = (size_t)(l), .handle = (HelHandle)(h) })
#define SEND(b, l, f) ACT(kHelActionSendFromBuffer, f, b, l, 0)
#define SENDS(s, f) SEND(s, strlen(s), f)
#define SG(items, n, f) ACT(kHelActionSendFromBufferSg, f, items, n, 0)
#define RECV_INLINE(f) ACT(kHelActionRecvInline, f, 0, 0, 0)
#define RECV_BUF(b, l, f) ACT(kHelActionRecvToBuffer, f, b, l, 0)
#define PUSH(h, f) ACT(kHelActionPushDescriptor, f, 0, 0, h)
#define PULL(f) ACT(kHelActionPullDescriptor, f, 0, 0, 0)
#define OFFER(f) ACT(kHelActionOffer, f, 0, 0, 0)
#define ACCEPT(f) ACT(kHelActionAccept, f, 0, 0, 0)
#define IMBUE(h, f) ACT(kHelActionImbueCredentials, f, 0, 0, h)
#define EXTRACT(f) ACT(kHelActionExtractCredentials, f, 0, 0, 0)
#define DISMISS(f) ACT(kHelActionDismiss, f, 0, 0, 0)
#define CH kHelItemChain
#define ANC kHelItemAncillary
#define WANT kHelItemWantLane

#define NACT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- a queue that hands out elements by context ---- */

struct el {
	uintptr_t ctx;
	uint32_t len;
	size_t at;              /* parse cursor */
	unsigned char *p;       /* a copy of the payload */
};

struct sq {
	struct hq q;
	struct el *stash[256];
	int n;
};

static inline void sq_open_sized(struct sq *s, unsigned chunks, size_t chunk_size)
{
	memset(s, 0, sizeof(*s));
	ck_assert_int_eq(hq_open(&s->q, 9, chunks, chunk_size), kHelErrNone);
}

static inline void sq_open(struct sq *s)
{
	sq_open_sized(s, 8, 4096);
}

/* Wait for the next element and copy it out of its chunk; NULL on timeout. */
static inline struct el *sq_next(struct sq *s, int ms)
{
	struct HelElement *e = hq_next(&s->q, hq_deadline_ms(ms));
	if (!e)
		return NULL;
	ck_assert_uint_eq(e->reserved, 0);
	struct el *r = malloc(sizeof(*r));
	ck_assert_ptr_nonnull(r);
	r->ctx = (uintptr_t)e->context;
	r->len = e->length;
	r->at = 0;
	r->p = malloc(e->length ? e->length : 1);
	ck_assert_ptr_nonnull(r->p);
	memcpy(r->p, hq_payload(e), e->length);
	return r;
}

/* The element of the submission with context ctx (waits for it). */
static inline struct el *get(struct sq *s, uintptr_t ctx)
{
	for (int i = 0; i < s->n; i++) {
		if (s->stash[i]->ctx == ctx) {
			struct el *r = s->stash[i];
			s->stash[i] = s->stash[--s->n];
			return r;
		}
	}
	for (;;) {
		struct el *r = sq_next(s, WAIT_MS);
		ck_assert_msg(r != NULL, "no element with context %lu within %d ms",
				(unsigned long)ctx, WAIT_MS);
		if (r->ctx == ctx)
			return r;
		ck_assert_int_lt(s->n, 256);
		s->stash[s->n++] = r;
	}
}

/* No new element is in the queue (elements already stashed do not count). */
static inline void none(struct sq *s)
{
	hq_expect_empty(&s->q);
}

static inline void *take(struct el *e, size_t n)
{
	ck_assert_msg(e->at + n <= e->len, "element %lu: %zu bytes wanted at %zu of %u",
			(unsigned long)e->ctx, n, e->at, e->len);
	void *p = e->p + e->at;
	e->at += n;
	return p;
}

static inline HelError simple(struct el *e)
{
	struct HelSimpleResult r;
	memcpy(&r, take(e, sizeof(r)), sizeof(r));
	ck_assert_int_eq(r.reserved, 0);
	return r.error;
}

static inline HelError handle_res(struct el *e, HelHandle *h)
{
	struct HelHandleResult r;
	memcpy(&r, take(e, sizeof(r)), sizeof(r));
	ck_assert_int_eq(r.reserved, 0);
	*h = r.handle;
	return r.error;
}

static inline HelError length_res(struct el *e, size_t *len)
{
	struct HelLengthResult r;
	memcpy(&r, take(e, sizeof(r)), sizeof(r));
	ck_assert_int_eq(r.reserved, 0);
	*len = r.length;
	return r.error;
}

/* RecvInline: header and data; data (≥ 128 bytes) gets the bytes. */
static inline HelError inline_res(struct el *e, void *data, size_t *len)
{
	struct HelInlineResultNoFlex r;
	memcpy(&r, take(e, sizeof(r)), sizeof(r));
	ck_assert_int_eq(r.reserved, 0);
	ck_assert_uint_le(r.length, 128);
	*len = r.length;
	const void *d = take(e, (r.length + 7) & ~(size_t)7);
	if (data)
		memcpy(data, d, r.length);
	return r.error;
}

static inline HelError creds_res(struct el *e, unsigned char out[16])
{
	struct HelCredentialsResult r;
	memcpy(&r, take(e, sizeof(r)), sizeof(r));
	ck_assert_int_eq(r.reserved, 0);
	if (out)
		memcpy(out, r.credentials, 16);
	return r.error;
}

/* The whole payload was parsed. */
static inline void end(struct el *e)
{
	ck_assert_msg(e->at == e->len, "element %lu: %u bytes, %zu parsed",
			(unsigned long)e->ctx, e->len, e->at);
	free(e->p);
	free(e);
}

/* An element holding one HelSimpleResult: its error. */
static inline HelError one_simple(struct sq *s, uintptr_t ctx)
{
	struct el *e = get(s, ctx);
	ck_assert_uint_eq(e->len, 8);
	HelError r = simple(e);
	end(e);
	return r;
}

/* An element holding one RecvInline result: its error, the bytes in data. */
static inline HelError one_inline(struct sq *s, uintptr_t ctx, void *data, size_t *len)
{
	struct el *e = get(s, ctx);
	HelError r = inline_res(e, data, len);
	end(e);
	return r;
}

static inline HelError one_length(struct sq *s, uintptr_t ctx, size_t *len)
{
	struct el *e = get(s, ctx);
	ck_assert_uint_eq(e->len, 16);
	HelError r = length_res(e, len);
	end(e);
	return r;
}

static inline HelError one_handle(struct sq *s, uintptr_t ctx, HelHandle *h)
{
	struct el *e = get(s, ctx);
	ck_assert_uint_eq(e->len, 16);
	HelError r = handle_res(e, h);
	end(e);
	return r;
}

/* ---- submitting ---- */

static inline void submit(HelHandle lane, const struct HelAction *a, size_t n, struct sq *s, uintptr_t ctx)
{
	ck_assert_int_eq(helSubmitAsync(lane, a, n, s->q.handle, ctx, 0), kHelErrNone);
}

#define SUBMIT(lane, s, ctx, ...) do { \
	struct HelAction a_[] = { __VA_ARGS__ }; \
	submit(lane, a_, NACT(a_), s, ctx); \
} while (0)

#define TRY(lane, s, ...) ({ \
	struct HelAction a_[] = { __VA_ARGS__ }; \
	helSubmitAsync(lane, a_, NACT(a_), (s)->q.handle, 0, 0); \
})

/* ---- message contents ---- */

/* Message contents that differ per seed and position. */
static inline unsigned char pattern(size_t i, unsigned seed)
{
	return (unsigned char)(i * 131 + (i >> 9) + seed * 17 + 1);
}

static inline void fill(void *buf, size_t n, unsigned seed)
{
	unsigned char *b = buf;
	for (size_t i = 0; i < n; i++)
		b[i] = pattern(i, seed);
}

/* Index of the first byte differing from the pattern, or n. */
static inline size_t check_pattern(const void *buf, size_t n, unsigned seed)
{
	const unsigned char *b = buf;
	for (size_t i = 0; i < n; i++)
		if (b[i] != pattern(i, seed))
			return i;
	return n;
}

/* helGetCredentials with an unsigned buffer. */
static inline HelError get_credentials(HelHandle h, uint32_t flags, void *out)
{
	return helGetCredentials(h, flags, out);
}

#endif
