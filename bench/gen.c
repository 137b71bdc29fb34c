/*
 * A generator process (gen.h).
 *
 * Subscribers connect in a window of at most connect_window at a time
 * (so that the server's accept queue never overflows and SYNs are never
 * retransmitted); each counts as registered at its "* welcome" or at the
 * SUBSCRIBE confirmation.  After that every frame it reads must be the
 * next message: the sequence number it expects, once.  A message is
 * complete here when all of this generator's subscribers have it; the
 * per-sequence counters live in a ring as large as the messages that may
 * be in flight (bench_ring_size), which the publisher never exceeds.
 */
#include "bench.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gen.h"
#include "proto.h"
#include "resp.h"
#include "wire.h"

#define GEN_EVENTS    512
#define GEN_READ_MAX  65536      /* bytes of one read() */
#define GEN_CMD_TOKEN UINT32_MAX /* epoll data of the command pipe */

enum sub_state {
	SUB_IDLE,
	SUB_CONNECTING, /* redis: waiting to send SUBSCRIBE */
	SUB_WAITING,    /* waiting for the welcome / the confirmation */
	SUB_REGISTERED,
	SUB_DEAD,
};

struct sub {
	uint64_t next; /* the sequence number expected next */
	int fd;
	uint8_t state;
	uint16_t carry_len; /* bytes of an unfinished frame, kept */
};

enum gen_phase {
	GEN_WAIT_GO,
	GEN_CONNECT,
	GEN_REGISTERED,
	GEN_MEASURE,
	GEN_DONE,
};

struct gen {
	struct gen_args a;
	const struct bench_opts *o;
	int ep;
	enum gen_phase phase;
	int failed; /* an error was reported to the coordinator */
	int timed;  /* latencies are measured (not in throughput mode) */
	int status; /* exit status */
	struct sub *subs;
	char *carry; /* carry_cap bytes per subscriber */
	size_t carry_cap;
	char *rbuf; /* carry_cap + GEN_READ_MAX */
	uint32_t *ring;
	uint64_t ring_mask;
	uint64_t completed; /* every subscriber has every seq below */
	uint64_t reported;  /* the last completed sent to the coordinator */
	uint64_t t_complete;
	uint64_t now; /* when the bytes being parsed were read */
	unsigned next_connect, inflight, registered;
	uint64_t t_last_reg;
	uint64_t connect_deadline;
	double cpu_go, cpu_mark;
	struct sockaddr_in dst;
	struct proto_frame dframe;
	char subscribe[160];
	size_t subscribe_len;
	struct wire_final st;
	struct wire_reader cmd;
};

static void
gen_report(struct gen *g, uint32_t type, const void *body, size_t len)
{
	if (wire_send(g->a.rep_fd, type, body, len) < 0) {
		g->status = BENCH_EXIT_FAIL; /* the coordinator is gone */
		g->phase = GEN_DONE;
	}
}

/* The first error of this generator goes to the coordinator (which ends
 * the run); the counters say how many there were. */
__attribute__((format(printf, 2, 3))) static void
gen_error(struct gen *g, const char *fmt, ...)
{
	struct wire_error e;
	va_list ap;

	g->status = BENCH_EXIT_FAIL;
	if (g->failed)
		return;
	g->failed = 1;
	memset(&e, 0, sizeof(e));
	va_start(ap, fmt);
	(void)vsnprintf(e.text, sizeof(e.text), fmt, ap);
	va_end(ap);
	gen_report(g, WIRE_ERROR, &e, sizeof(e));
}

static unsigned
gen_global(const struct gen *g, unsigned i)
{
	return g->a.first + i;
}

static void
gen_sub_close(struct sub *s)
{
	struct linger lg = {1, 0};

	if (s->fd < 0)
		return;
	/* A reset, not a FIN: no TIME_WAIT left behind by 100,000 sockets. */
	(void)setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(s->fd);
	s->fd = -1;
}

