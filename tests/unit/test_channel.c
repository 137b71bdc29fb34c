/*
 * Unit tests of common/channel.c over a real
 * socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC) and a
 * real event_base: packing, splitting, descriptor passing, malformed
 * packets, EOF, freeing from callbacks, and the watermarks.
 *
 * Either both ends are channels (a sends, b receives, one base runs both),
 * or one end is read or written raw with recvmsg/sendmsg to see the
 * packets themselves.  Every test ends with fx_done(), which frees what is
 * left and asserts that the process holds exactly the descriptors it held
 * before the test: every descriptor was closed, and none twice (a second
 * close would hit one of the test's own and lower the count).  Event loops
 * run with a deadline timer, never a sleep.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <event2/event.h>

#include "channel.h"
#include "log.h"
#include "msg.h"

#define GOT_MAX     512
#define HDR         sizeof(struct msg_hdr)
#define DEADLINE    10 /* seconds an event loop may run */
#define RAW_FDS_MAX ((size_t)2 * MSG_FDS_MAX) /* room for too many */

struct got {
	uint64_t key; /* the first 8 bytes of the fixed part */
	size_t taillen;
	int fd;
	uint16_t type;
};

/* One receiving or sending end and what happened to it. */
struct end {
	struct fx *fx;
	struct channel *ch;
	struct got got[GOT_MAX];
	int nmsg;
	int want;     /* break the loop once nmsg reaches it */
	int free_at;  /* channel_free inside on_msg number free_at */
	int pause_at; /* channel_pause inside on_msg number pause_at */
	int free_on_close;
	int closes;
	char why[128]; /* "(null)" for EOF */
	int unblocks;
	size_t unblock_pending;
	int unblock_blocked;
};

struct fx {
	int fds_before;
	struct event_base *base;
	struct event *deadline;
	int timed_out;
	int sv[2]; /* -1 once a channel owns it or it is closed */
	struct end a, b;
};

/* ---------------------------------------------------------------- helpers */

/* Descriptors open in this process. */
static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	/* one thread: readdir is fine, and readdir_r is deprecated */
	/* cppcheck-suppress readdirCalled */
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own */
}

static void
end_msg(struct channel *ch, struct msg *m, void *arg)
{
	struct end *e = arg;
	struct got *g;

	assert_ptr_equal(ch, e->ch);
	assert_int_equal(e->closes, 0); /* nothing after on_close */
	assert_true(e->nmsg < GOT_MAX);
	g = &e->got[e->nmsg++];
	g->type = m->type;
	memcpy(&g->key, &m->u, sizeof(g->key));
	g->taillen = m->taillen;
	g->fd = m->fd;
	assert_true((m->fd >= 0) == ((m->flags & MSG_F_FD) != 0));
	if (e->nmsg == e->free_at) {
		channel_free(ch);
		e->ch = NULL;
		event_base_loopbreak(e->fx->base);
		return;
	}
	if (e->nmsg == e->pause_at) {
		channel_pause(ch);
		event_base_loopbreak(e->fx->base);
	}
	if (e->nmsg == e->want)
		event_base_loopbreak(e->fx->base);
}

static void
end_close(struct channel *ch, const char *why, void *arg)
{
	struct end *e = arg;

	assert_ptr_equal(ch, e->ch);
	e->closes++;
	(void)snprintf(
	    e->why, sizeof(e->why), "%s", why != NULL ? why : "(null)");
	assert_true(channel_closed(ch));
	if (e->free_on_close) {
		channel_free(ch);
		e->ch = NULL;
	}
	event_base_loopbreak(e->fx->base);
}

static void
end_unblock(struct channel *ch, void *arg)
{
	struct end *e = arg;

	e->unblocks++;
	e->unblock_pending = channel_pending(ch);
	e->unblock_blocked = channel_blocked(ch);
}

static const struct channel_ops end_ops = {end_msg, end_close, end_unblock};

static void
fx_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fx *f = arg;

	(void)fd;
	(void)what;
	f->timed_out = 1;
	event_base_loopbreak(f->base);
}

