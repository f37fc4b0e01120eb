/*
 * Streams and lanes (src/objects/stream.c), linked directly: the test plays the
 * decoder of helSubmitAsync (it builds submissions with hh_submission_new
 * and hh_submission_item, placing items in lists with thor's stack rule),
 * starts them on lanes, settles the loop's deferred phase and reads the
 * elements back from a queue it supplies a chunk to (STREAMS.md §1-§8).
 *
 * Buffers of RecvToBuffer and streamed sends are in this process (the
 * emulator's copy through process_vm_* reaches itself), or in a Hel mapping
 * of the submissions' space, inside a reserved PROT_NONE region so that a
 * copy that missed the mapping would fault rather than land somewhere.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include "loop.h"
#include "memory.h"
#include "object.h"
#include "queue.h"
#include "space.h"
#include "stream.h"
#include "token.h"
#include "universe.h"
#include "usermem.h"

#define PAGE 4096ull
#define ARENA_LEN (64 * PAGE)

/* ---- fixture ---- */

static struct hh_queue *q;
static struct hh_universe *ua, *ub;     /* a client's and a server's */
static struct hh_space *sp;
static char *arena;                     /* reserved PROT_NONE in this process */
static struct hh_usermem self_mem;      /* this process's memory, as a program's */
static struct hh_pending_list pending = { .pidfd = -1 };
static struct hh_pending_list *owner = &pending;        /* whose operations new submissions are */

static void setup(void)
{
	ck_assert_int_eq(hh_loop_init(), 0);
	struct HelQueueParameters params = { .flags = 0, .ringShift = 1, .numChunks = 1,
		.chunkSize = 1 << 16 };
	ck_assert_int_eq(hh_queue_create(&params, &q), kHelErrNone);
	struct HelQueue *head = (struct HelQueue *)q->map;
	head->indexQueue[0] = 0;
	__atomic_store_n(&head->headFutex, 1, __ATOMIC_RELEASE);
	ua = hh_universe_create();
	ub = hh_universe_create();
	ck_assert_ptr_nonnull(ua);
	ck_assert_ptr_nonnull(ub);
	arena = mmap(NULL, ARENA_LEN, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ck_assert_ptr_ne(arena, MAP_FAILED);
	sp = hh_space_create((uint64_t)(uintptr_t)arena, ARENA_LEN);
	ck_assert_ptr_nonnull(sp);
	self_mem = (struct hh_usermem){ .pid = getpid(), .memfd = -1, .mapsfd = -1,
		.pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0) };
	ck_assert_int_ge(self_mem.pidfd, 0);
	ck_assert_int_eq(hh_usermem_open(&self_mem), 0);
}

static struct hh_submission *new_submission(size_t n, uint64_t context, struct hh_universe *u,
		size_t reserved)
{
	struct hh_submitter who = { .universe = u, .mem = &self_mem, .space = sp, .pending = owner };
	return hh_submission_new(n, q, context, &who, reserved);
}

static void teardown(void)
{
	hh_object_unref(&ua->base);
	hh_object_unref(&ub->base);
	hh_object_unref(&sp->base);
	hh_object_unref(&q->base);
	hh_loop_settle();
	hh_loop_fini();
	munmap(arena, ARENA_LEN);
	hh_usermem_close(&self_mem);
	close(self_mem.pidfd);
}

/* ---- streams ---- */

struct lanes {
	struct hh_stream *s;
	HelHandle h0, h1;
};

/* helCreateStream as its decoder does it: lane 0 in u0, lane 1 in u1. */
static struct lanes new_stream(struct hh_universe *u0, struct hh_universe *u1, bool creds)
{
	struct lanes l;
	l.s = hh_stream_create(creds);
	ck_assert_ptr_nonnull(l.s);
	l.h0 = hh_universe_attach(u0, &l.s->base, 0);
	l.h1 = hh_universe_attach(u1, &l.s->base, 1);
	ck_assert_int_ne(l.h0, 0);
	ck_assert_int_ne(l.h1, 0);
	hh_object_unref(&l.s->base);
	return l;
}

/* ---- submissions ---- */

struct act {
	int type;
	uint32_t flags;
	const void *buf;                /* send source, RecvToBuffer destination */
	size_t len;
	struct hh_desc desc;            /* PushDescriptor */
	const unsigned char *creds;     /* ImbueCredentials */
};

#define CHAIN kHelItemChain
#define ANC kHelItemAncillary

static struct act send_(const void *buf, size_t len, uint32_t flags)
{
	return (struct act){ .type = kHelActionSendFromBuffer, .flags = flags, .buf = buf, .len = len };
}

static struct act sends(const char *str, uint32_t flags)
{
	return send_(str, strlen(str), flags);
}

static struct act recv_inline(uint32_t flags)
{
	return (struct act){ .type = kHelActionRecvInline, .flags = flags };
}

static struct act recv_buffer(void *buf, size_t len, uint32_t flags)
{
	return (struct act){ .type = kHelActionRecvToBuffer, .flags = flags, .buf = buf, .len = len };
}

static struct act plain(int type, uint32_t flags)
{
	return (struct act){ .type = type, .flags = flags };
}

/*
 * helSubmitAsync after its checks: capture what is captured at submission
 * (STREAMS.md §3.1), place the items with thor's stack rule (§3.2), start.
 */
static void submit(struct hh_stream *s, int lane, struct hh_universe *u, uint64_t context,
		const struct act *acts, size_t n)
{
	size_t reserved = 0;
	for (size_t i = 0; i < n; i++)
		reserved += hh_action_result_size(acts[i].type);
	ck_assert_int_eq(hh_queue_check_size(q, reserved), kHelErrNone);
	struct hh_submission *sub = new_submission(n, context, u, reserved);
	ck_assert_ptr_nonnull(sub);
	int stack[64];
	size_t depth = 0;
	stack[depth++] = HH_ROOT;
	for (size_t i = 0; i < n; i++) {
		const struct act *a = &acts[i];
		struct hh_item *item = hh_submission_item(sub, i);
		ck_assert_ptr_nonnull(item);
		ck_assert_int_eq(item->index, (int)i);
		item->type = a->type;
		item->flags = a->flags;
		switch (a->type) {
		case kHelActionSendFromBuffer:
		case kHelActionSendFromBufferSg:
			item->len = a->len;
			if (a->type == kHelActionSendFromBuffer && a->len > HH_KERNEL_BUFFER_MAX) {
				item->flow = true;
				item->ubuf = (uint64_t)(uintptr_t)a->buf;
				break;
			}
			item->kbuf = malloc(a->len ? a->len : 1);
			ck_assert_ptr_nonnull(item->kbuf);
			if (a->len)
				memcpy(item->kbuf, a->buf, a->len);
			break;
		case kHelActionRecvToBuffer:
			item->ubuf = (uint64_t)(uintptr_t)a->buf;
			item->len = a->len;
			break;
		case kHelActionPushDescriptor:
			item->pushed = a->desc;
			hh_desc_take(a->desc);
			break;
		case kHelActionImbueCredentials:
			memcpy(item->creds, a->creds, HH_CREDENTIALS_SIZE);
			break;
		default:
			break;
		}
		ck_assert_uint_gt(depth, 0);
		item->parent = stack[depth - 1];
		if (!(a->flags & kHelItemChain))
			depth--;
		if (a->flags & kHelItemAncillary)
			stack[depth++] = (int)i;
	}
	ck_assert_uint_eq(depth, 0);
	hh_submission_start(sub, s, lane);
}

#define SUBMIT(s, lane, u, ctx, ...) do { \
		const struct act acts_[] = { __VA_ARGS__ }; \
		submit((s), (lane), (u), (ctx), acts_, sizeof(acts_) / sizeof(acts_[0])); \
	} while (0)

/* ---- reading elements ---- */

static struct HelChunk *chunk0(void)
{
	return (struct HelChunk *)(q->map + q->chunks_offset);
}

static uint32_t progress(void)
{
	return (uint32_t)__atomic_load_n(&chunk0()->progressFutex, __ATOMIC_ACQUIRE);
}

static struct HelElement *find_element(uint64_t context)
{
	struct HelElement *found = NULL;
	for (uint32_t off = 0; off < progress();) {
		struct HelElement *e = (struct HelElement *)(chunk0()->buffer + off);
		if ((uintptr_t)e->context == context) {
			ck_assert_ptr_null(found);      /* one element per submission */
			found = e;
		}
		off += (uint32_t)sizeof(*e) + e->length;
	}
	return found;
}

static unsigned count_elements(void)
{
	unsigned n = 0;
	for (uint32_t off = 0; off < progress(); n++)
		off += (uint32_t)sizeof(struct HelElement)
			+ ((struct HelElement *)(chunk0()->buffer + off))->length;
	return n;
}

static bool has_element(uint64_t context)
{
	return find_element(context) != NULL;
}

struct cursor {
	const char *p, *end;
};

static struct cursor element(uint64_t context)
{
	struct HelElement *e = find_element(context);
	ck_assert_msg(e != NULL, "no element for context %#llx", (unsigned long long)context);
	ck_assert_uint_eq(e->reserved, 0);
	ck_assert_uint_eq(e->length % 8, 0);
	const char *p = (const char *)(e + 1);
	return (struct cursor){ p, p + e->length };
}

static const void *take(struct cursor *c, size_t n)
{
	ck_assert_uint_le(n, (size_t)(c->end - c->p));
	const void *p = c->p;
	c->p += n;
	return p;
}

