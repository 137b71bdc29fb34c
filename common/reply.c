/* Building replies; see reply.h. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "reply.h"

int
reply_printf(struct evbuffer *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = evbuffer_add_vprintf(b, fmt, ap);
	va_end(ap);
	if (r < 0 || evbuffer_add(b, "\n", 1) != 0)
		return -1;
	return 0;
}

int
reply_data(struct evbuffer *b, const char *s, size_t len)
{
	if (len > 0 && s[0] == '.' && evbuffer_add(b, ".", 1) != 0)
		return -1;
	if (evbuffer_add(b, s, len) != 0 || evbuffer_add(b, "\n", 1) != 0)
		return -1;
	return 0;
}

int
reply_dataf(struct evbuffer *b, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n >= sizeof(line))
		n = (int)sizeof(line) - 1;
	return reply_data(b, line, (size_t)n);
}

int
reply_data_lines(struct evbuffer *b, const char *s, size_t len)
{
	const char *nl;
	size_t n;

	while (len > 0) {
		nl = memchr(s, '\n', len);
		n = nl == NULL ? len : (size_t)(nl - s);
		if (reply_data(b, s, n) != 0)
			return -1;
		n += nl == NULL ? 0 : 1;
		s += n;
		len -= n;
	}
	return 0;
}

int
reply_end(struct evbuffer *b)
{
	return evbuffer_add(b, ".\n", 2);
}