static void
gen_sub_fail(struct gen *g, unsigned i, const char *why)
{
	struct sub *s = &g->subs[i];

	if (s->state == SUB_CONNECTING || s->state == SUB_WAITING)
		g->inflight--;
	gen_sub_close(s);
	s->state = SUB_DEAD;
	g->st.closed++;
	gen_error(g, "subscriber %u: %s", gen_global(g, i), why);
}

/* ------------------------------------------------------------ connect */

static int
gen_bind_source(const struct gen *g, int fd, unsigned gi)
{
	struct sockaddr_in src;
	int one = 1;

	if (g->o->src_addrs <= 1)
		return 0;
	/* The port is chosen at connect(), per destination: 28k per source
	 * address and server instead of 28k per source address. */
	(void)setsockopt(
	    fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
	memset(&src, 0, sizeof(src));
	src.sin_family = AF_INET;
	src.sin_addr.s_addr = htonl(0x7f000001u + gi % g->o->src_addrs);
	return bind(fd, (struct sockaddr *)&src, sizeof(src));
}

static void
gen_connect(struct gen *g, unsigned i)
{
	struct sub *s = &g->subs[i];
	int redis = g->o->proto == PROTO_REDIS;
	struct epoll_event ev = {redis ? EPOLLOUT : EPOLLIN, {.u32 = i}};
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		gen_sub_fail(g, i, strerror(errno));
		return;
	}
	s->fd = fd;
	s->state = redis ? SUB_CONNECTING : SUB_WAITING;
	g->inflight++;
	if (gen_bind_source(g, fd, gen_global(g, i)) < 0 ||
	    (connect(fd, (struct sockaddr *)&g->dst, sizeof(g->dst)) < 0 &&
	        errno != EINPROGRESS) ||
	    epoll_ctl(g->ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		gen_sub_fail(g, i, strerror(errno));
}

static void
gen_connect_more(struct gen *g)
{
	while (g->phase == GEN_CONNECT && g->next_connect < g->a.n &&
	    g->inflight < g->o->connect_window)
		gen_connect(g, g->next_connect++);
}

/* redis: the connection is up, ask for the channel. */
static void
gen_connected(struct gen *g, unsigned i)
{
	struct sub *s = &g->subs[i];
	struct epoll_event ev = {EPOLLIN, {.u32 = i}};
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err != 0) {
		gen_sub_fail(g, i, strerror(err));
		return;
	}
	if (write(s->fd, g->subscribe, g->subscribe_len) !=
	        (ssize_t)g->subscribe_len ||
	    epoll_ctl(g->ep, EPOLL_CTL_MOD, s->fd, &ev) < 0) {
		gen_sub_fail(g, i, "cannot send SUBSCRIBE");
		return;
	}
	s->state = SUB_WAITING;
}

static void
gen_registered(struct gen *g, unsigned i)
{
	struct wire_registered r;

	g->subs[i].state = SUB_REGISTERED;
	g->inflight--;
	g->registered++;
	g->t_last_reg = g->now;
	if (g->registered < g->a.n)
		return;
	g->st.cpu_connect = bench_cpu(RUSAGE_SELF) - g->cpu_go;
	g->phase = GEN_REGISTERED;
	r.count = g->registered;
	r.t_last = g->t_last_reg;
	gen_report(g, WIRE_REGISTERED, &r, sizeof(r));
}

/* ------------------------------------------------------------ deliveries */

static void
gen_complete(struct gen *g)
{
	while (g->ring[g->completed & g->ring_mask] == g->a.n) {
		g->ring[g->completed & g->ring_mask] = 0;
		g->completed++;
	}
	g->t_complete = g->now;
}

/* A frame that is one of our messages: check its place in the order. */
static void
gen_delivery(struct gen *g, unsigned i, const char *payload)
{
	struct sub *s = &g->subs[i];
	uint64_t seq, ts = 0;

	if (proto_payload_parse(payload, g->o->payload, g->o->payload, &seq,
	        g->timed ? &ts : NULL) < 0 ||
	    seq >= g->completed + g->ring_mask + 1) {
		g->st.bad++;
		gen_error(g, "subscriber %u: malformed payload %.40s",
		    gen_global(g, i), payload);
		return;
	}
	if (seq == s->next) {
		s->next++;
		g->st.received++;
		if (g->timed)
			hist_add(&g->st.lat, g->now > ts ? g->now - ts : 0);
		if (++g->ring[seq & g->ring_mask] == g->a.n)
			gen_complete(g);
	} else if (seq > s->next) {
		g->st.lost += seq - s->next;
		gen_error(g, "subscriber %u: got message %llu, expected %llu",
		    gen_global(g, i), (unsigned long long)seq,
		    (unsigned long long)s->next);
		s->next = seq + 1;
	} else {
		g->st.dup++;
		gen_error(g,
		    "subscriber %u: got message %llu again (expected %llu)",
		    gen_global(g, i), (unsigned long long)seq,
		    (unsigned long long)s->next);
	}
}

/* A chat line that is not a delivery: a welcome, or something wrong. */
static int
gen_chat_other(struct gen *g, unsigned i, const char *line, size_t len)
{
	uint64_t id;

	if (g->subs[i].state == SUB_WAITING &&
	    proto_welcome(line, len, &id) == 0) {
		gen_registered(g, i);
		return 0;
	}
	g->st.unexpected++;
	gen_error(g, "subscriber %u: unexpected line \"%.*s\"",
	    gen_global(g, i), (int)(len > 80 ? 80 : len), line);
	/* Being told to leave (a notice, -ERR server full) ends it. */
	if (g->subs[i].state == SUB_WAITING || line[0] == '*') {
		gen_sub_fail(g, i, "ended by the server");
		return -1;
	}
	return 0;
}

/* Parses chat lines; the bytes used, or -1 when the subscriber ended. */
static long
gen_parse_chat(struct gen *g, unsigned i, const char *buf, size_t len)
{
	const struct proto_frame *f = &g->dframe;
	const char *p = buf, *end = buf + len, *nl;
	size_t ll;

	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		ll = (size_t)(nl - p);
		if (ll == f->len - 1 && g->subs[i].state == SUB_REGISTERED &&
		    memcmp(p, f->pre, f->pre_len) == 0)
			gen_delivery(g, i, p + f->pre_len);
		else if (gen_chat_other(g, i, p, ll) < 0)
			return -1;
		p = nl + 1;
	}
	return p - buf;
}

