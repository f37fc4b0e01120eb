/*
 * `helhost run --isolate`: each program in a user namespace and a PID
 * namespace of its own, so that programs reach each other only through Hel.
 * Both functions run in a launched child between fork and exec.
 */
#ifndef HH_ISOLATE_H
#define HH_ISOLATE_H

/* Enter a new user namespace (our ids mapped to themselves) and a new PID
 * namespace for the children to come, keeping exec_fd (the launcher's
 * exec-status pipe) among the emulator's fds it closes.  Returns 0 or -errno. */
int hh_isolate_enter(int exec_fd);
/* Become the keeper of the program: fork the namespace's init, which runs
 * exec_program(argv, exec_fd) as pid 2; exit with the program's status. */
_Noreturn void hh_isolate_run(char **argv, int exec_fd, void (*exec_program)(char **argv, int exec_fd));

#endif
