/*
 * The clean shutdown (SIGINT, SIGTERM, /shutdown), in two phases so that
 * nothing the server has read is lost:
 *
 *   1. drain: stop accepting, STOPPING=1, tell every worker MSG_DRAIN.
 *      A worker stops reading its clients, sends every line it holds and
 *      answers MSG_DRAINED; as those lines arrive they are fanned out.
 *   2. finish: once every worker has drained, MSG_FINISH goes to each,
 *      queued behind the last chat lines.  Workers deliver them, send
 *      "* shutdown", close every client, reap their programs and exit.
 *
 * When the last worker has been reaped the loop ends and main() frees
 * everything.  One timer bounds the whole sequence by shutdown_timeout;
 * when it fires, the workers still running are killed (and reaped).
 *
 * A worker that alone gets SIGTERM asks to retire (MSG_RETIRE): the same
 * two phases for it only, after which it exits and is replaced.
 */
#include "config.h"

#include <signal.h>

#include "clock.h"
#include "log.h"
#include "sup.h"

static void
shutdown_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sup *s = arg;

	(void)fd;
	(void)what;
	log_warnx("shutdown took longer than %u ms: killing %u workers",
	    s->conf.shutdown_ms, registry_count(s, ROLE_WORKER));
	registry_kill_all(s, SIGKILL);
}

/* Milliseconds left before the deadline, for the workers' goodbyes,
 * minus a margin for them to exit and be reaped in time. */
static uint32_t
shutdown_left(const struct sup *s)
{
	uint64_t now = clock_ms(), left;

	if (now >= s->deadline_ms)
		return 1;
	left = s->deadline_ms - now;
	return left > 200 ? (uint32_t)(left - left / 10) : (uint32_t)left;
}

static void
shutdown_finish_worker(struct child *w, uint32_t ms)
{
	struct msg_finish f = {ms, 0};

	if (w->finished || w->ch == NULL)
		return;
	w->finished = 1;
	channel_put(w->ch, MSG_FINISH, &f, NULL, 0, -1);
}

/* Phase 2 starts once no worker still has lines to send. */
static void
shutdown_check(struct sup *s)
{
	struct child *w;
	uint32_t left;

	if (s->state != SUP_DRAINING)
		return;
	TAILQ_FOREACH (w, &s->children, link)
		if (w->role == ROLE_WORKER && w->ch != NULL && !w->drained &&
		    !w->killed && !channel_closed(w->ch))
			return;
	s->state = SUP_FINISHING;
	left = shutdown_left(s);
	log_info("every worker has drained; closing the clients");
	TAILQ_FOREACH (w, &s->children, link)
		if (w->role == ROLE_WORKER)
			shutdown_finish_worker(w, left);
	shutdown_worker_exited(s);
}

void
shutdown_begin(struct sup *s, const char *why)
{
	struct timeval tv = clock_tv(s->conf.shutdown_ms);
	struct child *w;

	if (s->state >= SUP_DRAINING)
		return;
	log_info("%s: shutting down", why);
	s->state = SUP_DRAINING;
	accept_stop(s);
	listen_close(s); /* new connections are refused, not queued */
	notify_send(s, "STOPPING=1");
	s->deadline_ms = clock_ms() + s->conf.shutdown_ms;
	s->deadline = evtimer_new(s->base, shutdown_deadline_cb, s);
	if (s->deadline == NULL || evtimer_add(s->deadline, &tv) != 0)
		fatalx("cannot arm the shutdown timer");
	TAILQ_FOREACH (w, &s->children, link) {
		if (w->role != ROLE_WORKER || w->ch == NULL)
			continue;
		if (w->state == CHILD_SERVING || w->state == CHILD_STARTING)
			channel_put(w->ch, MSG_DRAIN, NULL, NULL, 0, -1);
		w->state = CHILD_DRAINING;
	}
	shutdown_check(s);
}

void
shutdown_retire(struct sup *s, struct child *w)
{
	if (s->state != SUP_RUNNING || w->state != CHILD_SERVING)
		return;
	log_info("worker %u (pid %ld) got SIGTERM: retiring it", w->slot,
	    (long)w->pid);
	w->state = CHILD_DRAINING;
	channel_put(w->ch, MSG_DRAIN, NULL, NULL, 0, -1);
}

void
shutdown_drained(struct sup *s, struct child *w)
{
	w->drained = 1;
	if (s->state == SUP_RUNNING)
		shutdown_finish_worker(w, s->conf.shutdown_ms);
	else
		shutdown_check(s);
}

void
shutdown_worker_exited(struct sup *s)
{
	if (s->state == SUP_DRAINING) {
		shutdown_check(s);
		return;
	}
	/* Done when every worker and every orphaned program is reaped. */
	if (s->state == SUP_FINISHING && TAILQ_EMPTY(&s->children))
		s->state = SUP_DONE;
}
