/*
 * Unit tests of common/line.c: line validation (UTF-8 per RFC 3629, control
 * characters) and the line reader (splitting a byte stream fed in chunks,
 * the maximum length, overlong lines, stop and resume, buffer release).
 *
 * A recorder callback appends every event to a transcript: an accepted
 * line as its text and "\n", a refused one as "!long\n", "!utf8\n" or
 * "!ctrl\n".  Tests compare transcripts, so a failure shows what the
 * reader handed out.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "line.h"

#define LOG_MAX 8192

struct rec {
	char log[LOG_MAX];
	size_t loglen;
	unsigned calls;
	unsigned counts[4]; /* per enum line_status */
	unsigned stop_at;   /* return 1 on this call (1-based); 0 = never */
	bool stop_always;   /* return 1 on every call */
	size_t max_ok_len;  /* longest accepted line */
};

static void
rec_add(struct rec *r, const char *s, size_t len)
{
	assert_true(r->loglen + len < LOG_MAX);
	memcpy(r->log + r->loglen, s, len);
	r->loglen += len;
	r->log[r->loglen] = '\0';
}

static int
rec_cb(void *arg, enum line_status st, const char *s, size_t len)
{
	static const char *const marks[] = {"", "!long", "!utf8", "!ctrl"};
	struct rec *r = arg;

	assert_in_range(st, LINE_OK, LINE_BAD_CONTROL);
	r->calls++;
	r->counts[st]++;
	if (st == LINE_OK && len > 0 && s == NULL) {
		fail_msg("an OK line of %zu bytes without its bytes", len);
		return 1;
	}
	if (st == LINE_OK) {
		if (len > 0)
			assert_null(memchr(s, '\n', len));
		assert_int_equal(line_check(s, len), LINE_OK);
		if (len > r->max_ok_len)
			r->max_ok_len = len;
		rec_add(r, s, len);
	} else {
		rec_add(r, marks[st], strlen(marks[st]));
	}
	rec_add(r, "\n", 1);
	return r->stop_always || r->calls == r->stop_at;
}

static void
rec_init(struct rec *r)
{
	memset(r, 0, sizeof(*r));
}

/* Feeds s in chunks of the given sizes (the last one repeats). */
static void
feed_chunks(struct line_reader *lr, struct rec *r, const char *s, size_t n,
    const size_t *sizes, size_t nsizes)
{
	size_t off = 0, k, i = 0;

	while (off < n) {
		k = sizes[i < nsizes ? i : nsizes - 1];
		if (k > n - off)
			k = n - off;
		assert_int_equal(
		    line_reader_feed(lr, s + off, k, rec_cb, r), 0);
		off += k;
		i++;
	}
}

/* Transcript of the string s fed in one piece to a reader of that max. */
static void
transcript_whole(const char *s, size_t max, struct rec *r)
{
	struct line_reader lr;

	rec_init(r);
	line_reader_init(&lr, max);
	assert_int_equal(line_reader_feed(&lr, s, strlen(s), rec_cb, r), 0);
	line_reader_free(&lr);
}

/* ---------------------------------------------------------------- check */

/* Printable ASCII, TAB and the empty line are valid. */
static void
check_accepts_ascii_and_tab(void **state)
{
	char all[95];

	(void)state;
	for (int i = 0; i < 95; i++)
		all[i] = (char)(0x20 + i);
	assert_int_equal(line_check(all, sizeof(all)), LINE_OK);
	assert_int_equal(line_check("a\tb\t", 4), LINE_OK);
	assert_int_equal(line_check("", 0), LINE_OK);
	assert_int_equal(line_check("\t", 1), LINE_OK);
}