static void simple(struct cursor *c, HelError error)
{
	const struct HelSimpleResult *r = take(c, sizeof(*r));
	ck_assert_int_eq(r->error, error);
	ck_assert_int_eq(r->reserved, 0);
}

static HelHandle handle(struct cursor *c, HelError error)
{
	const struct HelHandleResult *r = take(c, sizeof(*r));
	ck_assert_int_eq(r->error, error);
	ck_assert_int_eq(r->reserved, 0);
	if (error)
		ck_assert_int_eq(r->handle, kHelNullHandle);
	return r->handle;
}

static void inline_data(struct cursor *c, HelError error, const void *data, size_t n)
{
	const struct HelInlineResultNoFlex *r = take(c, sizeof(*r));
	ck_assert_int_eq(r->error, error);
	ck_assert_int_eq(r->reserved, 0);
	ck_assert_uint_eq(r->length, n);
	const char *bytes = take(c, (n + 7) & ~(size_t)7);
	if (n)
		ck_assert_mem_eq(bytes, data, n);
}

static void length(struct cursor *c, HelError error, size_t n)
{
	const struct HelLengthResult *r = take(c, sizeof(*r));
	ck_assert_int_eq(r->error, error);
	ck_assert_int_eq(r->reserved, 0);
	ck_assert_uint_eq(r->length, n);
}

static void credentials(struct cursor *c, HelError error, const unsigned char *creds)
{
	const struct HelCredentialsResult *r = take(c, sizeof(*r));
	ck_assert_int_eq(r->error, error);
	ck_assert_int_eq(r->reserved, 0);
	if (creds)
		ck_assert_mem_eq(r->credentials, creds, HH_CREDENTIALS_SIZE);
}

static void end(struct cursor *c)
{
	ck_assert_ptr_eq(c->p, c->end);
}

/* The object and aux a handle of u names. */
static struct hh_desc resolved(struct hh_universe *u, HelHandle h, enum hh_type type)
{
	struct hh_desc d;
	ck_assert_int_eq(hh_universe_resolve(u, h, type, &d), kHelErrNone);
	return d;
}

/* ---- creation ---- */

START_TEST(test_stream_object_create)
{
	/* should succeed: a stream with two idle lanes and no peers yet */
	struct hh_stream *s = hh_stream_create(false);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(hh_object_type(&s->base), HH_OBJ_STREAM);
	ck_assert_uint_eq(s->base.refs, 1);
	ck_assert(!s->has_credentials);
	for (int p = 0; p < 2; p++) {
		ck_assert_uint_eq(s->lane[p].peers, 0);
		ck_assert(!s->lane[p].broken);
		ck_assert(!s->lane[p].shutdown);
		ck_assert_ptr_null(s->lane[p].head);
	}
	ck_assert_ptr_nonnull(s->base.ops->attach);
	ck_assert_ptr_nonnull(s->base.ops->detach);
	hh_object_unref(&s->base);
	ck_assert(hh_object_reap());
}
END_TEST

START_TEST(test_stream_object_create_credentials)
{
	/* should succeed: fresh UUID-v4 credentials per stream, when asked for */
	struct hh_stream *a = hh_stream_create(true), *b = hh_stream_create(true);
	ck_assert(a->has_credentials);
	ck_assert(b->has_credentials);
	ck_assert_uint_eq(a->credentials[6] & 0xF0, 0x40);
	ck_assert_uint_eq(a->credentials[8] & 0xC0, 0x80);
	ck_assert_mem_ne(a->credentials, b->credentials, HH_CREDENTIALS_SIZE);
	hh_object_unref(&a->base);
	hh_object_unref(&b->base);
	ck_assert(hh_object_reap());
}
END_TEST

START_TEST(test_stream_object_lane_handles)
{
	/* should succeed: each lane descriptor is a peer; the last of both frees the stream */
	struct lanes l = new_stream(ua, ua, false);
	ck_assert_int_eq(l.h1, l.h0 + 1);
	ck_assert_uint_eq(l.s->base.refs, 2);
	ck_assert_uint_eq(l.s->lane[0].peers, 1);
	ck_assert_uint_eq(l.s->lane[1].peers, 1);
	ck_assert_uint_eq(resolved(ua, l.h0, HH_OBJ_STREAM).aux, 0);
	ck_assert_uint_eq(resolved(ua, l.h1, HH_OBJ_STREAM).aux, 1);
	/* a copy of lane 0 in another universe is one more peer */
	HelHandle copy = hh_universe_attach(ub, &l.s->base, 0);
	ck_assert_uint_eq(l.s->lane[0].peers, 2);
	ck_assert_int_eq(hh_universe_detach(ua, l.h0), kHelErrNone);
	ck_assert(!l.s->lane[0].broken);
	ck_assert_int_eq(hh_universe_detach(ub, copy), kHelErrNone);
	ck_assert_uint_eq(l.s->lane[0].peers, 0);
	ck_assert(l.s->lane[0].broken);
	ck_assert(!l.s->lane[1].broken);
	ck_assert(!hh_object_reap());
	ck_assert_int_eq(hh_universe_detach(ua, l.h1), kHelErrNone);
	ck_assert(l.s->lane[1].broken);
	ck_assert(hh_object_reap());
}
END_TEST

START_TEST(test_stream_object_result_sizes)
{
	/* should succeed: what each action reserves in the element (QUEUES.md §7.2) */
	ck_assert_uint_eq(hh_action_result_size(kHelActionOffer), 16);
	ck_assert_uint_eq(hh_action_result_size(kHelActionAccept), 16);
	ck_assert_uint_eq(hh_action_result_size(kHelActionPullDescriptor), 16);
	ck_assert_uint_eq(hh_action_result_size(kHelActionExtractCredentials), 24);
	ck_assert_uint_eq(hh_action_result_size(kHelActionRecvInline), 16 + HH_INLINE_MAX);
	ck_assert_uint_eq(hh_action_result_size(kHelActionRecvToBuffer), 16);
	ck_assert_uint_eq(hh_action_result_size(kHelActionSendFromBuffer), 8);
	ck_assert_uint_eq(hh_action_result_size(kHelActionSendFromBufferSg), 8);
	ck_assert_uint_eq(hh_action_result_size(kHelActionPushDescriptor), 8);
	ck_assert_uint_eq(hh_action_result_size(kHelActionImbueCredentials), 8);
	ck_assert_uint_eq(hh_action_result_size(kHelActionDismiss), 8);
}
END_TEST

/* ---- matching of data (STREAMS.md §4, §5) ---- */

START_TEST(test_stream_object_send_recv_inline)
{
	/* should succeed: a send waits for its receive; both complete, one element each */
	struct lanes l = new_stream(ua, ub, false);
	SUBMIT(l.s, 0, ua, 1, sends("hello", 0));
	hh_loop_settle();
	ck_assert(!has_element(1));
	ck_assert_ptr_nonnull(l.s->lane[0].head);
	ck_assert_uint_eq(l.s->lane[0].peers, 2);       /* the handle and the queued item */
	ck_assert_uint_eq(q->base.refs, 2);
	SUBMIT(l.s, 1, ub, 2, recv_inline(0));
	ck_assert_ptr_null(l.s->lane[0].head);
	ck_assert(!has_element(1));                     /* elements come in the deferred phase */
	hh_loop_settle();
	struct cursor c = element(1);
	simple(&c, kHelErrNone);
	end(&c);
	c = element(2);
	inline_data(&c, kHelErrNone, "hello", 5);
	end(&c);
	ck_assert_uint_eq(count_elements(), 2);
	/* the submissions let go of their lanes and the queue */
	ck_assert_uint_eq(l.s->lane[0].peers, 1);
	ck_assert_uint_eq(l.s->lane[1].peers, 1);
	ck_assert_uint_eq(q->base.refs, 1);
	ck_assert_uint_eq(ua->base.refs, 1);
	ck_assert_uint_eq(sp->base.refs, 1);
}
END_TEST

START_TEST(test_stream_object_recv_before_send)
{
	/* should succeed: the receive may come first, on either lane */
	struct lanes l = new_stream(ua, ub, false);
	SUBMIT(l.s, 0, ua, 1, recv_inline(0));
	hh_loop_settle();
	ck_assert(!has_element(1));
	SUBMIT(l.s, 1, ub, 2, sends("the other way", 0));
	hh_loop_settle();
	struct cursor c = element(1);
	inline_data(&c, kHelErrNone, "the other way", 13);
	end(&c);
	c = element(2);
	simple(&c, kHelErrNone);
	end(&c);
}
END_TEST

START_TEST(test_stream_object_inline_limits)
{
	/* should succeed: 128 bytes fit inline, and an empty message */
	struct lanes l = new_stream(ua, ub, false);
	char big[HH_INLINE_MAX + 1];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)i;
	SUBMIT(l.s, 0, ua, 1, send_(big, HH_INLINE_MAX, 0));
	SUBMIT(l.s, 1, ub, 2, recv_inline(0));
	SUBMIT(l.s, 0, ua, 3, send_("", 0, 0));
	SUBMIT(l.s, 1, ub, 4, recv_inline(0));
	/* one byte more (should fail: kHelErrBufferTooSmall on both sides, length 0) */
	SUBMIT(l.s, 0, ua, 5, send_(big, HH_INLINE_MAX + 1, 0));
	SUBMIT(l.s, 1, ub, 6, recv_inline(0));
	hh_loop_settle();
	struct cursor c = element(1);
	simple(&c, kHelErrNone);
	c = element(2);
	inline_data(&c, kHelErrNone, big, HH_INLINE_MAX);
	end(&c);
	c = element(3);
	simple(&c, kHelErrNone);
	c = element(4);
	inline_data(&c, kHelErrNone, NULL, 0);
	end(&c);
	c = element(5);
	simple(&c, kHelErrBufferTooSmall);
	c = element(6);
	inline_data(&c, kHelErrBufferTooSmall, NULL, 0);
	end(&c);
}
END_TEST

