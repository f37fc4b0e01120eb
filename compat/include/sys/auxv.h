/*
 * <sys/auxv.h> for Managarm code built against helhost.
 *
 * Managarm's C library (mlibc) has peekauxval and keys in the auxiliary
 * vector for the handles a program starts with; glibc has neither.  Put the
 * folder holding this sys/ before the system's headers (pkg-config
 * helhost-managarm, or the CMake target helhost::managarm, do that) and
 * link libhelhost-managarm: Managarm code that includes <sys/auxv.h> then
 * compiles unchanged.  Everything glibc's header declares stays available.
 */
#ifndef HELHOST_MANAGARM_SYS_AUXV_H
#define HELHOST_MANAGARM_SYS_AUXV_H

#include_next <sys/auxv.h>

/*
 * The keys of Managarm's ABI.  Linux's own keys stop far below, and Linux
 * never puts these in a process's vector: helhost's library answers them
 * from HELHOST_AUXV (docs/MANAGARM.md).
 */
#define AT_XPIPE 0x1000         /* the lane the program serves (mbus: its clients' lane) */
#define AT_OPENFILES 0x1001     /* the file table the POSIX server gave the program */
#define AT_FS_SERVER 0x1102     /* a lane to the file-system server */
#define AT_MBUS_SERVER 0x1103   /* a lane to mbus */

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The value of key type in *value: 0, or -1 with errno ENOENT when the
 * program has no such entry.  Linux's keys come from getauxval.
 */
__attribute__((visibility("default"))) int peekauxval(unsigned long type, unsigned long *value);

#ifdef __cplusplus
}
#endif

#endif