/* Every C0 control but TAB, and DEL, is a control character. */
static void
check_refuses_c0_and_del(void **state)
{
	char s[3] = {'a', 0, 'b'};

	(void)state;
	for (int c = 0; c < 0x20; c++) {
		s[1] = (char)c;
		assert_int_equal(
		    line_check(s, 3), c == '\t' ? LINE_OK : LINE_BAD_CONTROL);
	}
	s[1] = 0x7F;
	assert_int_equal(line_check(s, 3), LINE_BAD_CONTROL);
	assert_int_equal(line_check("\r", 1), LINE_BAD_CONTROL);
	assert_int_equal(line_check("abc\r", 4), LINE_BAD_CONTROL);
	assert_int_equal(line_check("\x1b[31m", 5), LINE_BAD_CONTROL);
}

/* C1 controls U+0080..U+009F are refused; U+00A0 is not one. */
static void
check_refuses_c1(void **state)
{
	char s[2] = {(char)0xC2, 0};

	(void)state;
	for (int c = 0x80; c <= 0x9F; c++) {
		s[1] = (char)c;
		assert_int_equal(line_check(s, 2), LINE_BAD_CONTROL);
	}
	assert_int_equal(line_check("\xC2\xA0", 2), LINE_OK);
	assert_int_equal(line_check("x\xC2\x85y", 4), LINE_BAD_CONTROL);
}

