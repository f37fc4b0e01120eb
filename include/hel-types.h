/*
 * hel-types.h: the scalar types of the Hel API (helhost edition).
 *
 * Source-compatible with Managarm's hel-types.h as of July 2025; the names and
 * definitions are Managarm's.
 */
#ifndef HEL_TYPES_H
#define HEL_TYPES_H

#include <stdint.h>

/* Result of every Hel call: 0 (kHelErrNone) on success, else a kHelErr* code. */
typedef int HelError;

/* Calling convention of a new thread; kHelAbiSystemV is the only value. */
typedef int HelAbi;

/* Index of a descriptor in a universe; special values are kHelNullHandle etc. */
typedef int64_t HelHandle;

/* A time in nanoseconds.  Part of the API, though no call takes or returns one. */
typedef int64_t HelNanotime;

#endif /* HEL_TYPES_H */
