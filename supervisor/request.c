/*
 * Commands the supervisor answers from its registries (/who, /ps) or
 * routes to the worker that owns the target (/kick, /timeout), for chat
 * clients and control connections alike.  A routed command is a pending
 * entry with a supervisor request id of its own; the owning worker
 * answers with MSG_ACTED once it is done, and only then does the reply
 * go back: when "+OK kicked 5" arrives, client 5 has been sent its last
 * line, its connection is shut and /who no longer lists it.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "clock.h"
#include "command.h"
#include "log.h"
#include "reply.h"
#include "sup.h"

/* Sends a reply to a worker's client, in chunks that fit a message. */
static void
request_to_worker(
    struct sup *s, const struct origin *from, struct evbuffer *text)
{
	struct child *w = registry_worker(s, from->slot);
	struct msg_reply mr;
	size_t n;

	if (w == NULL || w->pid != from->pid || w->ch == NULL) {
		evbuffer_drain(text, evbuffer_get_length(text));
		return; /* the worker that asked is gone */
	}
	memset(&mr, 0, sizeof(mr));
	mr.req = from->req;
	mr.client = from->client;
	do {
		n = evbuffer_get_length(text);
		if (n > MSG_TAIL_MAX)
			n = MSG_TAIL_MAX;
		mr.flags = evbuffer_get_length(text) > n ? MSG_REPLY_MORE : 0;
		channel_put(w->ch, MSG_REPLY, &mr,
		    evbuffer_pullup(text, (ev_ssize_t)n), n, -1);
		evbuffer_drain(text, n);
	} while (evbuffer_get_length(text) > 0);
}

void
request_reply(struct sup *s, const struct origin *from, struct evbuffer *text)
{
	if (from->slot == 0)
		control_reply(s, from->client, text);
	else
		request_to_worker(s, from, text);
}

/* "-ERR no such client ID". */
static void
request_no_client(struct sup *s, const struct origin *from, uint64_t id)
{
	struct evbuffer *b = evbuffer_new();

	if (b == NULL)
		return;
	evbuffer_add_printf(
	    b, "-ERR no such client %llu\n", (unsigned long long)id);
	request_reply(s, from, b);
	evbuffer_free(b);
}

void
request_who(struct sup *s, const struct origin *from)
{
	struct evbuffer *b = evbuffer_new();
	uint64_t now = clock_ms();
	char tmo[16];

	if (b == NULL)
		return;
	reply_printf(b, "+OK %zu clients", s->clients.count);
	IDMAP_FOREACH (&s->clients, i) {
		const struct sup_client *c = s->clients.slots[i].obj;
		if (c->timeout_ms == 0)
			strcpy(tmo, "none");
		else
			command_format_ms(c->timeout_ms, tmo, sizeof(tmo));
		reply_dataf(b, "id=%llu addr=%s worker=%u age=%llu timeout=%s",
		    (unsigned long long)c->id, c->addr, c->worker,
		    (unsigned long long)((now - c->since_ms) / 1000), tmo);
	}
	reply_end(b);
	request_reply(s, from, b);
	evbuffer_free(b);
}

void
request_ps(struct sup *s, const struct origin *from)
{
	struct evbuffer *b = evbuffer_new();
	uint64_t now = clock_ms();
	struct child *c;

	if (b == NULL)
		return;
	reply_printf(b, "+OK %u processes",
	    1 + registry_count(s, ROLE_WORKER) + registry_count(s, ROLE_PIPE));
	reply_dataf(b, "pid=%ld role=supervisor", (long)getpid());
	for (unsigned i = 0; i < s->nworkers; i++) {
		c = s->slots[i].child;
		if (c != NULL)
			reply_dataf(b,
			    "pid=%ld role=worker worker=%u clients=%u",
			    (long)c->pid, c->slot, c->nclients);
	}
	TAILQ_FOREACH (c, &s->children, link)
		if (c->role == ROLE_PIPE && c->pid > 0)
			reply_dataf(b,
			    "pid=%ld role=pipe name=%s client=%llu "
			    "worker=%u age=%llu",
			    (long)c->pid, c->name,
			    (unsigned long long)c->client, c->slot,
			    (unsigned long long)((now - c->started_ms) / 1000));
	reply_end(b);
	request_reply(s, from, b);
	evbuffer_free(b);
}