static int
fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	f->fds_before = count_fds();
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC,
	        0, f->sv) != 0) {
		free(f);
		return -1;
	}
	f->base = event_base_new();
	f->deadline = evtimer_new(f->base, fx_deadline_cb, f);
	f->a.fx = f->b.fx = f;
	*state = f;
	return f->base != NULL && f->deadline != NULL ? 0 : -1;
}

/* Frees what the test left; returns the descriptors still over the
 * count before the test. */
static int
fx_release(struct fx *f)
{
	struct end *ends[2] = {&f->a, &f->b};

	for (int i = 0; i < 2; i++) {
		struct end *e = ends[i];
		for (int k = 0; k < e->nmsg; k++)
			if (e->got[k].fd >= 0) {
				close(e->got[k].fd);
				e->got[k].fd = -1;
			}
		channel_free(e->ch);
		e->ch = NULL;
	}
	for (int i = 0; i < 2; i++)
		if (f->sv[i] >= 0) {
			close(f->sv[i]);
			f->sv[i] = -1;
		}
	if (f->deadline != NULL)
		event_free(f->deadline);
	f->deadline = NULL;
	if (f->base != NULL)
		event_base_free(f->base);
	f->base = NULL;
	return count_fds() - f->fds_before;
}

static int
fx_teardown(void **state)
{
	struct fx *f = *state;

	(void)fx_release(f);
	free(f);
	return 0;
}

/* The end of the test: nothing leaked, nothing closed twice. */
static void
fx_done(struct fx *f)
{
	assert_int_equal(fx_release(f), 0);
}

/* Makes end e a channel on socket sv[i]. */
static void
fx_channel(struct fx *f, struct end *e, int i)
{
	e->ch = channel_new(f->base, f->sv[i], &end_ops, e);
	assert_non_null(e->ch);
	f->sv[i] = -1;
}

/* Runs the loop until a callback breaks it; fails on the deadline. */
static void
fx_run(struct fx *f)
{
	struct timeval tv = {DEADLINE, 0};

	f->timed_out = 0;
	assert_int_equal(evtimer_add(f->deadline, &tv), 0);
	assert_true(event_base_dispatch(f->base) >= 0);
	evtimer_del(f->deadline);
	assert_false(f->timed_out);
}

/* Handles whatever is ready now, without waiting. */
static void
fx_run_ready(struct fx *f)
{
	for (int i = 0; i < 4; i++)
		assert_true(event_base_loop(f->base, EVLOOP_NONBLOCK) >= 0);
}

/* A memfd: a file of its own (distinct inode), without FD_CLOEXEC. */
static int
new_file(ino_t *ino)
{
	struct stat st;
	int fd = memfd_create("test_channel", 0);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	*ino = st.st_ino;
	return fd;
}

static ino_t
fd_ino(int fd)
{
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	return st.st_ino;
}

static void
put_hello(struct channel *ch, uint32_t worker)
{
	struct msg_hello h = {MSG_VERSION, worker, 1, 0};

	assert_int_equal(channel_put(ch, MSG_HELLO, &h, NULL, 0, -1), 0);
}

static void
put_client(struct channel *ch, uint64_t id, int fd)
{
	struct msg_client c;

	memset(&c, 0, sizeof(c));
	c.id = id;
	(void)snprintf(c.addr, sizeof(c.addr), "127.0.0.1:%u", (unsigned)id);
	assert_int_equal(channel_put(ch, MSG_CLIENT_ADD, &c, NULL, 0, fd), 0);
}

static void
put_reply(struct channel *ch, uint64_t req, const char *tail, size_t len)
{
	struct msg_reply r = {req, 1, 0, 0};

	assert_int_equal(channel_put(ch, MSG_REPLY, &r, tail, len, -1), 0);
}

struct packet {
	uint8_t data[MSG_PACKET_MAX + 16];
	ssize_t len;
	int fds[RAW_FDS_MAX];
	size_t nfds;
};

