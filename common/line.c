/*
 * Line splitting and validation; see line.h.  The common case (a read
 * holding whole lines) is handled in place, without copying: only a
 * partial line, or what follows a stop, is kept in the reader's buffer,
 * which is freed again as soon as it is empty.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "line.h"

/* Length of the UTF-8 sequence at s (n bytes left) or 0 if invalid;
 * *c1 is set when it encodes a C1 control (U+0080..U+009F). */
static size_t
line_utf8_seq(const unsigned char *s, size_t n, int *c1)
{
	unsigned char b = s[0], lo = 0x80, hi = 0xBF;
	size_t len;

	*c1 = 0;
	if (b >= 0xC2 && b <= 0xDF)
		len = 2;
	else if (b >= 0xE0 && b <= 0xEF)
		len = 3;
	else if (b >= 0xF0 && b <= 0xF4)
		len = 4;
	else
		return 0;
	if (b == 0xE0)
		lo = 0xA0; /* overlong */
	else if (b == 0xED)
		hi = 0x9F; /* surrogates */
	else if (b == 0xF0)
		lo = 0x90; /* overlong */
	else if (b == 0xF4)
		hi = 0x8F; /* above U+10FFFF */
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	*c1 = b == 0xC2 && s[1] <= 0x9F;
	return len;
}

enum line_status
line_check(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, k;
	int c1;

	while (i < len) {
		if (s[i] >= 0x20 && s[i] < 0x7F) {
			i++;
			continue;
		}
		if (s[i] == '\t') {
			i++;
			continue;
		}
		if (s[i] < 0x80)
			return LINE_BAD_CONTROL; /* C0 or DEL */
		k = line_utf8_seq(s + i, len - i, &c1);
		if (k == 0)
			return LINE_BAD_UTF8;
		if (c1)
			return LINE_BAD_CONTROL;
		i += k;
	}
	return LINE_OK;
}

const char *
line_status_text(enum line_status st)
{
	switch (st) {
	case LINE_OK:
		return "ok";
	case LINE_TOO_LONG:
		return "line too long";
	case LINE_BAD_UTF8:
		return "invalid UTF-8";
	case LINE_BAD_CONTROL:
		return "control character in line";
	}
	return "bad line";
}

size_t
line_refusal(char *buf, size_t len, enum line_status st, size_t max)
{
	int n;

	if (st == LINE_TOO_LONG)
		n = snprintf(
		    buf, len, "-ERR line too long (max %zu bytes)\n", max);
	else
		n = snprintf(buf, len, "-ERR %s\n", line_status_text(st));
	if (n < 0)
		return 0;
	return (size_t)n < len ? (size_t)n : len - 1;
}

void
line_reader_init(struct line_reader *r, size_t max)
{
	memset(r, 0, sizeof(*r));
	r->max = max;
}

void
line_reader_free(struct line_reader *r)
{
	free(r->buf);
	r->buf = NULL;
	r->len = r->cap = 0;
	r->skipping = false;
}

static int line_append(struct line_reader *r, const char *data, size_t n);

/* A partial line of n bytes that can no longer fit (a "\r" may follow). */
static bool
line_overlong(const struct line_reader *r, const char *p, size_t n)
{
	return n > r->max + 1 || (n == r->max + 1 && p[n - 1] != '\r');
}

/* Hands out the lines of p[0..n).  Sets *used to the bytes consumed; what
 * is left is a partial line (return 0) or follows a stop (return 1). */
static int
line_scan(struct line_reader *r, const char *p, size_t n, line_fn fn, void *arg,
    size_t *used)
{
	size_t i = 0, len;
	const char *nl;
	enum line_status st;

	while (i < n) {
		nl = memchr(p + i, '\n', n - i);
		if (r->skipping) {
			i = nl == NULL ? n : (size_t)(nl - p) + 1;
			r->skipping = nl == NULL;
			continue;
		}
		if (nl == NULL) {
			if (!line_overlong(r, p + i, n - i))
				break;
			r->skipping = true;
			*used = n;
			return fn(arg, LINE_TOO_LONG, NULL, 0);
		}
		len = (size_t)(nl - (p + i));
		if (len > 0 && p[i + len - 1] == '\r')
			len--;
		st = len > r->max ? LINE_TOO_LONG : line_check(p + i, len);
		if (fn(arg, st, p + i, len) != 0) {
			*used = (size_t)(nl - p) + 1;
			return 1;
		}
		i = (size_t)(nl - p) + 1;
	}
	*used = i;
	return 0;
}

/* Makes buf hold exactly p[0..n); p does not point into buf. */
static int
line_keep(struct line_reader *r, const char *p, size_t n)
{
	if (n == 0) { /* idle connections hold no buffer */
		free(r->buf);
		r->buf = NULL;
		r->len = r->cap = 0;
		return 0;
	}
	r->len = 0;
	return line_append(r, p, n);
}

int
line_reader_resume(struct line_reader *r, line_fn fn, void *arg)
{
	size_t used = 0;
	int stop;

	if (r->len == 0)
		return 0;
	stop = line_scan(r, r->buf, r->len, fn, arg, &used);
	r->len -= used;
	if (r->len > 0)
		memmove(r->buf, r->buf + used, r->len);
	else
		(void)line_keep(r, NULL, 0); /* idle: free the buffer */
	return stop;
}

/*
 * buf holds a partial line: complete it with data up to the first newline
 * (or with just enough bytes to see that it is too long) and hand it out.
 * Returns like line_reader_feed; *taken is the part of data it used.
 */
static int
line_complete(struct line_reader *r, const char *data, size_t n, line_fn fn,
    void *arg, size_t *taken)
{
	const char *nl = memchr(data, '\n', n);
	size_t k = nl == NULL ? n : (size_t)(nl - data) + 1;
	size_t room = r->max + 3 - r->len;
	int stop;

	if (k > room)
		k = room;
	*taken = k;
	if (line_append(r, data, k) != 0)
		return -1;
	stop = line_reader_resume(r, fn, arg);
	if (stop == 1 && line_append(r, data + k, n - k) != 0)
		return -1;
	*taken = stop == 1 ? n : k;
	return stop;
}

int
line_reader_feed(
    struct line_reader *r, const char *data, size_t n, line_fn fn, void *arg)
{
	size_t used = 0;
	int stop;

	if (r->len > 0 && line_reader_ready(r)) {
		/* Lines kept after a stop come first. */
		if (line_append(r, data, n) != 0)
			return -1;
		return line_reader_resume(r, fn, arg);
	}
	if (r->len > 0) {
		stop = line_complete(r, data, n, fn, arg, &used);
		if (stop != 0 || r->len > 0)
			return stop;
		data += used;
		n -= used;
	}
	stop = line_scan(r, data, n, fn, arg, &used);
	if (line_keep(r, data + used, n - used) != 0)
		return -1;
	return stop;
}

bool
line_reader_ready(const struct line_reader *r)
{
	if (r->len == 0)
		return false;
	if (r->skipping || memchr(r->buf, '\n', r->len) != NULL)
		return true;
	return line_overlong(r, r->buf, r->len);
}

/* Appends data to buf, growing it. */
static int
line_append(struct line_reader *r, const char *data, size_t n)
{
	size_t cap;
	char *b;

	if (n == 0)
		return 0;
	if (r->buf == NULL || r->len + n > r->cap) {
		cap = r->len + n < 256 ? 256 : r->len + n;
		b = realloc(r->buf, cap);
		if (b == NULL)
			return -1;
		r->buf = b;
		r->cap = cap;
	}
	memcpy(r->buf + r->len, data, n);
	r->len += n;
	return 0;
}
