/*
 * The peer life cycle of peer.h on raw libevent events and evbuffers.
 * No bufferevent: a peer writes only from peer_set_flush() (once per loop
 * iteration) or when its socket becomes writable again, and it needs a
 * half-close that bufferevents do not do.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "clock.h"
#include "log.h"
#include "peer.h"

/* What the read event is for. */
enum peer_watch {
	WATCH_NONE,
	WATCH_READ, /* reading lines, or discarding while draining */
	WATCH_PEEK, /* paused: only to notice a reset (see peer_watch) */
};

enum peer_state {
	PEER_READING,
	PEER_DRAINING,
	PEER_LINGER,
	PEER_GONE,
};

struct peer {
	struct peer_set *ps;
	int fd;
	enum peer_state state;
	const struct peer_ops *ops;
	void *arg;
	struct event *rev;
	struct event *wev;
	struct event *timer; /* drain deadline, then linger; made on demand */
	struct evbuffer *out;
	struct line_reader lr;
	TAILQ_ENTRY(peer) link; /* on ps->dirty or ps->dead */
	TAILQ_ENTRY(peer) all;  /* on ps->all until gone */
	unsigned linger_ms;
	uint64_t last_rx;
	enum peer_watch watching; /* what rev waits for */
	unsigned dirty : 1;
	unsigned wpending : 1; /* wev is added: the socket was full */
	unsigned paused : 1;
	unsigned eof : 1;
	unsigned finned : 1;
};

static void peer_read_cb(evutil_socket_t fd, short what, void *arg);
static void peer_write_cb(evutil_socket_t fd, short what, void *arg);
static void peer_timer_cb(evutil_socket_t fd, short what, void *arg);
static void peer_peek_cb(evutil_socket_t fd, short what, void *arg);
static void peer_gone(struct peer *p);

void
peer_set_init(struct peer_set *ps, struct event_base *base)
{
	ps->base = base;
	TAILQ_INIT(&ps->dirty);
	TAILQ_INIT(&ps->dead);
	TAILQ_INIT(&ps->all);
	ps->count = 0;
}

void
peer_set_close_all(struct peer_set *ps)
{
	struct peer *p;

	while ((p = TAILQ_FIRST(&ps->all)) != NULL)
		peer_cut(p);
}

static void
peer_destroy(struct peer *p)
{
	if (p->rev != NULL)
		event_free(p->rev);
	if (p->wev != NULL)
		event_free(p->wev);
	if (p->timer != NULL)
		event_free(p->timer);
	if (p->out != NULL)
		evbuffer_free(p->out);
	line_reader_free(&p->lr);
	if (p->fd >= 0)
		close(p->fd);
	free(p);
}

struct peer *
peer_new(struct peer_set *ps, int fd, size_t max_line,
    const struct peer_ops *ops, void *arg)
{
	struct peer *p;

	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->ps = ps;
	p->fd = fd;
	p->ops = ops;
	p->arg = arg;
	p->last_rx = clock_ms();
	line_reader_init(&p->lr, max_line);
	p->rev = event_new(ps->base, fd, EV_READ | EV_PERSIST, peer_read_cb, p);
	p->wev =
	    event_new(ps->base, fd, EV_WRITE | EV_PERSIST, peer_write_cb, p);
	p->out = evbuffer_new();
	p->watching = WATCH_READ;
	if (p->rev == NULL || p->wev == NULL || p->out == NULL ||
	    event_add(p->rev, NULL) != 0) {
		p->fd = -1; /* the caller still owns fd */
		peer_destroy(p);
		return NULL;
	}
	ps->count++;
	TAILQ_INSERT_TAIL(&ps->all, p, all);
	return p;
}

/*
 * What the read event is for.  A paused peer is not read (its input waits
 * in the kernel: TCP back-pressure) but watched once more, so that a client
 * that resets its connection while waiting for a reply is noticed at once
 * (its program killed, its slot freed).  The watch ends at the first sign
 * of life: libevent reports a reset as readable, never as EV_CLOSED alone,
 * and a readable socket we do not read would wake the loop forever.
 */
static void
peer_watch(struct peer *p, enum peer_watch what)
{
	if (p->watching == what)
		return;
	event_del(p->rev);
	p->watching = what;
	if (what == WATCH_NONE)
		return;
	event_assign(p->rev, p->ps->base, p->fd, EV_READ | EV_PERSIST,
	    what == WATCH_READ ? peer_read_cb : peer_peek_cb, p);
	event_add(p->rev, NULL);
}

static void
peer_mark_dirty(struct peer *p)
{
	if (p->dirty || p->wpending || p->state == PEER_GONE)
		return;
	p->dirty = 1;
	TAILQ_INSERT_TAIL(&p->ps->dirty, p, link);
}

void
peer_write(struct peer *p, const void *data, size_t len)
{
	if (p->state != PEER_READING || len == 0)
		return;
	if (evbuffer_add(p->out, data, len) != 0) {
		log_warnx("peer: out of memory for output; closing");
		peer_cut(p);
		return;
	}
	peer_mark_dirty(p);
}

