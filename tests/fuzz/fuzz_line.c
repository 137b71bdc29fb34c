/*
 * libFuzzer harness for the line reader of common/line.c.
 *
 * Input: 4 header bytes, then the byte stream.  Byte 0 chooses max (0..63,
 * or 1024 + 0..63 when bit 6 is set), bytes 1-2 seed the chunk sizes,
 * byte 3 the stop policy (stop on every Nth line, N = low nibble, 0 =
 * never; bit 4: feed the next chunk without resuming first).
 *
 * The stream is fed in chunks, and every event is compared with a
 * reference computed from the whole stream at once: each complete line is
 * one event (TOO_LONG if longer than max, else line_check's verdict, with
 * the line's bytes), and a last line without newline is one TOO_LONG if it
 * can no longer fit.  So an OK line always passes line_check, holds no
 * "\n", is at most max bytes, and a too-long line is reported exactly
 * once.  Any violation calls abort().
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "line.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct event {
	enum line_status st;
	size_t off, len;
};

struct state {
	const char *stream;
	struct event *exp;
	size_t nexp, next;
	size_t max;
	unsigned calls, stop_every;
};

/* A broken invariant: abort() so that libFuzzer keeps the input. */
static void
fuzz_assert(int ok)
{
	if (!ok)
		abort();
}

/* The events a correct reader hands out for the whole stream. */
static size_t
reference(const char *s, size_t n, size_t max, struct event *ev)
{
	size_t start = 0, k = 0, len;
	const char *nl;

	while (start < n) {
		nl = memchr(s + start, '\n', n - start);
		if (nl == NULL) {
			len = n - start;
			if (len > max + 1 ||
			    (len == max + 1 && s[n - 1] != '\r'))
				ev[k++] =
				    (struct event){LINE_TOO_LONG, start, 0};
			break;
		}
		len = (size_t)(nl - (s + start));
		if (len > 0 && s[start + len - 1] == '\r')
			len--;
		ev[k].st =
		    len > max ? LINE_TOO_LONG : line_check(s + start, len);
		ev[k].off = start;
		ev[k].len = len;
		k++;
		start = (size_t)(nl - s) + 1;
	}
	return k;
}

static int
on_line(void *arg, enum line_status st, const char *s, size_t len)
{
	struct state *t = arg;
	const struct event *e;

	fuzz_assert(t->next < t->nexp);
	e = &t->exp[t->next++];
	fuzz_assert(st == e->st);
	if (st == LINE_OK) {
		fuzz_assert(len <= t->max);
		fuzz_assert(len == 0 || s != NULL);
		fuzz_assert(memchr(s, '\n', len) == NULL);
		fuzz_assert(line_check(s, len) == LINE_OK);
	}
	if (st != LINE_TOO_LONG) {
		fuzz_assert(len == e->len);
		fuzz_assert(
		    len == 0 || memcmp(s, t->stream + e->off, len) == 0);
	}
	t->calls++;
	return t->stop_every != 0 && t->calls % t->stop_every == 0;
}

/* The reader's buffer is released when empty, and holds no more than a
 * line that can still fit while no complete line waits. */
static void
check_reader(const struct line_reader *lr)
{
	fuzz_assert((lr->len == 0) == (lr->buf == NULL));
	fuzz_assert(lr->len <= lr->cap);
	if (!line_reader_ready(lr))
		fuzz_assert(lr->len <= lr->max + 1);
}

/* Resumes until everything kept has been handed out. */
static void
drain(struct line_reader *lr, struct state *t)
{
	int r;

	while ((r = line_reader_resume(lr, on_line, t)) == 1)
		check_reader(lr);
	fuzz_assert(r == 0);
	check_reader(lr);
	fuzz_assert(!line_reader_ready(lr));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct line_reader lr;
	struct state t;
	uint32_t seed;
	size_t off = 0, k, n;
	char *copy;
	int r;
	bool lazy;

	if (size < 4)
		return 0;
	memset(&t, 0, sizeof(t));
	t.max = (data[0] & 0x3F) + ((data[0] & 0x40) ? 1024 : 0);
	seed = (uint32_t)data[1] << 8 | data[2];
	t.stop_every = data[3] & 0x0F;
	lazy = (data[3] & 0x10) != 0;
	n = size - 4;
	copy = malloc(n + 1);
	t.exp = malloc((n + 1) * sizeof(*t.exp));
	fuzz_assert(copy != NULL && t.exp != NULL);
	memcpy(copy, data + 4, n);
	t.stream = copy;
	t.nexp = reference(copy, n, t.max, t.exp);

	line_reader_init(&lr, t.max);
	while (off < n) {
		seed = seed * 1103515245u + 12345u;
		k = 1 + (seed >> 16) % ((seed & 0x8000) ? 2048 : 8);
		if (k > n - off)
			k = n - off;
		r = line_reader_feed(&lr, copy + off, k, on_line, &t);
		fuzz_assert(r == 0 || r == 1);
		check_reader(&lr);
		if (r == 1 && !lazy)
			drain(&lr, &t);
		off += k;
	}
	drain(&lr, &t);
	fuzz_assert(t.next == t.nexp);
	line_reader_free(&lr);
	fuzz_assert(lr.buf == NULL);
	free(t.exp);
	free(copy);
	return 0;
}
