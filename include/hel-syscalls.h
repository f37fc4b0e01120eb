/*
 * hel-syscalls.h: compatibility header (helhost edition).
 *
 * On Managarm this header turns every hel* function into an inline system
 * call.  On helhost the hel* functions are real functions exported by libhel,
 * so this header only makes hel.h available, plus the register-word type that
 * Managarm code built against the system-call stubs may name.
 */
#ifndef HEL_SYSCALLS_H
#define HEL_SYSCALLS_H

#include "hel.h"

/* One register-sized argument or result of a Hel system call. */
typedef uint64_t HelWord;

#endif /* HEL_SYSCALLS_H */
