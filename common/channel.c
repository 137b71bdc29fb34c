/*
 * Typed messages over a SOCK_SEQPACKET socketpair, with descriptor
 * passing.  See channel.h for the rules; the notes on SCM_RIGHTS in
 * unix(7) are why every descriptor is accounted for here.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "channel.h"
#include "log.h"

#define CHANNEL_READ_BATCH 64 /* packets per read callback, for fairness */

struct channel {
	int fd;
	struct event *rev;
	struct event *wev;
	const struct channel_ops *ops;
	void *arg;

	uint8_t *out; /* queued messages: out[off..len) */
	size_t off, len, cap;
	int *fds; /* queued descriptors, FIFO: fds[fdoff..nfds) */
	size_t fdoff, nfds, fdcap;

	uint8_t *in; /* one received packet: in[in_off..in_len) is not */
	size_t in_off, in_len;   /* delivered yet (paused inside it) */
	int in_fds[MSG_FDS_MAX]; /* its descriptors: in_fds[in_fdi..in_nfd) */
	size_t in_fdi, in_nfd;
	int in_ctrunc;

	int busy;   /* depth of callbacks running on this channel */
	int doomed; /* channel_free was called while busy */
	int closed;
	int paused;
	int blocked;
};

union channel_cmsg {
	struct cmsghdr hdr;
	char buf[CMSG_SPACE(sizeof(int) * MSG_FDS_MAX)];
};

static void channel_read_cb(evutil_socket_t fd, short what, void *arg);
static void channel_write_cb(evutil_socket_t fd, short what, void *arg);
static void channel_destroy(struct channel *ch);

struct channel *
channel_new(
    struct event_base *base, int fd, const struct channel_ops *ops, void *arg)
{
	struct channel *ch;

	ch = calloc(1, sizeof(*ch));
	if (ch == NULL)
		return NULL;
	ch->fd = fd;
	ch->ops = ops;
	ch->arg = arg;
	ch->in = malloc(MSG_PACKET_MAX);
	ch->rev =
	    event_new(base, fd, EV_READ | EV_PERSIST, channel_read_cb, ch);
	ch->wev =
	    event_new(base, fd, EV_WRITE | EV_PERSIST, channel_write_cb, ch);
	if (ch->in == NULL || ch->rev == NULL || ch->wev == NULL ||
	    event_add(ch->rev, NULL) != 0) {
		ch->fd = -1; /* the caller still owns fd on failure */
		channel_destroy(ch);
		return NULL;
	}
	return ch;
}

static void
channel_destroy(struct channel *ch)
{
	if (ch->rev != NULL)
		event_free(ch->rev);
	if (ch->wev != NULL)
		event_free(ch->wev);
	for (size_t i = ch->fdoff; i < ch->nfds; i++)
		close(ch->fds[i]);
	for (size_t i = ch->in_fdi; i < ch->in_nfd; i++)
		close(ch->in_fds[i]);
	if (ch->fd >= 0)
		close(ch->fd);
	free(ch->fds);
	free(ch->out);
	free(ch->in);
	free(ch);
}

void
channel_free(struct channel *ch)
{
	if (ch == NULL)
		return;
	if (ch->busy > 0) {
		ch->doomed = 1;
		event_del(ch->rev);
		event_del(ch->wev);
		return;
	}
	channel_destroy(ch);
}

/* Ends the channel once: no message is delivered after on_close. */
static void
channel_fail(struct channel *ch, const char *why)
{
	if (ch->closed)
		return;
	ch->closed = 1;
	event_del(ch->rev);
	event_del(ch->wev);
	ch->ops->on_close(ch, why, ch->arg);
}

int
channel_closed(const struct channel *ch)
{
	return ch->closed;
}

void
channel_unsent(
    struct channel *ch, void (*fn)(const struct msg *m, void *arg), void *arg)
{
	const char *why;
	struct msg m;
	long used;

	while (ch->closed && ch->off < ch->len) {
		used =
		    msg_decode(ch->out + ch->off, ch->len - ch->off, &m, &why);
		if (used < 0)
			break; /* cannot happen: we encoded it */
		if ((m.flags & MSG_F_FD) && ch->fdoff < ch->nfds)
			m.fd = ch->fds[ch->fdoff++];
		fn(&m, arg);
		ch->off += (size_t)used;
	}
	for (size_t i = ch->fdoff; i < ch->nfds; i++)
		close(ch->fds[i]);
	ch->off = ch->len = 0;
	ch->fdoff = ch->nfds = 0;
}

static int
channel_reserve(struct channel *ch, size_t need)
{
	size_t cap;
	uint8_t *p;

	if (ch->off > 0 && ch->len + need > ch->cap) {
		memmove(ch->out, ch->out + ch->off, ch->len - ch->off);
		ch->len -= ch->off;
		ch->off = 0;
	}
	if (ch->len + need <= ch->cap)
		return 0;
	cap = ch->cap == 0 ? MSG_PACKET_MAX : ch->cap;
	while (cap < ch->len + need)
		cap *= 2;
	p = realloc(ch->out, cap);
	if (p == NULL)
		return -1;
	ch->out = p;
	ch->cap = cap;
	return 0;
}

