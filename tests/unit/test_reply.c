/*
 * Unit tests of common/reply.c: single-line replies and the multi-line
 * form of protocol.md (data lines dot-stuffed POP3 style, ended by ".").
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <event2/buffer.h>

#include "reply.h"

static int
buf_setup(void **state)
{
	*state = evbuffer_new();
	return *state == NULL ? -1 : 0;
}

static int
buf_teardown(void **state)
{
	evbuffer_free(*state);
	return 0;
}

/* The buffer's bytes equal want (which may hold no NUL). */
static void
assert_buf(struct evbuffer *b, const char *want)
{
	size_t n = evbuffer_get_length(b);
	unsigned char *p = evbuffer_pullup(b, -1);

	if (n != strlen(want) || (n > 0 && memcmp(p, want, n) != 0))
		fail_msg("buffer holds \"%.*s\", want \"%s\"", (int)n,
		    n > 0 ? (const char *)p : "", want);
}

/* Removes everything from b. */
static void
drain(struct evbuffer *b)
{
	assert_int_equal(evbuffer_drain(b, evbuffer_get_length(b)), 0);
}

/* reply_printf writes one formatted line ending in "\n". */
static void
printf_adds_newline(void **state)
{
	struct evbuffer *b = *state;

	assert_int_equal(reply_printf(b, "+OK kicked %u", 42u), 0);
	assert_int_equal(reply_printf(b, "-ERR %s", "no such client 7"), 0);
	assert_buf(b, "+OK kicked 42\n-ERR no such client 7\n");
}

/* A data line that starts with "." gets one more; others are as given. */
static void
data_is_dot_stuffed(void **state)
{
	struct evbuffer *b = *state;

	assert_int_equal(reply_data(b, ".", 1), 0);
	assert_int_equal(reply_data(b, "..", 2), 0);
	assert_int_equal(reply_data(b, ".hidden", 7), 0);
	assert_int_equal(reply_data(b, "a.b", 3), 0);
	assert_int_equal(reply_data(b, " .x", 3), 0);
	assert_int_equal(reply_data(b, "plain", 5), 0);
	assert_buf(b, "..\n...\n..hidden\na.b\n .x\nplain\n");
}

/* An empty data line is just "\n" (and not the end marker). */
static void
data_empty_line(void **state)
{
	struct evbuffer *b = *state;

	assert_int_equal(reply_data(b, "", 0), 0);
	assert_int_equal(reply_data(b, "x", 0), 0);
	assert_buf(b, "\n\n");
}

/* Only len bytes are written. */
static void
data_honours_length(void **state)
{
	struct evbuffer *b = *state;

	assert_int_equal(reply_data(b, "abcdef", 3), 0);
	assert_int_equal(reply_data(b, ".xyz", 1), 0);
	assert_buf(b, "abc\n..\n");
}

/* reply_dataf formats, then dot-stuffs like reply_data. */
static void
dataf_formats_and_stuffs(void **state)
{
	struct evbuffer *b = *state;

	assert_int_equal(reply_dataf(b, "id=%d addr=%s", 3, "[::1]:5"), 0);
	assert_int_equal(reply_dataf(b, ".%s", "dot"), 0);
	assert_buf(b, "id=3 addr=[::1]:5\n..dot\n");
}

/* reply_dataf cuts a line longer than its buffer but still ends it. */
static void
dataf_cuts_long_line(void **state)
{
	struct evbuffer *b = *state;
	char big[3000];
	size_t n;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(reply_dataf(b, "%s", big), 0);
	n = evbuffer_get_length(b);
	assert_true(n > 1 && n <= 1024);
	assert_int_equal(evbuffer_pullup(b, -1)[n - 1], '\n');
	assert_null(memchr(evbuffer_pullup(b, -1), '\n', n - 1));
}

/* reply_data_lines: text with a trailing newline gives its lines, without
 * one the last piece is still a data line, and every line is stuffed. */
static void
data_lines_with_and_without_trailing_newline(void **state)
{
	struct evbuffer *b = *state;

	assert_int_equal(reply_data_lines(b, "a\nb\n", 4), 0);
	assert_buf(b, "a\nb\n");
	drain(b);
	assert_int_equal(reply_data_lines(b, "a\nb", 3), 0);
	assert_buf(b, "a\nb\n");
	drain(b);
	assert_int_equal(reply_data_lines(b, "one", 3), 0);
	assert_buf(b, "one\n");
	drain(b);
	assert_int_equal(reply_data_lines(b, ".\n..x\ny.\n.", 10), 0);
	assert_buf(b, "..\n...x\ny.\n..\n");
}

/* Empty lines inside the text are kept; empty text gives no line at all
 * and a lone "\n" one empty line. */
static void
data_lines_empty_lines(void **state)
{
	struct evbuffer *b = *state;

	assert_int_equal(reply_data_lines(b, "", 0), 0);
	assert_buf(b, "");
	assert_int_equal(reply_data_lines(b, "\n", 1), 0);
	assert_buf(b, "\n");
	drain(b);
	assert_int_equal(reply_data_lines(b, "a\n\n\nb\n", 6), 0);
	assert_buf(b, "a\n\n\nb\n");
	drain(b);
	assert_int_equal(reply_data_lines(b, "\n\nx", 3), 0);
	assert_buf(b, "\n\nx\n");
}

/* Bytes are passed on as they are (a pipe program's output): "\r", NUL
 * and invalid UTF-8 inside a line are not touched. */
static void
data_lines_pass_bytes(void **state)
{
	struct evbuffer *b = *state;
	static const char in[] = "a\r\nb\0c\n\xFF\n";
	unsigned char *p;

	assert_int_equal(reply_data_lines(b, in, sizeof(in) - 1), 0);
	assert_int_equal(evbuffer_get_length(b), sizeof(in) - 1);
	p = evbuffer_pullup(b, -1);
	assert_memory_equal(p, in, sizeof(in) - 1);
}

/* A whole multi-line reply: "+OK", stuffed data lines, then ".". */
static void
whole_multiline_reply(void **state)
{
	struct evbuffer *b = *state;

	assert_int_equal(reply_printf(b, "+OK exit=%d", 0), 0);
	assert_int_equal(reply_data_lines(b, "x\n.\n", 4), 0);
	assert_int_equal(reply_end(b), 0);
	assert_buf(b, "+OK exit=0\nx\n..\n.\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        printf_adds_newline, buf_setup, buf_teardown),
	    cmocka_unit_test_setup_teardown(
	        data_is_dot_stuffed, buf_setup, buf_teardown),
	    cmocka_unit_test_setup_teardown(
	        data_empty_line, buf_setup, buf_teardown),
	    cmocka_unit_test_setup_teardown(
	        data_honours_length, buf_setup, buf_teardown),
	    cmocka_unit_test_setup_teardown(
	        dataf_formats_and_stuffs, buf_setup, buf_teardown),
	    cmocka_unit_test_setup_teardown(
	        dataf_cuts_long_line, buf_setup, buf_teardown),
	    cmocka_unit_test_setup_teardown(
	        data_lines_with_and_without_trailing_newline, buf_setup,
	        buf_teardown),
	    cmocka_unit_test_setup_teardown(
	        data_lines_empty_lines, buf_setup, buf_teardown),
	    cmocka_unit_test_setup_teardown(
	        data_lines_pass_bytes, buf_setup, buf_teardown),
	    cmocka_unit_test_setup_teardown(
	        whole_multiline_reply, buf_setup, buf_teardown),
	};

	return cmocka_run_group_tests_name("reply", tests, NULL, NULL);
}
