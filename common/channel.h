/*
 * A channel: one end of a SOCK_SEQPACKET socketpair between the supervisor
 * and a worker, carrying the typed messages of msg.h.
 *
 * Sending queues messages; channel_flush() packs as many as fit into each
 * packet (one sendmsg per MSG_PACKET_MAX bytes, not one per message) and
 * attaches the descriptors of their messages.  A descriptor handed to
 * channel_put() belongs to the channel: it is closed once sent or when the
 * channel is freed.  Receiving reads whole packets with recvmsg
 * (MSG_CMSG_CLOEXEC), checks MSG_TRUNC/MSG_CTRUNC, binds descriptors to
 * the messages flagged MSG_F_FD in order and closes any left over.  No
 * bufferevent is involved: it would lose the descriptors.
 *
 * A malformed packet, EOF or a send error ends the channel: on_close is
 * called once, with a reason, and nothing is delivered after it.
 */
#ifndef CHATD_CHANNEL_H
#define CHATD_CHANNEL_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "msg.h"

struct channel;

struct channel_ops {
	/* One decoded message.  If m->fd >= 0 the handler owns it. */
	void (*on_msg)(struct channel *ch, struct msg *m, void *arg);
	/* EOF (why == NULL) or an error; the owner frees the channel. */
	void (*on_close)(struct channel *ch, const char *why, void *arg);
	/* The send queue fell below CHANNEL_LOW_WATER after being above
	 * CHANNEL_HIGH_WATER (may be NULL). */
	void (*on_unblock)(struct channel *ch, void *arg);
};

#define CHANNEL_HIGH_WATER (8u << 20)
#define CHANNEL_LOW_WATER  (1u << 20)

/* Takes ownership of fd (a nonblocking SOCK_SEQPACKET socket). */
struct channel *channel_new(
    struct event_base *base, int fd, const struct channel_ops *ops, void *arg);

/* Frees the channel, closing its socket and every queued descriptor.
 * Safe inside the channel's own callbacks (the free is then deferred). */
void channel_free(struct channel *ch);

/* Queues one message; fd (or -1) passes to the channel.  0, or -1 when the
 * message breaks msg_table's rules or memory runs out (fd is closed). */
int channel_put(struct channel *ch, unsigned type, const void *fixed,
    const void *tail, size_t taillen, int fd);

/* Sends what the socket takes now; the rest goes when it is writable. */
void channel_flush(struct channel *ch);

/* Bytes queued and not yet sent. */
size_t channel_pending(const struct channel *ch);

/* Above CHANNEL_HIGH_WATER until the queue drains below the low mark. */
int channel_blocked(const struct channel *ch);

/* Stop and restart delivering received messages (reading the socket). */
void channel_pause(struct channel *ch);
void channel_resume(struct channel *ch);

/* True once on_close has been called. */
int channel_closed(const struct channel *ch);

/* On a closed channel: hands every message that was never sent to fn, in
 * order, with its descriptor (fn then owns m->fd), and empties the queue.
 * The supervisor uses it to give a dead worker's new clients to another. */
void channel_unsent(
    struct channel *ch, void (*fn)(const struct msg *m, void *arg), void *arg);

#endif
