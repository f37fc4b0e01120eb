#include "pending.h"

#include <poll.h>

#include "quota.h"

bool hh_pending_room(const struct hh_pending_list *l, size_t n)
{
	return l->count + n <= hh_limits()->pending;
}

void hh_pending_add(struct hh_pending_list *l, struct hh_pending *p,
		void (*discard)(struct hh_pending *p))
{
	p->discard = discard;
	p->describe = NULL;
	p->list = l;
	p->prev = &l->head;
	p->next = l->head;
	if (l->head)
		l->head->prev = &p->next;
	l->head = p;
	l->count++;
}

void hh_pending_describe(const struct hh_pending *p, struct hh_wait *w)
{
	*w = (struct hh_wait){ .kind = HH_WAIT_BUSY };
	if (p->describe)
		p->describe(p, w);
}

void hh_pending_remove(struct hh_pending *p)
{
	if (!p->list)
		return;
	*p->prev = p->next;
	if (p->next)
		p->next->prev = p->prev;
	p->list->count--;
	p->list = NULL;
	p->next = NULL;
	p->prev = NULL;
}

void hh_pending_discard_all(struct hh_pending_list *l)
{
	/* A discard may complete other operations of this program: take the head each time. */
	while (l->head) {
		struct hh_pending *p = l->head;
		hh_pending_remove(p);
		p->discard(p);
	}
}

bool hh_pending_owner_died(struct hh_pending_list *l)
{
	struct pollfd pfd = { .fd = l->pidfd, .events = POLLIN };
	if (l->pidfd < 0 || poll(&pfd, 1, 0) != 1)
		return false;
	hh_pending_discard_all(l);
	return true;
}