static int
gen_redis_other(struct gen *g, unsigned i, const struct resp_value *v)
{
	const struct resp_item *e = v->el;

	if (g->subs[i].state == SUB_WAITING && v->top.type == RESP_ARRAY &&
	    v->top.n == 3 && resp_is(&e[0], "subscribe") &&
	    resp_is(&e[1], g->o->channel) && e[2].type == RESP_INT &&
	    e[2].n == 1) {
		gen_registered(g, i);
		return 0;
	}
	g->st.unexpected++;
	gen_error(g, "subscriber %u: unexpected RESP value of type %c",
	    gen_global(g, i), v->top.type);
	if (g->subs[i].state == SUB_WAITING || v->top.type == RESP_ERROR) {
		gen_sub_fail(g, i, "refused by the server");
		return -1;
	}
	return 0;
}

/* Parses RESP values; the bytes used, or -1 when the subscriber ended. */
static long
gen_parse_redis(struct gen *g, unsigned i, const char *buf, size_t len)
{
	const struct proto_frame *f = &g->dframe;
	struct resp_value v;
	size_t off = 0;
	long k;

	while (off < len) {
		if (len - off >= f->len && g->subs[i].state == SUB_REGISTERED &&
		    memcmp(buf + off, f->pre, f->pre_len) == 0 &&
		    memcmp(buf + off + f->len - 2, "\r\n", 2) == 0) {
			gen_delivery(g, i, buf + off + f->pre_len);
			off += f->len;
			continue;
		}
		k = resp_parse(buf + off, len - off, &v);
		if (k == 0)
			break;
		if (k < 0) {
			g->st.bad++;
			gen_sub_fail(g, i, "malformed RESP");
			return -1;
		}
		if (gen_redis_other(g, i, &v) < 0)
			return -1;
		off += (size_t)k;
	}
	return (long)off;
}

