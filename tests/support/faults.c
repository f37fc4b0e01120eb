/*
 * Fault injection for tests, by LD_PRELOAD: the failures a healthy machine
 * never produces, so that the paths that handle them run.  HELHOST_FAULTS
 * holds words:
 *   alloc:SKIP:EVERY:LIMIT  malloc, calloc and realloc fail (ENOMEM) for every
 *                           EVERY-th allocation after the first SKIP, LIMIT times
 *   nocopy                  copy_file_range fails with ENOSYS (an old kernel)
 *   eintr                   every other copy_file_range, pread and pwrite is
 *                           interrupted (EINTR) before it does anything
 *   noseek                  lseek(SEEK_DATA) fails with EINVAL (a file system
 *                           without it)
 *   eio:copy, eio:pread, eio:pwrite, eio:hole
 *                           every copy_file_range, pread, pwrite or
 *                           lseek(SEEK_HOLE) fails with EIO (a broken disk)
 *   noprocmap               the PROCMAP_QUERY ioctl fails with ENOTTY (a kernel
 *                           older than 6.11)
 *   fail:WHAT[:NTH]         the NTH call (default the first) of one kind fails,
 *                           once per process (a forked child that has not seen
 *                           it fails it too):
 *                           status (open of /proc/PID/status), getfd
 *                           (pidfd_getfd), pidfd (pidfd_open), seals (F_GET_SEALS),
 *                           sockopt (getsockopt), syncwake, idvalid, addfd (the
 *                           seccomp notification ioctls), nnp (PR_SET_NO_NEW_PRIVS),
 *                           seccomp (installing a filter), fork, socketpair, pipe (pipe2), rlimit
 *                           (getrlimit), dumpable (PR_SET_DUMPABLE), capget, capset,
 *                           capbset (PR_CAPBSET_DROP), ambient (PR_CAP_AMBIENT),
 *                           memfd (memfd_create), unshare, uidmap (open of
 *                           /proc/self/uid_map), spawn (posix_spawn), and its
 *                           setup: spawnfa (posix_spawn_file_actions_init),
 *                           spawnattr (posix_spawnattr_init), adddup (…_adddup2),
 *                           closefrom (…_addclosefrom_np),
 *                           sigmask (posix_spawnattr_setsigmask), spawnflags
 *                           (posix_spawnattr_setflags); and what libhel does in
 *                           a program as it starts: ftruncate, addseals
 *                           (F_ADD_SEALS), mapshared (mmap of a file, MAP_SHARED),
 *                           arena (mmap of an inaccessible reservation),
 *                           pthreadkey (pthread_key_create), getrandom (EINTR);
 *                           and as the emulator starts a thread's stub:
 *                           blockchld (sigprocmask blocking SIGCHLD), chldfd
 *                           (signalfd of SIGCHLD), exe (readlink of
 *                           /proc/self/exe), dupfd (fcntl F_DUPFD_CLOEXEC);
 *                           setprio (setpriority of a thread named by its id, EINVAL)
 *   ptrace:REQ:NTH          the NTH ptrace call with request number REQ fails
 *                           with ESRCH (as if the tracee had vanished), once
 *   kill:REQ:NTH[:SIG]      right before the NTH ptrace call with request number
 *                           REQ, its tracee gets signal SIG (default SIGKILL:
 *                           killed from outside between two requests), and the
 *                           call waits until the tracee has died or stopped for
 *                           it (not reaping it), so that what comes next meets
 *                           that state for certain; once
 *   killafter:REQ:NTH[:SIG] the same right after that call has returned (a
 *                           tracee that dies once it runs again)
 * The number of faults injected so far is kept in the file HELHOST_FAULTS_COUNT
 * names (shared across fork), for the test to see that they really happened.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Older headers lack it (as in src/host/trap.c). */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif

void *__libc_malloc(size_t size);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t size);

