/*
 * Register images of created threads, read and written in libhel: a
 * supervisor's helLoadRegisters and helStoreRegisters of a stopped thread
 * cost no trap.  The emulator shares each such thread's registers in a page
 * (struct hh_image_page in callpage.h, which has the protocol); libhel asks
 * for it once per handle and keeps it here.  Whatever libhel cannot answer
 * for certain — a thread that does not stop (or seems not to, while the
 * emulator uses its registers), a page the emulator dropped, a race with
 * another store, a set the page does not carry — goes to the emulator, so
 * every answer is the one the emulator would give.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "shim.h"

/* The size of the memfd the emulator sends (src/native/image.c). */
#define IMAGE_PAGE 4096
/* Handles remembered at once; the oldest goes first. */
#define KNOWN_MAX 16

static struct {
	pthread_mutex_t lock;   /* held while a page is used: forgetting one unmaps it */
	pthread_once_t once;
	struct known {
		HelHandle handle;
		struct hh_image_page *page;     /* NULL: a free entry */
	} known[KNOWN_MAX];
	unsigned next;          /* the entry a new page takes when none is free */
} images = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_ONCE_INIT, { { 0, NULL } }, 0 };

/* A fork's child has its own copy of the lock: whoever held it is not there. */
static void fork_prepare(void) { pthread_mutex_lock(&images.lock); }
static void fork_parent(void) { pthread_mutex_unlock(&images.lock); }
static void fork_child(void) { pthread_mutex_init(&images.lock, NULL); }

static void init_once(void)
{
	if (pthread_atfork(fork_prepare, fork_parent, fork_child))
		hh_shim_fatal("cannot set up register images");
}

/* Called with the lock held. */
static struct known *find(HelHandle h)
{
	for (unsigned i = 0; i < KNOWN_MAX; i++)
		if (images.known[i].page && images.known[i].handle == h)
			return &images.known[i];
	return NULL;
}

/* Called with the lock held. */
static void forget(struct known *k)
{
	munmap(k->page, IMAGE_PAGE);
	k->page = NULL;
}

/* Ask the emulator for handle h's page (a trap); NULL if it has none to give. */
static struct hh_image_page *ask(HelHandle h)
{
	hh_shim_internal(true);
	HelError e = hh_shim_call(HH_CALL_THREAD_IMAGE, 1, HH_ARGS((uint64_t)(int64_t)h), NULL);
	hh_shim_internal(false);
	int fd = e ? -1 : hh_shim_recv_fd();
	if (fd < 0)
		return NULL;
	void *page = mmap(NULL, IMAGE_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	return page == MAP_FAILED ? NULL : page;
}

/*
 * Handle h's page, with the lock held (the caller unlocks), or NULL and
 * unlocked.  A handle libhel does not know yet costs one trap.
 */
static struct hh_image_page *lock_page(HelHandle h)
{
	pthread_once(&images.once, init_once);
	pthread_mutex_lock(&images.lock);
	struct known *k = find(h);
	if (k && !(__atomic_load_n(&k->page->state, __ATOMIC_ACQUIRE) & HH_IMAGE_DEAD))
		return k->page;
	if (k)
		forget(k);
	pthread_mutex_unlock(&images.lock);
	struct hh_image_page *page = ask(h);
	if (!page)
		return NULL;
	pthread_mutex_lock(&images.lock);
	/* Another thread may have asked meanwhile: the newer page is as good. */
	if ((k = find(h)))
		forget(k);
	for (unsigned i = 0; i < KNOWN_MAX && !k; i++)
		if (!images.known[i].page)
			k = &images.known[i];
	if (!k) {
		k = &images.known[images.next];
		images.next = (images.next + 1) % KNOWN_MAX;
		forget(k);
	}
	*k = (struct known){ h, page };
	return page;
}

/* Handles that never name a created thread: the emulator answers them (and refuses). */
static bool never_local(HelHandle h, int set)
{
	return h == kHelThisThread || h == kHelNullHandle || !hh_image_set_size(set);
}

bool hh_shim_image_load(HelHandle handle, int set, void *image, HelError *e)
{
	if (never_local(handle, set))
		return false;
	struct hh_image_page *page = lock_page(handle);
	if (!page)
		return false;
	/* A seqlock read (callpage.h): the image of one stop, or nothing. */
	uint64_t before = __atomic_load_n(&page->state, __ATOMIC_ACQUIRE);
	struct user_regs_struct regs;
	memcpy(&regs, (const void *)&page->regs, sizeof(regs));
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	uint64_t after = __atomic_load_n(&page->state, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&images.lock);
	if (before != after || (before & (HH_IMAGE_STOPPED | HH_IMAGE_BUSY)) != HH_IMAGE_STOPPED)
		return false;
	uint64_t w[19];
	hh_image_load(&regs, set, w);
	/* The emulator's order: the thread is stopped, then the buffer must take the image. */
	*e = hh_shim_store(kHelErrNone, image, w, hh_image_set_size(set));
	return true;
}

/* Write set's image w into the page under BUSY (callpage.h); false if that was not possible. */
static bool store_locked(struct hh_image_page *page, int set, const uint64_t *w)
{
	uint64_t was = __atomic_load_n(&page->state, __ATOMIC_ACQUIRE);
	if ((was & (HH_IMAGE_STOPPED | HH_IMAGE_BUSY)) != HH_IMAGE_STOPPED)
		return false;
	if (!__atomic_compare_exchange_n(&page->state, &was, was | HH_IMAGE_BUSY, false,
			__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return false;
	hh_image_store(&page->regs, set, w);
	uint64_t busy = was | HH_IMAGE_BUSY;
	uint64_t done = (was + HH_IMAGE_VERSION) | HH_IMAGE_DIRTY(set);
	/* Release: the registers before the bit that tells the emulator to take them. */
	return __atomic_compare_exchange_n(&page->state, &busy, done, false, __ATOMIC_RELEASE,
			__ATOMIC_RELAXED);
}

bool hh_shim_image_store(HelHandle handle, int set, const void *image, HelError *e)
{
	if (never_local(handle, set))
		return false;
	struct hh_image_page *page = lock_page(handle);
	if (!page)
		return false;
	/* The emulator's order: the handle (known here), the set, then the buffer, then the state. */
	uint64_t w[19];
	*e = hh_shim_get(w, image, hh_image_set_size(set));
	bool answered = *e || store_locked(page, set, w);
	pthread_mutex_unlock(&images.lock);
	return answered;
}

void hh_shim_image_forget(HelHandle h)
{
	pthread_once(&images.once, init_once);
	pthread_mutex_lock(&images.lock);
	struct known *k = find(h);
	if (k)
		forget(k);
	pthread_mutex_unlock(&images.lock);
}
