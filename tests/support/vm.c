#include "vm.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096ul
/* A child making one access cannot take long; this only guards against a hang. */
#define CHILD_DEADLINE_MS 30000

char *vm_snapshot(void)
{
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	size_t cap = 16384, len = 0;
	char *text = malloc(cap);
	ck_assert_ptr_nonnull(text);
	for (;;) {
		if (cap - len < 4096) {
			cap *= 2;
			text = realloc(text, cap);
			ck_assert_ptr_nonnull(text);
		}
		ssize_t n = read(fd, text + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		ck_assert_int_ge(n, 0);
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	text[len] = 0;
	return text;
}

static bool parse_line(const char *line, struct vm_area *a)
{
	unsigned long start, end;
	int path_at = 0;
	if (sscanf(line, "%lx-%lx %4s %*s %*s %*s%n", &start, &end, a->perms, &path_at) < 3 || !path_at)
		return false;
	a->start = start;
	a->end = end;
	/* An anonymous mapping has no path: stop at the end of the line. */
	path_at += (int)strspn(line + path_at, " \t");
	size_t n = strcspn(line + path_at, "\n");
	if (n >= sizeof(a->path))
		n = sizeof(a->path) - 1;
	memcpy(a->path, line + path_at, n);
	a->path[n] = 0;
	return true;
}

bool vm_area_at(const void *addr, struct vm_area *out)
{
	char *text = vm_snapshot();
	bool found = false;
	for (char *line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		struct vm_area a;
		if (parse_line(line, &a) && a.start <= (uintptr_t)addr && (uintptr_t)addr < a.end) {
			*out = a;
			found = true;
			break;
		}
	}
	free(text);
	return found;
}

/* Shared memfd mappings that the emulator made ("hel-memory", "hel-queue"). */
static bool is_hel_area(const struct vm_area *a)
{
	return a->perms[3] == 's' && strncmp(a->path, "/memfd:hel-", 11) == 0;
}

bool vm_hel_mapped(const void *p, size_t len, const char *perms)
{
	for (uintptr_t at = (uintptr_t)p; at < (uintptr_t)p + len; at += PAGE) {
		struct vm_area a;
		if (!vm_area_at((void *)at, &a) || !is_hel_area(&a) || strcmp(a.perms, perms))
			return false;
	}
	return true;
}

bool vm_unmapped(const void *p, size_t len)
{
	for (uintptr_t at = (uintptr_t)p; at < (uintptr_t)p + len; at += PAGE) {
		struct vm_area a;
		if (vm_area_at((void *)at, &a) && strcmp(a.perms, "---p"))
			return false;
	}
	return true;
}

/*
 * The raw clone skips libhel's fork handlers: the child makes no Hel call, so
 * the emulator need not learn of it, and it is a copy the test can lose.
 */
static void child_access(volatile char *p, bool write)
{
	prctl(PR_SET_DUMPABLE, 0);      /* the expected fault leaves no core file */
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigaction(SIGSEGV, &dfl, NULL);
	sigaction(SIGBUS, &dfl, NULL);
	char c = *p;
	if (write)
		*p = c;
	syscall(SYS_exit_group, 0);
}

static bool access_survives(volatile char *p, bool write)
{
	pid_t pid = (pid_t)syscall(SYS_clone, SIGCHLD, 0, NULL, NULL, 0);
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		child_access(p, write);
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	ck_assert_int_ge(pidfd, 0);
	struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
	int ready;
	do
		ready = poll(&pfd, 1, CHILD_DEADLINE_MS);
	while (ready < 0 && errno == EINTR);
	close(pidfd);
	if (ready != 1)
		kill(pid, SIGKILL);
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(ready == 1, "the child touching %p did not end", (void *)p);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return true;
	ck_assert_msg(WIFSIGNALED(status) && (WTERMSIG(status) == SIGSEGV || WTERMSIG(status) == SIGBUS),
			"the child touching %p ended with status %#x", (void *)p, status);
	return false;
}

bool vm_can_read(const void *p)
{
	return access_survives((volatile char *)p, false);
}

bool vm_can_write(void *p)
{
	return access_survives((volatile char *)p, true);
}
