/* Payloads and frames (proto.h). */
#include "bench.h"

#include <stdio.h>
#include <string.h>

#include "proto.h"

static const char proto_hex[] = "0123456789abcdef";

static void
proto_hex16(char *dst, uint64_t v)
{
	for (int i = 15; i >= 0; i--) {
		dst[i] = proto_hex[v & 15];
		v >>= 4;
	}
}

/* Per byte of V: 0x80 where the byte is in [LO, HI], else 0; every byte of
 * V must be below 0x80 (no carries cross bytes then). */
static uint64_t
proto_in_range(uint64_t v, unsigned lo, unsigned hi)
{
	const uint64_t ones = UINT64_C(0x0101010101010101);
	uint64_t ge = v + ones * (0x80u - lo);
	uint64_t gt = v + ones * (0x7fu - hi);

	return ge & ~gt & ones * 0x80u;
}

/* Eight hex digits at S to their value, a word at a time: the parse is
 * the generator's hot spot (a byte loop cost a quarter of its CPU). */
static int
proto_unhex8(const char *s, uint32_t *out)
{
	const uint64_t ones = UINT64_C(0x0101010101010101);
	uint64_t v, x;

	memcpy(&v, s, 8);
	if ((v & ones * 0x80u) != 0 ||
	    (proto_in_range(v, '0', '9') | proto_in_range(v, 'a', 'f')) !=
	        ones * 0x80u)
		return -1;
	/* '0'-'9' -> 0-9, 'a'-'f' -> 10-15; the first digit in the low byte */
	x = (v & ones * 0x0fu) + 9 * ((v >> 6) & ones);
	x = ((x << 4) | (x >> 8)) & UINT64_C(0x00ff00ff00ff00ff);
	x = ((x << 8) | (x >> 16)) & UINT64_C(0x0000ffff0000ffff);
	x = ((x << 16) | (x >> 32)) & UINT64_C(0x00000000ffffffff);
	*out = (uint32_t)x;
	return 0;
}

static int
proto_unhex16(const char *s, uint64_t *out)
{
	uint32_t hi, lo;

	if (proto_unhex8(s, &hi) < 0 || proto_unhex8(s + 8, &lo) < 0)
		return -1;
	*out = (uint64_t)hi << 32 | lo;
	return 0;
}

void
proto_payload(char *dst, unsigned p, uint64_t seq, uint64_t ts)
{
	proto_hex16(dst, seq);
	dst[16] = ' ';
	proto_hex16(dst + 17, ts);
	dst[33] = ' ';
	memset(dst + 34, 'x', p - 34);
}

int
proto_payload_parse(
    const char *s, size_t len, unsigned p, uint64_t *seq, uint64_t *ts)
{
	if (len != p || s[16] != ' ' || s[33] != ' ')
		return -1;
	if (proto_unhex16(s, seq) < 0 ||
	    (ts != NULL && proto_unhex16(s + 17, ts) < 0))
		return -1;
	return 0;
}

static void
proto_frame_set(
    struct proto_frame *f, const struct bench_opts *o, const char *suf)
{
	f->suf_len = strlen(suf);
	memcpy(f->suf, suf, f->suf_len);
	f->len = f->pre_len + o->payload + f->suf_len;
}

void
proto_frame_publish(const struct bench_opts *o, struct proto_frame *f)
{
	int n = 0;

	if (o->proto == PROTO_REDIS)
		n = snprintf(f->pre, sizeof(f->pre),
		    "*3\r\n$7\r\nPUBLISH\r\n$%zu\r\n%s\r\n$%u\r\n",
		    strlen(o->channel), o->channel, o->payload);
	f->pre_len = (size_t)n;
	proto_frame_set(f, o, o->proto == PROTO_REDIS ? "\r\n" : "\n");
}

void
proto_frame_delivery(
    const struct bench_opts *o, uint64_t pubid, struct proto_frame *f)
{
	int n;

	if (o->proto == PROTO_REDIS)
		n = snprintf(f->pre, sizeof(f->pre),
		    "*3\r\n$7\r\nmessage\r\n$%zu\r\n%s\r\n$%u\r\n",
		    strlen(o->channel), o->channel, o->payload);
	else
		n = snprintf(
		    f->pre, sizeof(f->pre), "%llu ", (unsigned long long)pubid);
	f->pre_len = (size_t)n;
	proto_frame_set(f, o, o->proto == PROTO_REDIS ? "\r\n" : "\n");
}

size_t
proto_subscribe(const struct bench_opts *o, char *dst, size_t cap)
{
	int n = snprintf(dst, cap, "*2\r\n$9\r\nSUBSCRIBE\r\n$%zu\r\n%s\r\n",
	    strlen(o->channel), o->channel);

	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

int
proto_welcome(const char *s, size_t len, uint64_t *id)
{
	static const char w[] = "* welcome ";
	size_t wl = sizeof(w) - 1;
	uint64_t v = 0;

	if (len <= wl || len > wl + 19 || memcmp(s, w, wl) != 0)
		return -1;
	for (size_t i = wl; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*id = v;
	return 0;
}
