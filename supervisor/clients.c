/*
 * The roster: every connected client's id, worker and address.  The
 * supervisor routes by client id (a /kick finds the owning worker here);
 * ids come from one counter and are never reused.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "sup.h"

struct sup_client *
clients_add(struct sup *s, unsigned worker, const char *addr)
{
	struct sup_client *c;

	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		log_warnx("out of memory for a client");
		return NULL;
	}
	c->id = ++s->last_id;
	c->worker = worker;
	c->since_ms = clock_ms();
	memcpy(c->addr, addr, sizeof(c->addr));
	if (idmap_add(&s->clients, c->id, c) != 0) {
		log_warnx("out of memory for a client");
		free(c);
		return NULL;
	}
	return c;
}

struct sup_client *
clients_find(struct sup *s, uint64_t id)
{
	return idmap_find(&s->clients, id);
}

/* The client left (its worker said so, or we could not hand it over). */
void
clients_gone(struct sup *s, struct child *w, uint64_t id)
{
	struct sup_client *c = idmap_find(&s->clients, id);

	if (c == NULL || c->worker != w->slot)
		return; /* already gone: a kick answered first */
	idmap_remove(&s->clients, id);
	free(c);
	if (w->nclients > 0)
		w->nclients--;
	accept_capacity(s);
}

/* A client that never reached a worker. */
void
clients_forget(struct sup *s, uint64_t id)
{
	free(idmap_remove(&s->clients, id));
}

/* A worker died: its clients are disconnected and forgotten. */
void
clients_forget_worker(struct sup *s, unsigned slot)
{
	size_t n = 0;

	IDMAP_FOREACH (&s->clients, i) {
		struct sup_client *c = s->clients.slots[i].obj;
		if (c->worker != slot)
			continue;
		idmap_remove(&s->clients, c->id);
		free(c);
		n++;
	}
	if (n > 0) {
		log_info("worker %u: %zu clients disconnected", slot, n);
		accept_capacity(s);
	}
}

void
clients_free(struct sup *s)
{
	IDMAP_FOREACH (&s->clients, i)
		free(s->clients.slots[i].obj);
	idmap_free(&s->clients);
}
