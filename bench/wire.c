/* Pipe records (wire.h). */
#include "bench.h"

#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "wire.h"

int
wire_send(int fd, uint32_t type, const void *body, size_t len)
{
	struct wire_hdr h = {type, (uint32_t)len};
	struct iovec iov[2] = {
	    {&h, sizeof(h)},
	    {(void *)body, len},
	};
	ssize_t n;
	int i = 0;

	while (i < 2) {
		n = writev(fd, iov + i, 2 - i);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		while (i < 2 && (size_t)n >= iov[i].iov_len)
			n -= (ssize_t)iov[i++].iov_len;
		if (i < 2) {
			iov[i].iov_base = (char *)iov[i].iov_base + n;
			iov[i].iov_len -= (size_t)n;
		}
	}
	return 0;
}

int
wire_fill(struct wire_reader *r, int fd)
{
	ssize_t n;

	if (r->len == sizeof(r->buf)) {
		errno = EMSGSIZE;
		return -1;
	}
	n = read(fd, r->buf + r->len, sizeof(r->buf) - r->len);
	if (n < 0)
		return -1;
	r->len += (size_t)n;
	return n > 0;
}

int
wire_take(struct wire_reader *r, struct wire_hdr *h, void *body, size_t cap)
{
	size_t whole;

	if (r->len < sizeof(*h))
		return 0;
	memcpy(h, r->buf, sizeof(*h));
	if (h->len > WIRE_BODY_MAX || h->len > cap)
		return -1;
	whole = sizeof(*h) + h->len;
	if (r->len < whole)
		return 0;
	memcpy(body, r->buf + sizeof(*h), h->len);
	memmove(r->buf, r->buf + whole, r->len - whole);
	r->len -= whole;
	return 1;
}
