/*
 * What the emulator lets others do to it, and what it keeps for itself.
 *
 * Programs run as the emulator's user, so by Linux's rules they could
 * ptrace it, read its memory and copy its fds (its memfds, its seccomp
 * listeners).  A non-dumpable process can be reached that way only by a
 * process with CAP_SYS_PTRACE over it.
 *
 * Started as root, the emulator would keep every capability while serving
 * untrusted programs.  It needs two:
 *   CAP_SYS_PTRACE  pidfd_getfd, process_vm_* and /proc/PID/mem on programs
 *                   need ptrace access; a root program holds capabilities the
 *                   emulator would otherwise have to hold too (the tracer's
 *                   permitted set must contain the tracee's).
 *   CAP_SYS_NICE    helSetPriority above the default (a negative nice value).
 * Everything else goes, from the bounding set too (where CAP_SETPCAP allows),
 * once the programs are launched (they get theirs from the bounding set at
 * exec).  Without CAP_SYS_PTRACE (a container may withhold it) the emulator
 * reaches root programs only because its permitted set equals theirs, so
 * then it keeps its set as it is.
 */
#include "privilege.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define KEPT ((1u << CAP_SYS_PTRACE) | (1u << CAP_SYS_NICE))

int hh_privilege_protect(void)
{
	return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 ? -errno : 0;
}

static int last_cap(void)
{
	int last = CAP_LAST_CAP;
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	if (f) {
		if (fscanf(f, "%d", &last) != 1)
			last = CAP_LAST_CAP;
		fclose(f);
	}
	return last;
}

int hh_privilege_drop(void)
{
	struct __user_cap_header_struct head = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];
	if (syscall(SYS_capget, &head, data) < 0)
		return -errno;
	if (!data[0].permitted && !data[1].permitted && !data[0].inheritable && !data[1].inheritable)
		return 0;       /* nothing to give up: the usual case */
	if (!(data[0].permitted & (1u << CAP_SYS_PTRACE)))
		return 0;
	/* The bounding set first: dropping from it needs CAP_SETPCAP, which goes next. */
	for (int cap = 0; cap <= last_cap(); cap++)
		if (cap >= 32 || !(KEPT & (1u << cap)))
			if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL && errno != EPERM)
				return -errno;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -errno;
	data[0].permitted &= KEPT;
	data[0].effective = data[0].permitted;
	data[0].inheritable = 0;
	data[1].permitted = data[1].effective = data[1].inheritable = 0;
	return syscall(SYS_capset, &head, data) < 0 ? -errno : 0;
}