START_TEST(test_stream_object_positional_matching)
{
	/* should succeed: the n-th item of one lane pairs with the n-th of the other */
	struct lanes l = new_stream(ua, ub, false);
	SUBMIT(l.s, 0, ua, 1, sends("first", CHAIN), sends("second", CHAIN), sends("third", 0));
	hh_loop_settle();
	SUBMIT(l.s, 1, ub, 2, recv_inline(0));
	hh_loop_settle();
	/* a submission completes only when all its items have */
	ck_assert(!has_element(1));
	struct cursor c = element(2);
	inline_data(&c, kHelErrNone, "first", 5);
	SUBMIT(l.s, 1, ub, 3, recv_inline(CHAIN), recv_inline(0));
	hh_loop_settle();
	c = element(3);
	inline_data(&c, kHelErrNone, "second", 6);
	inline_data(&c, kHelErrNone, "third", 5);
	end(&c);
	c = element(1);
	simple(&c, kHelErrNone);
	simple(&c, kHelErrNone);
	simple(&c, kHelErrNone);
	end(&c);
}
END_TEST

START_TEST(test_stream_object_scatter_gather)
{
	/* should succeed: a gathered message behaves as a kernel-buffer send */
	struct lanes l = new_stream(ua, ub, false);
	struct act sg = { .type = kHelActionSendFromBufferSg, .buf = "gathered", .len = 8 };
	SUBMIT(l.s, 0, ua, 1, sg);
	SUBMIT(l.s, 1, ub, 2, recv_inline(0));
	hh_loop_settle();
	struct cursor c = element(1);
	simple(&c, kHelErrNone);
	end(&c);
	c = element(2);
	inline_data(&c, kHelErrNone, "gathered", 8);
}
END_TEST

START_TEST(test_stream_object_recv_to_buffer)
{
	/* should succeed: the bytes land in the receiver's buffer, length n */
	struct lanes l = new_stream(ua, ub, false);
	char dest[64];
	memset(dest, '.', sizeof(dest));
	SUBMIT(l.s, 1, ub, 1, recv_buffer(dest, sizeof(dest), 0));
	SUBMIT(l.s, 0, ua, 2, sends("to the buffer", 0));
	hh_loop_settle();
	struct cursor c = element(1);
	length(&c, kHelErrNone, 13);
	end(&c);
	c = element(2);
	simple(&c, kHelErrNone);
	ck_assert_mem_eq(dest, "to the buffer", 13);
	ck_assert_int_eq(dest[13], '.');
	/* exactly the capacity */
	SUBMIT(l.s, 1, ub, 3, recv_buffer(dest, 4, 0));
	SUBMIT(l.s, 0, ua, 4, sends("abcd", 0));
	hh_loop_settle();
	c = element(3);
	length(&c, kHelErrNone, 4);
	ck_assert_mem_eq(dest, "abcd", 4);
}
END_TEST

START_TEST(test_stream_object_recv_to_buffer_too_small)
{
	/* a message larger than the buffer (should fail on both sides), nothing written */
	struct lanes l = new_stream(ua, ub, false);
	char dest[4] = { 'x', 'x', 'x', 'x' };
	SUBMIT(l.s, 1, ub, 1, recv_buffer(dest, sizeof(dest), 0));
	SUBMIT(l.s, 0, ua, 2, sends("abcde", 0));
	hh_loop_settle();
	struct cursor c = element(1);
	length(&c, kHelErrBufferTooSmall, 0);
	c = element(2);
	simple(&c, kHelErrBufferTooSmall);
	ck_assert_mem_eq(dest, "xxxx", 4);
}
END_TEST

START_TEST(test_stream_object_recv_to_buffer_empty)
{
	/* should succeed: an empty message does not touch the buffer, even an unwritable one */
	struct lanes l = new_stream(ua, ub, false);
	SUBMIT(l.s, 1, ub, 1, recv_buffer(arena, 16, 0));
	SUBMIT(l.s, 0, ua, 2, send_("", 0, 0));
	hh_loop_settle();
	struct cursor c = element(1);
	length(&c, kHelErrNone, 0);
	c = element(2);
	simple(&c, kHelErrNone);
}
END_TEST

START_TEST(test_stream_object_recv_to_buffer_fault)
{
	/* an unwritable receive buffer (should fail for the receiver only: kernel buffer) */
	struct lanes l = new_stream(ua, ub, false);
	SUBMIT(l.s, 1, ub, 1, recv_buffer(arena + PAGE, 64, 0));
	SUBMIT(l.s, 0, ua, 2, sends("lost", 0));
	hh_loop_settle();
	struct cursor c = element(1);
	length(&c, kHelErrFault, 0);
	c = element(2);
	simple(&c, kHelErrNone);
}
END_TEST

START_TEST(test_stream_object_flow_send)
{
	/* should succeed: a send of more than 4096 bytes is streamed after matching */
	struct lanes l = new_stream(ua, ub, false);
	size_t n = 3 * HH_KERNEL_BUFFER_MAX + 17;
	char *src = malloc(n), *dest = calloc(1, n + 8);
	for (size_t i = 0; i < n; i++)
		src[i] = (char)(i * 7);
	SUBMIT(l.s, 0, ua, 1, send_(src, n, 0));
	/* streamed: read only after matching, so the buffer may still change */
	src[0] = 'S';
	SUBMIT(l.s, 1, ub, 2, recv_buffer(dest, n + 8, 0));
	hh_loop_settle();
	struct cursor c = element(1);
	simple(&c, kHelErrNone);
	c = element(2);
	length(&c, kHelErrNone, n);
	ck_assert_mem_eq(dest, src, n);
	ck_assert_int_eq(dest[n], 0);
	free(src);
	free(dest);
}
END_TEST

START_TEST(test_stream_object_flow_send_errors)
{
	struct lanes l = new_stream(ua, ub, false);
	size_t n = HH_KERNEL_BUFFER_MAX + 1;
	char *src = calloc(1, n), *dest = calloc(1, n);
	/* a streamed send never fits inline (should fail on both sides, STREAMS.md Q1) */
	SUBMIT(l.s, 0, ua, 1, send_(src, n, 0));
	SUBMIT(l.s, 1, ub, 2, recv_inline(0));
	/* larger than the buffer (should fail on both sides) */
	SUBMIT(l.s, 0, ua, 3, send_(src, n, 0));
	SUBMIT(l.s, 1, ub, 4, recv_buffer(dest, n - 1, 0));
	/* unreadable source (should fail: kHelErrFault / kHelErrRemoteFault) */
	SUBMIT(l.s, 0, ua, 5, send_(arena, n, 0));
	SUBMIT(l.s, 1, ub, 6, recv_buffer(dest, n, 0));
	/* unwritable destination (should fail: kHelErrRemoteFault / kHelErrFault) */
	SUBMIT(l.s, 0, ua, 7, send_(src, n, 0));
	SUBMIT(l.s, 1, ub, 8, recv_buffer(arena, n, 0));
	hh_loop_settle();
	struct cursor c = element(1);
	simple(&c, kHelErrBufferTooSmall);
	c = element(2);
	inline_data(&c, kHelErrBufferTooSmall, NULL, 0);
	c = element(3);
	simple(&c, kHelErrBufferTooSmall);
	c = element(4);
	length(&c, kHelErrBufferTooSmall, 0);
	c = element(5);
	simple(&c, kHelErrFault);
	c = element(6);
	length(&c, kHelErrRemoteFault, 0);
	c = element(7);
	simple(&c, kHelErrRemoteFault);
	c = element(8);
	length(&c, kHelErrFault, 0);
	free(src);
	free(dest);
}
END_TEST

