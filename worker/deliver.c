/*
 * Chat lines from the supervisor to this worker's clients.
 *
 * Lines arriving together are formatted once, into one batch ("ID TEXT\n"
 * each), and the batch is written to every client's socket straight from
 * that memory in one round of send(2)s; only what a socket does not take
 * is copied into that client's queue (peer_send).
 *
 * A round costs one send per client whatever the batch holds, so the
 * rounds are spaced: a round does not start until as long as the last one
 * took has passed since it ended.  When lines are rare nothing waits; when
 * they come faster than the rounds, each round carries several lines and
 * the server spends at most half its time in rounds, leaving the CPU to
 * what else must run (the supervisor, the other workers, the clients).
 * Measured in doc/performance.md.  A
 * client whose unread output would pass max_output is a slow consumer: it
 * gets "* slow" if that still fits and is disconnected, so it never holds
 * the others back and its memory stays bounded.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"

#include "log.h"
#include "worker.h"

/* Room for n more bytes in the batch. */
static int
deliver_reserve(struct worker *w, size_t n)
{
	size_t cap;
	char *b;

	if (w->batch_len + n <= w->batch_cap)
		return 0;
	cap = w->batch_cap == 0 ? 65536 : w->batch_cap;
	while (cap < w->batch_len + n)
		cap *= 2;
	b = realloc(w->batch, cap);
	if (b == NULL)
		return -1;
	w->batch = b;
	w->batch_cap = cap;
	return 0;
}

void
deliver_add(struct worker *w, uint64_t from, const char *text, size_t len)
{
	char id[24];
	size_t n = sizeof(id);

	do { /* the id in decimal, written backwards */
		id[--n] = (char)('0' + from % 10);
		from /= 10;
	} while (from > 0);
	if (deliver_reserve(w, sizeof(id) - n + 2 + len) != 0) {
		log_warnx("out of memory for chat lines");
		return;
	}
	memcpy(w->batch + w->batch_len, id + n, sizeof(id) - n);
	w->batch_len += sizeof(id) - n;
	w->batch[w->batch_len++] = ' ';
	memcpy(w->batch + w->batch_len, text, len);
	w->batch_len += len;
	w->batch[w->batch_len++] = '\n';
}

/* The client cannot keep up: its last line is "* slow" if it fits. */
static void
deliver_slow(struct worker *w, struct client *c)
{
	static const char slow[] = "* slow\n";
	int fits = peer_outlen(c->p) + sizeof(slow) - 1 <= w->conf.max_output;

	w->drops++;
	log_info("client %llu (%s): over %llu bytes of unread output; "
	         "disconnected (%llu so far)",
	    (unsigned long long)c->id, c->addr,
	    (unsigned long long)w->conf.max_output,
	    (unsigned long long)w->drops);
	client_end(c, fits ? slow : NULL, fits ? sizeof(slow) - 1 : 0);
}

/* The longest a round is put off, whatever the last one cost. */
#define DELIVER_DEFER_MAX_US 5000

static void
deliver_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	deliver_commit(arg);
}

void
deliver_flush(struct worker *w)
{
	uint64_t now, wait, due;
	struct timeval tv;

	if (w->batch_len == 0 || w->state != W_SERVING) {
		deliver_commit(w);
		return;
	}
	now = clock_us();
	wait = w->round_cost_us < DELIVER_DEFER_MAX_US ? w->round_cost_us
	                                               : DELIVER_DEFER_MAX_US;
	due = w->round_end_us + wait;
	if (now >= due) {
		deliver_commit(w);
		return;
	}
	if (w->round_timer == NULL)
		w->round_timer = evtimer_new(w->base, deliver_timer_cb, w);
	if (w->round_timer == NULL) {
		deliver_commit(w);
		return;
	}
	if (!evtimer_pending(w->round_timer, NULL)) {
		tv.tv_sec = 0;
		tv.tv_usec = (suseconds_t)(due - now);
		evtimer_add(w->round_timer, &tv);
	}
}

void
deliver_free(struct worker *w)
{
	if (w->round_timer != NULL)
		event_free(w->round_timer);
	w->round_timer = NULL;
}

void
deliver_commit(struct worker *w)
{
	size_t len = w->batch_len;
	uint64_t start;

	if (w->round_timer != NULL)
		evtimer_del(w->round_timer);
	if (len == 0)
		return;
	start = clock_us();
	w->batch_len = 0;
	if (w->state != W_SERVING && w->state != W_DRAINING)
		return;
	IDMAP_FOREACH (&w->clients, i) {
		struct client *c = w->clients.slots[i].obj;
		if (peer_outlen(c->p) + len > w->conf.max_output)
			deliver_slow(w, c);
		else
			peer_send(c->p, w->batch, len);
	}
	w->round_end_us = clock_us();
	w->round_cost_us = w->round_end_us - start;
}
