/*
 * `helhost status` and `helhost trace on|off`: a running emulator listens on
 * an abstract Unix socket named after its pid ("@helhost-emulator-PID", no
 * file to clean up); a client of the same user (SO_PEERCRED) gets the state
 * dump (dump.c) or switches the trace.  Any other user is refused; a client
 * that sends nothing for 2 s is dropped.
 */
#ifndef HH_STATUS_H
#define HH_STATUS_H

#define HH_STATUS_PREFIX "helhost-emulator-"

/* Listen, served from the loop; 0 or -errno.  After hh_loop_init(). */
int hh_status_init(void);

/*
 * The client: send command ("status", "trace on", "trace off") to the
 * emulator pid_arg names (NULL: the only one of the caller's user) and copy
 * its answer to stdout.  Returns the exit status (0, or 1 after saying why).
 */
int hh_status_request(const char *command, const char *pid_arg);

#endif
