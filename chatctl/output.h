/*
 * Printing chatd's replies: aligned text for people, or JSON (--json,
 * built with jansson; the shapes are described at the top of output.c).
 *
 * Each function returns 0 once the reply is printed, or -1 after saying
 * on standard error why it could not be (a data line that is not
 * key=value, text that is not UTF-8, no memory).
 */
#ifndef CHATCTL_OUTPUT_H
#define CHATCTL_OUTPUT_H

#include "client.h"

/* "chatctl: MESSAGE" on standard error, as err(3) would. */
void output_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "+OK" with key=value data lines, one pair a line (/status). */
int output_status(const struct client_reply *r, int json);

/* "+OK" with one record a data line, "key=value key=value ..." (/who,
 * /ps): a table with a header row, or a JSON array of objects. */
int output_table(const struct client_reply *r, int json);

/* A single-line "+OK [TEXT]": the text, or {"ok": true, "text": ...}. */
int output_text(const struct client_reply *r, int json);

/* "-ERR TEXT": "chatctl: TEXT" on standard error, or with json
 * {"ok": false, "error": TEXT} on standard output. */
int output_error(const struct client_reply *r, int json);

#endif