static unsigned long skip, every, limit, allocations, interruptible;
static bool nocopy, eintr, noprocmap, noseek, eio_copy, eio_pread, eio_pwrite, eio_hole;
static long (*real_syscall)(long nr, ...);
static unsigned long *injected;
static char fail_what[16];
static unsigned long fail_nth = 1, fail_seen;
static unsigned long ptrace_request, ptrace_nth, ptrace_seen;
static unsigned long kill_request, kill_nth, kill_seen, kill_signal = SIGKILL;
static bool kill_after;

__attribute__((constructor)) static void configure(void)
{
	real_syscall = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
	const char *env = getenv("HELHOST_FAULTS");
	const char *path = getenv("HELHOST_FAULTS_COUNT");
	if (!env || !path)
		return;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, sizeof(*injected)) < 0)
		return;
	void *p = mmap(NULL, sizeof(*injected), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return;
	injected = p;
	const char *a = strstr(env, "alloc:");
	if (a && sscanf(a, "alloc:%lu:%lu:%lu", &skip, &every, &limit) != 3)
		every = 0;
	nocopy = strstr(env, "nocopy");
	eintr = strstr(env, "eintr");
	noseek = strstr(env, "noseek");
	noprocmap = strstr(env, "noprocmap");
	eio_copy = strstr(env, "eio:copy");
	eio_pread = strstr(env, "eio:pread");
	eio_pwrite = strstr(env, "eio:pwrite");
	eio_hole = strstr(env, "eio:hole");
	const char *t = strstr(env, "ptrace:");
	if (t && sscanf(t, "ptrace:%lu:%lu", &ptrace_request, &ptrace_nth) != 2)
		ptrace_nth = 0;
	const char *k = strstr(env, "kill:");
	if (!k && (k = strstr(env, "killafter:")))
		kill_after = true;
	if (k && sscanf(k, "%*[a-z]:%lu:%lu:%lu", &kill_request, &kill_nth, &kill_signal) < 2)
		kill_nth = 0;
	const char *f = strstr(env, "fail:");
	if (f && sscanf(f, "fail:%15[a-z]:%lu", fail_what, &fail_nth) < 1)
		fail_what[0] = 0;
}

/* Count a fault, set errno and tell the caller to fail. */
static bool inject(int error)
{
	__atomic_fetch_add(injected, 1, __ATOMIC_RELAXED);
	errno = error;
	return true;
}

/* fail:WHAT[:NTH]: the NTH call of this kind fails. */
static bool fail_once(const char *what, int error)
{
	if (!injected || strcmp(fail_what, what) ||
			__atomic_add_fetch(&fail_seen, 1, __ATOMIC_RELAXED) != fail_nth)
		return false;
	return inject(error);
}

static bool fail_alloc(void)
{
	unsigned long n = __atomic_fetch_add(&allocations, 1, __ATOMIC_RELAXED);
	if (!injected || !every || n < skip || (n - skip) % every ||
			__atomic_load_n(injected, __ATOMIC_RELAXED) >= limit)
		return false;
	return inject(ENOMEM);
}

static bool interrupt(void)
{
	return eintr && __atomic_fetch_add(&interruptible, 1, __ATOMIC_RELAXED) % 2 == 0 &&
		inject(EINTR);
}

void *malloc(size_t size)
{
	return fail_alloc() ? NULL : __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
	return fail_alloc() ? NULL : __libc_calloc(n, size);
}

void *realloc(void *p, size_t size)
{
	return fail_alloc() ? NULL : __libc_realloc(p, size);
}

ssize_t copy_file_range(int in, off_t *in_off, int out, off_t *out_off, size_t len, unsigned flags)
{
	if ((nocopy && inject(ENOSYS)) || (eio_copy && inject(EIO)) || interrupt())
		return -1;
	return real_syscall(SYS_copy_file_range, in, in_off, out, out_off, len, flags);
}

