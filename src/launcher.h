/* `helhost run`: start programs with the trap installed before exec. */
#ifndef HH_LAUNCHER_H
#define HH_LAUNCHER_H

#include <stdbool.h>
#include <sys/resource.h>

/*
 * Start argv[0] with argv and the given fd limit, in namespaces of its own
 * if isolate (isolate.h); returns its pid or -errno.
 */
int hh_launch(char **argv, const struct rlimit *fd_limit, bool isolate);
/* Auto-start: receive the listener of the program that started us on sock. */
int hh_accept_listener(int sock);

#endif