/* The boundaries of every UTF-8 sequence length are accepted. */
static void
check_accepts_utf8_boundaries(void **state)
{
	static const char *const ok[] = {
	    "\xC2\xA0",         /* U+00A0 */
	    "\xC3\xA9",         /* é */
	    "\xDF\xBF",         /* U+07FF */
	    "\xE0\xA0\x80",     /* U+0800 */
	    "\xE2\x82\xAC",     /* € */
	    "\xED\x9F\xBF",     /* U+D7FF, below the surrogates */
	    "\xEE\x80\x80",     /* U+E000, above them */
	    "\xEF\xBF\xBF",     /* U+FFFF */
	    "\xF0\x90\x80\x80", /* U+10000 */
	    "\xF0\x9F\x98\x80", /* an emoji */
	    "\xF3\xBF\xBF\xBF", /* U+FFFFF */
	    "\xF4\x8F\xBF\xBF", /* U+10FFFF */
	    "caf\xC3\xA9 \xE2\x82\xAC\t\xF0\x9F\x98\x80!",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		assert_int_equal(line_check(ok[i], strlen(ok[i])), LINE_OK);
}

/* Overlong forms, surrogates and code points above U+10FFFF are invalid. */
static void
check_refuses_overlong_surrogates_and_high(void **state)
{
	static const char *const bad[] = {
	    "\xC0\x80",         /* overlong NUL */
	    "\xC0\xAF",         /* overlong "/" */
	    "\xC1\xBF",         /* overlong U+007F */
	    "\xE0\x80\x80",     /* overlong */
	    "\xE0\x9F\xBF",     /* overlong U+07FF */
	    "\xF0\x80\x80\x80", /* overlong */
	    "\xF0\x8F\xBF\xBF", /* overlong U+FFFF */
	    "\xED\xA0\x80",     /* U+D800 */
	    "\xED\xAF\xBF",     /* U+DBFF */
	    "\xED\xB0\x80",     /* U+DC00 */
	    "\xED\xBF\xBF",     /* U+DFFF */
	    "\xF4\x90\x80\x80", /* U+110000 */
	    "\xF5\x80\x80\x80", /* lead byte past F4 */
	    "\xF7\xBF\xBF\xBF",
	    "\xF8\x88\x80\x80\x80", /* 5-byte form */
	    "\xFC\x84\x80\x80\x80\x80",
	    "\xFE",
	    "\xFF",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(
		    line_check(bad[i], strlen(bad[i])), LINE_BAD_UTF8);
}

/* Truncated sequences and stray continuation bytes are invalid. */
static void
check_refuses_truncated_and_stray(void **state)
{
	static const char *const bad[] = {
	    "\xC3",             /* lead byte at the end */
	    "\xC3x",            /* followed by ASCII */
	    "\xE2\x82",         /* 3-byte form cut */
	    "\xE2\x82x",        /* ... and continued by ASCII */
	    "\xE2x\xAC",        /* ASCII in the middle */
	    "\xF0\x9F\x98",     /* 4-byte form cut */
	    "\xF0\x9F\x98 ",    /* ... and continued by a blank */
	    "\x80",             /* lone continuation */
	    "a\xBF",            /* lone continuation after ASCII */
	    "\xC3\xA9\xA9",     /* one continuation too many */
	    "\xE2\x82\xAC\x80", /* likewise */
	    "\xC3\xC3\xA9",     /* lead byte instead of continuation */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(
		    line_check(bad[i], strlen(bad[i])), LINE_BAD_UTF8);
}

/* Only len bytes count: a sequence cut by len is invalid, a NUL inside
 * len is a control character, bytes after len are never read. */
static void
check_honours_length(void **state)
{
	(void)state;
	assert_int_equal(line_check("\xC3\xA9", 1), LINE_BAD_UTF8);
	assert_int_equal(line_check("\xE2\x82\xAC", 2), LINE_BAD_UTF8);
	assert_int_equal(line_check("\xF0\x9F\x98\x80", 3), LINE_BAD_UTF8);
	assert_int_equal(line_check("ab\x01", 2), LINE_OK);
	assert_int_equal(line_check("a\0b", 3), LINE_BAD_CONTROL);
	assert_int_equal(line_check("\x01", 0), LINE_OK);
}

/* Each status has its own non-empty text for the -ERR reply. */
static void
status_texts_are_distinct(void **state)
{
	const char *t[4];

	(void)state;
	for (int i = 0; i < 4; i++) {
		t[i] = line_status_text((enum line_status)i);
		assert_non_null(t[i]);
		assert_true(t[i][0] != '\0');
		for (int j = 0; j < i; j++)
			assert_string_not_equal(t[i], t[j]);
	}
	assert_string_equal(line_status_text(LINE_TOO_LONG), "line too long");
}

/* ---------------------------------------------------------------- reader */

/* One feed of whole lines hands out each, empty lines included. */
static void
reader_splits_lines(void **state)
{
	struct rec r;

	(void)state;
	transcript_whole("a\nbc\n\n\tx\n", 16, &r);
	assert_string_equal(r.log, "a\nbc\n\n\tx\n");
	assert_int_equal(r.calls, 4);
}

/* "\r\n" ends a line like "\n"; only one "\r" before "\n" is dropped and a
 * lone "\r" elsewhere is a control character. */
static void
reader_handles_crlf(void **state)
{
	struct rec r;

	(void)state;
	transcript_whole("a\r\nb\n\r\n", 16, &r);
	assert_string_equal(r.log, "a\nb\n\n");
	transcript_whole("a\r\r\nb\rc\n\rd\n", 16, &r);
	assert_string_equal(r.log, "!ctrl\n!ctrl\n!ctrl\n");
}

/* Invalid lines are reported and the lines after them still come. */
static void
reader_reports_bad_lines_and_goes_on(void **state)
{
	static const char in[] = "ok\n\xC0\x80\nx\x7Fy\n\xED\xA0\x80\ngood\n";
	struct rec r;

	(void)state;
	transcript_whole(in, 16, &r);
	assert_string_equal(r.log, "ok\n!utf8\n!ctrl\n!utf8\ngood\n");
}

/* A trailing partial line is kept until its newline arrives. */
static void
reader_keeps_partial_line(void **state)
{
	struct line_reader lr;
	struct rec r;

	(void)state;
	rec_init(&r);
	line_reader_init(&lr, 16);
	assert_int_equal(line_reader_feed(&lr, "one\ntw", 6, rec_cb, &r), 0);
	assert_string_equal(r.log, "one\n");
	assert_false(line_reader_ready(&lr));
	assert_int_equal(line_reader_feed(&lr, "o", 1, rec_cb, &r), 0);
	assert_int_equal(line_reader_feed(&lr, "", 0, rec_cb, &r), 0);
	assert_string_equal(r.log, "one\n");
	assert_int_equal(line_reader_feed(&lr, "\nthree\n", 7, rec_cb, &r), 0);
	assert_string_equal(r.log, "one\ntwo\nthree\n");
	line_reader_free(&lr);
}

/* Any split of the stream into chunks gives the same lines as one feed:
 * every pair of cut points is tried, and every constant chunk size. */
static void
reader_chunking_does_not_matter(void **state)
{
	static const char in[] =
	    "hello\r\n\nw\xC3\xA9ird\xE2\x82\xAC\n12345678\n123456789\n"
	    "\xC3\n\r\r\nlast\r\n0123456789abcdef\nx\n";
	const size_t n = sizeof(in) - 1;
	struct line_reader lr;
	struct rec whole, r;
	size_t size;

	(void)state;
	transcript_whole(in, 8, &whole);
	for (size_t k = 1; k <= n; k++) {
		rec_init(&r);
		line_reader_init(&lr, 8);
		size = k;
		feed_chunks(&lr, &r, in, n, &size, 1);
		assert_string_equal(r.log, whole.log);
		line_reader_free(&lr);
	}
	for (size_t a = 0; a <= n; a++)
		for (size_t b = 0; a + b <= n; b++) {
			rec_init(&r);
			line_reader_init(&lr, 8);
			assert_int_equal(
			    line_reader_feed(&lr, in, a, rec_cb, &r), 0);
			assert_int_equal(
			    line_reader_feed(&lr, in + a, b, rec_cb, &r), 0);
			assert_int_equal(line_reader_feed(&lr, in + a + b,
			                     n - a - b, rec_cb, &r),
			    0);
			assert_string_equal(r.log, whole.log);
			line_reader_free(&lr);
		}
}

/* With max = 8, a line of exactly 8 bytes is accepted and one of 9 is
 * refused, wherever the read boundaries fall, with "\n" or "\r\n". */
static void
reader_max_is_exact_across_boundaries(void **state)
{
	static const struct {
		const char *in;
		const char *want;
	} cases[] = {
	    {"12345678\n", "12345678\n"}, {"12345678\r\n", "12345678\n"},
	    {"123456789\n", "!long\n"}, {"123456789\r\n", "!long\n"},
	    {"1234567\xC3\xA9\n", "!long\n"}, /* 9 bytes, 8 characters */
	    {"123456\xC3\xA9\r\n", "123456\xC3\xA9\n"},
	    {"12345678\r\r\n", "!long\n"}, /* the first \r counts */
	};
	struct line_reader lr;
	struct rec r;

	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		size_t n = strlen(cases[c].in);
		for (size_t cut = 0; cut <= n; cut++) {
			rec_init(&r);
			line_reader_init(&lr, 8);
			assert_int_equal(
			    line_reader_feed(&lr, cases[c].in, cut, rec_cb, &r),
			    0);
			assert_int_equal(
			    line_reader_feed(
			        &lr, cases[c].in + cut, n - cut, rec_cb, &r),
			    0);
			assert_int_equal(
			    line_reader_feed(&lr, "ok\n", 3, rec_cb, &r), 0);
			assert_int_equal(
			    r.counts[LINE_TOO_LONG] + r.counts[LINE_OK], 2);
			assert_memory_equal(
			    r.log, cases[c].want, strlen(cases[c].want));
			assert_string_equal(
			    r.log + strlen(cases[c].want), "ok\n");
			assert_true(r.max_ok_len <= 8);
			line_reader_free(&lr);
		}
	}
}

/* An overlong line is reported as soon as max + 1 bytes (not "\r") have
 * arrived, before its newline, and only once however long it gets. */
static void
reader_reports_overlong_once_before_newline(void **state)
{
	struct line_reader lr;
	struct rec r;
	char junk[4096];

	(void)state;
	memset(junk, 'x', sizeof(junk));
	rec_init(&r);
	line_reader_init(&lr, 8);
	assert_int_equal(line_reader_feed(&lr, "12345678", 8, rec_cb, &r), 0);
	assert_int_equal(r.calls, 0);
	assert_int_equal(line_reader_feed(&lr, "9", 1, rec_cb, &r), 0);
	assert_string_equal(r.log, "!long\n");
	for (int i = 0; i < 256; i++) /* 1 MiB more of the same line */
		assert_int_equal(
		    line_reader_feed(&lr, junk, sizeof(junk), rec_cb, &r), 0);
	assert_int_equal(r.calls, 1);
	assert_int_equal(line_reader_feed(&lr, "zz\nok\n", 6, rec_cb, &r), 0);
	assert_string_equal(r.log, "!long\nok\n");
	line_reader_free(&lr);
}

/* max + 1 bytes ending in "\r" may still be a max-byte line + "\r\n", so
 * nothing is reported until the next byte decides. */
static void
reader_waits_on_trailing_cr(void **state)
{
	struct line_reader lr;
	struct rec r;

	(void)state;
	rec_init(&r);
	line_reader_init(&lr, 8);
	assert_int_equal(line_reader_feed(&lr, "12345678\r", 9, rec_cb, &r), 0);
	assert_int_equal(r.calls, 0);
	assert_false(line_reader_ready(&lr));
	assert_int_equal(line_reader_feed(&lr, "\n", 1, rec_cb, &r), 0);
	assert_string_equal(r.log, "12345678\n");
	assert_int_equal(line_reader_feed(&lr, "12345678\r", 9, rec_cb, &r), 0);
	assert_int_equal(line_reader_feed(&lr, "x", 1, rec_cb, &r), 0);
	assert_string_equal(r.log, "12345678\n!long\n");
	assert_int_equal(line_reader_feed(&lr, "\nend\n", 5, rec_cb, &r), 0);
	assert_string_equal(r.log, "12345678\n!long\nend\n");
	line_reader_free(&lr);
}

/* An overlong line is skipped without being buffered: while skipping,
 * and after a single read holding a huge line, the reader holds nothing. */
static void
reader_skips_overlong_without_buffering(void **state)
{
	struct line_reader lr;
	struct rec r;
	char *big;
	const size_t n = 100000;

	(void)state;
	big = malloc(n + 8);
	assert_non_null(big);
	memset(big, 'y', n);
	rec_init(&r);
	line_reader_init(&lr, 1024);
	assert_int_equal(line_reader_feed(&lr, "abc", 3, rec_cb, &r), 0);
	for (size_t off = 0; off < n; off += 1000) {
		assert_int_equal(
		    line_reader_feed(&lr, big + off, 1000, rec_cb, &r), 0);
		assert_true(lr.len == 0 || off == 0);
		assert_true(lr.cap <= 1024 + 256);
	}
	assert_int_equal(r.calls, 1);
	assert_int_equal(lr.len, 0);
	assert_null(lr.buf);
	assert_int_equal(line_reader_feed(&lr, "\n", 1, rec_cb, &r), 0);
	memcpy(big + n, "\nok\n", 5); /* with its NUL */
	assert_int_equal(line_reader_feed(&lr, big, n + 4, rec_cb, &r), 0);
	assert_string_equal(r.log, "!long\n!long\nok\n");
	assert_null(lr.buf);
	line_reader_free(&lr);
	free(big);
}

/* An idle reader holds no buffer: none after whole lines, one while a
 * partial line waits, none again once it is complete. */
static void
reader_holds_no_buffer_when_idle(void **state)
{
	struct line_reader lr;
	struct rec r;

	(void)state;
	rec_init(&r);
	line_reader_init(&lr, 64);
	assert_null(lr.buf);
	assert_int_equal(line_reader_feed(&lr, "a\nb\n", 4, rec_cb, &r), 0);
	assert_null(lr.buf);
	assert_int_equal(lr.len, 0);
	assert_int_equal(line_reader_feed(&lr, "par", 3, rec_cb, &r), 0);
	assert_non_null(lr.buf);
	assert_int_equal(lr.len, 3);
	assert_int_equal(line_reader_feed(&lr, "tial\n", 5, rec_cb, &r), 0);
	assert_null(lr.buf);
	assert_int_equal(lr.len, 0);
	assert_string_equal(r.log, "a\nb\npartial\n");
	line_reader_free(&lr);
}

/* A stop (callback returns 1) keeps the rest; resume hands it out later,
 * in order, and then the reader is idle again. */
static void
reader_stop_keeps_rest_for_resume(void **state)
{
	struct line_reader lr;
	struct rec r;

	(void)state;
	rec_init(&r);
	r.stop_at = 1;
	line_reader_init(&lr, 16);
	assert_int_equal(
	    line_reader_feed(&lr, "a\nb\nc\npart", 10, rec_cb, &r), 1);
	assert_string_equal(r.log, "a\n");
	assert_true(line_reader_ready(&lr));
	assert_int_equal(line_reader_resume(&lr, rec_cb, &r), 0);
	assert_string_equal(r.log, "a\nb\nc\n");
	assert_false(line_reader_ready(&lr));
	assert_int_equal(lr.len, 4);
	assert_int_equal(line_reader_feed(&lr, "ial\n", 4, rec_cb, &r), 0);
	assert_string_equal(r.log, "a\nb\nc\npartial\n");
	assert_null(lr.buf);
	assert_int_equal(line_reader_resume(&lr, rec_cb, &r), 0);
	line_reader_free(&lr);
}

/* With a callback that always stops, each resume hands out exactly one
 * line, and resume on an empty reader hands out nothing. */
static void
reader_resume_one_line_per_stop(void **state)
{
	struct line_reader lr;
	struct rec r;

	(void)state;
	rec_init(&r);
	r.stop_always = true;
	line_reader_init(&lr, 16);
	assert_int_equal(
	    line_reader_feed(&lr, "1\n2\n\n4\n", 7, rec_cb, &r), 1);
	assert_int_equal(r.calls, 1);
	for (unsigned want = 2; want <= 4; want++) {
		assert_int_equal(line_reader_resume(&lr, rec_cb, &r), 1);
		assert_int_equal(r.calls, want);
	}
	assert_string_equal(r.log, "1\n2\n\n4\n");
	assert_false(line_reader_ready(&lr));
	assert_int_equal(line_reader_resume(&lr, rec_cb, &r), 0);
	assert_int_equal(r.calls, 4);
	assert_null(lr.buf);
	line_reader_free(&lr);
}

/* Bytes fed while stopped lines wait come after them, in order. */
static void
reader_feed_after_stop_keeps_order(void **state)
{
	struct line_reader lr;
	struct rec r;

	(void)state;
	rec_init(&r);
	r.stop_at = 1;
	line_reader_init(&lr, 16);
	assert_int_equal(line_reader_feed(&lr, "a\nb\nc", 5, rec_cb, &r), 1);
	assert_int_equal(line_reader_feed(&lr, "d\ne\n", 4, rec_cb, &r), 0);
	assert_string_equal(r.log, "a\nb\ncd\ne\n");
	assert_null(lr.buf);
	line_reader_free(&lr);
}

/* A stop on the line that completes a kept partial line keeps the rest of
 * that read. */
static void
reader_stop_while_completing_partial(void **state)
{
	struct line_reader lr;
	struct rec r;

	(void)state;
	rec_init(&r);
	line_reader_init(&lr, 16);
	assert_int_equal(line_reader_feed(&lr, "ab", 2, rec_cb, &r), 0);
	r.stop_at = 1;
	assert_int_equal(line_reader_feed(&lr, "c\nd\ne\nf", 7, rec_cb, &r), 1);
	assert_string_equal(r.log, "abc\n");
	assert_true(line_reader_ready(&lr));
	assert_int_equal(line_reader_resume(&lr, rec_cb, &r), 0);
	assert_string_equal(r.log, "abc\nd\ne\n");
	assert_int_equal(line_reader_feed(&lr, "\n", 1, rec_cb, &r), 0);
	assert_string_equal(r.log, "abc\nd\ne\nf\n");
	line_reader_free(&lr);
}

/* A stop on the too-long report still skips the rest of that line. */
static void
reader_stop_on_overlong_still_skips(void **state)
{
	struct line_reader lr;
	struct rec r;

	(void)state;
	rec_init(&r);
	r.stop_at = 1;
	line_reader_init(&lr, 4);
	assert_int_equal(line_reader_feed(&lr, "123456", 6, rec_cb, &r), 1);
	assert_string_equal(r.log, "!long\n");
	(void)line_reader_resume(&lr, rec_cb, &r);
	assert_int_equal(line_reader_feed(&lr, "789\nok\n", 7, rec_cb, &r), 0);
	assert_string_equal(r.log, "!long\nok\n");

	/* the same when the overlong line started in an earlier read */
	rec_init(&r);
	r.stop_at = 1;
	assert_int_equal(line_reader_feed(&lr, "12", 2, rec_cb, &r), 0);
	assert_int_equal(
	    line_reader_feed(&lr, "3456789\nok2\n", 12, rec_cb, &r), 1);
	assert_string_equal(r.log, "!long\n");
	assert_int_equal(line_reader_resume(&lr, rec_cb, &r), 0);
	assert_string_equal(r.log, "!long\nok2\n");
	assert_null(lr.buf);
	line_reader_free(&lr);
}

/* max = 0 admits only empty lines. */
static void
reader_max_zero_allows_only_empty_lines(void **state)
{
	struct rec r;

	(void)state;
	transcript_whole("\n\r\na\n\n", 0, &r);
	assert_string_equal(r.log, "\n\n!long\n\n");
}

/* line_reader_free releases a kept partial line (valgrind checks) and
 * leaves a reader that can be used again. */
static void
reader_free_releases_partial(void **state)
{
	struct line_reader lr;
	struct rec r;

	(void)state;
	rec_init(&r);
	line_reader_init(&lr, 16);
	assert_int_equal(line_reader_feed(&lr, "dangling", 8, rec_cb, &r), 0);
	line_reader_free(&lr);
	assert_null(lr.buf);
	assert_int_equal(lr.len, 0);
	assert_int_equal(line_reader_feed(&lr, "new\n", 4, rec_cb, &r), 0);
	assert_string_equal(r.log, "new\n");
	line_reader_free(&lr);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(check_accepts_ascii_and_tab),
	    cmocka_unit_test(check_refuses_c0_and_del),
	    cmocka_unit_test(check_refuses_c1),
	    cmocka_unit_test(check_accepts_utf8_boundaries),
	    cmocka_unit_test(check_refuses_overlong_surrogates_and_high),
	    cmocka_unit_test(check_refuses_truncated_and_stray),
	    cmocka_unit_test(check_honours_length),
	    cmocka_unit_test(status_texts_are_distinct),
	    cmocka_unit_test(reader_splits_lines),
	    cmocka_unit_test(reader_handles_crlf),
	    cmocka_unit_test(reader_reports_bad_lines_and_goes_on),
	    cmocka_unit_test(reader_keeps_partial_line),
	    cmocka_unit_test(reader_chunking_does_not_matter),
	    cmocka_unit_test(reader_max_is_exact_across_boundaries),
	    cmocka_unit_test(reader_reports_overlong_once_before_newline),
	    cmocka_unit_test(reader_waits_on_trailing_cr),
	    cmocka_unit_test(reader_skips_overlong_without_buffering),
	    cmocka_unit_test(reader_holds_no_buffer_when_idle),
	    cmocka_unit_test(reader_stop_keeps_rest_for_resume),
	    cmocka_unit_test(reader_resume_one_line_per_stop),
	    cmocka_unit_test(reader_feed_after_stop_keeps_order),
	    cmocka_unit_test(reader_stop_while_completing_partial),
	    cmocka_unit_test(reader_stop_on_overlong_still_skips),
	    cmocka_unit_test(reader_max_zero_allows_only_empty_lines),
	    cmocka_unit_test(reader_free_releases_partial),
	};

	return cmocka_run_group_tests_name("line", tests, NULL, NULL);
}
