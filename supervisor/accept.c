/*
 * Accepting chat connections and handing each to the least-loaded worker.
 *
 * The supervisor never reads or writes a client socket: it gives the
 * connection the next id, passes the descriptor to a worker with
 * MSG_CLIENT_ADD (the channel closes our copy once it is sent) and
 * forgets the descriptor.  The only exception is a refusal ("-ERR server
 * full"), written here and closed with a lingering close.
 *
 * Out of descriptors (EMFILE/ENFILE) the listening socket stays readable,
 * so accepting would spin: we stop watching it and start again when a
 * client leaves or after ACCEPT_RETRY_MS, and say so once.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"
#include "log.h"
#include "sup.h"

#define ACCEPT_BATCH    256 /* connections per callback, for fairness */
#define ACCEPT_RETRY_MS 1000

static void accept_cb(evutil_socket_t lfd, short what, void *arg);

static void
accept_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	control_resume(arg);
	accept_resume(arg);
}

int
accept_start(struct sup *s)
{
	for (size_t i = 0; i < s->nlisteners; i++) {
		struct listener *l = &s->listeners[i];
		l->ev = event_new(
		    s->base, l->fd, EV_READ | EV_PERSIST, accept_cb, l);
		if (l->ev == NULL)
			return -1;
	}
	s->accept_retry = evtimer_new(s->base, accept_retry_cb, s);
	if (s->accept_retry == NULL)
		return -1;
	accept_resume(s);
	return 0;
}

void
accept_resume(struct sup *s)
{
	if (s->accepting || s->state != SUP_RUNNING)
		return;
	for (size_t i = 0; i < s->nlisteners; i++)
		if (s->listeners[i].ev != NULL)
			event_add(s->listeners[i].ev, NULL);
	s->accepting = 1;
}

void
accept_pause(struct sup *s)
{
	if (!s->accepting)
		return;
	for (size_t i = 0; i < s->nlisteners; i++)
		if (s->listeners[i].ev != NULL)
			event_del(s->listeners[i].ev);
	s->accepting = 0;
}

void
accept_stop(struct sup *s)
{
	accept_pause(s);
	if (s->accept_retry != NULL)
		evtimer_del(s->accept_retry);
}

void
accept_capacity(struct sup *s)
{
	if (s->accept_retry == NULL || !evtimer_pending(s->accept_retry, NULL))
		return;
	evtimer_del(s->accept_retry);
	control_resume(s);
	accept_resume(s);
}

/* EMFILE/ENFILE: stop accepting (chat and control) for a while instead
 * of spinning. */
void
accept_exhausted(struct sup *s)
{
	struct timeval tv = clock_tv(ACCEPT_RETRY_MS);

	if (!s->emfile_logged)
		log_warnx("out of file descriptors: not accepting until a "
		          "client leaves (or %d ms pass)",
		    ACCEPT_RETRY_MS);
	s->emfile_logged = 1;
	accept_pause(s);
	control_pause(s);
	evtimer_add(s->accept_retry, &tv);
}

void
accept_handoff(struct sup *s, struct sup_client *c, int fd)
{
	struct child *w = registry_least_loaded(s);
	struct msg_client mc;
	struct parked *pk;

	if (w == NULL) {
		pk = calloc(1, sizeof(*pk));
		if (pk == NULL) {
			close(fd);
			clients_forget(s, c->id);
			return;
		}
		pk->fd = fd;
		pk->id = c->id;
		c->worker = 0; /* no worker's: not forgotten when one dies */
		TAILQ_INSERT_TAIL(&s->parked, pk, link);
		return;
	}
	memset(&mc, 0, sizeof(mc));
	mc.id = c->id;
	memcpy(mc.addr, c->addr, sizeof(mc.addr));
	c->worker = w->slot;
	w->nclients++;
	if (channel_put(w->ch, MSG_CLIENT_ADD, &mc, NULL, 0, fd) != 0)
		clients_gone(s, w, c->id);
}

void
accept_unpark(struct sup *s)
{
	struct parked *pk;
	struct sup_client *c;

	while (registry_least_loaded(s) != NULL &&
	    (pk = TAILQ_FIRST(&s->parked)) != NULL) {
		TAILQ_REMOVE(&s->parked, pk, link);
		c = clients_find(s, pk->id);
		if (c != NULL)
			accept_handoff(s, c, pk->fd);
		else
			close(pk->fd);
		free(pk);
	}
}

void
accept_free(struct sup *s)
{
	struct parked *pk;

	while ((pk = TAILQ_FIRST(&s->parked)) != NULL) {
		TAILQ_REMOVE(&s->parked, pk, link);
		close(pk->fd);
		free(pk);
	}
}

/* Gives one accepted connection an id and a worker, or refuses it. */
static void
accept_one(struct sup *s, int fd, const struct sockaddr *sa)
{
	char addr[MSG_ADDR_MAX] = {0}; /* travels whole in MSG_CLIENT_ADD */
	struct sup_client *c;

	if (s->clients.count >= s->conf.max_clients) {
		control_refuse(s, fd, "-ERR server full\n");
		return;
	}
	addr_format(sa, addr, sizeof(addr));
	c = clients_add(s, 0, addr);
	if (c == NULL) {
		close(fd);
		return;
	}
	accept_handoff(s, c, fd);
}

static void
accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct listener *l = arg;
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	(void)what;
	if (registry_least_loaded(l->sup) == NULL) {
		/* No worker serves right now (one is restarting): leave the
		 * connections in the backlog until one says hello. */
		accept_pause(l->sup);
		return;
	}
	for (int i = 0; i < ACCEPT_BATCH && l->sup->accepting; i++) {
		len = sizeof(ss);
		fd = accept4(lfd, (struct sockaddr *)&ss, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			l->sup->emfile_logged = 0;
			accept_one(l->sup, fd, (struct sockaddr *)&ss);
			continue;
		}
		if (errno == EMFILE || errno == ENFILE) {
			accept_exhausted(l->sup);
			return;
		}
		if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			log_warn("accept on %s", l->text);
		return;
	}
}