void
request_act(struct sup *s, const struct origin *from, uint32_t cmd,
    uint64_t target, uint32_t ms)
{
	struct sup_client *c = clients_find(s, target);
	struct child *w = c == NULL ? NULL : registry_worker(s, c->worker);
	struct pending *p;
	struct msg_act a;

	if (w == NULL || w->ch == NULL || (p = calloc(1, sizeof(*p))) == NULL) {
		request_no_client(s, from, target);
		return;
	}
	p->sreq = ++s->last_sreq;
	p->from = *from;
	p->cmd = cmd;
	p->target = target;
	p->ms = ms;
	p->slot = w->slot;
	TAILQ_INSERT_TAIL(&s->pendings, p, link);
	memset(&a, 0, sizeof(a));
	a.sreq = p->sreq;
	a.target = target;
	a.by = from->slot == 0 ? 0 : from->client;
	a.ms = ms;
	channel_put(w->ch, cmd == MSG_CMD_KICK ? MSG_KICK : MSG_TIMEOUT, &a,
	    NULL, 0, -1);
}

void
request_from_worker(struct sup *s, struct child *w, const struct msg_request *r)
{
	struct origin o = {w->slot, w->pid, r->req, r->client};

	switch (r->cmd) {
	case MSG_CMD_WHO:
		request_who(s, &o);
		break;
	case MSG_CMD_PS:
		request_ps(s, &o);
		break;
	case MSG_CMD_KICK:
	case MSG_CMD_TIMEOUT:
		request_act(s, &o, r->cmd, r->target, r->ms);
		break;
	default: /* msg_decode refuses other values */
		break;
	}
}

/* Answers a finished (or failed) pending kick or timeout and frees it. */
static void
request_finish(struct sup *s, struct pending *p, int done)
{
	struct sup_client *c = clients_find(s, p->target);
	char secs[16], line[96];
	struct evbuffer *b;

	TAILQ_REMOVE(&s->pendings, p, link);
	if (!done)
		snprintf(line, sizeof(line), "-ERR no such client %llu\n",
		    (unsigned long long)p->target);
	else if (p->cmd == MSG_CMD_KICK)
		snprintf(line, sizeof(line), "+OK kicked %llu\n",
		    (unsigned long long)p->target);
	else {
		command_format_ms(p->ms, secs, sizeof(secs));
		snprintf(line, sizeof(line), "+OK timeout %llu %s\n",
		    (unsigned long long)p->target, secs);
		if (c != NULL)
			c->timeout_ms = p->ms;
	}
	b = evbuffer_new();
	if (b != NULL) {
		evbuffer_add(b, line, strlen(line));
		request_reply(s, &p->from, b);
		evbuffer_free(b);
	}
	free(p);
}

void
request_acted(struct sup *s, struct child *w, const struct msg_acted *a)
{
	struct pending *p;

	TAILQ_FOREACH (p, &s->pendings, link)
		if (p->sreq == a->sreq)
			break;
	if (p == NULL || p->slot != w->slot) {
		log_errorx("worker %u: answer to unknown request %llu", w->slot,
		    (unsigned long long)a->sreq);
		return;
	}
	request_finish(s, p, a->status == MSG_ACTED_DONE);
}

/* The worker that owned the targets died: they are gone. */
void
request_worker_gone(struct sup *s, unsigned slot)
{
	struct pending *p, *next;

	for (p = TAILQ_FIRST(&s->pendings); p != NULL; p = next) {
		next = TAILQ_NEXT(p, link);
		if (p->slot == slot)
			request_finish(s, p, 0);
	}
}

void
request_free(struct sup *s)
{
	struct pending *p;

	while ((p = TAILQ_FIRST(&s->pendings)) != NULL) {
		TAILQ_REMOVE(&s->pendings, p, link);
		free(p);
	}
}
