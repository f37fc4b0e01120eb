#include "credentials.h"

#include <sys/random.h>

bool hh_credentials_fresh(unsigned char c[HH_CREDENTIALS_SIZE])
{
	if (getrandom(c, HH_CREDENTIALS_SIZE, 0) != HH_CREDENTIALS_SIZE)
		return false;
	c[6] = (unsigned char)((c[6] & 0x0F) | 0x40);  /* version 4 */
	c[8] = (unsigned char)((c[8] & 0x3F) | 0x80);  /* variant 1 */
	return true;
}
