#include "queue.h"

#include <limits.h>
#include <linux/futex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "barrier.h"
#include "quota.h"

#define ELEMENT_HEADER sizeof(struct HelElement)
/* The largest queue memory a program may ask for. */
#define MAX_QUEUE_BYTES (1ull << 30)
/* Hash buckets for pending cancellable operations at first; doubled as they fill. */
#define ASYNC_BUCKETS 16

static void queue_destroy(struct hh_object *obj);

static const struct hh_object_ops queue_ops = {
	.type = HH_OBJ_QUEUE,
	.name = "queue",
	.destroy = queue_destroy,
};

static const struct hh_queue_tracer *tracer;

void hh_queue_set_tracer(const struct hh_queue_tracer *t)
{
	tracer = t;
}

static uint64_t round_up(uint64_t x, uint64_t to)
{
	return (x + to - 1) / to * to;
}

static void head_woken(struct hh_watcher *w, int res);

HelError hh_queue_create(const struct HelQueueParameters *params, struct hh_queue **out)
{
	/* thor checks only flags; the rest would crash it (QUEUES.md §1). */
	if (params->flags || !params->numChunks || params->chunkSize < 24 ||
			params->chunkSize >= (1u << 24) || params->ringShift > 24)
		return kHelErrIllegalArgs;
	uint64_t chunks_offset = round_up(8 + 4 * (1ull << params->ringShift), 64);
	uint64_t stride = round_up(8 + params->chunkSize, 64);
	if (params->numChunks > MAX_QUEUE_BYTES / stride)
		return kHelErrNoMemory;
	uint64_t length = round_up(chunks_offset + params->numChunks * stride, 4096);
	if (length > MAX_QUEUE_BYTES)
		return kHelErrNoMemory;

	struct hh_queue *q = calloc(1, sizeof(*q));
	if (!q)
		return kHelErrNoMemory;
	q->async_buckets = calloc(ASYNC_BUCKETS, sizeof(*q->async_buckets));
	if (!q->async_buckets)
		goto fail_free;
	q->async_mask = ASYNC_BUCKETS - 1;
	q->memfd = hh_memfd_create("hel-queue", length);
	if (q->memfd < 0)
		goto fail_free;
	q->map = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_SHARED, q->memfd, 0);
	if (q->map == MAP_FAILED)
		goto fail_close;
	hh_object_init(&q->base, &queue_ops);
	q->length = length;
	q->ring_shift = params->ringShift;
	q->num_chunks = params->numChunks;
	q->chunk_size = params->chunkSize;
	q->chunks_offset = chunks_offset;
	q->chunk_stride = stride;
	q->tail = &q->head;
	q->head_wait.cb = head_woken;
	q->next_async_id = 1;
	*out = q;
	return kHelErrNone;

fail_close:
	hh_memfd_close(q->memfd);
fail_free:
	free(q->async_buckets);
	free(q);
	return kHelErrNoMemory;
}

HelError hh_queue_charge(struct hh_queue *q, struct hh_account *account)
{
	HelError e = hh_account_charge(account, q->length, 1);
	if (!e)
		q->account = hh_account_ref(account);
	return e;
}

HelError hh_queue_check_size(const struct hh_queue *q, size_t n)
{
	return n <= q->chunk_size - ELEMENT_HEADER ? kHelErrNone : kHelErrQueueTooSmall;
}

struct hh_completion *hh_completion_new(size_t capacity, uint64_t context)
{
	struct hh_completion *c = malloc(sizeof(*c) + capacity);
	if (!c)
		return NULL;
	c->next = NULL;
	c->context = context;
	c->length = 0;
	c->capacity = (uint32_t)capacity;
	c->origin.pid = 0;
	if (tracer)
		tracer->made(&c->origin);
	return c;
}

void hh_completion_add(struct hh_completion *c, const void *data, size_t len)
{
	size_t padded = round_up(len, 8);
	memcpy(c->payload + c->length, data, len);
	memset(c->payload + c->length + len, 0, padded - len);
	c->length += (uint32_t)padded;
}

/* ---- writing into the program's chunks ---- */

static int *head_word(struct hh_queue *q)
{
	return &((struct HelQueue *)q->map)->headFutex;
}

static struct HelChunk *chunk_at(struct hh_queue *q, uint32_t cn)
{
	return (struct HelChunk *)(q->map + q->chunks_offset + (uint64_t)cn * q->chunk_stride);
}

