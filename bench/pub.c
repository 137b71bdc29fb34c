/* The publisher connection (pub.h). */
#include "bench.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pub.h"
#include "resp.h"

#define PUB_IN_MAX 65536

__attribute__((format(printf, 2, 3))) static void
pub_error(struct pub *p, const char *fmt, ...)
{
	va_list ap;

	if (p->errors++ > 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(p->error, sizeof(p->error), fmt, ap);
	va_end(ap);
}

/* Waits for EVENTS on the publisher until DEADLINE; -1 on timeout. */
static int
pub_wait(struct pub *p, short events, uint64_t deadline)
{
	struct pollfd pfd = {p->fd, events, 0};
	int n;

	do
		n = poll(&pfd, 1, bench_ms_until(deadline));
	while (n < 0 && errno == EINTR);
	return n > 0 ? 0 : -1;
}

static int
pub_connect(struct pub *p, uint64_t deadline)
{
	struct sockaddr_in dst = {.sin_family = AF_INET};
	int one = 1, err = 0;
	socklen_t len = sizeof(err);

	dst.sin_addr = p->o->host;
	dst.sin_port = htons(p->o->port);
	p->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd < 0)
		return -1;
	/* One message per write when the window is small: no Nagle. */
	(void)setsockopt(p->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(p->fd, (struct sockaddr *)&dst, sizeof(dst)) < 0 &&
	    errno != EINPROGRESS)
		return -1;
	if (pub_wait(p, POLLOUT, deadline) < 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 ||
	    err != 0) {
		errno = err != 0 ? err : errno;
		return -1;
	}
	return 0;
}

/* chat: the first line is our welcome, and our id is in it. */
static int
pub_welcome(struct pub *p, uint64_t deadline)
{
	char *nl;
	ssize_t n;

	while ((nl = memchr(p->in, '\n', p->in_len)) == NULL) {
		if (pub_wait(p, POLLIN, deadline) < 0) {
			pub_error(p, "publisher: no welcome in time");
			return -1;
		}
		n = read(p->fd, p->in + p->in_len, PUB_IN_MAX - p->in_len);
		if (n <= 0 && !(n < 0 && errno == EAGAIN)) {
			pub_error(p, "publisher: closed before its welcome");
			return -1;
		}
		p->in_len += n > 0 ? (size_t)n : 0;
	}
	if (proto_welcome(p->in, (size_t)(nl - p->in), &p->id) < 0) {
		pub_error(p, "publisher: first line \"%.*s\"",
		    (int)(nl - p->in > 80 ? 80 : nl - p->in), p->in);
		return -1;
	}
	p->in_len -= (size_t)(nl + 1 - p->in);
	memmove(p->in, nl + 1, p->in_len);
	return 0;
}

int
pub_open(struct pub *p, const struct bench_opts *o, uint64_t deadline)
{
	memset(p, 0, sizeof(*p));
	p->o = o;
	p->in = malloc(PUB_IN_MAX);
	if (p->in == NULL) {
		p->fd = -1;
		pub_error(p, "publisher: out of memory");
		return -1;
	}
	if (pub_connect(p, deadline) < 0) {
		pub_error(p, "publisher: connect: %s", strerror(errno));
		return -1;
	}
	if (o->proto == PROTO_CHAT && pub_welcome(p, deadline) < 0)
		return -1;
	proto_frame_publish(o, &p->frame);
	proto_frame_delivery(o, p->id, &p->echo);
	return 0;
}

void
pub_close(struct pub *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	free(p->out);
	free(p->in);
	p->out = p->in = NULL;
}

static int
pub_reserve(struct pub *p, size_t n)
{
	size_t cap;
	char *b;

	if (p->out_off > 0 && p->out_off == p->out_len)
		p->out_off = p->out_len = 0;
	if (p->out_len + n <= p->out_cap)
		return 0;
	if (p->out_off > 0) { /* slide the unsent part down first */
		memmove(p->out, p->out + p->out_off, p->out_len - p->out_off);
		p->out_len -= p->out_off;
		p->out_off = 0;
		if (p->out_len + n <= p->out_cap)
			return 0;
	}
	cap = p->out_cap == 0 ? 65536 : p->out_cap;
	while (cap < p->out_len + n)
		cap *= 2;
	b = realloc(p->out, cap);
	if (b == NULL)
		return -1;
	p->out = b;
	p->out_cap = cap;
	return 0;
}

