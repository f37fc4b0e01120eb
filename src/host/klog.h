/* The kernel log: helLog and helPanic output, one line per record on stderr. */
#ifndef HH_KLOG_H
#define HH_KLOG_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Log one piece of at most 256 bytes the way thor splits it: a line ends at
 * '\n', at a NUL (the rest of the piece is dropped) or at the piece's end.
 */
void hh_klog_piece(const char *prog, pid_t pid, int severity, const char *piece, size_t len);
void hh_klog_panic(const char *prog, pid_t pid, pid_t tid, const char *msg, size_t len);

#endif
