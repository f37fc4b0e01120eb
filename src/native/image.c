/*
 * Register image pages (callpage.h, struct hh_image_page): the stopped
 * thread's registers where the programs holding its handle read and store
 * them without a trap.  The emulator's copy in native.c stays the truth;
 * the page is a view of it while the thread is stopped, and the sets a
 * program stored there are merged back before anything else uses them.
 */
#include "image.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "callpage.h"
#include "quota.h"

/* The memfd's size: a whole page, so that no access near its end can fault. */
#define IMAGE_PAGE 4096

struct hh_image {
	int fd;
	struct hh_image_page *page;     /* our mapping */
};

/* The sets a page carries, the ones whose DIRTY bits mean something. */
static const int page_sets[] = { kHelRegsProgram, kHelRegsGeneral, kHelRegsThread, kHelRegsSignal };

struct hh_image *hh_image_new(const struct user_regs_struct *regs, bool stopped, uint64_t sequence)
{
	struct hh_image *im = calloc(1, sizeof(*im));
	if (!im)
		return NULL;
	im->fd = hh_memfd_create("helhost-image", IMAGE_PAGE);
	if (im->fd >= 0) {
		im->page = mmap(NULL, IMAGE_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, im->fd, 0);
		if (im->page != MAP_FAILED) {
			if (stopped)
				hh_image_publish(im, regs, sequence);
			return im;
		}
		hh_memfd_close(im->fd);
	}
	free(im);
	return NULL;
}

int hh_image_fd(const struct hh_image *im)
{
	return im->fd;
}

/* The next state after old: its version bumped, with flags. */
static uint64_t next_state(uint64_t old, uint64_t flags)
{
	return ((old & ~(HH_IMAGE_VERSION - 1)) + HH_IMAGE_VERSION) | flags;
}

/* Called only while the page says the thread does not stop: no load or store uses regs now. */
void hh_image_publish(struct hh_image *im, const struct user_regs_struct *regs, uint64_t sequence)
{
	struct hh_image_page *p = im->page;
	uint64_t old = __atomic_load_n(&p->state, __ATOMIC_RELAXED);
	p->regs = *regs;
	p->sequence = sequence;
	/* Release: regs before the state that says they are the image. */
	__atomic_store_n(&p->state, next_state(old, HH_IMAGE_STOPPED), __ATOMIC_RELEASE);
}

bool hh_image_take(struct hh_image *im, struct user_regs_struct *regs)
{
	struct hh_image_page *p = im->page;
	uint64_t old = __atomic_load_n(&p->state, __ATOMIC_RELAXED);
	/* Acquire: the regs a store wrote before it set its DIRTY bit. */
	old = __atomic_exchange_n(&p->state, next_state(old, 0), __ATOMIC_ACQ_REL);
	if (old & HH_IMAGE_BUSY)
		return false;
	if (!(old & HH_IMAGE_STOPPED))
		return true;
	struct user_regs_struct stored;
	memcpy(&stored, (const void *)&p->regs, sizeof(stored));
	for (size_t i = 0; i < sizeof(page_sets) / sizeof(page_sets[0]); i++) {
		uint64_t w[19];
		if (!(old & HH_IMAGE_DIRTY(page_sets[i])))
			continue;
		hh_image_load(&stored, page_sets[i], w);
		hh_image_store(regs, page_sets[i], w);
	}
	return true;
}

void hh_image_drop(struct hh_image **slot)
{
	struct hh_image *im = *slot;
	if (!im)
		return;
	*slot = NULL;
	__atomic_store_n(&im->page->state, next_state(0, HH_IMAGE_DEAD), __ATOMIC_RELEASE);
	munmap(im->page, IMAGE_PAGE);
	hh_memfd_close(im->fd);
	free(im);
}