static int
channel_queue_fd(struct channel *ch, int fd)
{
	int *p;
	size_t cap;

	if (ch->fdoff > 0 && ch->nfds == ch->fdcap) {
		memmove(ch->fds, ch->fds + ch->fdoff,
		    (ch->nfds - ch->fdoff) * sizeof(int));
		ch->nfds -= ch->fdoff;
		ch->fdoff = 0;
	}
	if (ch->nfds == ch->fdcap) {
		cap = ch->fdcap == 0 ? 64 : ch->fdcap * 2;
		p = realloc(ch->fds, cap * sizeof(int));
		if (p == NULL)
			return -1;
		ch->fds = p;
		ch->fdcap = cap;
	}
	ch->fds[ch->nfds++] = fd;
	return 0;
}

int
channel_put(struct channel *ch, unsigned type, const void *fixed,
    const void *tail, size_t taillen, int fd)
{
	size_t need = sizeof(struct msg_hdr) + taillen;
	unsigned flags = fd >= 0 ? MSG_F_FD : 0;
	long n;

	if (type > MSG_NONE && type < MSG_TYPE_MAX)
		need += msg_table[type].fixed;
	if (ch->closed || ch->doomed || channel_reserve(ch, need) != 0 ||
	    (fd >= 0 && channel_queue_fd(ch, fd) != 0))
		goto fail;
	n = msg_encode(ch->out + ch->len, ch->cap - ch->len, type, flags, fixed,
	    tail, taillen);
	if (n < 0) {
		log_errorx("channel: cannot encode %s message", msg_name(type));
		if (fd >= 0)
			ch->nfds--; /* un-queue it; closed below */
		goto fail;
	}
	ch->len += (size_t)n;
	if (channel_pending(ch) > CHANNEL_HIGH_WATER)
		ch->blocked = 1;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

size_t
channel_pending(const struct channel *ch)
{
	return ch->len - ch->off;
}

int
channel_blocked(const struct channel *ch)
{
	return ch->blocked;
}

/* Chooses the next packet: whole messages up to MSG_PACKET_MAX bytes and
 * MSG_FDS_MAX descriptors.  Returns its end offset; *nfd gets the count. */
static size_t
channel_packet_end(const struct channel *ch, size_t *nfd)
{
	size_t end = ch->off;
	struct msg_hdr h;

	*nfd = 0;
	while (end < ch->len) {
		memcpy(&h, ch->out + end, sizeof(h));
		if (end > ch->off &&
		    end + sizeof(h) + h.len - ch->off > MSG_PACKET_MAX)
			break;
		if (h.flags & MSG_F_FD) {
			if (*nfd == MSG_FDS_MAX)
				break;
			(*nfd)++;
		}
		end += sizeof(h) + h.len;
	}
	return end;
}

/* Sends one packet.  1 sent, 0 try later, -1 the channel failed. */
static int
channel_send_one(struct channel *ch)
{
	union channel_cmsg cbuf;
	struct iovec iov;
	struct msghdr mh;
	struct cmsghdr *cm;
	size_t nfd, end;

	end = channel_packet_end(ch, &nfd);
	iov.iov_base = ch->out + ch->off;
	iov.iov_len = end - ch->off;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfd > 0) {
		memset(&cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfd);
		cm = CMSG_FIRSTHDR(&mh);
		if (cm == NULL) {
			channel_fail(ch, "no room for descriptors");
			return -1;
		}
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfd);
		memcpy(CMSG_DATA(cm), ch->fds + ch->fdoff, sizeof(int) * nfd);
	}
	if (sendmsg(ch->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == ENOBUFS || errno == EINTR)
			return 0;
		if (errno == EPIPE || errno == ECONNRESET) {
			channel_fail(ch, NULL); /* the other process is gone */
			return -1;
		}
		log_warn("channel: sendmsg");
		channel_fail(ch, "send failed");
		return -1;
	}
	/* The kernel holds its own reference to each sent descriptor. */
	for (size_t i = 0; i < nfd; i++)
		close(ch->fds[ch->fdoff + i]);
	ch->fdoff += nfd;
	ch->off = end;
	return 1;
}

void
channel_flush(struct channel *ch)
{
	int r = 1;

	if (ch->closed || ch->doomed)
		return;
	ch->busy++;
	while (ch->off < ch->len && (r = channel_send_one(ch)) > 0)
		;
	if (r == 0)
		event_add(ch->wev, NULL);
	else if (r > 0) {
		ch->off = ch->len = 0;
		ch->fdoff = ch->nfds = 0;
		event_del(ch->wev);
	}
	if (r >= 0 && ch->blocked && channel_pending(ch) < CHANNEL_LOW_WATER) {
		ch->blocked = 0;
		if (ch->ops->on_unblock != NULL)
			ch->ops->on_unblock(ch, ch->arg);
	}
	ch->busy--;
	if (ch->doomed && ch->busy == 0)
		channel_destroy(ch);
}

