/*
 * helhost's extensions to the Hel API: things a hosted program may want that
 * Managarm's kernel has no call for.  Every name starts with helhost_.
 */
#ifndef HELHOST_H
#define HELHOST_H

#include "hel.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The helhost release this libhel belongs to, e.g. "0.1.0". */
HEL_API const char *helhost_version(void);

#ifdef __cplusplus
}
#endif

#endif
