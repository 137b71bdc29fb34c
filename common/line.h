/*
 * Lines from clients: splitting a byte stream into lines without ever
 * holding more than one line, and validating each one.
 *
 * A line ends at "\n"; a "\r" just before it is dropped.  A line longer
 * than max bytes (the "\r\n" or "\n" excluded) is reported once, as soon
 * as it passes the limit, and then skipped up to its newline however long
 * it is.  Valid lines are UTF-8 (RFC 3629: no overlong forms, surrogates
 * or code points above U+10FFFF) without control characters other than
 * TAB (C0, DEL, C1; a lone "\r" is one).
 */
#ifndef CHATD_LINE_H
#define CHATD_LINE_H

#include <stdbool.h>
#include <stddef.h>

enum line_status {
	LINE_OK,
	LINE_TOO_LONG,
	LINE_BAD_UTF8,
	LINE_BAD_CONTROL,
};

/* Checks one line (without its line end). */
enum line_status line_check(const char *str, size_t len);

/* What to tell a client about a refused line. */
const char *line_status_text(enum line_status st);

/* The whole reply to a refused line ("-ERR line too long (max N bytes)\n",
 * "-ERR invalid UTF-8\n", ...) into buf; returns its length. */
size_t line_refusal(char *buf, size_t len, enum line_status st, size_t max);

/*
 * Called for each line: st is LINE_OK (s, len hold the line, possibly
 * empty) or why it was refused.  Return 0 to go on, 1 to stop after this
 * line (the reader keeps what follows until line_reader_resume).
 */
typedef int (*line_fn)(
    void *arg, enum line_status st, const char *s, size_t len);

struct line_reader {
	char *buf;  /* bytes not yet handed out: a partial line, or the */
	size_t len; /* rest of a read after a stop */
	size_t cap;
	size_t max;    /* max_line */
	bool skipping; /* inside an overlong line, dropping to its newline */
};

void line_reader_init(struct line_reader *r, size_t max);
void line_reader_free(struct line_reader *r);

/*
 * Feeds n bytes just read.  Returns 0 when everything was consumed (a
 * trailing partial line is kept), 1 when fn asked to stop (the rest is
 * kept), -1 when memory ran out.
 */
int line_reader_feed(
    struct line_reader *r, const char *data, size_t n, line_fn fn, void *arg);

/* Hands out the complete lines kept after a stop; same results. */
int line_reader_resume(struct line_reader *r, line_fn fn, void *arg);

/* True when a complete line is waiting (so reading can wait). */
bool line_reader_ready(const struct line_reader *r);

#endif
