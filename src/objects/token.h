/* Tokens: objects that only carry credentials, for ImbueCredentials. */
#ifndef HH_TOKEN_H
#define HH_TOKEN_H

#include "credentials.h"
#include "object.h"

struct hh_token {
	struct hh_object base;
	unsigned char credentials[HH_CREDENTIALS_SIZE];
};

struct hh_token *hh_token_create(void);

static inline struct hh_token *hh_token_of(struct hh_object *obj)
{
	return (struct hh_token *)obj;
}

#endif