START_TEST(test_stream_object_transfer_hel_memory)
{
	/* should succeed: buffers in Hel mappings are read and written through the objects */
	struct lanes l = new_stream(ua, ub, false);
	struct hh_memory *mem;
	ck_assert_int_eq(hh_memory_allocate(4 * PAGE, 0, &mem), kHelErrNone);
	struct hh_mm_plan plan = { .count = 0 };
	uint64_t rw = 0, ro = 0;
	ck_assert_int_eq(hh_space_map(sp, &mem->base, 0, 2 * PAGE, 0,
			kHelMapProtRead | kHelMapProtWrite, &rw, &plan), kHelErrNone);
	plan.count = 0;
	ck_assert_int_eq(hh_space_map(sp, &mem->base, 2 * PAGE, 2 * PAGE, 0, kHelMapProtRead,
			&ro, &plan), kHelErrNone);
	char *view = hh_memory_view(&mem->base);
	/* a kernel-buffer send into the writable mapping */
	SUBMIT(l.s, 1, ub, 1, recv_buffer((void *)(uintptr_t)(rw + 100), 64, 0));
	SUBMIT(l.s, 0, ua, 2, sends("into hel memory", 0));
	hh_loop_settle();
	struct cursor c = element(1);
	length(&c, kHelErrNone, 15);
	ck_assert_mem_eq(view + 100, "into hel memory", 15);
	/* a streamed send out of the read-only mapping into this process */
	size_t n = HH_KERNEL_BUFFER_MAX + 100;
	for (size_t i = 0; i < n; i++)
		view[2 * PAGE + i] = (char)(i ^ 0x5a);
	char *dest = calloc(1, n);
	SUBMIT(l.s, 0, ua, 3, send_((void *)(uintptr_t)ro, n, 0));
	SUBMIT(l.s, 1, ub, 4, recv_buffer(dest, n, 0));
	hh_loop_settle();
	c = element(3);
	simple(&c, kHelErrNone);
	c = element(4);
	length(&c, kHelErrNone, n);
	ck_assert_mem_eq(dest, view + 2 * PAGE, n);
	/* a streamed send between two mappings */
	SUBMIT(l.s, 0, ua, 5, send_((void *)(uintptr_t)ro, n, 0));
	SUBMIT(l.s, 1, ub, 6, recv_buffer((void *)(uintptr_t)rw, n, 0));
	hh_loop_settle();
	c = element(6);
	length(&c, kHelErrNone, n);
	ck_assert_mem_eq(view, view + 2 * PAGE, n);
	/* the read-only mapping is no destination (should fail: kHelErrFault) */
	SUBMIT(l.s, 1, ub, 7, recv_buffer((void *)(uintptr_t)ro, 64, 0));
	SUBMIT(l.s, 0, ua, 8, sends("no", 0));
	hh_loop_settle();
	c = element(7);
	length(&c, kHelErrFault, 0);
	/* a receive buffer running past the end of its mapping (should fail) */
	SUBMIT(l.s, 1, ub, 9, recv_buffer((void *)(uintptr_t)(rw + 2 * PAGE - 2), 64, 0));
	SUBMIT(l.s, 0, ua, 10, sends("across", 0));
	hh_loop_settle();
	c = element(9);
	length(&c, kHelErrFault, 0);
	free(dest);
	hh_object_unref(&mem->base);
}
END_TEST

/* ---- staged writes (src/callpage.h): the calling thread writes what it receives ---- */

static unsigned char stage_buf[HH_KERNEL_BUFFER_MAX];
static struct hh_stage stage;

/* As the transport does for a posted call of this program: receives may be left to its thread. */
static void offer_stage(size_t cap)
{
	stage = (struct hh_stage){ .buf = stage_buf, .cap = cap };
	self_mem.stage = &stage;
}

START_TEST(test_stream_object_stage_waits_for_the_thread)
{
	/* should succeed: the send is done at once, the receive only once the thread has written */
	struct lanes l = new_stream(ua, ub, false);
	char dest[64];
	memset(dest, '.', sizeof(dest));
	offer_stage(sizeof(stage_buf));
	SUBMIT(l.s, 1, ub, 1, recv_buffer(dest, sizeof(dest), 0));
	SUBMIT(l.s, 0, ua, 2, sends("staged", 0));
	hh_loop_settle();
	struct cursor c = element(2);
	simple(&c, kHelErrNone);
	ck_assert(!has_element(1));
	ck_assert_ptr_nonnull(stage.held);
	ck_assert(stage.fresh);
	ck_assert_uint_eq(stage.addr, (uintptr_t)dest);
	ck_assert_uint_eq(stage.len, 6);
	ck_assert_mem_eq(stage_buf, "staged", 6);
	ck_assert_int_eq(dest[0], '.');         /* the emulator left the buffer to the thread */
	memcpy(dest, stage_buf, stage.len);     /* the thread's write */
	hh_stage_done(&stage, kHelErrNone);
	hh_loop_settle();
	c = element(1);
	length(&c, kHelErrNone, 6);
	ck_assert_ptr_null(stage.held);
	/* the thread found the buffer unwritable (should fail for the receiver only) */
	SUBMIT(l.s, 1, ub, 3, recv_buffer(dest, sizeof(dest), 0));
	SUBMIT(l.s, 0, ua, 4, sends("lost", 0));
	hh_loop_settle();
	ck_assert(!has_element(3));
	hh_stage_done(&stage, kHelErrFault);
	hh_loop_settle();
	c = element(3);
	length(&c, kHelErrFault, 0);
	c = element(4);
	simple(&c, kHelErrNone);
	/* an answer with nothing held changes nothing */
	hh_stage_done(&stage, kHelErrNone);
	hh_stage_flush(&stage);
}
END_TEST

START_TEST(test_stream_object_stage_flush)
{
	/* should succeed: a write the thread will not make (it called again, or ended) is ours */
	struct lanes l = new_stream(ua, ub, false);
	char dest[16];
	memset(dest, '.', sizeof(dest));
	offer_stage(sizeof(stage_buf));
	SUBMIT(l.s, 1, ub, 1, recv_buffer(dest, sizeof(dest), 0));
	SUBMIT(l.s, 0, ua, 2, sends("flushed", 0));
	hh_loop_settle();
	ck_assert(!has_element(1));
	hh_stage_flush(&stage);
	hh_loop_settle();
	struct cursor c = element(1);
	length(&c, kHelErrNone, 7);
	ck_assert_mem_eq(dest, "flushed.", 8);
	ck_assert_ptr_null(stage.held);
	/* into memory that is not writable (should fail: kHelErrFault), as without a stage */
	SUBMIT(l.s, 1, ub, 3, recv_buffer(arena + PAGE, 64, 0));
	SUBMIT(l.s, 0, ua, 4, sends("lost", 0));
	hh_loop_settle();
	ck_assert_ptr_nonnull(stage.held);
	hh_stage_flush(&stage);
	hh_loop_settle();
	c = element(3);
	length(&c, kHelErrFault, 0);
}
END_TEST

START_TEST(test_stream_object_stage_limits)
{
	/* should succeed: what the stage does not take is written at once, as without one */
	struct lanes l = new_stream(ua, ub, false);
	unsigned char msg[17], dest[32];
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (unsigned char)(i + 1);
	offer_stage(16);
	/* one byte over its room */
	memset(dest, 0, sizeof(dest));
	SUBMIT(l.s, 1, ub, 1, recv_buffer(dest, sizeof(dest), 0));
	SUBMIT(l.s, 0, ua, 2, send_(msg, 17, 0));
	hh_loop_settle();
	ck_assert_ptr_null(stage.held);
	struct cursor c = element(1);
	length(&c, kHelErrNone, 17);
	ck_assert_mem_eq(dest, msg, 17);
	/* exactly its room */
	memset(dest, 0, sizeof(dest));
	SUBMIT(l.s, 1, ub, 3, recv_buffer(dest, sizeof(dest), 0));
	SUBMIT(l.s, 0, ua, 4, send_(msg, 16, 0));
	hh_loop_settle();
	ck_assert_ptr_nonnull(stage.held);
	ck_assert_uint_eq(stage.len, 16);
	hh_stage_flush(&stage);
	hh_loop_settle();
	c = element(3);
	length(&c, kHelErrNone, 16);
	ck_assert_mem_eq(dest, msg, 16);
	ck_assert_int_eq(dest[16], 0);
	/* an empty message touches nothing */
	SUBMIT(l.s, 1, ub, 5, recv_buffer(dest, sizeof(dest), 0));
	SUBMIT(l.s, 0, ua, 6, send_("", 0, 0));
	hh_loop_settle();
	ck_assert_ptr_null(stage.held);
	c = element(5);
	length(&c, kHelErrNone, 0);
}
END_TEST

START_TEST(test_stream_object_stage_keeps_write_order)
{
	/* should succeed: while one receive is held, a later one is written after it (they overlap) */
	struct lanes l = new_stream(ua, ub, false);
	char dest[13] = "............";
	offer_stage(sizeof(stage_buf));
	SUBMIT(l.s, 1, ub, 1, recv_buffer(dest, 8, CHAIN), recv_buffer(dest + 4, 8, 0));
	SUBMIT(l.s, 0, ua, 2, sends("AAAAAAAA", CHAIN), sends("BBBBBBBB", 0));
	hh_loop_settle();
	ck_assert_ptr_null(stage.held);
	struct cursor c = element(1);
	length(&c, kHelErrNone, 8);
	length(&c, kHelErrNone, 8);
	ck_assert_str_eq(dest, "AAAABBBBBBBB");
}
END_TEST

START_TEST(test_stream_object_stage_not_hel_memory)
{
	/* should succeed: a receive into a Hel mapping is written through the emulator's view */
	struct lanes l = new_stream(ua, ub, false);
	struct hh_memory *mem;
	ck_assert_int_eq(hh_memory_allocate(PAGE, 0, &mem), kHelErrNone);
	struct hh_mm_plan plan = { .count = 0 };
	uint64_t rw = 0;
	ck_assert_int_eq(hh_space_map(sp, &mem->base, 0, PAGE, 0,
			kHelMapProtRead | kHelMapProtWrite, &rw, &plan), kHelErrNone);
	offer_stage(sizeof(stage_buf));
	SUBMIT(l.s, 1, ub, 1, recv_buffer((void *)(uintptr_t)rw, 64, 0));
	SUBMIT(l.s, 0, ua, 2, sends("hel memory", 0));
	hh_loop_settle();
	ck_assert_ptr_null(stage.held);
	struct cursor c = element(1);
	length(&c, kHelErrNone, 10);
	ck_assert_mem_eq(hh_memory_view(&mem->base), "hel memory", 10);
	hh_object_unref(&mem->base);
}
END_TEST