static void
channel_write_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	channel_flush(arg);
}

/* Collects the descriptors of every SCM_RIGHTS header; closes extras. */
static size_t
channel_take_fds(struct msghdr *mh, int *fds)
{
	struct cmsghdr *cm;
	size_t n = 0, k;
	int fd;

	for (cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			memcpy(
			    &fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(fd));
			if (n < MSG_FDS_MAX)
				fds[n++] = fd;
			else
				close(fd);
		}
	}
	return n;
}

static void
channel_close_fds(const int *fds, size_t from, size_t n)
{
	for (size_t i = from; i < n; i++)
		close(fds[i]);
}

/* Delivers the held packet's messages until it ends or the channel is
 * paused (the rest is delivered by channel_resume).  0 fine, -1 ended. */
static int
channel_dispatch(struct channel *ch)
{
	const char *why = NULL;
	struct msg m;
	long used;

	while (ch->in_off < ch->in_len && !ch->paused) {
		used = msg_decode(
		    ch->in + ch->in_off, ch->in_len - ch->in_off, &m, &why);
		if (used < 0)
			break;
		if (m.flags & MSG_F_FD) {
			if (ch->in_fdi < ch->in_nfd)
				m.fd = ch->in_fds[ch->in_fdi++];
			else if (!ch->in_ctrunc) {
				why = "descriptor missing";
				break;
			}
		}
		ch->in_off += (size_t)used;
		ch->ops->on_msg(ch, &m, ch->arg);
		if (ch->closed || ch->doomed)
			return -1;
	}
	if (why == NULL && ch->in_off < ch->in_len)
		return 0; /* paused */
	if (why == NULL && ch->in_fdi < ch->in_nfd)
		why = "stray descriptor";
	channel_close_fds(ch->in_fds, ch->in_fdi, ch->in_nfd);
	ch->in_fdi = ch->in_nfd = 0;
	ch->in_off = ch->in_len = 0;
	if (why != NULL) {
		log_errorx("channel: malformed packet: %s", why);
		channel_fail(ch, why);
		return -1;
	}
	return 0;
}

/* Receives one packet.  1 handled, 0 nothing to read, -1 ended. */
static int
channel_recv_one(struct channel *ch)
{
	union channel_cmsg cbuf;
	struct iovec iov = {ch->in, MSG_PACKET_MAX};
	struct msghdr mh;
	size_t nfd;
	ssize_t n;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf.buf;
	mh.msg_controllen = sizeof(cbuf.buf);
	n = recvmsg(ch->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 0;
		if (errno == ECONNRESET) { /* it died with our data unread */
			channel_fail(ch, NULL);
			return -1;
		}
		log_warn("channel: recvmsg");
		channel_fail(ch, "receive failed");
		return -1;
	}
	if (n == 0) {
		channel_fail(ch, NULL);
		return -1;
	}
	nfd = channel_take_fds(&mh, ch->in_fds);
	if (mh.msg_flags & MSG_TRUNC) {
		channel_close_fds(ch->in_fds, 0, nfd);
		log_errorx("channel: packet truncated");
		channel_fail(ch, "packet truncated");
		return -1;
	}
	if (mh.msg_flags & MSG_CTRUNC)
		log_warnx("channel: descriptors lost in transit (MSG_CTRUNC)");
	ch->in_off = 0;
	ch->in_len = (size_t)n;
	ch->in_fdi = 0;
	ch->in_nfd = nfd;
	ch->in_ctrunc = (mh.msg_flags & MSG_CTRUNC) != 0;
	return channel_dispatch(ch) < 0 ? -1 : 1;
}

static void
channel_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct channel *ch = arg;

	(void)fd;
	(void)what;
	ch->busy++;
	for (int i = 0; i < CHANNEL_READ_BATCH; i++) {
		if (ch->closed || ch->doomed || ch->paused)
			break;
		if (channel_recv_one(ch) <= 0)
			break;
	}
	ch->busy--;
	if (ch->doomed && ch->busy == 0)
		channel_destroy(ch);
}

void
channel_pause(struct channel *ch)
{
	if (ch->paused || ch->closed)
		return;
	ch->paused = 1;
	event_del(ch->rev);
}

void
channel_resume(struct channel *ch)
{
	if (!ch->paused || ch->closed || ch->doomed)
		return;
	ch->paused = 0;
	if (ch->in_off < ch->in_len) { /* the rest of the held packet */
		ch->busy++;
		channel_dispatch(ch);
		ch->busy--;
		if (ch->doomed && ch->busy == 0) {
			channel_destroy(ch);
			return;
		}
		if (ch->paused || ch->closed)
			return;
	}
	event_add(ch->rev, NULL);
}
