/*
 * One chat connection in its worker: the peer (peer.h) plus what the chat
 * adds - an id, the rate limit, the read timeout, the one command it may
 * have in flight, and the notices that end it.
 *
 * A client is "in the chat" (a member: in w->clients, receiving chat
 * lines) from its welcome until it starts to leave; leaving is announced
 * to the supervisor at once (MSG_CLIENT_GONE), while the connection
 * itself may linger a moment to deliver its last line.
 */
#include "config.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "clock.h"
#include "command.h"
#include "log.h"
#include "worker.h"

#define CLIENT_FINAL_READ_MAX (1u << 20) /* per client, at shutdown */

static int client_line(
    struct peer *p, enum line_status st, const char *s, size_t len, void *arg);
static void client_eof(struct peer *p, void *arg);
static void client_fin(struct peer *p, void *arg);
static void client_gone(struct peer *p, void *arg);

static const struct peer_ops client_ops = {
    .on_line = client_line,
    .on_eof = client_eof,
    .on_fin = client_fin,
    .on_gone = client_gone,
};

int
client_new(struct worker *w, const struct msg_client *mc, int fd)
{
	char welcome[48];
	struct client *c;
	int one = 1;

	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		close(fd);
		return -1;
	}
	c->id = mc->id;
	c->w = w;
	memcpy(c->addr, mc->addr, sizeof(c->addr));
	c->tokens = w->conf.burst;
	c->refill_ms = clock_ms();
	/* We batch our writes ourselves; Nagle would only add delay. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->p = peer_new(&w->peers, fd, w->conf.max_line, &client_ops, c);
	if (c->p == NULL) {
		close(fd);
		free(c);
		return -1;
	}
	if (idmap_add(&w->clients, c->id, c) != 0) {
		peer_cut(c->p); /* frees c via client_gone */
		return -1;
	}
	c->member = 1;
	if (w->blocked)
		peer_pause(c->p);
	snprintf(welcome, sizeof(welcome), "* welcome %llu\n",
	    (unsigned long long)c->id);
	client_write(c, welcome, strlen(welcome));
	return 0;
}

void
client_write(struct client *c, const char *s, size_t len)
{
	peer_write(c->p, s, len);
}

/* Leaves the chat: no more chat lines, and the supervisor is told. */
void
client_leave(struct client *c)
{
	struct msg_id gone = {c->id};

	if (!c->member)
		return;
	c->member = 0;
	idmap_remove(&c->w->clients, c->id);
	worker_send(c->w, MSG_CLIENT_GONE, &gone, NULL, 0);
}

static unsigned
client_drain_ms(const struct client *c)
{
	return c->w->state == W_FINISHING ? c->w->finish_ms : PEER_DRAIN_MS;
}

/* Ends the connection with a last line (a notice), politely. */
void
client_end(struct client *c, const char *last, size_t len)
{
	client_leave(c);
	if (c->rate_timer != NULL)
		evtimer_del(c->rate_timer);
	if (c->idle_timer != NULL)
		evtimer_del(c->idle_timer);
	peer_drain(c->p, last, len, client_drain_ms(c));
}

void
client_kick(struct client *c, uint64_t sreq, uint64_t by)
{
	char line[48];

	c->kick_sreq = sreq;
	c->kicked = 1;
	snprintf(
	    line, sizeof(line), "* kicked by %llu\n", (unsigned long long)by);
	client_end(c, line, strlen(line));
}

/* The last line is out (or the connection broke): a kick is done. */
static void
client_fin(struct peer *p, void *arg)
{
	struct client *c = arg;
	struct msg_acted a = {c->kick_sreq, MSG_ACTED_DONE, 0};

	(void)p;
	client_leave(c);
	if (c->kicked) {
		c->kicked = 0;
		worker_send(c->w, MSG_ACTED, &a, NULL, 0);
	}
}

static void
client_gone(struct peer *p, void *arg)
{
	struct client *c = arg;
	struct worker *w = c->w;

	(void)p;
	client_leave(c);
	pipe_client_gone(c);
	if (c->rate_timer != NULL)
		event_free(c->rate_timer);
	if (c->idle_timer != NULL)
		event_free(c->idle_timer);
	if (c->reply != NULL)
		evbuffer_free(c->reply);
	free(c);
	worker_check_done(w);
}

/* Reading resumes only when nothing holds the client back. */
void
client_maybe_resume(struct client *c)
{
	if (!c->member || c->waiting != 0 || c->w->blocked ||
	    c->w->state != W_SERVING ||
	    (c->rate_timer != NULL && evtimer_pending(c->rate_timer, NULL)))
		return;
	peer_resume(c->p);
}

static void
client_rate_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	client_maybe_resume(arg);
}

/* Takes one token for a line; 1 when the bucket is empty and reading
 * must pause until the timer says a token is back. */
