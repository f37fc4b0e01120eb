/*
 * helhost's extensions to the Hel API: things a hosted program may want that
 * Managarm's kernel has no call for.  Every name starts with helhost_.
 * docs/GUIDE.md (installed as share/doc/helhost/GUIDE.md) explains how to
 * use them with the Hel calls: queues, streams, the registry, futexes.
 */
#ifndef HELHOST_H
#define HELHOST_H

#include "hel.h"
#include "helhost-queue.h"    /* a ready-made completion-queue reader */

#ifdef __cplusplus
extern "C" {
#endif

/* The helhost release this libhel belongs to, e.g. "0.1.0". */
HEL_API const char *helhost_version(void);

/*
 * The registry: how programs of one emulator find each other.
 *
 * A server publishes a descriptor (usually one lane of a stream it keeps the
 * other lane of) under a name of 1 to 255 bytes; a client looks the name up
 * and gets its own handle to the same lane, on which it offers (kHelActionOffer)
 * to open a private conversation.  A name belongs to the program that
 * published it and disappears when that program exits or unpublishes it.
 *
 * helhost_publish: kHelErrAlreadyExists if the name is taken,
 * kHelErrNoDescriptor for an unknown handle, kHelErrIllegalArgs for a bad name.
 */
HEL_API HelError helhost_publish(const char *name, HelHandle handle);
/* kHelErrNoDescriptor if not published, kHelErrBadDescriptor if another program's. */
HEL_API HelError helhost_unpublish(const char *name);

/*
 * Look a name up asynchronously: the result is one element in queue with
 * context, a struct HelHandleResult whose handle is new in the caller's
 * universe.  If the name is not published yet the lookup waits until it is,
 * or until deadline (helGetClock nanoseconds; -1 waits forever), when it
 * completes with kHelErrCancelled.  *asyncId cancels it with helCancelAsync.
 */
HEL_API HelError helhost_submit_lookup(const char *name, int64_t deadline, HelHandle queue,
		uintptr_t context, uint64_t *asyncId);

/*
 * The same, waiting in the calling thread (on a private queue): returns the
 * lookup's error, kHelErrCancelled when the deadline passed first.
 */
HEL_API HelError helhost_lookup(const char *name, int64_t deadline, HelHandle *handle);

/*
 * The name of an error as it is spelt in hel.h ("kHelErrEndOfLane"), for
 * messages; "(unknown error)" for a value hel.h does not define.  (hel.h's
 * _helErrorString gives English text instead, and NULL for some values.)
 */
HELHOST_INLINE const char *helhost_error_name(HelError error)
{
	switch (error) {
	case kHelErrNone:                 return "kHelErrNone";
	case kHelErrBufferTooSmall:       return "kHelErrBufferTooSmall";
	case kHelErrBadDescriptor:        return "kHelErrBadDescriptor";
	case kHelErrNoDescriptor:         return "kHelErrNoDescriptor";
	case kHelErrIllegalSyscall:       return "kHelErrIllegalSyscall";
	case kHelErrIllegalArgs:          return "kHelErrIllegalArgs";
	case kHelErrLaneShutdown:         return "kHelErrLaneShutdown";
	case kHelErrEndOfLane:            return "kHelErrEndOfLane";
	case kHelErrFault:                return "kHelErrFault";
	case kHelErrThreadTerminated:     return "kHelErrThreadTerminated";
	case kHelErrCancelled:            return "kHelErrCancelled";
	case kHelErrTransmissionMismatch: return "kHelErrTransmissionMismatch";
	case kHelErrQueueTooSmall:        return "kHelErrQueueTooSmall";
	case kHelErrIllegalState:         return "kHelErrIllegalState";
	case kHelErrNoHardwareSupport:    return "kHelErrNoHardwareSupport";
	case kHelErrNoMemory:             return "kHelErrNoMemory";
	case kHelErrUnsupportedOperation: return "kHelErrUnsupportedOperation";
	case kHelErrOutOfBounds:          return "kHelErrOutOfBounds";
	case kHelErrDismissed:            return "kHelErrDismissed";
	case kHelErrRemoteFault:          return "kHelErrRemoteFault";
	case kHelErrAlreadyExists:        return "kHelErrAlreadyExists";
	default:                          return "(unknown error)";
	}
}

#ifdef __cplusplus
}
#endif

#endif