/* Receives one packet raw from fd; 0 when none is waiting. */
static int
recv_packet(int fd, struct packet *p)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int) * RAW_FDS_MAX)];
	} cbuf;
	struct iovec iov = {p->data, sizeof(p->data)};
	struct msghdr mh;
	struct cmsghdr *cm;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf.buf;
	mh.msg_controllen = sizeof(cbuf.buf);
	p->nfds = 0;
	p->len = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (p->len < 0) {
		assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
		return 0;
	}
	assert_int_equal(mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC), 0);
	for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
		size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		assert_int_equal(cm->cmsg_type, SCM_RIGHTS);
		assert_true(p->nfds + k <= RAW_FDS_MAX);
		memcpy(p->fds + p->nfds, CMSG_DATA(cm), k * sizeof(int));
		p->nfds += k;
	}
	return 1;
}

/* Receives the next packet; when none is waiting (the socket was full and
 * has just been emptied), flushes the sender, which must make progress. */
static void
next_packet(struct channel *sender, int fd, struct packet *p)
{
	size_t before;

	while (!recv_packet(fd, p)) {
		before = channel_pending(sender);
		assert_true(before > 0);
		channel_flush(sender);
		assert_true(channel_pending(sender) < before);
	}
}

/* Decodes a whole packet into types and keys; returns the count. */
static int
decode_packet(const struct packet *p, struct got *out, int max)
{
	size_t off = 0;
	int n = 0;
	struct msg m;
	const char *why = NULL;
	long used;

	while (off < (size_t)p->len) {
		used =
		    msg_decode(p->data + off, (size_t)p->len - off, &m, &why);
		assert_true(used > 0);
		assert_true(n < max);
		out[n].type = m.type;
		memcpy(&out[n].key, &m.u, sizeof(out[n].key));
		out[n].taillen = m.taillen;
		out[n].fd = -1;
		n++;
		off += (size_t)used;
	}
	return n;
}

/* Sends one raw packet, with fd attached if fd >= 0. */
static void
send_raw(int sock, const void *data, size_t len, int fd)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} cbuf;
	struct iovec iov = {(void *)data, len};
	struct msghdr mh;
	struct cmsghdr *cm;

	memset(&mh, 0, sizeof(mh));
	memset(&cbuf, 0, sizeof(cbuf));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (fd >= 0) {
		mh.msg_control = cbuf.buf;
		mh.msg_controllen = sizeof(cbuf.buf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	assert_int_equal(sendmsg(sock, &mh, MSG_NOSIGNAL), (ssize_t)len);
}

/* ---------------------------------------------------------------- tests */

/* Small messages queued together leave in one packet, in order. */
static void
packs_several_messages_per_packet(void **state)
{
	struct fx *f = *state;
	struct packet *p = malloc(sizeof(*p));
	struct got got[32];

	memset(got, 0, sizeof(got));
	assert_non_null(p);
	fx_channel(f, &f->a, 0);
	for (uint32_t i = 1; i <= 10; i++)
		put_hello(f->a.ch, i);
	assert_int_equal(channel_pending(f->a.ch), 10 * (HDR + 16));
	channel_flush(f->a.ch);
	assert_int_equal(channel_pending(f->a.ch), 0);
	assert_int_equal(recv_packet(f->sv[1], p), 1);
	assert_int_equal(p->len, 10 * (HDR + 16));
	assert_int_equal(p->nfds, 0);
	assert_int_equal(decode_packet(p, got, 32), 10);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(got[i].type, MSG_HELLO);
		assert_int_equal(got[i].key >> 32, (uint64_t)i + 1);
	}
	assert_int_equal(recv_packet(f->sv[1], p), 0);
	free(p);
	fx_done(f);
}

/* A message that does not fit in a packet's remaining room starts the
 * next packet; no packet exceeds MSG_PACKET_MAX and none splits a
 * message. */
