/*
 * Messages from workers: one handler per type.  A worker is part of
 * chatd, so a message it should not send is a bug: logged at error level,
 * and the channel is ended (the worker is then replaced).
 */
#include "config.h"

#include <signal.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "sup.h"

/* Ends a worker's channel for a protocol violation. */
static void
dispatch_violation(struct sup *s, struct child *w, const struct msg *m)
{
	log_errorx("worker %u (pid %ld) sent an unexpected %s message; "
	           "stopping it",
	    w->slot, (long)w->pid, msg_name(m->type));
	(void)s;
	if (m->fd >= 0)
		close(m->fd);
	if (!w->killed && kill(w->pid, SIGKILL) == 0)
		w->killed = 1;
	channel_pause(w->ch);
}

#define DISPATCH_STALL_MS 5000

/* A worker whose channel stayed full that long has stopped reading it (it
 * is stopped or stuck): it holds everybody back, so it is killed, and
 * replaced like any worker that dies. */
static void
dispatch_stall_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sup *s = arg;
	struct child *c;

	(void)fd;
	(void)what;
	TAILQ_FOREACH (c, &s->children, link) {
		if (c->ch == NULL || c->killed || channel_closed(c->ch) ||
		    !channel_blocked(c->ch))
			continue;
		log_warnx("worker %u (pid %ld) has not read its channel for "
		          "%d s; stopping it",
		    c->slot, (long)c->pid, DISPATCH_STALL_MS / 1000);
		if (kill(c->pid, SIGKILL) == 0)
			c->killed = 1;
	}
}

/* While any worker's queue is over its high-water mark the supervisor
 * stops reading chat lines from all workers, which in turn stop reading
 * their clients: back-pressure from the slowest worker to the senders,
 * bounded by DISPATCH_STALL_MS. */
void
dispatch_flow(struct sup *s)
{
	struct timeval tv = clock_tv(DISPATCH_STALL_MS);
	int blocked = 0;
	struct child *c;

	TAILQ_FOREACH (c, &s->children, link)
		if (c->ch != NULL && !c->killed && !channel_closed(c->ch) &&
		    channel_blocked(c->ch))
			blocked = 1;
	TAILQ_FOREACH (c, &s->children, link) {
		if (c->ch == NULL || c->killed)
			continue;
		if (blocked)
			channel_pause(c->ch);
		else
			channel_resume(c->ch);
	}
	if (s->stall == NULL)
		s->stall = evtimer_new(s->base, dispatch_stall_cb, s);
	if (s->stall == NULL)
		return;
	if (!blocked)
		evtimer_del(s->stall);
	else if (!evtimer_pending(s->stall, NULL))
		evtimer_add(s->stall, &tv);
}

static void
dispatch_msg(struct channel *ch, struct msg *m, void *arg)
{
	struct child *w = arg;
	struct sup *s = w->sup;

	(void)ch;
	switch (m->type) {
	case MSG_HELLO:
		registry_worker_hello(s, w, &m->u.hello);
		break;
	case MSG_CLIENT_GONE:
		clients_gone(s, w, m->u.id.id);
		break;
	case MSG_SAY:
		fanout_line(s, m->u.line.from, m->tail, m->taillen);
		break;
	case MSG_REQUEST:
		request_from_worker(s, w, &m->u.request);
		break;
	case MSG_ACTED:
		request_acted(s, w, &m->u.acted);
		break;
	case MSG_PIPE_ACQUIRE:
		registry_pipe_acquire(s, w, m);
		break;
	case MSG_PIPE_STARTED:
		registry_pipe_started(s, w, &m->u.pipe);
		break;
	case MSG_PIPE_ENDED:
		registry_pipe_ended(s, w, &m->u.pipe);
		break;
	case MSG_DRAINED:
		shutdown_drained(s, w);
		break;
	case MSG_RETIRE:
		shutdown_retire(s, w);
		break;
	case MSG_CONFIGURED:
		reload_configured(s, w, m->u.configured.generation);
		break;
	default:
		dispatch_violation(s, w, m);
		break;
	}
}

/* A connection handed to a worker that died before taking it goes to
 * another worker (or waits for one); other unsent messages are moot. */
static void
dispatch_reroute(const struct msg *m, void *arg)
{
	struct child *w = arg;
	struct sup_client *c;

	if (m->type != MSG_CLIENT_ADD) {
		if (m->fd >= 0)
			close(m->fd);
		return;
	}
	c = clients_find(w->sup, m->u.client.id);
	if (m->fd < 0 || c == NULL) {
		if (m->fd >= 0)
			close(m->fd);
		return;
	}
	if (w->nclients > 0)
		w->nclients--;
	accept_handoff(w->sup, c, m->fd);
}

static void
dispatch_close(struct channel *ch, const char *why, void *arg)
{
	struct child *w = arg;

	if (why != NULL)
		log_errorx("worker %u (pid %ld): channel failed: %s", w->slot,
		    (long)w->pid, why);
	/* The worker is gone or going; its SIGCHLD does the rest.  It gets
	 * no new client from now on (registry_least_loaded), and it holds
	 * nobody back any more. */
	channel_unsent(ch, dispatch_reroute, w);
	dispatch_flow(w->sup);
}

static void
dispatch_unblock(struct channel *ch, void *arg)
{
	struct child *w = arg;

	(void)ch;
	dispatch_flow(w->sup);
}

const struct channel_ops dispatch_ops = {
    .on_msg = dispatch_msg,
    .on_close = dispatch_close,
    .on_unblock = dispatch_unblock,
};
