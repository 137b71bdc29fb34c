/*
 * Fan-out: the supervisor is where chat lines get their one total order.
 * Every line, from any worker or from /say, is queued to every worker in
 * the order the supervisor handles it; the channels are FIFO, so every
 * client sees the same sequence.  Queued messages leave in as few packets
 * as fit (channel_flush, once per loop iteration), not one per line.
 */
#include "config.h"

#include "log.h"
#include "sup.h"

void
fanout_line(struct sup *s, uint64_t from, const char *text, size_t len)
{
	struct msg_line ml = {from};
	struct child *w;
	int blocked = 0;

	s->messages++;
	for (unsigned i = 0; i < s->nworkers; i++) {
		w = s->slots[i].child;
		if (w == NULL || w->ch == NULL || w->finished ||
		    w->state == CHILD_STARTING || channel_closed(w->ch))
			continue;
		if (channel_put(w->ch, MSG_DELIVER, &ml, text, len, -1) != 0)
			log_warnx(
			    "worker %u: cannot queue a chat line", w->slot);
		blocked |= channel_blocked(w->ch);
	}
	if (blocked)
		dispatch_flow(s);
}