static void
splits_messages_across_packets(void **state)
{
	struct fx *f = *state;
	struct packet *p = malloc(sizeof(*p));
	char *tail = malloc(MSG_TAIL_MAX);
	const size_t rlen = HDR + sizeof(struct msg_reply);
	struct got got[8];

	memset(got, 0, sizeof(got));
	assert_non_null(p);
	assert_non_null(tail);
	memset(tail, 'r', MSG_TAIL_MAX);
	fx_channel(f, &f->a, 0);
	put_reply(f->a.ch, 1, tail, 30000);
	put_reply(f->a.ch, 2, tail, 30000);
	put_reply(f->a.ch, 3, tail, 30000); /* does not fit after 1 and 2 */
	put_hello(f->a.ch, 4);
	put_reply(f->a.ch, 5, tail, MSG_TAIL_MAX); /* nor after 3 and 4 */
	put_reply(f->a.ch, 6, tail, MSG_TAIL_MAX);
	channel_flush(f->a.ch);

	next_packet(f->a.ch, f->sv[1], p);
	assert_int_equal(p->len, 2 * (rlen + 30000));
	assert_int_equal(decode_packet(p, got, 8), 2);
	assert_int_equal(got[0].key, 1);
	assert_int_equal(got[1].key, 2);
	next_packet(f->a.ch, f->sv[1], p);
	assert_int_equal(p->len, rlen + 30000 + HDR + 16);
	assert_int_equal(decode_packet(p, got, 8), 2);
	assert_int_equal(got[0].key, 3);
	assert_int_equal(got[1].type, MSG_HELLO);
	for (uint64_t k = 5; k <= 6; k++) {
		next_packet(f->a.ch, f->sv[1], p);
		assert_int_equal(p->len, rlen + MSG_TAIL_MAX);
		assert_true(p->len <= MSG_PACKET_MAX);
		assert_int_equal(decode_packet(p, got, 8), 1);
		assert_int_equal(got[0].key, k);
		assert_int_equal(got[0].taillen, MSG_TAIL_MAX);
	}
	assert_int_equal(channel_pending(f->a.ch), 0);
	assert_int_equal(recv_packet(f->sv[1], p), 0);
	free(tail);
	free(p);
	fx_done(f);
}

/* Messages of every kind arrive at a channel in order with their tails. */
static void
delivers_in_order_between_channels(void **state)
{
	struct fx *f = *state;
	struct msg_line ml = {9};

	fx_channel(f, &f->a, 0);
	fx_channel(f, &f->b, 1);
	put_hello(f->a.ch, 1);
	assert_int_equal(
	    channel_put(f->a.ch, MSG_SAY, &ml, "hi there", 8, -1), 0);
	assert_int_equal(channel_put(f->a.ch, MSG_DRAIN, NULL, NULL, 0, -1), 0);
	put_reply(f->a.ch, 77, "+OK\n", 4);
	f->b.want = 4;
	channel_flush(f->a.ch);
	fx_run(f);
	assert_int_equal(f->b.nmsg, 4);
	assert_int_equal(f->b.got[0].type, MSG_HELLO);
	assert_int_equal(f->b.got[1].type, MSG_SAY);
	assert_int_equal(f->b.got[1].key, 9);
	assert_int_equal(f->b.got[1].taillen, 8);
	assert_int_equal(f->b.got[2].type, MSG_DRAIN);
	assert_int_equal(f->b.got[3].type, MSG_REPLY);
	assert_int_equal(f->b.got[3].key, 77);
	assert_int_equal(f->b.closes, 0);
	fx_done(f);
}

/* A passed descriptor refers to the same file (same inode) at the other
 * end, and arrives with FD_CLOEXEC set although the original had not. */