ssize_t pread(int fd, void *buf, size_t len, off_t offset)
{
	if ((eio_pread && inject(EIO)) || interrupt())
		return -1;
	return real_syscall(SYS_pread64, fd, buf, len, offset);
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t offset)
{
	if ((eio_pwrite && inject(EIO)) || interrupt())
		return -1;
	return real_syscall(SYS_pwrite64, fd, buf, len, offset);
}

off_t lseek(int fd, off_t offset, int whence)
{
	if ((whence == SEEK_DATA && noseek && inject(EINVAL)) ||
			(whence == SEEK_HOLE && eio_hole && inject(EIO)))
		return -1;
	return real_syscall(SYS_lseek, fd, offset, whence);
}

static bool is_proc_status(const char *path)
{
	size_t n = strlen(path);
	return !strncmp(path, "/proc/", 6) && n > 7 && !strcmp(path + n - 7, "/status");
}

int open(const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t mode = (mode_t)va_arg(ap, int);
	va_end(ap);
	if ((is_proc_status(path) && fail_once("status", ENOENT)) ||
			(!strcmp(path, "/proc/self/uid_map") && fail_once("uidmap", EACCES)))
		return -1;
	return (int)real_syscall(SYS_openat, AT_FDCWD, path, flags, mode);
}

long syscall(long nr, ...)
{
	va_list ap;
	va_start(ap, nr);
	long a[6];
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if ((nr == SYS_pidfd_getfd && fail_once("getfd", EBADF)) ||
			(nr == SYS_pidfd_open && fail_once("pidfd", ESRCH)) ||
			(nr == SYS_seccomp && fail_once("seccomp", EINVAL)) ||
			(nr == SYS_capget && fail_once("capget", EFAULT)) ||
			(nr == SYS_capset && fail_once("capset", EPERM)))
		return -1;
	return real_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	long arg = va_arg(ap, long);
	va_end(ap);
	if ((cmd == F_GET_SEALS && fail_once("seals", EINVAL)) ||
			(cmd == F_ADD_SEALS && fail_once("addseals", EPERM)) ||
			(cmd == F_DUPFD_CLOEXEC && fail_once("dupfd", EMFILE)))
		return -1;
	return (int)real_syscall(SYS_fcntl, fd, cmd, arg);
}

int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
	if (how == SIG_BLOCK && set && sigismember(set, SIGCHLD) == 1 && fail_once("blockchld", EINVAL))
		return -1;
	return (int)real_syscall(SYS_rt_sigprocmask, how, set, old, _NSIG / 8);
}

int signalfd(int fd, const sigset_t *mask, int flags)
{
	if (sigismember(mask, SIGCHLD) == 1 && fail_once("chldfd", ENOMEM))
		return -1;
	return (int)real_syscall(SYS_signalfd4, fd, mask, _NSIG / 8, flags);
}

ssize_t readlink(const char *path, char *buf, size_t len)
{
	if (!strcmp(path, "/proc/self/exe") && fail_once("exe", EACCES))
		return -1;
	return real_syscall(SYS_readlinkat, AT_FDCWD, path, buf, len);
}

int setpriority(__priority_which_t which, id_t who, int prio)
{
	if (who != 0 && fail_once("setprio", EINVAL))
		return -1;
	return (int)real_syscall(SYS_setpriority, which, who, prio);
}

int getsockopt(int fd, int level, int name, void *value, socklen_t *len)
{
	if (fail_once("sockopt", EBADF))
		return -1;
	return (int)real_syscall(SYS_getsockopt, fd, level, name, value, len);
}

int ioctl(int fd, unsigned long request, ...)
{
	va_list ap;
	va_start(ap, request);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	if ((request == SECCOMP_IOCTL_NOTIF_SET_FLAGS && fail_once("syncwake", EINVAL)) ||
			(request == SECCOMP_IOCTL_NOTIF_ID_VALID && fail_once("idvalid", ENOENT)) ||
			(request == SECCOMP_IOCTL_NOTIF_ADDFD && fail_once("addfd", EBUSY)) ||
			(_IOC_TYPE(request) == 'f' && _IOC_NR(request) == 17 && noprocmap && inject(ENOTTY)))
		return -1;
	return (int)real_syscall(SYS_ioctl, fd, request, arg);
}

