/* The emulator's own protection: who may reach into it, what it may still do. */
#ifndef HH_PRIVILEGE_H
#define HH_PRIVILEGE_H

/* Programs of the same user can no longer ptrace, read or take fds from us. */
int hh_privilege_protect(void);
/* Keep only the capabilities serving needs (see privilege.c); 0 or -errno. */
int hh_privilege_drop(void);

#endif