static void
gen_readable(struct gen *g, unsigned i)
{
	struct sub *s = &g->subs[i];
	char *carry = g->carry + (size_t)i * g->carry_cap;
	size_t have = s->carry_len;
	ssize_t n;
	long used;

	memcpy(g->rbuf, carry, have);
	n = read(s->fd, g->rbuf + have, GEN_READ_MAX);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		gen_sub_fail(
		    g, i, n == 0 ? "closed by the server" : strerror(errno));
		return;
	}
	have += (size_t)n;
	g->now = bench_now();
	used = g->o->proto == PROTO_REDIS ? gen_parse_redis(g, i, g->rbuf, have)
	                                  : gen_parse_chat(g, i, g->rbuf, have);
	if (used < 0)
		return;
	if (have - (size_t)used > g->carry_cap) {
		g->st.bad++;
		gen_sub_fail(g, i, "frame too long");
		return;
	}
	memcpy(carry, g->rbuf + used, have - (size_t)used);
	s->carry_len = (uint16_t)(have - (size_t)used);
}

/* ------------------------------------------------------------ commands */

static void
gen_finish(struct gen *g, const struct wire_finish *f)
{
	for (unsigned i = 0; i < g->a.n; i++) {
		struct sub *s = &g->subs[i];
		if (!f->aborted && s->state == SUB_REGISTERED &&
		    s->next < f->total)
			g->st.lost += f->total - s->next;
		gen_sub_close(s);
	}
	g->st.registered = g->registered;
	g->st.cpu_measure = bench_cpu(RUSAGE_SELF) - g->cpu_mark;
	if (g->st.lost + g->st.dup + g->st.bad + g->st.unexpected +
	        g->st.closed + g->st.failures >
	    0)
		g->status = BENCH_EXIT_FAIL;
	gen_report(g, WIRE_FINAL, &g->st, sizeof(g->st));
	g->phase = GEN_DONE;
}

static void
gen_command(struct gen *g, const struct wire_hdr *h, const void *body)
{
	switch (h->type) {
	case WIRE_GO:
		g->cpu_go = bench_cpu(RUSAGE_SELF);
		g->phase = GEN_CONNECT;
		g->connect_deadline =
		    bench_now() + (uint64_t)(g->o->connect_timeout * 1e9);
		gen_connect_more(g);
		break;
	case WIRE_MARK:
		g->cpu_mark = bench_cpu(RUSAGE_SELF);
		g->phase = GEN_MEASURE;
		break;
	case WIRE_FINISH:
		gen_finish(g, body);
		break;
	default:
		g->st.failures++;
		gen_error(g, "unknown command %u", h->type);
		g->phase = GEN_DONE;
	}
}