START_TEST(test_stream_object_stage_submitter_died)
{
	/* should succeed: a program that dies holding a staged receive leaves nothing behind */
	struct lanes l = new_stream(ua, ub, false);
	char dest[16];
	memset(dest, '.', sizeof(dest));
	offer_stage(sizeof(stage_buf));
	SUBMIT(l.s, 1, ub, 1, recv_buffer(dest, sizeof(dest), 0));
	SUBMIT(l.s, 0, ua, 2, sends("orphan", 0));
	hh_loop_settle();
	ck_assert_ptr_nonnull(stage.held);
	hh_pending_discard_all(&pending);
	hh_loop_settle();
	ck_assert_ptr_null(stage.held);
	ck_assert(!has_element(1));
	/* the thread's end comes after: there is nothing left to write */
	hh_stage_flush(&stage);
	hh_loop_settle();
	ck_assert(!has_element(1));
	ck_assert_int_eq(dest[0], '.');
}
END_TEST

/*
 * A program's receive waits on lane 1 (context 1), a live program's behind
 * it if asked (context 2); the program is killed, and only then is its send
 * on lane 0 (context 3) served, as a call posted just before the kill is.
 * All the dead program had pending goes.
 */
static void send_after_death(struct lanes l, bool live_receive_behind)
{
	pid_t child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0)
		for (;;)
			pause();
	struct hh_pending_list dying = { .pidfd = (int)syscall(SYS_pidfd_open, child, 0) };
	ck_assert_int_ge(dying.pidfd, 0);
	owner = &dying;
	SUBMIT(l.s, 1, ub, 1, recv_inline(0));
	owner = &pending;
	if (live_receive_behind)
		SUBMIT(l.s, 1, ub, 2, recv_inline(0));
	ck_assert_int_eq(kill(child, SIGKILL), 0);
	ck_assert_int_eq(waitpid(child, NULL, 0), child);
	owner = &dying;
	SUBMIT(l.s, 0, ua, 3, sends("from the dead", 0));
	owner = &pending;
	hh_loop_settle();
	ck_assert_ptr_null(dying.head);
	ck_assert_ptr_null(l.s->lane[0].head);
	ck_assert_uint_eq(count_elements(), 0);
	close(dying.pidfd);
}

/* A live send (context 4) meets the live receive of context 2. */
static void live_send_meets_receive(struct lanes l)
{
	SUBMIT(l.s, 0, ua, 4, sends("alive", 0));
	hh_loop_settle();
	ck_assert_ptr_null(l.s->lane[1].head);
	struct cursor c = element(2);
	inline_data(&c, kHelErrNone, "alive", 5);
	ck_assert(has_element(4));
	ck_assert_uint_eq(count_elements(), 2);
}

START_TEST(test_stream_object_submitter_died_during_its_call)
{
	/*
	 * should queue nothing: the send goes with the program's receive (it
	 * once stayed queued after its submission was freed); the lanes then
	 * serve the living as before
	 */
	struct lanes l = new_stream(ua, ub, false);
	send_after_death(l, false);
	ck_assert_ptr_null(l.s->lane[1].head);
	SUBMIT(l.s, 1, ub, 2, recv_inline(0));
	live_send_meets_receive(l);
}
END_TEST

START_TEST(test_stream_object_submitter_died_peer_waits_on)
{
	/* should leave the live receive queued: the dead program's send must not reach it */
	struct lanes l = new_stream(ua, ub, false);
	send_after_death(l, true);
	ck_assert_ptr_nonnull(l.s->lane[1].head);
	live_send_meets_receive(l);
}
END_TEST

/* ---- mismatches and dismissal (STREAMS.md §4) ---- */

START_TEST(test_stream_object_mismatch)
{
	/* incompatible pairs (should fail on both sides with kHelErrTransmissionMismatch) */
	struct lanes l = new_stream(ua, ub, false);
	struct hh_token *tok = hh_token_create();
	struct act push = { .type = kHelActionPushDescriptor, .desc = { &tok->base, 0 } };
	struct act imbue = { .type = kHelActionImbueCredentials, .creds = tok->credentials };
	char buf[8];
	SUBMIT(l.s, 0, ua, 1, sends("a", 0));
	SUBMIT(l.s, 1, ub, 2, sends("b", 0));
	SUBMIT(l.s, 0, ua, 3, plain(kHelActionOffer, 0));
	SUBMIT(l.s, 1, ub, 4, recv_inline(0));
	SUBMIT(l.s, 0, ua, 5, push);
	SUBMIT(l.s, 1, ub, 6, plain(kHelActionAccept, 0));
	SUBMIT(l.s, 0, ua, 7, imbue);
	SUBMIT(l.s, 1, ub, 8, plain(kHelActionPullDescriptor, 0));
	SUBMIT(l.s, 0, ua, 9, recv_buffer(buf, sizeof(buf), 0));
	SUBMIT(l.s, 1, ub, 10, recv_inline(0));
	SUBMIT(l.s, 0, ua, 11, plain(kHelActionAccept, 0));
	SUBMIT(l.s, 1, ub, 12, plain(kHelActionExtractCredentials, 0));
	hh_loop_settle();
	struct cursor c = element(1);
	simple(&c, kHelErrTransmissionMismatch);
	c = element(2);
	simple(&c, kHelErrTransmissionMismatch);
	c = element(3);
	handle(&c, kHelErrTransmissionMismatch);
	c = element(4);
	inline_data(&c, kHelErrTransmissionMismatch, NULL, 0);
	c = element(5);
	simple(&c, kHelErrTransmissionMismatch);
	c = element(6);
	handle(&c, kHelErrTransmissionMismatch);
	c = element(7);
	simple(&c, kHelErrTransmissionMismatch);
	c = element(8);
	handle(&c, kHelErrTransmissionMismatch);
	c = element(9);
	length(&c, kHelErrTransmissionMismatch, 0);
	c = element(10);
	inline_data(&c, kHelErrTransmissionMismatch, NULL, 0);
	c = element(11);
	handle(&c, kHelErrTransmissionMismatch);
	c = element(12);
	credentials(&c, kHelErrTransmissionMismatch, NULL);
	ck_assert_uint_eq(count_elements(), 12);
	/* nothing was attached anywhere; the pushed copy was dropped */
	ck_assert_uint_eq(ua->count, 1);
	ck_assert_uint_eq(ub->count, 1);
	ck_assert_uint_eq(tok->base.refs, 1);
	hh_object_unref(&tok->base);
}
END_TEST

START_TEST(test_stream_object_mismatch_ancillary)
{
	/* a mismatched Offer takes its whole ancillary list along (should fail, STREAMS.md §8.4) */
	struct lanes l = new_stream(ua, ub, false);
	SUBMIT(l.s, 0, ua, 1, plain(kHelActionOffer, ANC), sends("x", CHAIN), recv_inline(0));
	SUBMIT(l.s, 1, ub, 2, sends("y", 0));
	hh_loop_settle();
	struct cursor c = element(1);
	handle(&c, kHelErrTransmissionMismatch);
	simple(&c, kHelErrTransmissionMismatch);
	inline_data(&c, kHelErrTransmissionMismatch, NULL, 0);
	end(&c);
	c = element(2);
	simple(&c, kHelErrTransmissionMismatch);
}
END_TEST

START_TEST(test_stream_object_dismiss)
{
	/* should succeed: the Dismiss item itself; its peer (should fail) with kHelErrDismissed */
	struct lanes l = new_stream(ua, ub, false);
	SUBMIT(l.s, 0, ua, 1, sends("unwanted", 0));
	SUBMIT(l.s, 1, ub, 2, plain(kHelActionDismiss, 0));
	SUBMIT(l.s, 1, ub, 3, plain(kHelActionDismiss, 0));
	SUBMIT(l.s, 0, ua, 4, recv_inline(0));
	/* both Dismiss (should fail on both sides) */
	SUBMIT(l.s, 0, ua, 5, plain(kHelActionDismiss, 0));
	SUBMIT(l.s, 1, ub, 6, plain(kHelActionDismiss, 0));
	hh_loop_settle();
	struct cursor c = element(1);
	simple(&c, kHelErrDismissed);
	c = element(2);
	simple(&c, kHelErrNone);
	c = element(3);
	simple(&c, kHelErrNone);
	c = element(4);
	inline_data(&c, kHelErrDismissed, NULL, 0);
	c = element(5);
	simple(&c, kHelErrDismissed);
	c = element(6);
	simple(&c, kHelErrDismissed);
}
END_TEST

START_TEST(test_stream_object_dismiss_nested_ancillary)
{
	/* a dismissed Offer takes nested lists with it (should fail, STREAMS.md Q2) */
	struct lanes l = new_stream(ua, ub, false);
	SUBMIT(l.s, 0, ua, 1, plain(kHelActionOffer, ANC), plain(kHelActionOffer, CHAIN | ANC),
			sends("deep", 0), recv_inline(0));
	SUBMIT(l.s, 1, ub, 2, plain(kHelActionDismiss, 0));
	hh_loop_settle();
	struct cursor c = element(1);
	handle(&c, kHelErrDismissed);
	handle(&c, kHelErrDismissed);
	simple(&c, kHelErrDismissed);
	inline_data(&c, kHelErrDismissed, NULL, 0);
	end(&c);
	c = element(2);
	simple(&c, kHelErrNone);
}
END_TEST

