/* `helhost run`: start programs with the trap installed before exec. */
#ifndef HH_LAUNCHER_H
#define HH_LAUNCHER_H

/* Start argv[0] with argv; returns 0 or -errno. */
int hh_launch(char **argv);
/* Auto-start: receive the listener of the program that started us on sock. */
int hh_accept_listener(int sock);

#endif
