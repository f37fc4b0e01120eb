/*
 * The only way the emulator touches a program's memory.  Both return
 * kHelErrFault unless every byte was transferred; nothing else in the
 * emulator dereferences or copies a program address.
 */
#ifndef HH_USERMEM_H
#define HH_USERMEM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hel.h"

__attribute__((warn_unused_result))
HelError hh_user_read(pid_t pid, uint64_t addr, void *buf, size_t len);
__attribute__((warn_unused_result))
HelError hh_user_write(pid_t pid, uint64_t addr, const void *buf, size_t len);

#endif
