/* RESP2 parser (resp.h). */
#include "bench.h"

#include <string.h>

#include "resp.h"

/* The end of the line that starts at BUF ("\r\n" excluded): its length,
 * or -1 when no full line is there. */
static long
resp_line(const char *buf, size_t len)
{
	const char *nl = memchr(buf, '\n', len);

	if (nl == NULL || nl == buf || nl[-1] != '\r')
		return nl == NULL ? -1 : -2;
	return nl - 1 - buf;
}

/* A signed decimal that fills S..S+LEN exactly; -1 on a bad one. */
static int
resp_number(const char *s, long len, int64_t *out)
{
	int neg = 0;
	int64_t v = 0;

	if (len > 0 && *s == '-') {
		neg = 1;
		s++;
		len--;
	}
	if (len <= 0 || len > 18)
		return -1;
	for (long i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = neg ? -v : v;
	return 0;
}

/* One value without nesting into IT; same returns as resp_parse. */
static long
resp_item_parse(const char *buf, size_t len, struct resp_item *it)
{
	long ll, need;

	if (len < 3)
		return 0;
	ll = resp_line(buf, len);
	if (ll == -1)
		return 0;
	if (ll < 1)
		return -1;
	memset(it, 0, sizeof(*it));
	it->type = (unsigned char)buf[0];
	switch (it->type) {
	case RESP_SIMPLE:
	case RESP_ERROR:
		it->s = buf + 1;
		it->len = (size_t)ll - 1;
		return ll + 2;
	case RESP_INT:
	case RESP_ARRAY:
		return resp_number(buf + 1, ll - 1, &it->n) < 0 ? -1 : ll + 2;
	case RESP_BULK:
		if (resp_number(buf + 1, ll - 1, &it->n) < 0 ||
		    it->n > RESP_BULK_MAX || it->n < -1)
			return -1;
		if (it->n < 0) {
			it->nil = 1;
			return ll + 2;
		}
		need = ll + 2 + (long)it->n + 2;
		if ((size_t)need > len)
			return 0;
		if (buf[need - 2] != '\r' || buf[need - 1] != '\n')
			return -1;
		it->s = buf + ll + 2;
		it->len = (size_t)it->n;
		return need;
	default:
		return -1;
	}
}

long
resp_parse(const char *buf, size_t len, struct resp_value *v)
{
	long off, k;

	off = resp_item_parse(buf, len, &v->top);
	if (off <= 0 || v->top.type != RESP_ARRAY)
		return off;
	if (v->top.n < 0) {
		v->top.nil = 1;
		return off;
	}
	if (v->top.n > RESP_ELEMS_MAX)
		return -1;
	for (int64_t i = 0; i < v->top.n; i++) {
		k = resp_item_parse(buf + off, len - (size_t)off, &v->el[i]);
		if (k <= 0)
			return k;
		if (v->el[i].type == RESP_ARRAY)
			return -1;
		off += k;
	}
	return off;
}

int
resp_is(const struct resp_item *it, const char *s)
{
	size_t n = strlen(s);

	return (it->type == RESP_BULK || it->type == RESP_SIMPLE) && !it->nil &&
	    it->len == n && memcmp(it->s, s, n) == 0;
}
