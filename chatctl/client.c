/*
 * chatctl's side of the control socket: one connection, one command line,
 * one reply (see client.h).  The socket is non-blocking and every wait is
 * a poll() bounded by the request's deadline, so a server that hangs
 * cannot hang chatctl.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "client.h"

#define CLIENT_READ_CHUNK ((size_t)8192)

/* One connection and everything read on it so far. */
struct client_conn {
	int fd;
	int64_t deadline_ms; /* CLOCK_MONOTONIC */
	char *buf;           /* the bytes read; [off, len) not yet taken */
	size_t len, cap, off;
	size_t linecap; /* room in the reply's lines array */
	int eof;
	char *err;
	size_t errlen;
};

static int64_t
client_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left before the deadline (0 once it has passed). */
static int
client_left(const struct client_conn *c)
{
	int64_t left = c->deadline_ms - client_now_ms();

	return left > 0 ? (int)left : 0;
}

static void client_fail(struct client_conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Says what went wrong in c->err.  It returns nothing: the analyzers do
 * not follow variadic calls, so each caller says "return -1" itself. */
static void
client_fail(struct client_conn *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
}

/* Waits until the socket is ready for events, or fails at the deadline. */
static int
client_wait(struct client_conn *c, short events)
{
	struct pollfd pfd = {c->fd, events, 0};

	for (;;) {
		int left = client_left(c), n;

		if (left == 0) {
			client_fail(c, "no reply from chatd within %d s",
			    CLIENT_DEADLINE_MS / 1000);
			return -1;
		}
		if ((n = poll(&pfd, 1, left)) > 0)
			return 0;
		if (n < 0 && errno != EINTR) {
			client_fail(c, "poll: %s", strerror(errno));
			return -1;
		}
	}
}

/* Why connecting failed, and what the operator may do about it. */
static const char *
client_hint(int e)
{
	switch (e) {
	case ENOENT:
	case ECONNREFUSED:
		return " (is chatd running?)";
	case EACCES:
	case EPERM:
		return " (run chatctl as chatd's user or as root)";
	default:
		return "";
	}
}

static int
client_connect(const char *path)
{
	struct sockaddr_un sun;
	size_t n = strlen(path);
	int fd;

	if (n == 0 || n >= sizeof(sun.sun_path)) {
		/* "" would name an abstract socket: never ours */
		errno = n == 0 ? ENOENT : ENAMETOOLONG;
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, n + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Connects to path; -1 with the message for the operator in c->err. */
static int
client_open(struct client_conn *c, const char *path)
{
	c->fd = client_connect(path);
	if (c->fd < 0) {
		client_fail(c, "cannot reach chatd at %s: %s%s", path,
		    strerror(errno), client_hint(errno));
		return -1;
	}
	return 0;
}

static int
client_send_all(struct client_conn *c, const char *data, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = send(c->fd, data + off, len - off, MSG_NOSIGNAL);

		if (n > 0) {
			off += (size_t)n;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (client_wait(c, POLLOUT) < 0)
				return -1;
		} else if (errno != EINTR) {
			client_fail(
			    c, "cannot send to chatd: %s", strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* Sends line and its newline. */
static int
client_send_line(struct client_conn *c, const char *line)
{
	size_t n = strlen(line);
	char *msg = malloc(n + 2);
	int rc;

	if (msg == NULL) {
		client_fail(c, "out of memory");
		return -1;
	}
	memcpy(msg, line, n);
	msg[n] = '\n';
	msg[n + 1] = '\0';
	rc = client_send_all(c, msg, n + 1);
	free(msg);
	return rc;
}

/* Makes room for one more read, up to CLIENT_REPLY_MAX in all. */
static int
client_reserve(struct client_conn *c)
{
	size_t cap;
	char *nb;

	if (c->cap - c->len >= CLIENT_READ_CHUNK)
		return 0;
	if (c->len >= CLIENT_REPLY_MAX) {
		client_fail(c, "reply longer than %zu bytes", CLIENT_REPLY_MAX);
		return -1;
	}
	cap = c->cap == 0 ? 4 * CLIENT_READ_CHUNK : 2 * c->cap;
	nb = realloc(c->buf, cap);
	if (nb == NULL) {
		client_fail(c, "out of memory");
		return -1;
	}
	c->buf = nb;
	c->cap = cap;
	return 0;
}

/* Reads what the socket has (waiting for it); sets c->eof at the end. */
static int
client_fill(struct client_conn *c)
{
	if (client_reserve(c) < 0)
		return -1;
	for (;;) {
		ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);

		if (n > 0) {
			c->len += (size_t)n;
			return 0;
		}
		if (n == 0) {
			c->eof = 1;
			return 0;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (client_wait(c, POLLIN) < 0)
				return -1;
		} else if (errno != EINTR) {
			client_fail(
			    c, "cannot read from chatd: %s", strerror(errno));
			return -1;
		}
	}
}

/* Where the next whole line ends, or NULL when it has not arrived. */
static char *
client_newline(const struct client_conn *c)
{
	if (c->off >= c->len)
		return NULL;
	return memchr(c->buf + c->off, '\n', c->len - c->off);
}

/* The next line, without "\n" or "\r\n", in a new string. */
static int
client_readline(struct client_conn *c, char **line)
{
	char *nl, *start;
	size_t n;

	while ((nl = client_newline(c)) == NULL) {
		if (c->eof) {
			client_fail(
			    c, "connection closed before the reply ended");
			return -1;
		}
		if (client_fill(c) < 0)
			return -1;
	}
	start = c->buf + c->off;
	n = (size_t)(nl - start);
	c->off += n + 1;
	if (n > 0 && start[n - 1] == '\r')
		n--;
	*line = strndup(start, n);
	if (*line == NULL) {
		client_fail(c, "out of memory");
		return -1;
	}
	return 0;
}

/* The text after word if line starts with it as a whole word, else NULL. */
static char *
client_after(char *line, const char *word)
{
	size_t n = strlen(word);

	if (strncmp(line, word, n) != 0)
		return NULL;
	if (line[n] == '\0')
		return line + n;
	return line[n] == ' ' ? line + n + 1 : NULL;
}

/* Reads the first line: "+OK [TEXT]" or "-ERR TEXT". */
static int
client_first(struct client_conn *c, struct client_reply *r)
{
	char *line, *text;

	if (client_readline(c, &line) < 0)
		return -1;
	if ((text = client_after(line, "+OK")) != NULL) {
		r->ok = 1;
	} else if ((text = client_after(line, "-ERR")) != NULL) {
		r->ok = 0;
	} else {
		client_fail(c, "unexpected reply from chatd: \"%.80s\"", line);
		free(line);
		return -1;
	}
	memmove(line, text, strlen(text) + 1);
	r->text = line;
	return 0;
}

static int
client_add_line(struct client_conn *c, struct client_reply *r, char *line)
{
	if (r->nlines == c->linecap) {
		size_t cap = c->linecap == 0 ? 16 : 2 * c->linecap;
		char **nl = realloc(r->lines, cap * sizeof(*nl));

		if (nl == NULL) {
			free(line);
			client_fail(c, "out of memory");
			return -1;
		}
		r->lines = nl;
		c->linecap = cap;
	}
	r->lines[r->nlines++] = line;
	return 0;
}

/* Reads data lines up to ".", undoing the dot-stuffing. */
static int
client_data(struct client_conn *c, struct client_reply *r)
{
	char *line;

	for (;;) {
		if (client_readline(c, &line) < 0)
			return -1;
		if (strcmp(line, ".") == 0) {
			free(line);
			return 0;
		}
		if (line[0] == '.')
			memmove(line, line + 1, strlen(line));
		if (client_add_line(c, r, line) < 0)
			return -1;
	}
}

static int
client_exchange(struct client_conn *c, const char *line, enum client_kind kind,
    struct client_reply *r)
{
	if (client_send_line(c, line) < 0 || client_first(c, r) < 0)
		return -1;
	if (kind == CLIENT_MULTI && r->ok)
		return client_data(c, r);
	return 0;
}

enum client_status
client_call(const char *path, const char *line, enum client_kind kind,
    struct client_reply *r, char *err, size_t errlen)
{
	struct client_conn c;
	int rc;

	memset(&c, 0, sizeof(c));
	memset(r, 0, sizeof(*r));
	c.deadline_ms = client_now_ms() + CLIENT_DEADLINE_MS;
	c.err = err;
	c.errlen = errlen;
	if (client_open(&c, path) < 0)
		return CLIENT_UNREACHABLE;
	rc = client_exchange(&c, line, kind, r);
	close(c.fd);
	free(c.buf);
	if (rc < 0) {
		client_reply_free(r);
		return CLIENT_FAILED;
	}
	return CLIENT_DONE;
}

void
client_reply_free(struct client_reply *r)
{
	for (size_t i = 0; i < r->nlines; i++)
		free(r->lines[i]);
	free(r->lines);
	free(r->text);
	memset(r, 0, sizeof(*r));
}