static void
gen_commands(struct gen *g)
{
	struct wire_finish body;
	struct wire_hdr h;
	int rc;

	rc = wire_fill(&g->cmd, g->a.cmd_fd);
	if (rc < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (rc <= 0) { /* the coordinator is gone */
		g->status = BENCH_EXIT_FAIL;
		g->phase = GEN_DONE;
		return;
	}
	while (g->phase != GEN_DONE &&
	    (rc = wire_take(&g->cmd, &h, &body, sizeof(body))) > 0)
		gen_command(g, &h, &body);
	if (rc < 0) {
		g->status = BENCH_EXIT_FAIL;
		g->phase = GEN_DONE;
	}
}

/* ------------------------------------------------------------ loop */

static int
gen_timeout(struct gen *g)
{
	if (g->phase != GEN_CONNECT)
		return -1;
	if (bench_ms_until(g->connect_deadline) > 0)
		return bench_ms_until(g->connect_deadline);
	g->st.failures++;
	gen_error(g, "only %u of %u subscribers registered in %g s",
	    g->registered, g->a.n, g->o->connect_timeout);
	g->phase = GEN_REGISTERED; /* stuck: wait for FINISH */
	return -1;
}

static void
gen_event(struct gen *g, const struct epoll_event *ev)
{
	unsigned i = ev->data.u32;

	if (i == GEN_CMD_TOKEN) {
		gen_commands(g);
		return;
	}
	if (g->subs[i].state == SUB_CONNECTING)
		gen_connected(g, i);
	else if (g->subs[i].state != SUB_DEAD && g->subs[i].state != SUB_IDLE)
		gen_readable(g, i);
}

static void
gen_loop(struct gen *g)
{
	struct epoll_event evs[GEN_EVENTS];
	struct wire_progress pr;
	int n;

	while (g->phase != GEN_DONE) {
		n = epoll_wait(g->ep, evs, GEN_EVENTS, gen_timeout(g));
		if (n < 0 && errno != EINTR) {
			g->st.failures++;
			gen_error(g, "epoll_wait: %s", strerror(errno));
			break;
		}
		for (int k = 0; k < n && g->phase != GEN_DONE; k++)
			gen_event(g, &evs[k]);
		gen_connect_more(g);
		if (g->completed != g->reported && g->phase != GEN_DONE) {
			pr.completed = g->reported = g->completed;
			pr.t = g->t_complete;
			gen_report(g, WIRE_PROGRESS, &pr, sizeof(pr));
		}
	}
}

/* ------------------------------------------------------------ setup */

static int
gen_setup(struct gen *g)
{
	struct epoll_event ev = {EPOLLIN, {.u32 = GEN_CMD_TOKEN}};
	uint64_t ring = bench_ring_size(g->o);

	/* Throughput leaves the timestamps alone: the generator must not
	 * be the bottleneck, and parsing them costs it a tenth. */
	g->timed = g->o->mode != MODE_THROUGHPUT;
	proto_frame_delivery(g->o, g->a.pubid, &g->dframe);
	g->subscribe_len =
	    proto_subscribe(g->o, g->subscribe, sizeof(g->subscribe));
	g->carry_cap = g->dframe.len + 256;
	g->subs = calloc(g->a.n, sizeof(*g->subs));
	g->carry = malloc((size_t)g->a.n * g->carry_cap);
	g->rbuf = malloc(g->carry_cap + GEN_READ_MAX);
	g->ring = calloc(ring, sizeof(*g->ring));
	g->ring_mask = ring - 1;
	g->ep = epoll_create1(EPOLL_CLOEXEC);
	if (g->subs == NULL || g->carry == NULL || g->rbuf == NULL ||
	    g->ring == NULL || g->ep < 0 ||
	    epoll_ctl(g->ep, EPOLL_CTL_ADD, g->a.cmd_fd, &ev) < 0)
		return -1;
	for (unsigned i = 0; i < g->a.n; i++)
		g->subs[i].fd = -1;
	g->dst.sin_family = AF_INET;
	g->dst.sin_addr = g->o->host;
	g->dst.sin_port = htons(g->o->port);
	return 0;
}

static void
gen_free(struct gen *g)
{
	if (g->subs != NULL)
		for (unsigned i = 0; i < g->a.n; i++)
			gen_sub_close(&g->subs[i]);
	if (g->ep >= 0)
		close(g->ep);
	free(g->subs);
	free(g->carry);
	free(g->rbuf);
	free(g->ring);
}

int
gen_main(const struct gen_args *a)
{
	struct gen *g = calloc(1, sizeof(*g));
	int status;

	if (g == NULL)
		return BENCH_EXIT_FAIL;
	g->a = *a;
	g->o = a->o;
	g->ep = -1;
	if (gen_setup(g) < 0) {
		gen_error(g, "generator %u: out of memory", a->index);
	} else {
		gen_report(g, WIRE_READY, NULL, 0);
		gen_loop(g);
	}
	status = g->status;
	gen_free(g);
	free(g);
	return status;
}