int prctl(int option, ...)
{
	va_list ap;
	va_start(ap, option);
	unsigned long a[4];
	for (int i = 0; i < 4; i++)
		a[i] = va_arg(ap, unsigned long);
	va_end(ap);
	if ((option == PR_SET_NO_NEW_PRIVS && fail_once("nnp", EPERM)) ||
			(option == PR_SET_DUMPABLE && fail_once("dumpable", EINVAL)) ||
			(option == PR_CAPBSET_DROP && fail_once("capbset", EFAULT)) ||
			(option == PR_CAP_AMBIENT && fail_once("ambient", EFAULT)))
		return -1;
	return (int)real_syscall(SYS_prctl, option, a[0], a[1], a[2], a[3]);
}

pid_t fork(void)
{
	static pid_t (*real_fork)(void);
	if (!real_fork)
		real_fork = (pid_t (*)(void))dlsym(RTLD_NEXT, "fork");
	if (fail_once("fork", EAGAIN))
		return -1;
	return real_fork();
}

int socketpair(int domain, int type, int protocol, int sv[2])
{
	if (fail_once("socketpair", EMFILE))
		return -1;
	return (int)real_syscall(SYS_socketpair, domain, type, protocol, sv);
}

int pipe2(int fds[2], int flags)
{
	if (fail_once("pipe", EMFILE))
		return -1;
	return (int)real_syscall(SYS_pipe2, fds, flags);
}

int getrlimit(__rlimit_resource_t resource, struct rlimit *r)
{
	if (fail_once("rlimit", EPERM))
		return -1;
	return (int)real_syscall(SYS_getrlimit, resource, r);
}

int memfd_create(const char *name, unsigned flags)
{
	if (fail_once("memfd", EMFILE))
		return -1;
	return (int)real_syscall(SYS_memfd_create, name, flags);
}

int unshare(int flags)
{
	if (fail_once("unshare", EPERM))
		return -1;
	return (int)real_syscall(SYS_unshare, flags);
}

int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *actions,
		const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	static int (*real_spawn)(pid_t *, const char *, const posix_spawn_file_actions_t *,
			const posix_spawnattr_t *, char *const[], char *const[]);
	if (!real_spawn)
		real_spawn = (int (*)(pid_t *, const char *, const posix_spawn_file_actions_t *,
				const posix_spawnattr_t *, char *const[], char *const[]))
				dlsym(RTLD_NEXT, "posix_spawn");
	/* posix_spawn answers its error instead of setting errno. */
	if (fail_once("spawn", EAGAIN))
		return EAGAIN;
	return real_spawn(pid, path, actions, attr, argv, envp);
}

/* True if tid sits in a ptrace stop already (state 't' in /proc/TID/stat). */
static bool in_trace_stop(pid_t tid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)tid);
	int fd = (int)real_syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	const char *paren = strrchr(buf, ')');
	return paren && paren[1] == ' ' && paren[2] == 't';
}

/*
 * kill:REQ:NTH[:SIG]: the tracee is signalled, and its death or its stop for
 * the signal awaited without taking it from the tracer's own waitpid.  A
 * tracee held in a stop already keeps any other signal queued for its next
 * resume (waiting for it would wait for ourselves).
 */
static void signal_tracee(pid_t tid)
{
	int saved = errno;
	bool stopped = kill_signal != SIGKILL && in_trace_stop(tid);
	if (real_syscall(SYS_tkill, tid, (int)kill_signal) == 0 && !stopped) {
		siginfo_t info;
		int await = kill_signal == SIGKILL ? WEXITED : WEXITED | WSTOPPED;
		while (waitid(P_PID, (id_t)tid, &info, await | WNOWAIT | __WALL) < 0 &&
				errno == EINTR)
			;
	}
	__atomic_fetch_add(injected, 1, __ATOMIC_RELAXED);
	errno = saved;
}

