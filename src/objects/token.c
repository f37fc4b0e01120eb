#include "token.h"

#include <stdlib.h>

static void token_destroy(struct hh_object *obj)
{
	free(hh_token_of(obj));
}

static const struct hh_object_ops token_ops = {
	.type = HH_OBJ_TOKEN,
	.name = "token",
	.destroy = token_destroy,
};

struct hh_token *hh_token_create(void)
{
	struct hh_token *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	if (!hh_credentials_fresh(t->credentials)) {
		free(t);
		return NULL;
	}
	hh_object_init(&t->base, &token_ops);
	return t;
}