static int
client_rate_take(struct client *c)
{
	uint32_t rate = c->w->conf.rate;
	uint64_t now = clock_ms(), wait;
	struct timeval tv;

	if (rate == 0)
		return 0;
	c->tokens += (double)(now - c->refill_ms) * rate / 1000.0;
	if (c->tokens > c->w->conf.burst)
		c->tokens = c->w->conf.burst;
	c->refill_ms = now;
	c->tokens -= 1.0;
	if (c->tokens >= 1.0)
		return 0;
	if (c->rate_timer == NULL)
		c->rate_timer = evtimer_new(c->w->base, client_rate_cb, c);
	if (c->rate_timer == NULL)
		return 0; /* no timer: no limit, rather than a stuck client */
	wait = (uint64_t)((1.0 - c->tokens) * 1000.0 / rate) + 1;
	tv = clock_tv(wait);
	evtimer_add(c->rate_timer, &tv);
	return 1;
}

/* A refused line: say why; the connection stays. */
static void
client_refused(struct client *c, enum line_status st)
{
	char err[96];

	client_write(
	    c, err, line_refusal(err, sizeof(err), st, c->w->conf.max_line));
}

/* Shutdown, phase 1: chat lines still go out, commands do not run. */
static void
client_line_draining(
    struct client *c, enum line_status st, const char *s, size_t len)
{
	static const char no[] = "-ERR the server is shutting down\n";
	struct msg_line ml = {c->id};

	if (st != LINE_OK)
		client_refused(c, st);
	else if (len > 0 && s[0] != '/')
		worker_send(c->w, MSG_SAY, &ml, s, len);
	else if (len > 1 && s[0] == '/' && s[1] == '/')
		worker_send(c->w, MSG_SAY, &ml, s + 1, len - 1);
	else if (len > 0)
		client_write(c, no, sizeof(no) - 1);
}

static int
client_line(
    struct peer *p, enum line_status st, const char *s, size_t len, void *arg)
{
	struct client *c = arg;
	int wait = 0;

	(void)p;
	if (c->w->state == W_DRAINING) {
		client_line_draining(c, st, s, len);
		return 0;
	}
	if (st != LINE_OK)
		client_refused(c, st);
	else if (len > 0)
		wait = commands_run(c, s, len);
	if (!peer_is_reading(c->p))
		return 1; /* the command ended the connection */
	return client_rate_take(c) || wait || c->w->blocked;
}

static void
client_eof(struct peer *p, void *arg)
{
	struct client *c = arg;

	c->eof = 1;
	client_leave(c);
	if (c->waiting == 0)
		peer_drain(p, NULL, 0, client_drain_ms(c));
}

/* A reply (or a chunk of one) to the command the client waits for. */
void
client_reply(struct client *c, const struct msg *m)
{
	if (c->reply == NULL && (c->reply = evbuffer_new()) == NULL) {
		peer_cut(c->p);
		return;
	}
	evbuffer_add(c->reply, m->tail, m->taillen);
	if (m->u.reply.flags & MSG_REPLY_MORE)
		return;
	peer_write_buffer(c->p, c->reply);
	evbuffer_free(c->reply);
	c->reply = NULL;
	c->waiting = 0;
	if (c->eof)
		peer_drain(c->p, NULL, 0, client_drain_ms(c));
	else
		client_maybe_resume(c);
}

static void
client_idle_cb(evutil_socket_t fd, short what, void *arg)
{
	static const char bye[] = "* timeout\n";
	struct client *c = arg;
	uint64_t now = clock_ms(), from, due;
	struct timeval tv;

	(void)fd;
	(void)what;
	if (c->timeout_ms == 0 || !c->member)
		return;
	from = peer_last_rx(c->p);
	if (from < c->timeout_set_ms)
		from = c->timeout_set_ms;
	if (peer_input_waiting(c->p))
		from = now; /* it sends; we only hold it back (rate limit) */
	due = from + c->timeout_ms;
	if (now >= due) {
		log_debug("client %llu: no input for %u ms",
		    (unsigned long long)c->id, c->timeout_ms);
		client_end(c, bye, sizeof(bye) - 1);
		return;
	}
	tv = clock_tv(due - now);
	evtimer_add(c->idle_timer, &tv);
}

void
client_set_timeout(struct client *c, uint32_t ms)
{
	struct timeval tv = clock_tv(ms);

	c->timeout_ms = ms;
	c->timeout_set_ms = clock_ms();
	if (ms == 0) {
		if (c->idle_timer != NULL)
			evtimer_del(c->idle_timer);
		return;
	}
	if (c->idle_timer == NULL)
		c->idle_timer = evtimer_new(c->w->base, client_idle_cb, c);
	if (c->idle_timer != NULL)
		evtimer_add(c->idle_timer, &tv);
}

void
client_final_read(struct client *c)
{
	peer_final_read(c->p, CLIENT_FINAL_READ_MAX);
}

/* A reload changed the limits. */
void
client_config(struct client *c)
{
	peer_set_max_line(c->p, c->w->conf.max_line);
	if (c->tokens > c->w->conf.burst)
		c->tokens = c->w->conf.burst;
}