/* Wakes kept back while the ring transport drains (hh_queue_hold_wakes). */
#define HELD_WAKES 16

static struct {
	bool hold;
	size_t count;
	int *word[HELD_WAKES];
} wakes;

static void futex_wake_all(int *word)
{
	for (size_t i = 0; wakes.hold && i < wakes.count; i++)
		if (wakes.word[i] == word)
			return;
	if (wakes.hold && wakes.count < HELD_WAKES) {
		wakes.word[wakes.count++] = word;
		return;
	}
	syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

void hh_queue_hold_wakes(bool hold)
{
	wakes.hold = hold;
	if (hold)
		return;
	for (size_t i = 0; i < wakes.count; i++)
		syscall(SYS_futex, wakes.word[i], FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
	wakes.count = 0;
}

static void drop_pending(struct hh_queue *q)
{
	while (q->head) {
		struct hh_completion *c = q->head;
		q->head = c->next;
		free(c);
	}
	q->tail = &q->head;
}

/*
 * The program wrote something the protocol forbids: stop serving this
 * queue.  Nothing will ever read what is pending, so it goes now, and so
 * does everything posted later: a broken queue holds no memory.
 */
static void break_queue(struct hh_queue *q, const char *why)
{
	fprintf(stderr, "helhost: queue contract violated (%s); the queue delivers no more elements\n", why);
	q->broken = true;
	drop_pending(q);
}

/* Take the next chunk from the ring, or arm a wait on the head futex. */
static bool acquire_chunk(struct hh_queue *q)
{
	int *head = head_word(q);
	for (;;) {
		/* Acquire: the ring slot written before the head was advanced. */
		int word = hh_load_acquire(head);
		if ((unsigned)word & ~(unsigned)(kHelHeadMask | kHelHeadWaiters)) {
			break_queue(q, "unknown bits in headFutex");
			return false;
		}
		if (((unsigned)word & kHelHeadMask) != q->current_index) {
			struct HelQueue *hq = (struct HelQueue *)q->map;
			uint32_t slot = q->current_index & ((1u << q->ring_shift) - 1);
			int cn = hh_load_relaxed(&hq->indexQueue[slot]);
			if (cn < 0 || (uint32_t)cn >= q->num_chunks) {
				break_queue(q, "chunk number out of range");
				return false;
			}
			q->chunk = (uint32_t)cn;
			q->have_chunk = true;
			q->progress = 0;
			return true;
		}
		int want = (int)(q->current_index | kHelHeadWaiters);
		if (word != want && !__atomic_compare_exchange_n(head, &word, want, false,
				__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			continue;
		hh_loop_futex_wait(&q->head_wait, (uint32_t *)head, (uint32_t)want);
		return false;
	}
}

static void retire_chunk(struct hh_queue *q)
{
	struct HelChunk *chunk = chunk_at(q, q->chunk);
	/* Release: Done is published together with the final progress. */
	int old = __atomic_exchange_n(&chunk->progressFutex,
			(int)(q->progress | kHelProgressDone), __ATOMIC_RELEASE);
	if (old & kHelProgressWaiters)
		futex_wake_all(&chunk->progressFutex);
	q->current_index = (q->current_index + 1) & kHelHeadMask;
	q->have_chunk = false;
	q->progress = 0;
}

static void write_element(struct hh_queue *q, struct hh_completion *c)
{
	struct HelChunk *chunk = chunk_at(q, q->chunk);
	char *at = chunk->buffer + q->progress;
	struct HelElement element = { .length = c->length, .reserved = 0,
		.context = (void *)(uintptr_t)c->context };
	memcpy(at, &element, ELEMENT_HEADER);
	memcpy(at + ELEMENT_HEADER, c->payload, c->length);
	q->progress += (uint32_t)(ELEMENT_HEADER + c->length);
	/* Before the program can see it: its line comes before whatever it causes. */
	if (tracer)
		tracer->written(c);
	/* Release: the element's bytes before the progress that covers them. */
	int old = __atomic_exchange_n(&chunk->progressFutex, (int)q->progress, __ATOMIC_RELEASE);
	if (old & kHelProgressWaiters)
		futex_wake_all(&chunk->progressFutex);
}

static void pump(struct hh_queue *q)
{
	while (q->head && !q->broken && !q->head_wait.armed) {
		if (!q->have_chunk && !acquire_chunk(q))
			return;
		struct hh_completion *c = q->head;
		if (q->progress + ELEMENT_HEADER + c->length > q->chunk_size) {
			/* Size checks at submission make a fresh chunk always big enough. */
			retire_chunk(q);
			continue;
		}
		write_element(q, c);
		q->head = c->next;
		if (!q->head)
			q->tail = &q->head;
		free(c);
	}
}

static void free_queue(struct hh_queue *q)
{
	drop_pending(q);
	munmap(q->map, q->length);
	hh_memfd_close(q->memfd);
	hh_account_release(q->account, q->length, 1);
	hh_account_unref(q->account);
	free(q->async_buckets);
	free(q);
}

static void head_woken(struct hh_watcher *w, int res)
{
	(void)res;      /* woken, value changed (-EAGAIN) or cancelled: look again */
	struct hh_queue *q = (struct hh_queue *)((char *)w - offsetof(struct hh_queue, head_wait));
	if (q->destroyed) {
		free_queue(q);
		return;
	}
	pump(q);
}

uint64_t hh_queue_posts(const struct hh_queue *q)
{
	return q->posts;
}

void hh_queue_post(struct hh_queue *q, struct hh_completion *c)
{
	q->posts++;
	if (q->broken) {
		free(c);
		return;
	}
	c->next = NULL;
	*q->tail = c;
	q->tail = &c->next;
	pump(q);
}

bool hh_queue_post_simple(struct hh_queue *q, uint64_t context, HelError error)
{
	struct hh_completion *c = hh_completion_new(sizeof(struct HelSimpleResult), context);
	if (!c)
		return false;
	struct HelSimpleResult r = { .error = error, .reserved = 0 };
	hh_completion_add(c, &r, sizeof(r));
	hh_queue_post(q, c);
	return true;
}

/* ---- cancellation ---- */

static struct hh_async **bucket(struct hh_queue *q, uint64_t id)
{
	return &q->async_buckets[id & q->async_mask];
}

static void link_async(struct hh_queue *q, struct hh_async *a)
{
	struct hh_async **b = bucket(q, a->id);
	a->prev = NULL;
	a->next = *b;
	if (*b)
		(*b)->prev = a;
	*b = a;
}

/* Keep chains short: double the buckets once there are more entries than buckets. */
static void grow_buckets(struct hh_queue *q)
{
	size_t n = (q->async_mask + 1) * 2;
	struct hh_async **fresh = calloc(n, sizeof(*fresh));
	if (!fresh)
		return;         /* longer chains, still correct */
	struct hh_async **old = q->async_buckets;
	size_t old_n = q->async_mask + 1;
	q->async_buckets = fresh;
	q->async_mask = n - 1;
	for (size_t i = 0; i < old_n; i++) {
		for (struct hh_async *a = old[i], *next; a; a = next) {
			next = a->next;
			link_async(q, a);
		}
	}
	free(old);
}

uint64_t hh_queue_add_async(struct hh_queue *q, struct hh_async *a)
{
	a->id = q->next_async_id++;
	if (q->async_count > q->async_mask)
		grow_buckets(q);
	link_async(q, a);
	q->async_count++;
	return a->id;
}

void hh_queue_remove_async(struct hh_queue *q, struct hh_async *a)
{
	if (a->prev)
		a->prev->next = a->next;
	else
		*bucket(q, a->id) = a->next;
	if (a->next)
		a->next->prev = a->prev;
	a->next = a->prev = NULL;
	q->async_count--;
}

HelError hh_queue_cancel(struct hh_queue *q, uint64_t id)
{
	/* thor asserts on IDs it never issued; QUEUES.md §9 recommends this error. */
	if (id == 0 || id >= q->next_async_id)
		return kHelErrIllegalArgs;
	for (struct hh_async *a = *bucket(q, id); a; a = a->next) {
		if (a->id == id) {
			a->cancel(a);
			return kHelErrNone;
		}
	}
	return kHelErrNone;     /* completed already: nothing to do */
}

static void queue_destroy(struct hh_object *obj)
{
	struct hh_queue *q = hh_queue_of(obj);
	if (q->head_wait.armed) {
		/* The kernel still holds our watcher; free when it lets go. */
		q->destroyed = true;
		hh_loop_cancel(&q->head_wait);
		return;
	}
	free_queue(q);
}
