/* Credentials: 16 random bytes formatted as a version-4 UUID (STREAMS.md §9). */
#ifndef HH_CREDENTIALS_H
#define HH_CREDENTIALS_H

#include <stdbool.h>

#define HH_CREDENTIALS_SIZE 16

/* Fill c with fresh credentials; false if the kernel's CSPRNG failed. */
bool hh_credentials_fresh(unsigned char c[HH_CREDENTIALS_SIZE]);

#endif