/* ---- descriptors and credentials (STREAMS.md §7) ---- */

START_TEST(test_stream_object_push_pull)
{
	/* should succeed: the puller gets a new handle in its own universe */
	struct lanes l = new_stream(ua, ub, false);
	struct hh_token *tok = hh_token_create();
	HelHandle mine = hh_universe_attach(ua, &tok->base, 0);
	hh_object_unref(&tok->base);
	struct act push = { .type = kHelActionPushDescriptor,
		.desc = resolved(ua, mine, HH_OBJ_TOKEN) };
	SUBMIT(l.s, 0, ua, 1, push);
	/* captured at submission: the pusher may close its handle */
	ck_assert_uint_eq(tok->base.refs, 2);
	ck_assert_int_eq(hh_universe_detach(ua, mine), kHelErrNone);
	ck_assert_uint_eq(tok->base.refs, 1);
	SUBMIT(l.s, 1, ub, 2, plain(kHelActionPullDescriptor, 0));
	hh_loop_settle();
	struct cursor c = element(1);
	simple(&c, kHelErrNone);
	end(&c);
	c = element(2);
	HelHandle h = handle(&c, kHelErrNone);
	end(&c);
	struct hh_desc d = resolved(ub, h, HH_OBJ_TOKEN);
	ck_assert_ptr_eq(d.obj, &tok->base);
	ck_assert_uint_eq(d.aux, 0);
	/* only the puller's handle is left */
	ck_assert_uint_eq(tok->base.refs, 1);
	ck_assert_uint_eq(ua->count, 1);
	ck_assert_uint_eq(ub->count, 2);
}
END_TEST

START_TEST(test_stream_object_push_lane)
{
	/* should succeed: a pushed lane counts as a peer while in flight; it arrives with its index */
	struct lanes l = new_stream(ua, ub, false);
	struct lanes other = new_stream(ua, ua, false);
	struct act push = { .type = kHelActionPushDescriptor, .desc = { &other.s->base, 1 } };
	SUBMIT(l.s, 0, ua, 1, push);
	ck_assert_uint_eq(other.s->lane[1].peers, 2);
	/* the pusher's handle goes: the copy in flight keeps lane 1 from breaking */
	ck_assert_int_eq(hh_universe_detach(ua, other.h1), kHelErrNone);
	ck_assert_uint_eq(other.s->lane[1].peers, 1);
	ck_assert(!other.s->lane[1].broken);
	SUBMIT(l.s, 1, ub, 2, plain(kHelActionPullDescriptor, 0));
	hh_loop_settle();
	struct cursor c = element(2);
	HelHandle h = handle(&c, kHelErrNone);
	struct hh_desc d = resolved(ub, h, HH_OBJ_STREAM);
	ck_assert_ptr_eq(d.obj, &other.s->base);
	ck_assert_uint_eq(d.aux, 1);
	ck_assert_uint_eq(other.s->lane[1].peers, 1);   /* the puller's handle only */
	ck_assert(!other.s->lane[1].broken);
}
END_TEST

START_TEST(test_stream_object_push_dropped_on_failure)
{
	/* a push that fails (should fail: end of lane); its captured lane copy is released */
	struct lanes l = new_stream(ua, ub, false);
	struct lanes other = new_stream(ua, ua, false);
	ck_assert_int_eq(hh_universe_detach(ub, l.h1), kHelErrNone);   /* l's lane 1 breaks */
	struct act push = { .type = kHelActionPushDescriptor, .desc = { &other.s->base, 0 } };
	ck_assert_int_eq(hh_universe_detach(ua, other.h1), kHelErrNone);
	SUBMIT(l.s, 0, ua, 1, push);
	ck_assert_uint_eq(other.s->lane[0].peers, 2);
	hh_loop_settle();
	struct cursor c = element(1);
	simple(&c, kHelErrEndOfLane);
	ck_assert_uint_eq(other.s->lane[0].peers, 1);
	/* the last handle of the pushed lane goes: now it breaks */
	ck_assert_int_eq(hh_universe_detach(ua, other.h0), kHelErrNone);
	ck_assert(other.s->lane[0].broken);
}
END_TEST

START_TEST(test_stream_object_credentials)
{
	/* should succeed: the 16 bytes captured at submission arrive */
	struct lanes l = new_stream(ua, ub, true);
	unsigned char creds[HH_CREDENTIALS_SIZE];
	memcpy(creds, l.s->credentials, sizeof(creds));
	struct act imbue = { .type = kHelActionImbueCredentials, .creds = creds };
	SUBMIT(l.s, 0, ua, 1, imbue);
	memset(creds, 0, sizeof(creds));        /* captured: later changes do not matter */
	SUBMIT(l.s, 1, ub, 2, plain(kHelActionExtractCredentials, 0));
	hh_loop_settle();
	struct cursor c = element(1);
	simple(&c, kHelErrNone);
	end(&c);
	c = element(2);
	credentials(&c, kHelErrNone, l.s->credentials);
	end(&c);
}
END_TEST

/* ---- offer and accept (STREAMS.md §6) ---- */

START_TEST(test_stream_object_offer_accept)
{
	/* should succeed: Accept gets lane 1 of a new stream; the Offer, without WantLane, nothing */
	struct lanes l = new_stream(ua, ub, true);
	SUBMIT(l.s, 1, ub, 1, plain(kHelActionAccept, 0));
	SUBMIT(l.s, 0, ua, 2, plain(kHelActionOffer, 0));
	hh_loop_settle();
	struct cursor c = element(1);
	HelHandle h = handle(&c, kHelErrNone);
	end(&c);
	c = element(2);
	ck_assert_int_eq(handle(&c, kHelErrNone), kHelNullHandle);
	end(&c);
	ck_assert_uint_eq(ua->count, 1);
	struct hh_desc d = resolved(ub, h, HH_OBJ_STREAM);
	ck_assert_uint_eq(d.aux, 1);
	struct hh_stream *child = hh_stream_of(d.obj);
	ck_assert_ptr_ne(child, l.s);
	ck_assert(!child->has_credentials);     /* streams made by Offer/Accept have none */
	/* nothing holds new lane 0 once the offerer's element is written: it is broken */
	ck_assert_uint_eq(child->lane[0].peers, 0);
	ck_assert(child->lane[0].broken);
	ck_assert_uint_eq(child->lane[1].peers, 1);
	ck_assert_uint_eq(child->base.refs, 1);
	SUBMIT(child, 1, ub, 3, recv_inline(0));
	hh_loop_settle();
	c = element(3);
	inline_data(&c, kHelErrEndOfLane, NULL, 0);
	/* closing the accepted handle frees the new stream */
	ck_assert_int_eq(hh_universe_detach(ub, h), kHelErrNone);
	ck_assert(hh_object_reap());
}
END_TEST

START_TEST(test_stream_object_offer_want_lane)
{
	/* should succeed: with WantLane the offerer gets lane 0 and keeps it */
	struct lanes l = new_stream(ua, ub, false);
	SUBMIT(l.s, 0, ua, 1, plain(kHelActionOffer, kHelItemWantLane));
	SUBMIT(l.s, 1, ub, 2, plain(kHelActionAccept, 0));
	hh_loop_settle();
	struct cursor c = element(1);
	HelHandle h0 = handle(&c, kHelErrNone);
	c = element(2);
	HelHandle h1 = handle(&c, kHelErrNone);
	struct hh_desc d0 = resolved(ua, h0, HH_OBJ_STREAM), d1 = resolved(ub, h1, HH_OBJ_STREAM);
	ck_assert_ptr_eq(d0.obj, d1.obj);
	ck_assert_uint_eq(d0.aux, 0);
	ck_assert_uint_eq(d1.aux, 1);
	struct hh_stream *child = hh_stream_of(d0.obj);
	ck_assert_uint_eq(child->lane[0].peers, 1);
	ck_assert_uint_eq(child->lane[1].peers, 1);
	ck_assert(!child->lane[0].broken);
	ck_assert_uint_eq(child->base.refs, 2);
	/* the conversation goes on over the new stream */
	SUBMIT(child, 1, ub, 3, recv_inline(0));
	SUBMIT(child, 0, ua, 4, sends("private", 0));
	hh_loop_settle();
	c = element(3);
	inline_data(&c, kHelErrNone, "private", 7);
	/* the offerer hangs up: the acceptor sees the end of the lane */
	ck_assert_int_eq(hh_universe_detach(ua, h0), kHelErrNone);
	ck_assert(child->lane[0].broken);
	SUBMIT(child, 1, ub, 5, recv_inline(0));
	hh_loop_settle();
	c = element(5);
	inline_data(&c, kHelErrEndOfLane, NULL, 0);
}
END_TEST

