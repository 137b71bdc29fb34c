/*
 * A peer: one connection (a chat client in a worker, a control client in
 * the supervisor) with one life cycle for every way it can end.
 *
 *   reading   lines are read, checked and handed to on_line
 *   draining  reading stops; what is queued (and a last line) is flushed
 *   linger    the write side is shut (FIN sent); input is read and thrown
 *             away until the client closes or a moment passes, so the last
 *             line is not destroyed by a reset
 *   gone      closed; on_gone has been called and the peer is freed after
 *             the current loop iteration
 *
 * Kick, timeout, slow consumer, /quit and shutdown are all peer_drain()
 * with a different last line.  Output is queued with peer_write() and
 * written once per loop iteration by peer_set_flush(), so a burst of
 * broadcasts costs one write(2) per client, not one per line.
 */
#ifndef CHATD_PEER_H
#define CHATD_PEER_H

#include <stddef.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "line.h"

#define PEER_READ_MAX  16384 /* bytes per read(2) */
#define PEER_DRAIN_MS  2000  /* default: flush the last line within this */
#define PEER_LINGER_MS 1000  /* then wait this long for the client's FIN */

struct peer;

struct peer_ops {
	/* A line, or a refused one (st != LINE_OK).  Return 1 to stop
	 * handing out lines until peer_resume(). */
	int (*on_line)(struct peer *p, enum line_status st, const char *s,
	    size_t len, void *arg);
	/* The client closed its side; call peer_drain() when ready. */
	void (*on_eof)(struct peer *p, void *arg);
	/* The write side is finished: the last line has been sent and FIN
	 * follows it, or the connection was cut.  Called once (may be NULL). */
	void (*on_fin)(struct peer *p, void *arg);
	/* The connection is closed; p must not be used after this. */
	void (*on_gone)(struct peer *p, void *arg);
};

/* What all peers of a process share: the loop, a read buffer, the list of
 * peers with output to write, and the peers to free. */
struct peer_set {
	struct event_base *base;
	TAILQ_HEAD(, peer) dirty;
	TAILQ_HEAD(, peer) dead;
	TAILQ_HEAD(, peer) all; /* every peer not yet gone */
	size_t count;
	char rbuf[PEER_READ_MAX];
};

void peer_set_init(struct peer_set *ps, struct event_base *base);
/* Writes queued output and frees the peers that are gone; called after
 * every loop iteration. */
void peer_set_flush(struct peer_set *ps);

/* Cuts every connection (the exit path); peer_set_flush frees them. */
void peer_set_close_all(struct peer_set *ps);

/* Takes ownership of fd (nonblocking).  max_line for the line reader. */
struct peer *peer_new(struct peer_set *ps, int fd, size_t max_line,
    const struct peer_ops *ops, void *arg);

/* Queues bytes (ignored once draining has begun). */
void peer_write(struct peer *p, const void *data, size_t len);
/* Writes now, from the caller's memory, when nothing is queued before it;
 * queues (copies) only what the socket does not take.  The broadcast
 * path: most clients keep up, so most lines are never copied. */
void peer_send(struct peer *p, const void *data, size_t len);
/* Queues the contents of buf, leaving it empty (moves, no copy). */
void peer_write_buffer(struct peer *p, struct evbuffer *buf);
size_t peer_outlen(const struct peer *p);

/* Stop and restart reading and handing out lines. */
void peer_pause(struct peer *p);
void peer_resume(struct peer *p);

/* Ends the connection politely: last (may be NULL) is queued after what
 * is pending, everything is flushed within ms, then FIN and linger. */
void peer_drain(struct peer *p, const char *last, size_t len, unsigned ms);

/* Ends the connection now. */
void peer_cut(struct peer *p);

/* Reads what has already arrived (up to max bytes) and hands out every
 * line, pauses ignored; reading stays off afterwards.  For shutdown: what
 * a client sent before the server stopped is still delivered. */
void peer_final_read(struct peer *p, size_t max);

/* When the last byte arrived (clock_ms), and whether input is waiting
 * that the peer has not read or handed out yet (it is paused). */
uint64_t peer_last_rx(const struct peer *p);
int peer_input_waiting(const struct peer *p);

int peer_fd(const struct peer *p);
int peer_is_reading(const struct peer *p);
void peer_set_max_line(struct peer *p, size_t max_line);

#endif