void
peer_send(struct peer *p, const void *data, size_t len)
{
	ssize_t n;

	if (p->state != PEER_READING || len == 0)
		return;
	if (p->dirty || p->wpending || evbuffer_get_length(p->out) > 0) {
		peer_write(p, data, len);
		return;
	}
	n = send(p->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
	    errno != EINTR) {
		log_debug("peer: send: %s", strerror(errno));
		peer_cut(p);
		return;
	}
	if (n < 0)
		n = 0;
	if ((size_t)n < len)
		peer_write(p, (const char *)data + n, len - (size_t)n);
}

void
peer_write_buffer(struct peer *p, struct evbuffer *buf)
{
	if (p->state != PEER_READING) {
		evbuffer_drain(buf, evbuffer_get_length(buf));
		return;
	}
	if (evbuffer_add_buffer(p->out, buf) != 0) {
		log_warnx("peer: out of memory for output; closing");
		peer_cut(p);
		return;
	}
	peer_mark_dirty(p);
}

size_t
peer_outlen(const struct peer *p)
{
	return evbuffer_get_length(p->out);
}

int
peer_fd(const struct peer *p)
{
	return p->fd;
}

int
peer_is_reading(const struct peer *p)
{
	return p->state == PEER_READING;
}

void
peer_set_max_line(struct peer *p, size_t max_line)
{
	p->lr.max = max_line;
}

/* Arms the peer's one timer, creating it on first use. */
static void
peer_arm(struct peer *p, unsigned ms)
{
	struct timeval tv = {
	    (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};

	if (p->timer == NULL)
		p->timer = evtimer_new(p->ps->base, peer_timer_cb, p);
	if (p->timer == NULL || evtimer_add(p->timer, &tv) != 0) {
		peer_gone(p); /* no timer, no bound: close now */
		return;
	}
}

/* The last line is out: shut the write side and linger. */
static void
peer_fin(struct peer *p)
{
	if (shutdown(p->fd, SHUT_WR) != 0 && errno != ENOTCONN)
		log_debug("peer: shutdown: %s", strerror(errno));
	p->state = PEER_LINGER;
	p->finned = 1;
	if (p->ops->on_fin != NULL)
		p->ops->on_fin(p, p->arg);
	if (p->state != PEER_LINGER)
		return;
	if (p->eof)
		peer_gone(p);
	else
		peer_arm(p, p->linger_ms);
}

/* Writes what is queued; finishes a drain once nothing is left. */
static void
peer_try_write(struct peer *p)
{
	if (evbuffer_get_length(p->out) > 0 &&
	    evbuffer_write(p->out, p->fd) < 0 && errno != EAGAIN &&
	    errno != EWOULDBLOCK && errno != EINTR) {
		log_debug("peer: write: %s", strerror(errno));
		peer_cut(p);
		return;
	}
	if (evbuffer_get_length(p->out) > 0) {
		if (!p->wpending && event_add(p->wev, NULL) == 0)
			p->wpending = 1;
		return;
	}
	if (p->wpending) {
		event_del(p->wev);
		p->wpending = 0;
	}
	if (p->state == PEER_DRAINING)
		peer_fin(p);
}

void
peer_set_flush(struct peer_set *ps)
{
	struct peer *p;

	while ((p = TAILQ_FIRST(&ps->dirty)) != NULL) {
		TAILQ_REMOVE(&ps->dirty, p, link);
		p->dirty = 0;
		peer_try_write(p);
	}
	while ((p = TAILQ_FIRST(&ps->dead)) != NULL) {
		TAILQ_REMOVE(&ps->dead, p, link);
		peer_destroy(p);
	}
}

static void
peer_write_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	peer_try_write(arg);
}

static int
peer_line_cb(void *arg, enum line_status st, const char *s, size_t len)
{
	struct peer *p = arg;

	if (p->state != PEER_READING || p->paused)
		return 1;
	if (p->ops->on_line(p, st, s, len, p->arg) != 0)
		p->paused = 1;
	return p->state != PEER_READING || p->paused;
}

/* After lines were handed out: stop reading if asked to or ended. */
static void
peer_after_lines(struct peer *p, int r)
{
	if (r < 0) {
		log_warnx("peer: out of memory for input; closing");
		peer_cut(p);
		return;
	}
	if (p->state != PEER_READING) {
		line_reader_free(&p->lr);
		return;
	}
	if (r == 1 || p->paused) {
		p->paused = 1;
		peer_watch(p, WATCH_PEEK);
	}
}

/* Reads and throws away what a draining client still sends. */
static void
peer_discard(struct peer *p)
{
	ssize_t n = read(p->fd, p->ps->rbuf, sizeof(p->ps->rbuf));

	if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR)))
		return;
	p->eof = 1;
	peer_watch(p, WATCH_NONE);
	if (n < 0 || p->state == PEER_LINGER)
		peer_gone(p);
}