/* Declared without <sys/ptrace.h>, whose enum would clash; the ABI is the same. */
long ptrace(int request, ...)
{
	static long (*real_ptrace)(int, ...);
	if (!real_ptrace)
		real_ptrace = (long (*)(int, ...))dlsym(RTLD_NEXT, "ptrace");
	va_list ap;
	va_start(ap, request);
	long pid = va_arg(ap, long);
	void *addr = va_arg(ap, void *), *data = va_arg(ap, void *);
	va_end(ap);
	if (injected && ptrace_nth && (unsigned long)request == ptrace_request &&
			__atomic_add_fetch(&ptrace_seen, 1, __ATOMIC_RELAXED) == ptrace_nth && inject(ESRCH))
		return -1;
	bool signal = injected && kill_nth && (unsigned long)request == kill_request &&
			__atomic_add_fetch(&kill_seen, 1, __ATOMIC_RELAXED) == kill_nth;
	if (signal && !kill_after)
		signal_tracee((pid_t)pid);
	long ret = real_ptrace(request, pid, addr, data);
	if (signal && kill_after)
		signal_tracee((pid_t)pid);
	return ret;
}

/* The setup of a posix_spawn: each answers its error, as posix_spawn does. */
#define SPAWN_SETUP(ret, name, what, params, args) \
	ret name params \
	{ \
		static ret (*real) params; \
		if (!real) \
			real = (ret (*) params)dlsym(RTLD_NEXT, #name); \
		if (fail_once(what, ENOMEM)) \
			return ENOMEM; \
		return real args; \
	}

SPAWN_SETUP(int, posix_spawn_file_actions_init, "spawnfa", (posix_spawn_file_actions_t *a), (a))
SPAWN_SETUP(int, posix_spawnattr_init, "spawnattr", (posix_spawnattr_t *a), (a))
SPAWN_SETUP(int, posix_spawn_file_actions_adddup2, "adddup", (posix_spawn_file_actions_t *a,
		int fd, int to), (a, fd, to))
SPAWN_SETUP(int, posix_spawn_file_actions_addclosefrom_np, "closefrom",
		(posix_spawn_file_actions_t *a, int from), (a, from))
SPAWN_SETUP(int, posix_spawnattr_setsigmask, "sigmask", (posix_spawnattr_t *a,
		const sigset_t *set), (a, set))
SPAWN_SETUP(int, posix_spawnattr_setflags, "spawnflags", (posix_spawnattr_t *a, short flags),
		(a, flags))

int ftruncate(int fd, off_t length)
{
	if (fail_once("ftruncate", EFBIG))
		return -1;
	return (int)real_syscall(SYS_ftruncate, fd, length);
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t offset)
{
	if ((fd >= 0 && (flags & MAP_SHARED) && fail_once("mapshared", ENOMEM)) ||
			(prot == PROT_NONE && (flags & MAP_NORESERVE) && fail_once("arena", ENOMEM)))
		return MAP_FAILED;
	/* Libraries may map before this library's constructor has run. */
	if (!real_syscall)
		real_syscall = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
	return (void *)real_syscall(SYS_mmap, addr, len, prot, flags, fd, offset);
}

int pthread_key_create(pthread_key_t *key, void (*destructor)(void *))
{
	static int (*real)(pthread_key_t *, void (*)(void *));
	if (!real)
		real = (int (*)(pthread_key_t *, void (*)(void *)))dlsym(RTLD_NEXT, "pthread_key_create");
	/* It answers its error instead of setting errno. */
	if (fail_once("pthreadkey", EAGAIN))
		return EAGAIN;
	return real(key, destructor);
}

ssize_t getrandom(void *buf, size_t len, unsigned flags)
{
	if (fail_once("getrandom", EINTR))
		return -1;
	return real_syscall(SYS_getrandom, buf, len, flags);
}