int
pub_queue(struct pub *p, uint64_t count)
{
	const struct proto_frame *f = &p->frame;
	uint64_t ts = bench_now();
	char *d;

	if (pub_reserve(p, (size_t)count * f->len) < 0)
		return -1;
	d = p->out + p->out_len;
	for (uint64_t k = 0; k < count; k++) {
		memcpy(d, f->pre, f->pre_len);
		proto_payload(d + f->pre_len, p->o->payload, p->sent++, ts);
		memcpy(d + f->pre_len + p->o->payload, f->suf, f->suf_len);
		d += f->len;
	}
	p->out_len = (size_t)(d - p->out);
	return 0;
}

int
pub_flush(struct pub *p)
{
	ssize_t n;

	while (p->out_off < p->out_len) {
		n = send(p->fd, p->out + p->out_off, p->out_len - p->out_off,
		    MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 1;
		if (n < 0) {
			pub_error(p, "publisher: send: %s", strerror(errno));
			return -1;
		}
		p->out_off += (size_t)n;
	}
	return 0;
}

/* chat: our own line came back; it must be the next one. */
static void
pub_echo(struct pub *p, const char *line, size_t len)
{
	const struct proto_frame *f = &p->echo;
	uint64_t seq, ts;

	if (len != f->len - 1 || memcmp(line, f->pre, f->pre_len) != 0 ||
	    proto_payload_parse(line + f->pre_len, p->o->payload, p->o->payload,
	        &seq, &ts) < 0) {
		pub_error(p, "publisher: unexpected line \"%.*s\"",
		    (int)(len > 80 ? 80 : len), line);
		return;
	}
	if (seq != p->echoed)
		pub_error(p, "publisher: own message %llu back, expected %llu",
		    (unsigned long long)seq, (unsigned long long)p->echoed);
	p->echoed = seq + 1;
}

static size_t
pub_parse_chat(struct pub *p)
{
	const char *s = p->in, *end = p->in + p->in_len, *nl;

	while ((nl = memchr(s, '\n', (size_t)(end - s))) != NULL) {
		pub_echo(p, s, (size_t)(nl - s));
		s = nl + 1;
	}
	return (size_t)(s - p->in);
}

static size_t
pub_parse_redis(struct pub *p)
{
	struct resp_value v;
	size_t off = 0;
	long k;

	while ((k = resp_parse(p->in + off, p->in_len - off, &v)) > 0) {
		off += (size_t)k;
		p->replies++;
		if (v.top.type != RESP_INT)
			pub_error(p, "publisher: PUBLISH reply of type %c",
			    v.top.type);
		else if (v.top.n != (int64_t)p->o->n)
			pub_error(p, "publisher: PUBLISH reached %lld of %u",
			    (long long)v.top.n, p->o->n);
	}
	if (k < 0) {
		pub_error(p, "publisher: malformed RESP reply");
		return p->in_len;
	}
	return off;
}

int
pub_read(struct pub *p)
{
	ssize_t n;
	size_t used;

	n = read(p->fd, p->in + p->in_len, PUB_IN_MAX - p->in_len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		pub_error(p, "publisher: %s",
		    n == 0 ? "closed by the server" : strerror(errno));
		return -1;
	}
	p->in_len += (size_t)n;
	used =
	    p->o->proto == PROTO_REDIS ? pub_parse_redis(p) : pub_parse_chat(p);
	p->in_len -= used;
	memmove(p->in, p->in + used, p->in_len);
	if (p->in_len == PUB_IN_MAX) {
		pub_error(p, "publisher: reply too long");
		return -1;
	}
	return 0;
}