static void
peer_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct peer *p = arg;
	ssize_t n;

	(void)what;
	if (p->state != PEER_READING) {
		peer_discard(p);
		return;
	}
	n = read(fd, p->ps->rbuf, sizeof(p->ps->rbuf));
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			peer_cut(p);
		return;
	}
	if (n == 0) {
		p->eof = 1;
		peer_watch(p, WATCH_NONE);
		p->ops->on_eof(p, p->arg);
		return;
	}
	p->last_rx = clock_ms();
	peer_after_lines(p,
	    line_reader_feed(&p->lr, p->ps->rbuf, (size_t)n, peer_line_cb, p));
}

uint64_t
peer_last_rx(const struct peer *p)
{
	return p->last_rx;
}

int
peer_input_waiting(const struct peer *p)
{
	int n = 0;

	if (line_reader_ready(&p->lr))
		return 1;
	return ioctl(p->fd, FIONREAD, &n) == 0 && n > 0;
}

void
peer_final_read(struct peer *p, size_t max)
{
	size_t got = 0;
	ssize_t n;
	int r;

	if (p->state != PEER_READING)
		return;
	p->paused = 0;
	r = line_reader_resume(&p->lr, peer_line_cb, p);
	while (r == 0 && !p->eof && p->state == PEER_READING && got < max) {
		n = read(p->fd, p->ps->rbuf, sizeof(p->ps->rbuf));
		if (n <= 0) {
			p->eof = n == 0;
			break;
		}
		got += (size_t)n;
		p->last_rx = clock_ms();
		r = line_reader_feed(
		    &p->lr, p->ps->rbuf, (size_t)n, peer_line_cb, p);
	}
	if (r < 0) {
		peer_cut(p);
		return;
	}
	if (p->state == PEER_READING) {
		p->paused = 1;
		peer_watch(p, p->eof ? WATCH_NONE : WATCH_PEEK);
	}
}

void
peer_pause(struct peer *p)
{
	if (p->state != PEER_READING || p->paused)
		return;
	p->paused = 1;
	peer_watch(p, WATCH_PEEK);
}

/* A paused peer's socket woke up: a reset ends the connection; data or
 * a half-close (FIN) wait for reading to resume. */
static void
peer_peek_cb(evutil_socket_t fd, short what, void *arg)
{
	struct peer *p = arg;
	char c;

	(void)what;
	if (recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) >= 0 || errno == EAGAIN ||
	    errno == EWOULDBLOCK || errno == EINTR) {
		peer_watch(p, WATCH_NONE);
		return;
	}
	log_debug("peer: connection reset while paused");
	peer_cut(p);
}

void
peer_resume(struct peer *p)
{
	if (p->state != PEER_READING || !p->paused)
		return;
	p->paused = 0;
	peer_after_lines(p, line_reader_resume(&p->lr, peer_line_cb, p));
	if (p->state == PEER_READING && !p->paused && !p->eof)
		peer_watch(p, WATCH_READ);
}

void
peer_drain(struct peer *p, const char *last, size_t len, unsigned ms)
{
	if (p->state != PEER_READING)
		return;
	if (last != NULL && len > 0 && evbuffer_add(p->out, last, len) != 0)
		log_debug("peer: no memory for the last line");
	p->state = PEER_DRAINING;
	p->linger_ms = ms < PEER_LINGER_MS ? ms : PEER_LINGER_MS;
	/* The line reader is not freed here: we may be inside one of its
	 * callbacks.  peer_after_lines (or the final free) drops it. */
	if (!p->eof)
		peer_watch(p, WATCH_READ); /* read and discard from now on */
	peer_arm(p, ms);
	if (p->state == PEER_DRAINING)
		peer_mark_dirty(p);
}

void
peer_cut(struct peer *p)
{
	if (p->state == PEER_GONE)
		return;
	if (!p->finned) {
		p->finned = 1;
		p->state = PEER_LINGER;
		if (p->ops->on_fin != NULL)
			p->ops->on_fin(p, p->arg);
	}
	peer_gone(p);
}

static void
peer_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct peer *p = arg;

	(void)fd;
	(void)what;
	if (p->state == PEER_DRAINING)
		log_debug("peer: last line not flushed in time; closing");
	peer_cut(p);
}

/* Closes the connection now and queues the peer to be freed. */
static void
peer_gone(struct peer *p)
{
	if (p->state == PEER_GONE)
		return;
	p->state = PEER_GONE;
	peer_watch(p, WATCH_NONE);
	event_del(p->wev);
	if (p->timer != NULL)
		event_del(p->timer);
	close(p->fd);
	p->fd = -1;
	if (p->dirty)
		TAILQ_REMOVE(&p->ps->dirty, p, link);
	p->dirty = 0;
	TAILQ_INSERT_TAIL(&p->ps->dead, p, link);
	TAILQ_REMOVE(&p->ps->all, p, all);
	p->ps->count--;
	p->ops->on_gone(p, p->arg);
}
