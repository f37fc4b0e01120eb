#include "alive.h"

#include <errno.h>
#include <linux/futex.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "callpage.h"
#include "quota.h"

static struct {
	int fd;
	struct robust_list_head head;
} alive = { .fd = -1 };

int hh_alive_init(void)
{
	/* Sealed: every program gets this fd, and none may shrink it under us. */
	alive.fd = hh_memfd_create("helhost-alive", 4096);
	if (alive.fd < 0)
		return -errno;
	char *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, alive.fd, 0);
	if (page == MAP_FAILED)
		return -errno;
	/* The list entry sits at the start of the page, the owned word after it. */
	struct robust_list *entry = (struct robust_list *)page;
	uint32_t *word = (uint32_t *)(page + HH_ALIVE_WORD_OFFSET);
	*word = (uint32_t)gettid();
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