START_TEST(test_stream_object_offer_ancillary)
{
	/* should succeed: helix's request/reply: Offer{Send, RecvInline}; the server replies later */
	struct lanes l = new_stream(ua, ub, false);
	SUBMIT(l.s, 1, ub, 1, plain(kHelActionAccept, 0));
	SUBMIT(l.s, 0, ua, 2, plain(kHelActionOffer, ANC), sends("request", CHAIN), recv_inline(0));
	hh_loop_settle();
	struct cursor c = element(1);
	HelHandle h = handle(&c, kHelErrNone);
	ck_assert(!has_element(2));             /* its list waits on new lane 0 */
	struct hh_stream *child = hh_stream_of(resolved(ub, h, HH_OBJ_STREAM).obj);
	ck_assert_uint_eq(child->lane[0].peers, 3);    /* the Offer and its two items */
	ck_assert(!child->lane[0].broken);
	SUBMIT(child, 1, ub, 3, recv_inline(CHAIN), sends("reply", 0));
	hh_loop_settle();
	c = element(2);
	ck_assert_int_eq(handle(&c, kHelErrNone), kHelNullHandle);
	simple(&c, kHelErrNone);
	inline_data(&c, kHelErrNone, "reply", 5);
	end(&c);
	c = element(3);
	inline_data(&c, kHelErrNone, "request", 7);
	simple(&c, kHelErrNone);
	end(&c);
	/* one request, one reply, then the offerer's lane is gone */
	ck_assert(child->lane[0].broken);
	SUBMIT(child, 1, ub, 4, sends("late", 0));
	hh_loop_settle();
	c = element(4);
	simple(&c, kHelErrEndOfLane);
}
END_TEST

START_TEST(test_stream_object_acceptor_hangs_up)
{
	/* an Offer's list waiting on a new stream whose acceptor hangs up (should fail: end of lane) */
	struct lanes l = new_stream(ua, ub, false);
	SUBMIT(l.s, 0, ua, 1, plain(kHelActionOffer, ANC), sends("request", CHAIN), recv_inline(0));
	SUBMIT(l.s, 1, ub, 2, plain(kHelActionAccept, 0));
	hh_loop_settle();
	struct cursor c = element(2);
	HelHandle h = handle(&c, kHelErrNone);
	struct hh_stream *child = hh_stream_of(resolved(ub, h, HH_OBJ_STREAM).obj);
	ck_assert_uint_eq(child->lane[1].peers, 1);    /* the acceptor's handle only */
	ck_assert(!has_element(1));
	ck_assert_int_eq(hh_universe_detach(ub, h), kHelErrNone);
	ck_assert(child->lane[1].broken);
	hh_loop_settle();
	c = element(1);
	ck_assert_int_eq(handle(&c, kHelErrNone), kHelNullHandle);
	simple(&c, kHelErrEndOfLane);
	inline_data(&c, kHelErrEndOfLane, NULL, 0);
	end(&c);
}
END_TEST

START_TEST(test_stream_object_accept_ancillary)
{
	/* should succeed: both lists go out at the match, Offer's on lane 0 first */
	struct lanes l = new_stream(ua, ub, false);
	SUBMIT(l.s, 0, ua, 1, plain(kHelActionOffer, ANC), sends("ping", CHAIN), recv_inline(0));
	SUBMIT(l.s, 1, ub, 2, plain(kHelActionAccept, ANC), recv_inline(CHAIN), sends("pong", 0));
	hh_loop_settle();
	struct cursor c = element(1);
	ck_assert_int_eq(handle(&c, kHelErrNone), kHelNullHandle);
	simple(&c, kHelErrNone);
	inline_data(&c, kHelErrNone, "pong", 4);
	end(&c);
	c = element(2);
	HelHandle h = handle(&c, kHelErrNone);
	inline_data(&c, kHelErrNone, "ping", 4);
	simple(&c, kHelErrNone);
	end(&c);
	struct hh_stream *child = hh_stream_of(resolved(ub, h, HH_OBJ_STREAM).obj);
	ck_assert(child->lane[0].broken);
	ck_assert_uint_eq(child->lane[1].peers, 1);
}
END_TEST

START_TEST(test_stream_object_nested_offers)
{
	/* should succeed: an Offer inside an Offer's list opens a stream inside the new one */
	struct lanes l = new_stream(ua, ub, false);
	SUBMIT(l.s, 0, ua, 1, plain(kHelActionOffer, ANC), plain(kHelActionOffer, ANC), sends("deep", 0));
	SUBMIT(l.s, 1, ub, 2, plain(kHelActionAccept, ANC), plain(kHelActionAccept, ANC), recv_inline(0));
	hh_loop_settle();
	struct cursor c = element(1);
	ck_assert_int_eq(handle(&c, kHelErrNone), kHelNullHandle);
	ck_assert_int_eq(handle(&c, kHelErrNone), kHelNullHandle);
	simple(&c, kHelErrNone);
	end(&c);
	c = element(2);
	HelHandle outer = handle(&c, kHelErrNone);
	HelHandle inner = handle(&c, kHelErrNone);
	inline_data(&c, kHelErrNone, "deep", 4);
	end(&c);
	ck_assert_ptr_ne(resolved(ub, outer, HH_OBJ_STREAM).obj, resolved(ub, inner, HH_OBJ_STREAM).obj);
	ck_assert_ptr_ne(resolved(ub, outer, HH_OBJ_STREAM).obj, &l.s->base);
}
END_TEST

START_TEST(test_stream_object_accept_universe_kept)
{
	/* should succeed: a handle goes to the universe captured at submission */
	struct lanes l = new_stream(ua, ua, false);
	struct hh_universe *gone = hh_universe_create();
	SUBMIT(l.s, 1, gone, 1, plain(kHelActionAccept, 0));
	hh_object_unref(&gone->base);
	ck_assert(!hh_object_reap());
	ck_assert_uint_eq(gone->base.refs, 1);  /* the submission's */
	SUBMIT(l.s, 0, ua, 2, plain(kHelActionOffer, 0));
	hh_loop_settle();                       /* the universe goes after the element */
	struct cursor c = element(1);
	ck_assert_int_ne(handle(&c, kHelErrNone), kHelNullHandle);
	c = element(2);
	handle(&c, kHelErrNone);
}
END_TEST

/* ---- breaking and shutdown (STREAMS.md §8) ---- */

START_TEST(test_stream_object_end_of_lane)
{
	/* items waiting on the peer of a lane whose last handle goes (should fail: kHelErrEndOfLane) */
	struct lanes l = new_stream(ua, ub, false);
	SUBMIT(l.s, 1, ub, 1, recv_inline(CHAIN), recv_inline(0));
	SUBMIT(l.s, 1, ub, 2, plain(kHelActionOffer, ANC), sends("never", 0));
	hh_loop_settle();
	ck_assert(!has_element(1));
	ck_assert_int_eq(hh_universe_detach(ua, l.h0), kHelErrNone);
	ck_assert(l.s->lane[0].broken);
	ck_assert_ptr_null(l.s->lane[1].head);
	hh_loop_settle();
	struct cursor c = element(1);
	inline_data(&c, kHelErrEndOfLane, NULL, 0);
	inline_data(&c, kHelErrEndOfLane, NULL, 0);
	c = element(2);
	handle(&c, kHelErrEndOfLane);
	simple(&c, kHelErrEndOfLane);
	/* and everything submitted later on the peer (should fail) */
	SUBMIT(l.s, 1, ub, 3, sends("late", 0));
	hh_loop_settle();
	c = element(3);
	simple(&c, kHelErrEndOfLane);
	/* the stream goes with lane 1's last handle */
	ck_assert_uint_eq(l.s->lane[1].peers, 1);
	ck_assert_int_eq(hh_universe_detach(ub, l.h1), kHelErrNone);
	ck_assert(hh_object_reap());
}
END_TEST

START_TEST(test_stream_object_queued_items_keep_lane)
{
	/* should succeed: a lane with queued items does not break when its last handle goes */
	struct lanes l = new_stream(ua, ub, false);
	SUBMIT(l.s, 0, ua, 1, sends("parting words", 0));
	ck_assert_int_eq(hh_universe_detach(ua, l.h0), kHelErrNone);
	ck_assert_uint_eq(l.s->lane[0].peers, 1);
	ck_assert(!l.s->lane[0].broken);
	SUBMIT(l.s, 1, ub, 2, recv_inline(0));
	ck_assert(!l.s->lane[0].broken);        /* its submission is not destroyed yet */
	hh_loop_settle();
	struct cursor c = element(2);
	inline_data(&c, kHelErrNone, "parting words", 13);
	c = element(1);
	simple(&c, kHelErrNone);
	/* only now, with the element written, does lane 0 break */
	ck_assert(l.s->lane[0].broken);
	SUBMIT(l.s, 1, ub, 3, recv_inline(0));
	hh_loop_settle();
	c = element(3);
	inline_data(&c, kHelErrEndOfLane, NULL, 0);
}
END_TEST

START_TEST(test_stream_object_bare_descriptors)
{
	/* should succeed: descriptors held outside any universe count the same way */
	struct hh_stream *s = hh_stream_create(false);
	struct hh_desc d0 = { &s->base, 0 }, d1 = { &s->base, 1 };
	hh_desc_take(d0);
	hh_desc_take(d1);
	hh_desc_take(d1);
	hh_object_unref(&s->base);
	ck_assert_uint_eq(s->base.refs, 3);
	ck_assert_uint_eq(s->lane[1].peers, 2);
	SUBMIT(s, 0, ua, 1, recv_inline(0));
	hh_desc_release(d1);
	ck_assert(!s->lane[1].broken);
	hh_loop_settle();
	ck_assert(!has_element(1));
	hh_desc_release(d1);
	ck_assert(s->lane[1].broken);
	hh_loop_settle();
	struct cursor c = element(1);
	inline_data(&c, kHelErrEndOfLane, NULL, 0);
	ck_assert_uint_eq(s->base.refs, 1);
	hh_desc_release(d0);
	ck_assert(s->lane[0].broken);
	ck_assert(hh_object_reap());
}
END_TEST

