#include "alive.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "callpage.h"

static struct {
	int fd;
	struct robust_list_head head;
} alive = { .fd = -1 };

int hh_alive_init(void)
{
	alive.fd = memfd_create("helhost-alive", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (alive.fd < 0 || ftruncate(alive.fd, 4096) < 0)
		return -errno;
	char *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, alive.fd, 0);
	if (page == MAP_FAILED)
		return -errno;
	/*
	 * Every program maps this page: only ours may write it, or one program
	 * could set FUTEX_OWNER_DIED and make all the others end.  Our mapping
	 * stays writable; every later one is read-only.
	 */
	if (fcntl(alive.fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE | F_SEAL_SEAL) < 0)
		return -errno;
	/* The list entry sits at the start of the page, the owned word after it. */
	struct robust_list *entry = (struct robust_list *)page;
	uint32_t *word = (uint32_t *)(page + HH_ALIVE_WORD_OFFSET);
	/* Waiters marked already: Linux wakes one at our death, and no program need write. */
	*word = (uint32_t)gettid() | FUTEX_WAITERS;
	entry->next = &alive.head.list;
	alive.head.list.next = entry;
	alive.head.futex_offset = HH_ALIVE_WORD_OFFSET;
	alive.head.list_op_pending = NULL;
	if (syscall(SYS_set_robust_list, &alive.head, sizeof(alive.head)) < 0)
		return -errno;
	return 0;
}

int hh_alive_fd(void)
{
	return alive.fd;
}
