/*
 * Moving message bytes between programs.  The emulator's copy goes through
 * process_vm_readv/writev; a side whose buffer is Hel memory is read or
 * written through the emulator's own mapping of it, so that the bytes move
 * once.
 */
#ifndef HH_TRANSFER_H
#define HH_TRANSFER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum hh_transfer_result {
	HH_TRANSFER_OK = 0,
	HH_TRANSFER_SOURCE_FAULT,
	HH_TRANSFER_DEST_FAULT,
};

/* Copy len bytes from src_addr in src_pid to dst_addr in dst_pid. */
enum hh_transfer_result hh_transfer(pid_t src_pid, uint64_t src_addr,
		pid_t dst_pid, uint64_t dst_addr, size_t len);

/* Copy len bytes from the emulator's src to dst_addr in dst_pid. */
enum hh_transfer_result hh_transfer_out(const void *src, pid_t dst_pid, uint64_t dst_addr,
		size_t len);

#endif
