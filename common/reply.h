/*
 * Replies as protocol.md spells them: a single "+OK"/"-ERR" line, or a
 * multi-line reply ("+OK ...", data lines, "."), where a data line that
 * starts with "." gets one more "." (POP3 style).  They are built in an
 * evbuffer and queued whole, so nothing is ever interleaved inside one.
 */
#ifndef CHATD_REPLY_H
#define CHATD_REPLY_H

#include <stdarg.h>
#include <stddef.h>

#include <event2/buffer.h>

#include "log.h"

/* One line; a "\n" is added. */
int reply_printf(struct evbuffer *b, const char *fmt, ...) LOG_PRINTF(2, 3);
/* A data line of a multi-line reply: dot-stuffed, "\n" added. */
int reply_data(struct evbuffer *b, const char *s, size_t len);
int reply_dataf(struct evbuffer *b, const char *fmt, ...) LOG_PRINTF(2, 3);
/* Every line of text (ending in "\n" or not) as data lines. */
int reply_data_lines(struct evbuffer *b, const char *s, size_t len);
/* The "." that ends a multi-line reply. */
int reply_end(struct evbuffer *b);

#endif
