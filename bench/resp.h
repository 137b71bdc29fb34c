/*
 * A small parser of RESP2 (the Redis serialization protocol), enough for
 * pub/sub: simple strings, errors, integers, bulk strings, and arrays of
 * those (one level; Redis's pub/sub pushes are flat arrays).
 */
#ifndef CHATBENCH_RESP_H
#define CHATBENCH_RESP_H

#include <stddef.h>
#include <stdint.h>

#define RESP_ELEMS_MAX 8
#define RESP_BULK_MAX  (1 << 20)

enum resp_type {
	RESP_SIMPLE = '+',
	RESP_ERROR = '-',
	RESP_INT = ':',
	RESP_BULK = '$',
	RESP_ARRAY = '*',
};

struct resp_item {
	int type;      /* enum resp_type */
	int nil;       /* "$-1" or "*-1" */
	const char *s; /* string types: points into the parsed buffer */
	size_t len;
	int64_t n; /* RESP_INT, and the length of an array */
};

struct resp_value {
	struct resp_item top;
	struct resp_item el[RESP_ELEMS_MAX]; /* when top is an array */
};

/* Parses one value at the start of BUF.  Returns the bytes it takes, 0
 * when BUF holds only part of it, -1 when it is malformed (or nests). */
long resp_parse(const char *buf, size_t len, struct resp_value *v);

/* Whether item IT is a string equal to the NUL-terminated S. */
int resp_is(const struct resp_item *it, const char *s);

#endif
