/* `helhost run`: start programs with the trap installed before exec. */
#ifndef HH_LAUNCHER_H
#define HH_LAUNCHER_H

#include <signal.h>
#include <stdbool.h>
#include <sys/resource.h>

struct hh_process;

/*
 * Can file be executed (searched in PATH like execvp when it has no '/')?
 * 0 or -errno, so that a run that cannot start says why before it starts.
 */
int hh_launch_check(const char *file);
/*
 * Start argv[0] with argv and the given fd limit, in namespaces of its own
 * if isolate (isolate.h), as the index-th program of the run (0: a service,
 * see --mbus).  Returns its pid once its execve has succeeded, or -errno
 * after saying why on stderr; *not_executed then tells whether that errno
 * is execve's (the file passed hh_launch_check but could not be executed:
 * removed since, a missing interpreter) rather than the emulator's own.
 */
int hh_launch(char **argv, const struct rlimit *fd_limit, bool isolate, int index, bool *not_executed);
/* The status a shell gives a command that execve refuses with err: 127 not found, else 126. */
int hh_launch_exec_status(int err);
/* One line on stderr for a launched program's end, like strace's "+++ killed by SIGSEGV +++". */
void hh_launch_report_end(const struct hh_process *p, const siginfo_t *info);
/* Auto-start: receive the listener of the program that started us on sock. */
int hh_accept_listener(int sock);

#endif