START_TEST(test_stream_object_universe_destroyed)
{
	/* a universe that goes releases its lanes (should fail: the peer sees the end, §8.5) */
	struct hh_universe *server = hh_universe_create();
	struct lanes l = new_stream(ua, server, false);
	SUBMIT(l.s, 0, ua, 1, plain(kHelActionOffer, 0));
	hh_loop_settle();
	hh_object_unref(&server->base);
	ck_assert(!has_element(1));
	hh_loop_settle();                       /* the universe is torn down in the closing phase */
	ck_assert(l.s->lane[1].broken);
	struct cursor c = element(1);
	handle(&c, kHelErrEndOfLane);
}
END_TEST

START_TEST(test_stream_object_shutdown_own_lane)
{
	/* items queued on a lane that is shut down (should fail: kHelErrLaneShutdown) */
	struct lanes l = new_stream(ua, ub, false);
	SUBMIT(l.s, 0, ua, 1, sends("a", CHAIN), recv_inline(0));
	hh_stream_shutdown(l.s, 0);
	ck_assert(l.s->lane[0].shutdown);
	ck_assert(!l.s->lane[1].shutdown);
	ck_assert_ptr_null(l.s->lane[0].head);
	hh_loop_settle();
	struct cursor c = element(1);
	simple(&c, kHelErrLaneShutdown);
	inline_data(&c, kHelErrLaneShutdown, NULL, 0);
	/* later: the shut lane gets kHelErrLaneShutdown, its peer kHelErrEndOfLane (should fail) */
	SUBMIT(l.s, 0, ua, 2, recv_inline(0));
	SUBMIT(l.s, 1, ub, 3, sends("b", 0));
	hh_loop_settle();
	c = element(2);
	inline_data(&c, kHelErrLaneShutdown, NULL, 0);
	c = element(3);
	simple(&c, kHelErrEndOfLane);
	/* the handles stay valid; shutdown breaks nothing */
	ck_assert_uint_eq(l.s->lane[0].peers, 1);
	ck_assert(!l.s->lane[0].broken);
	ck_assert_uint_eq(resolved(ua, l.h0, HH_OBJ_STREAM).aux, 0);
}
END_TEST

START_TEST(test_stream_object_shutdown_peer_lane)
{
	/* items queued on the peer of a lane that is shut down (should fail: kHelErrEndOfLane) */
	struct lanes l = new_stream(ua, ub, false);
	SUBMIT(l.s, 1, ub, 1, recv_inline(0));
	SUBMIT(l.s, 1, ub, 2, plain(kHelActionAccept, ANC), recv_inline(0));
	hh_stream_shutdown(l.s, 0);
	hh_loop_settle();
	struct cursor c = element(1);
	inline_data(&c, kHelErrEndOfLane, NULL, 0);
	c = element(2);
	handle(&c, kHelErrEndOfLane);
	inline_data(&c, kHelErrEndOfLane, NULL, 0);
	/* both lanes shut down: each side sees its own shutdown (should fail) */
	hh_stream_shutdown(l.s, 1);
	SUBMIT(l.s, 0, ua, 3, sends("x", 0));
	SUBMIT(l.s, 1, ub, 4, sends("y", 0));
	hh_loop_settle();
	c = element(3);
	simple(&c, kHelErrLaneShutdown);
	c = element(4);
	simple(&c, kHelErrLaneShutdown);
	/* shutting down again changes nothing */
	hh_stream_shutdown(l.s, 0);
	ck_assert_uint_eq(count_elements(), 4);
}
END_TEST

START_TEST(test_stream_object_shutdown_idle)
{
	/* should succeed: shutting down an idle lane completes nothing */
	struct lanes l = new_stream(ua, ub, false);
	hh_stream_shutdown(l.s, 1);
	hh_loop_settle();
	ck_assert_uint_eq(progress(), 0);
	ck_assert(l.s->lane[1].shutdown);
	ck_assert(!l.s->lane[0].shutdown);
}
END_TEST

/* ---- aborting a submission ---- */

START_TEST(test_stream_object_submission_abort)
{
	/* should succeed: an aborted submission gives back all it took and posts nothing */
	struct lanes l = new_stream(ua, ub, false);
	struct hh_token *tok = hh_token_create();
	struct hh_submission *sub = new_submission(3, 1, ua, 64);
	ck_assert_ptr_nonnull(sub);
	ck_assert_uint_eq(q->base.refs, 2);
	ck_assert_uint_eq(ua->base.refs, 2);
	ck_assert_uint_eq(sp->base.refs, 2);
	struct hh_item *item = hh_submission_item(sub, 0);
	item->type = kHelActionSendFromBuffer;
	item->kbuf = malloc(16);
	item = hh_submission_item(sub, 1);
	item->type = kHelActionPushDescriptor;
	item->pushed = (struct hh_desc){ &tok->base, 0 };
	hh_desc_take(item->pushed);
	item = hh_submission_item(sub, 2);
	item->type = kHelActionPushDescriptor;
	item->pushed = (struct hh_desc){ &l.s->base, 0 };
	hh_desc_take(item->pushed);
	ck_assert_uint_eq(tok->base.refs, 2);
	ck_assert_uint_eq(l.s->lane[0].peers, 2);
	hh_submission_abort(sub);
	ck_assert_uint_eq(tok->base.refs, 1);
	ck_assert_uint_eq(l.s->lane[0].peers, 1);
	ck_assert_uint_eq(q->base.refs, 1);
	ck_assert_uint_eq(ua->base.refs, 1);
	ck_assert_uint_eq(sp->base.refs, 1);
	hh_loop_settle();
	ck_assert_uint_eq(progress(), 0);
	hh_object_unref(&tok->base);
}
END_TEST

static Suite *stream_object_suite(void)
{
	Suite *s = suite_create("stream_object");
	TCase *tc = tcase_create("stream_object");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_stream_object_create);
	tcase_add_test(tc, test_stream_object_create_credentials);
	tcase_add_test(tc, test_stream_object_lane_handles);
	tcase_add_test(tc, test_stream_object_result_sizes);
	tcase_add_test(tc, test_stream_object_send_recv_inline);
	tcase_add_test(tc, test_stream_object_recv_before_send);
	tcase_add_test(tc, test_stream_object_inline_limits);
	tcase_add_test(tc, test_stream_object_positional_matching);
	tcase_add_test(tc, test_stream_object_scatter_gather);
	tcase_add_test(tc, test_stream_object_recv_to_buffer);
	tcase_add_test(tc, test_stream_object_recv_to_buffer_too_small);
	tcase_add_test(tc, test_stream_object_recv_to_buffer_empty);
	tcase_add_test(tc, test_stream_object_recv_to_buffer_fault);
	tcase_add_test(tc, test_stream_object_flow_send);
	tcase_add_test(tc, test_stream_object_flow_send_errors);
	tcase_add_test(tc, test_stream_object_transfer_hel_memory);
	tcase_add_test(tc, test_stream_object_stage_waits_for_the_thread);
	tcase_add_test(tc, test_stream_object_stage_flush);
	tcase_add_test(tc, test_stream_object_stage_limits);
	tcase_add_test(tc, test_stream_object_stage_keeps_write_order);
	tcase_add_test(tc, test_stream_object_stage_not_hel_memory);
	tcase_add_test(tc, test_stream_object_stage_submitter_died);
	tcase_add_test(tc, test_stream_object_submitter_died_during_its_call);
	tcase_add_test(tc, test_stream_object_submitter_died_peer_waits_on);
	tcase_add_test(tc, test_stream_object_mismatch);
	tcase_add_test(tc, test_stream_object_mismatch_ancillary);
	tcase_add_test(tc, test_stream_object_dismiss);
	tcase_add_test(tc, test_stream_object_dismiss_nested_ancillary);
	tcase_add_test(tc, test_stream_object_push_pull);
	tcase_add_test(tc, test_stream_object_push_lane);
	tcase_add_test(tc, test_stream_object_push_dropped_on_failure);
	tcase_add_test(tc, test_stream_object_credentials);
	tcase_add_test(tc, test_stream_object_offer_accept);
	tcase_add_test(tc, test_stream_object_offer_want_lane);
	tcase_add_test(tc, test_stream_object_offer_ancillary);
	tcase_add_test(tc, test_stream_object_acceptor_hangs_up);
	tcase_add_test(tc, test_stream_object_accept_ancillary);
	tcase_add_test(tc, test_stream_object_nested_offers);
	tcase_add_test(tc, test_stream_object_accept_universe_kept);
	tcase_add_test(tc, test_stream_object_end_of_lane);
	tcase_add_test(tc, test_stream_object_queued_items_keep_lane);
	tcase_add_test(tc, test_stream_object_bare_descriptors);
	tcase_add_test(tc, test_stream_object_universe_destroyed);
	tcase_add_test(tc, test_stream_object_shutdown_own_lane);
	tcase_add_test(tc, test_stream_object_shutdown_peer_lane);
	tcase_add_test(tc, test_stream_object_shutdown_idle);
	tcase_add_test(tc, test_stream_object_submission_abort);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(stream_object_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