static void
passes_fd_to_same_file_with_cloexec(void **state)
{
	struct fx *f = *state;
	ino_t ino;
	int fd, flags;

	fx_channel(f, &f->a, 0);
	fx_channel(f, &f->b, 1);
	fd = new_file(&ino);
	assert_int_equal(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
	assert_int_equal(write(fd, "abc", 3), 3);
	put_client(f->a.ch, 5, fd);
	f->b.want = 1;
	channel_flush(f->a.ch);
	fx_run(f);
	assert_int_equal(f->b.nmsg, 1);
	assert_int_equal(f->b.got[0].type, MSG_CLIENT_ADD);
	assert_int_equal(f->b.got[0].key, 5);
	fd = f->b.got[0].fd;
	assert_true(fd >= 0);
	assert_int_equal(fd_ino(fd), ino);
	flags = fcntl(fd, F_GETFD);
	assert_true(flags >= 0);
	assert_int_equal(flags & FD_CLOEXEC, FD_CLOEXEC);
	assert_int_equal(lseek(fd, 0, SEEK_END), 3);
	fx_done(f);
}

/* More than MSG_FDS_MAX descriptors queued go out in several packets of
 * at most MSG_FDS_MAX each, every one bound to its own message. */
static void
many_fds_use_several_packets(void **state)
{
	struct fx *f = *state;
	struct packet *p = malloc(sizeof(*p));
	enum { N = 2 * MSG_FDS_MAX + 6 };
	ino_t ino[N];
	struct got got[N];
	size_t total = 0, sizes[8], npk = 0;
	int k, n;

	memset(got, 0, sizeof(got));
	assert_non_null(p);
	fx_channel(f, &f->a, 0);
	for (int i = 0; i < N; i++)
		put_client(f->a.ch, (uint64_t)i, new_file(&ino[i]));
	channel_flush(f->a.ch);
	while (total < N) {
		next_packet(f->a.ch, f->sv[1], p);
		n = decode_packet(p, got, N);
		assert_int_equal((size_t)n, p->nfds);
		for (k = 0; k < n; k++) {
			assert_int_equal(got[k].key, total + (size_t)k);
			assert_int_equal(fd_ino(p->fds[k]), ino[total + k]);
			assert_int_equal(
			    fcntl(p->fds[k], F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
			close(p->fds[k]);
		}
		assert_true(npk < 8);
		sizes[npk++] = p->nfds;
		total += (size_t)n;
	}
	assert_int_equal(npk, 3);
	assert_int_equal(sizes[0], MSG_FDS_MAX);
	assert_int_equal(sizes[1], MSG_FDS_MAX);
	assert_int_equal(sizes[2], 6);
	assert_int_equal(recv_packet(f->sv[1], p), 0);
	free(p);
	fx_done(f);
}

/* Descriptors bind to their own messages when messages with and without
 * one are mixed, between two channels. */
static void
fds_bind_to_their_messages(void **state)
{
	struct fx *f = *state;
	enum { N = 100 };
	ino_t ino[N];

	fx_channel(f, &f->a, 0);
	fx_channel(f, &f->b, 1);
	for (int i = 0; i < N; i++) {
		if (i % 3 == 0)
			put_client(f->a.ch, (uint64_t)i, new_file(&ino[i]));
		else
			put_hello(f->a.ch, (uint32_t)i);
	}
	f->b.want = N;
	channel_flush(f->a.ch);
	fx_run(f);
	assert_int_equal(f->b.nmsg, N);
	for (int i = 0; i < N; i++) {
		const struct got *g = &f->b.got[i];
		if (i % 3 == 0) {
			assert_int_equal(g->type, MSG_CLIENT_ADD);
			assert_int_equal(g->key, i);
			assert_true(g->fd >= 0);
			assert_int_equal(fd_ino(g->fd), ino[i]);
		} else {
			assert_int_equal(g->type, MSG_HELLO);
			assert_int_equal(g->key >> 32, i);
			assert_int_equal(g->fd, -1);
		}
	}
	fx_done(f);
}

/* Raw packets that break the rules end the channel: on_close once with
 * the reason, messages before the bad one delivered, nothing after it,
 * and the descriptor that came with the packet closed. */
static void
malformed_packets_close_channel(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *why;
		int kind;
		int delivered;
	} cases[] = {
	    {"unknown type", 0, 0},
	    {"stray descriptor", 1, 1},
	    {"descriptor missing", 2, 0},
	    {"truncated message", 3, 1},
	    {"malformed payload", 4, 1},
	};
	uint8_t pk[256];
	struct msg_hello h = {MSG_VERSION, 1, 1, 0};
	struct msg_client c;
	struct msg_line ml = {1};
	size_t len;
	ino_t ino;
	int fd;

	memset(&c, 0, sizeof(c));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		void *gs = NULL;
		struct fx *g;

		if (fx_setup(&gs) != 0 || gs == NULL)
			fail_msg("fixture setup failed");
		g = gs;
		if (g == NULL)
			return;
		fx_channel(g, &g->b, 1);
		len = (size_t)msg_encode(
		    pk, sizeof(pk), MSG_HELLO, 0, &h, NULL, 0);
		fd = -1;
		switch (cases[i].kind) {
		case 0: /* garbage header, with a descriptor */
			memset(pk, 0xFF, HDR);
			len = HDR;
			fd = new_file(&ino);
			break;
		case 1: /* a valid hello, with a descriptor nobody wants */
			fd = new_file(&ino);
			break;
		case 2: /* a client-add without its descriptor */
			len = (size_t)msg_encode(pk, sizeof(pk), MSG_CLIENT_ADD,
			    MSG_F_FD, &c, NULL, 0);
			break;
		case 3: /* a hello, then a cut one, with a descriptor */
			memcpy(pk + len, pk, len);
			len += len - 1;
			fd = new_file(&ino);
			break;
		default: /* a hello, then a say with a newline */
			len += (size_t)msg_encode(pk + len, sizeof(pk) - len,
			    MSG_SAY, 0, &ml, "a\nb", 3);
			break;
		}
		send_raw(g->sv[0], pk, len, fd);
		if (fd >= 0)
			close(fd); /* the one in flight is the channel's */
		/* a valid packet behind the bad one is never delivered */
		len = (size_t)msg_encode(
		    pk, sizeof(pk), MSG_HELLO, 0, &h, NULL, 0);
		send_raw(g->sv[0], pk, len, -1);
		fx_run(g);
		fx_run_ready(g);
		assert_int_equal(g->b.closes, 1);
		assert_string_equal(g->b.why, cases[i].why);
		assert_int_equal(g->b.nmsg, cases[i].delivered);
		if (cases[i].delivered)
			assert_int_equal(g->b.got[0].fd, -1);
		assert_true(channel_closed(g->b.ch));
		fx_done(g);
		(void)fx_teardown(&gs);
	}
	fx_done(f);
}

/* EOF from the other end is on_close(NULL), once. */
static void
eof_closes_with_null_reason(void **state)
{
	struct fx *f = *state;

	fx_channel(f, &f->b, 1);
	assert_false(channel_closed(f->b.ch));
	close(f->sv[0]);
	f->sv[0] = -1;
	fx_run(f);
	fx_run_ready(f);
	assert_int_equal(f->b.closes, 1);
	assert_string_equal(f->b.why, "(null)");
	assert_true(channel_closed(f->b.ch));
	fx_done(f);
}

/* Messages already queued before EOF are delivered before on_close. */
static void
eof_after_messages_delivers_them_first(void **state)
{
	struct fx *f = *state;

	fx_channel(f, &f->a, 0);
	fx_channel(f, &f->b, 1);
	put_hello(f->a.ch, 1);
	put_hello(f->a.ch, 2);
	channel_flush(f->a.ch);
	channel_free(f->a.ch);
	f->a.ch = NULL;
	fx_run(f);
	assert_int_equal(f->b.nmsg, 2);
	assert_int_equal(f->b.closes, 1);
	assert_string_equal(f->b.why, "(null)");
	fx_done(f);
}

/* channel_free inside on_msg is safe: nothing more is delivered and the
 * descriptors of the rest of the packet are closed. */
static void
free_inside_on_msg_is_safe(void **state)
{
	struct fx *f = *state;
	ino_t ino;

	fx_channel(f, &f->a, 0);
	fx_channel(f, &f->b, 1);
	for (int i = 0; i < 4; i++)
		put_client(f->a.ch, (uint64_t)i, new_file(&ino));
	put_hello(f->a.ch, 9);
	channel_flush(f->a.ch);
	put_hello(f->a.ch, 10); /* a second packet, never read */
	channel_flush(f->a.ch);
	f->b.free_at = 1;
	fx_run(f);
	fx_run_ready(f);
	assert_int_equal(f->b.nmsg, 1);
	assert_null(f->b.ch);
	assert_int_equal(f->b.closes, 0);
	assert_true(f->b.got[0].fd >= 0); /* the handler owns it */
	fx_done(f);
}

/* channel_free inside on_close is safe. */
static void
free_inside_on_close_is_safe(void **state)
{
	struct fx *f = *state;

	fx_channel(f, &f->b, 1);
	f->b.free_on_close = 1;
	close(f->sv[0]);
	f->sv[0] = -1;
	fx_run(f);
	fx_run_ready(f);
	assert_int_equal(f->b.closes, 1);
	assert_null(f->b.ch);
	fx_done(f);
}

/* Above CHANNEL_HIGH_WATER the channel is blocked; once the other end
 * has read enough that the queue is below CHANNEL_LOW_WATER, on_unblock
 * is called once and every message arrives in order. */
static void
watermarks_block_and_unblock(void **state)
{
	struct fx *f = *state;
	char *tail = malloc(60000);
	int n = 0;

	assert_non_null(tail);
	memset(tail, 'w', 60000);
	fx_channel(f, &f->a, 0);
	fx_channel(f, &f->b, 1);
	while (!channel_blocked(f->a.ch)) {
		assert_true(channel_pending(f->a.ch) <= CHANNEL_HIGH_WATER);
		put_reply(f->a.ch, (uint64_t)n++, tail, 60000);
		assert_true(n < GOT_MAX);
	}
	assert_true(channel_pending(f->a.ch) > CHANNEL_HIGH_WATER);
	channel_flush(f->a.ch);
	assert_true(channel_blocked(f->a.ch)); /* the socket holds less */
	assert_int_equal(f->a.unblocks, 0);
	f->b.want = n;
	fx_run(f);
	assert_int_equal(f->b.nmsg, n);
	for (int i = 0; i < n; i++) {
		assert_int_equal(f->b.got[i].key, i);
		assert_int_equal(f->b.got[i].taillen, 60000);
	}
	assert_int_equal(f->a.unblocks, 1);
	assert_true(f->a.unblock_pending < CHANNEL_LOW_WATER);
	assert_int_equal(f->a.unblock_blocked, 0);
	assert_false(channel_blocked(f->a.ch));
	assert_int_equal(channel_pending(f->a.ch), 0);
	free(tail);
	fx_done(f);
}

/* A refused put closes its descriptor and leaves the descriptor queue in
 * step: the next descriptor still goes with the next message.  Blockers
 * take the numbers the refused descriptors had, so that a stale queue
 * entry would send a blocker's file instead. */
static void
refused_put_closes_fd_and_keeps_queue(void **state)
{
	struct fx *f = *state;
	struct msg_hello h = {MSG_VERSION, 1, 1, 0};
	struct msg_client c;
	char big[CONF_LINE_MAX + 1];
	ino_t ino, ino2, junk;
	int fd, before, blocker[2];

	fx_channel(f, &f->a, 0);
	fx_channel(f, &f->b, 1);
	put_client(f->a.ch, 1, new_file(&ino));
	before = count_fds();
	/* a hello takes no descriptor */
	fd = new_file(&junk);
	assert_int_equal(channel_put(f->a.ch, MSG_HELLO, &h, NULL, 0, fd), -1);
	assert_int_equal(count_fds(), before);
	blocker[0] = new_file(&junk);
	/* a client-add needs one */
	memset(&c, 0, sizeof(c));
	assert_int_equal(
	    channel_put(f->a.ch, MSG_CLIENT_ADD, &c, NULL, 0, -1), -1);
	/* an unknown type; a tail too long */
	fd = new_file(&junk);
	assert_int_equal(
	    channel_put(f->a.ch, MSG_TYPE_MAX, &h, NULL, 0, fd), -1);
	assert_int_equal(count_fds(), before + 1);
	blocker[1] = new_file(&junk);
	memset(big, 'b', sizeof(big));
	assert_int_equal(channel_put(f->a.ch, MSG_SAY, &(struct msg_line){1},
	                     big, sizeof(big), -1),
	    -1);
	put_client(f->a.ch, 2, new_file(&ino2));
	f->b.want = 2;
	channel_flush(f->a.ch);
	fx_run(f);
	assert_int_equal(f->b.nmsg, 2);
	assert_int_equal(fd_ino(f->b.got[0].fd), ino);
	assert_int_equal(f->b.got[1].key, 2);
	assert_int_equal(fd_ino(f->b.got[1].fd), ino2);
	close(blocker[0]);
	close(blocker[1]);
	fx_done(f);
}

/* channel_free closes the descriptors still queued. */
static void
free_closes_queued_fds(void **state)
{
	struct fx *f = *state;
	int before = count_fds();
	ino_t ino;

	fx_channel(f, &f->a, 0);
	for (int i = 0; i < 40; i++)
		put_client(f->a.ch, (uint64_t)i, new_file(&ino));
	assert_int_equal(count_fds(), before + 40);
	channel_free(f->a.ch);
	f->a.ch = NULL;
	assert_int_equal(count_fds(), before - 1); /* and its socket */
	fx_done(f);
}

/* Descriptors received at the other end stay open when the sender later
 * flushes again and is freed: sent ones are closed once, not twice. */
static void
sent_fds_are_closed_once(void **state)
{
	struct fx *f = *state;
	struct packet *p = malloc(sizeof(*p));
	ino_t ino[8];

	assert_non_null(p);
	fx_channel(f, &f->a, 0);
	for (int i = 0; i < 8; i++)
		put_client(f->a.ch, (uint64_t)i, new_file(&ino[i]));
	channel_flush(f->a.ch);
	next_packet(f->a.ch, f->sv[1], p);
	assert_int_equal(p->nfds, 8);
	put_hello(f->a.ch, 1);
	channel_flush(f->a.ch);
	channel_free(f->a.ch);
	f->a.ch = NULL;
	for (int i = 0; i < 8; i++) {
		assert_int_equal(fd_ino(p->fds[i]), ino[i]);
		close(p->fds[i]);
	}
	free(p);
	fx_done(f);
}

/* channel_pause inside on_msg stops delivery until channel_resume, also
 * for the rest of the packet being handled; resume delivers it all. */
static void
pause_inside_on_msg_stops_delivery(void **state)
{
	struct fx *f = *state;

	fx_channel(f, &f->a, 0);
	fx_channel(f, &f->b, 1);
	for (uint32_t i = 1; i <= 3; i++)
		put_hello(f->a.ch, i);
	channel_flush(f->a.ch); /* one packet of three */
	put_hello(f->a.ch, 4);
	channel_flush(f->a.ch); /* and one more */
	f->b.pause_at = 1;
	fx_run(f);
	fx_run_ready(f);
	assert_int_equal(f->b.nmsg, 1);
	f->b.want = 4;
	channel_resume(f->b.ch);
	fx_run(f);
	assert_int_equal(f->b.nmsg, 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(f->b.got[i].key >> 32, i + 1);
	fx_done(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        packs_several_messages_per_packet, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        splits_messages_across_packets, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        delivers_in_order_between_channels, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        passes_fd_to_same_file_with_cloexec, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        many_fds_use_several_packets, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        fds_bind_to_their_messages, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        malformed_packets_close_channel, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        eof_closes_with_null_reason, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        eof_after_messages_delivers_them_first, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        free_inside_on_msg_is_safe, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        free_inside_on_close_is_safe, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        watermarks_block_and_unblock, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        refused_put_closes_fd_and_keeps_queue, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        free_closes_queued_fds, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        sent_fds_are_closed_once, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        pause_inside_on_msg_stops_delivery, fx_setup, fx_teardown),
	};

	log_init("test_channel", LOG_FATAL); /* refusals log at error */
	return cmocka_run_group_tests_name("channel", tests, NULL, NULL);
}
