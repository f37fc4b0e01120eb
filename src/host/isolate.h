/*
 * `helhost run --isolate`: each program in a user namespace and a PID
 * namespace of its own, so that programs reach each other only through Hel.
 * Both functions run in a launched child between fork and exec.
 */
#ifndef HH_ISOLATE_H
#define HH_ISOLATE_H

/* Enter a new user namespace (our ids mapped to themselves) and a new PID
 * namespace for the children to come.  Returns 0 or -errno. */
int hh_isolate_enter(void);
/* Become the keeper of the program: fork the namespace's init, which runs
 * exec_program(argv) as pid 2; exit with the program's status. */
_Noreturn void hh_isolate_run(char **argv, void (*exec_program)(char **argv));

#endif
