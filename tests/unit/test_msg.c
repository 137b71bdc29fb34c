/*
 * Unit tests of common/msg.c: encoding and decoding every message type of
 * msg_table, and the decoder's refusals (it is the trust boundary between
 * chatd processes), and the MSG_CONFIG programs tail.
 *
 * sample() builds a valid message of each type: a fixed part whose bytes
 * follow a pattern (so a swapped or dropped field shows) but that passes
 * the type's checks, and a tail where the type takes one.
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

#include "conf.h"
#include "log.h"
#include "msg.h"

#define HDR sizeof(struct msg_hdr)

/* A well-formed programs tail of two records. */
static const char two_programs[] = "upper\0/usr/bin/tr\0a-z\0A-Z\0\0"
                                   "rev\0/usr/bin/rev\0\0";

struct sample {
	union {
		uint8_t bytes[sizeof(((struct msg *)0)->u)];
		struct msg_config config;
		struct msg_client client;
		struct msg_request request;
	} u;
	const char *tail;
	size_t taillen;
	unsigned flags;
};

/* A valid message of type t. */
static void
sample(unsigned t, struct sample *s)
{
	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < sizeof(s->u.bytes); i++)
		s->u.bytes[i] = (uint8_t)(i * 7 + t);
	s->flags = msg_table[t].fd ? MSG_F_FD : 0;
	switch (t) {
	case MSG_CONFIG:
		s->u.config.max_line = 1024;
		s->u.config.log_level = LOG_INFO;
		s->u.config.nprograms = 2;
		s->tail = two_programs;
		s->taillen = sizeof(two_programs) - 1;
		break;
	case MSG_CLIENT_ADD:
		(void)snprintf(s->u.client.addr, sizeof(s->u.client.addr), "%s",
		    "[::1]:54321");
		break;
	case MSG_SAY:
	case MSG_DELIVER:
		s->tail = "hello \xC3\xA9\tworld";
		s->taillen = strlen(s->tail);
		break;
	case MSG_REQUEST:
		s->u.request.cmd = MSG_CMD_TIMEOUT;
		break;
	case MSG_REPLY:
		s->tail = "+OK\nline\n.\n";
		s->taillen = strlen(s->tail);
		break;
	case MSG_PIPE_ACQUIRE:
		s->tail = "upper";
		s->taillen = 5;
		break;
	default:
		break;
	}
}

/* Encodes s as type t into buf (cap bytes); asserts success. */
static size_t
encode_sample(uint8_t *buf, size_t cap, unsigned t, const struct sample *s)
{
	long n =
	    msg_encode(buf, cap, t, s->flags, s->u.bytes, s->tail, s->taillen);

	assert_true(n > 0);
	return (size_t)n;
}

/* Writes a raw header. */
static void
put_hdr(uint8_t *buf, unsigned type, unsigned flags, uint32_t len)
{
	struct msg_hdr h;

	h.type = (uint16_t)type;
	h.flags = (uint16_t)flags;
	h.len = len;
	memcpy(buf, &h, sizeof(h));
}

/* Decodes n bytes expecting a refusal; returns the reason. */
static const char *
decode_fails(const uint8_t *p, size_t n)
{
	struct msg m;
	const char *why = NULL;

	assert_int_equal(msg_decode(p, n, &m, &why), -1);
	assert_non_null(why);
	return why;
}

/* Encodes a MSG_CONFIG of mc and this tail and decodes it: 0 if the
 * decoder accepted it, -1 if it refused it as malformed. */
static int
config_decodes(const struct msg_config *mc, const char *tail, size_t taillen)
{
	static uint8_t buf[MSG_PACKET_MAX];
	struct msg m;
	const char *why = NULL;
	long n;

	n = msg_encode(buf, sizeof(buf), MSG_CONFIG, 0, mc, tail, taillen);
	assert_true(n > 0);
	if (msg_decode(buf, (size_t)n, &m, &why) < 0) {
		assert_string_equal(why, "malformed payload");
		return -1;
	}
	assert_int_equal(m.taillen, taillen);
	return 0;
}

/* The same with the sample's numbers and nprograms records. */
static int
config_tail_decodes(const char *tail, size_t taillen, uint32_t nprograms)
{
	struct sample s;

	sample(MSG_CONFIG, &s);
	s.u.config.nprograms = nprograms;
	return config_decodes(&s.u.config, tail, taillen);
}

/* ---------------------------------------------------------------- tests */

/* Every type of the table survives encode + decode unchanged, and the
 * decoder consumes exactly the bytes the encoder wrote. */
static void
roundtrip_every_type(void **state)
{
	static uint8_t buf[MSG_PACKET_MAX];
	struct sample s;
	struct msg m;
	const char *why;
	size_t n;

	(void)state;
	for (unsigned t = MSG_NONE + 1; t < MSG_TYPE_MAX; t++) {
		sample(t, &s);
		n = encode_sample(buf, sizeof(buf), t, &s);
		assert_int_equal(n, HDR + msg_table[t].fixed + s.taillen);
		why = NULL;
		memset(&m, 0xAA, sizeof(m));
		assert_int_equal(msg_decode(buf, n, &m, &why), (long)n);
		assert_null(why);
		assert_int_equal(m.type, t);
		assert_int_equal(m.flags, s.flags);
		assert_int_equal(m.fd, -1);
		if (msg_table[t].fixed > 0)
			assert_memory_equal(
			    &m.u, s.u.bytes, msg_table[t].fixed);
		assert_int_equal(m.taillen, s.taillen);
		if (s.taillen > 0)
			assert_memory_equal(m.tail, s.tail, s.taillen);
		assert_ptr_equal(m.tail, buf + HDR + msg_table[t].fixed);
	}
}

/* The union past the fixed part is zeroed, not left from an earlier
 * message. */
static void
decode_zeroes_rest_of_union(void **state)
{
	uint8_t buf[64];
	struct msg m;
	const char *why;
	long n;

	(void)state;
	n = msg_encode(buf, sizeof(buf), MSG_DRAIN, 0, NULL, NULL, 0);
	assert_int_equal(n, HDR);
	memset(&m, 0x55, sizeof(m));
	assert_int_equal(msg_decode(buf, (size_t)n, &m, &why), n);
	for (size_t i = 0; i < sizeof(m.u); i++)
		assert_int_equal(((const uint8_t *)&m.u)[i], 0);
}

/* Each type has its name; anything outside the table is "unknown". */
static void
names(void **state)
{
	(void)state;
	assert_string_equal(msg_name(MSG_HELLO), "hello");
	assert_string_equal(msg_name(MSG_SAY), "say");
	assert_string_equal(msg_name(MSG_CLIENT_ADD), "client-add");
	assert_string_equal(msg_name(MSG_RETIRE), "retire");
	assert_string_equal(msg_name(MSG_NONE), "unknown");
	assert_string_equal(msg_name(MSG_TYPE_MAX), "unknown");
	assert_string_equal(msg_name(0xFFFFu), "unknown");
	for (unsigned t = MSG_NONE + 1; t < MSG_TYPE_MAX; t++) {
		assert_non_null(msg_table[t].name);
		assert_string_equal(msg_name(t), msg_table[t].name);
		for (unsigned u = MSG_NONE + 1; u < t; u++)
			assert_string_not_equal(msg_name(t), msg_name(u));
	}
}

/* Fewer than 8 bytes cannot hold a header. */
static void
refuses_truncated_header(void **state)
{
	uint8_t buf[HDR];

	(void)state;
	put_hdr(buf, MSG_DRAIN, 0, 0);
	for (size_t n = 0; n < HDR; n++)
		assert_string_equal(decode_fails(buf, n), "truncated header");
}

/* A header announcing more bytes than the packet holds is refused, for
 * every type and every missing length. */
static void
refuses_truncated_payload(void **state)
{
	static uint8_t buf[MSG_PACKET_MAX];
	struct sample s;
	size_t n;

	(void)state;
	for (unsigned t = MSG_NONE + 1; t < MSG_TYPE_MAX; t++) {
		sample(t, &s);
		n = encode_sample(buf, sizeof(buf), t, &s);
		for (size_t k = HDR; k < n; k++)
			assert_string_equal(
			    decode_fails(buf, k), "truncated message");
	}
	put_hdr(buf, MSG_DRAIN, 0, UINT32_MAX);
	assert_string_equal(decode_fails(buf, 64), "truncated message");
}

/* A header length below the type's fixed size is refused. */
static void
refuses_short_fixed_part(void **state)
{
	static uint8_t buf[MSG_PACKET_MAX];

	(void)state;
	memset(buf, 0, sizeof(buf));
	for (unsigned t = MSG_NONE + 1; t < MSG_TYPE_MAX; t++) {
		unsigned fixed = msg_table[t].fixed;
		for (unsigned k = 0; k < fixed; k++) {
			put_hdr(buf, t, msg_table[t].fd ? MSG_F_FD : 0, k);
			assert_string_equal(decode_fails(buf, HDR + fixed + 8),
			    "payload too short");
		}
	}
}

/* A tail on a type without one, or past the type's tailmax, is refused;
 * exactly tailmax is accepted. */
static void
refuses_oversized_tail(void **state)
{
	static uint8_t buf[HDR + MSG_PACKET_MAX + 8];
	struct msg m;
	const char *why;

	(void)state;
	memset(buf, 'x', sizeof(buf));
	for (unsigned t = MSG_NONE + 1; t < MSG_TYPE_MAX; t++) {
		const struct msg_info *in = &msg_table[t];
		uint32_t len = (uint32_t)in->fixed + in->tailmax + 1;
		put_hdr(buf, t, in->fd ? MSG_F_FD : 0, len);
		assert_string_equal(
		    decode_fails(buf, HDR + len), "payload too long");
	}
	/* a say of exactly CONF_LINE_MAX bytes of text is fine */
	put_hdr(buf, MSG_SAY, 0, sizeof(struct msg_line) + CONF_LINE_MAX);
	why = NULL;
	assert_int_equal(
	    msg_decode(
	        buf, HDR + sizeof(struct msg_line) + CONF_LINE_MAX, &m, &why),
	    (long)(HDR + sizeof(struct msg_line) + CONF_LINE_MAX));
	assert_int_equal(m.taillen, CONF_LINE_MAX);
}

/* Types 0, MSG_TYPE_MAX and above are unknown. */
static void
refuses_unknown_type(void **state)
{
	uint8_t buf[64] = {0};
	static const unsigned bad[] = {
	    MSG_NONE, MSG_TYPE_MAX, MSG_TYPE_MAX + 1, 0x7FFF, 0xFFFF};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put_hdr(buf, bad[i], 0, 0);
		assert_string_equal(decode_fails(buf, HDR), "unknown type");
	}
}

/* Any flag bit other than MSG_F_FD is refused. */
static void
refuses_unknown_flags(void **state)
{
	static uint8_t buf[MSG_PACKET_MAX];
	struct sample s;
	size_t n;

	(void)state;
	for (unsigned bit = 1; bit < 16; bit++) {
		sample(MSG_HELLO, &s);
		n = encode_sample(buf, sizeof(buf), MSG_HELLO, &s);
		put_hdr(buf, MSG_HELLO, 1u << bit, msg_table[MSG_HELLO].fixed);
		assert_string_equal(decode_fails(buf, n), "unknown flags");
		sample(MSG_CLIENT_ADD, &s);
		n = encode_sample(buf, sizeof(buf), MSG_CLIENT_ADD, &s);
		put_hdr(buf, MSG_CLIENT_ADD, MSG_F_FD | (1u << bit),
		    msg_table[MSG_CLIENT_ADD].fixed);
		assert_string_equal(decode_fails(buf, n), "unknown flags");
	}
}

/* MSG_F_FD is required on the types that carry a descriptor and refused
 * on every other type. */
static void
refuses_fd_flag_mismatch(void **state)
{
	static uint8_t buf[MSG_PACKET_MAX];
	struct sample s;
	size_t n;

	(void)state;
	for (unsigned t = MSG_NONE + 1; t < MSG_TYPE_MAX; t++) {
		sample(t, &s);
		n = encode_sample(buf, sizeof(buf), t, &s);
		put_hdr(buf, t, msg_table[t].fd ? 0 : MSG_F_FD,
		    (uint32_t)(n - HDR));
		assert_string_equal(decode_fails(buf, n),
		    "descriptor flag does not match type");
	}
	assert_int_equal(msg_table[MSG_CLIENT_ADD].fd, 1);
}

/* Chat text (say, deliver) holding a NUL or a newline is refused. */
static void
refuses_text_with_nul_or_newline(void **state)
{
	static const struct {
		const char *s;
		size_t len;
	} bad[] = {{"a\nb", 3}, {"\n", 1}, {"ab\n", 3}, {"a\0b", 3}, {"\0", 1},
	    {"ab\0", 3}};
	static const unsigned types[] = {MSG_SAY, MSG_DELIVER};
	uint8_t buf[256];
	struct msg_line ml = {42};
	struct msg m;
	const char *why;
	long n;

	(void)state;
	for (size_t t = 0; t < 2; t++) {
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			n = msg_encode(buf, sizeof(buf), types[t], 0, &ml,
			    bad[i].s, bad[i].len);
			assert_true(n > 0);
			assert_string_equal(
			    decode_fails(buf, (size_t)n), "malformed payload");
		}
		/* an empty text and a lone \r are not this check's business */
		n = msg_encode(buf, sizeof(buf), types[t], 0, &ml, "", 0);
		assert_int_equal(msg_decode(buf, (size_t)n, &m, &why), n);
		assert_int_equal(m.taillen, 0);
		n = msg_encode(buf, sizeof(buf), types[t], 0, &ml, "\r", 1);
		assert_int_equal(msg_decode(buf, (size_t)n, &m, &why), n);
	}
	/* a reply may hold newlines: it is several lines */
	n = msg_encode(buf, sizeof(buf), MSG_REPLY, 0,
	    &(struct msg_reply){1, 2, 0, 0}, "a\nb\n", 4);
	assert_int_equal(msg_decode(buf, (size_t)n, &m, &why), n);
}

/* A client address must hold its NUL within MSG_ADDR_MAX bytes. */
static void
refuses_client_addr_without_nul(void **state)
{
	uint8_t buf[256];
	struct msg_client mc;
	struct msg m;
	const char *why;
	long n;

	(void)state;
	mc.id = 7;
	memset(mc.addr, 'a', sizeof(mc.addr));
	n = msg_encode(
	    buf, sizeof(buf), MSG_CLIENT_ADD, MSG_F_FD, &mc, NULL, 0);
	assert_true(n > 0);
	assert_string_equal(decode_fails(buf, (size_t)n), "malformed payload");
	mc.addr[MSG_ADDR_MAX - 1] = '\0'; /* the longest address */
	n = msg_encode(
	    buf, sizeof(buf), MSG_CLIENT_ADD, MSG_F_FD, &mc, NULL, 0);
	assert_int_equal(msg_decode(buf, (size_t)n, &m, &why), n);
	assert_int_equal(strlen(m.u.client.addr), MSG_ADDR_MAX - 1);
}

/* A request's cmd must be one of enum msg_cmd. */
static void
refuses_request_cmd_out_of_range(void **state)
{
	static const uint32_t bad[] = {
	    0, MSG_CMD_MAX, MSG_CMD_MAX + 1, 0x80000000u, UINT32_MAX};
	uint8_t buf[256];
	struct msg_request rq = {1, 2, 3, 0, 250};
	struct msg m;
	const char *why;
	long n;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rq.cmd = bad[i];
		n = msg_encode(buf, sizeof(buf), MSG_REQUEST, 0, &rq, NULL, 0);
		assert_true(n > 0);
		assert_string_equal(
		    decode_fails(buf, (size_t)n), "malformed payload");
	}
	for (uint32_t c = MSG_CMD_WHO; c < MSG_CMD_MAX; c++) {
		rq.cmd = c;
		n = msg_encode(buf, sizeof(buf), MSG_REQUEST, 0, &rq, NULL, 0);
		assert_int_equal(msg_decode(buf, (size_t)n, &m, &why), n);
		assert_int_equal(m.u.request.cmd, c);
		assert_int_equal(m.u.request.ms, 250);
	}
}

/* A pipe-acquire names a program: 1 to 31 of [A-Za-z0-9_-]. */
static void
checks_pipe_acquire_name(void **state)
{
	static const char *const bad[] = {
	    "a b", "a/b", "x.y", "\xC3\xA9", "a\tb", "-\n"};
	char name[CONF_NAME_MAX + 1];
	uint8_t buf[256];
	struct msg_pipe mp = {1, 2, 0, 0};
	struct msg m;
	const char *why;
	long n;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = msg_encode(buf, sizeof(buf), MSG_PIPE_ACQUIRE, 0, &mp,
		    bad[i], strlen(bad[i]));
		assert_true(n > 0);
		assert_string_equal(
		    decode_fails(buf, (size_t)n), "malformed payload");
	}
	n = msg_encode(buf, sizeof(buf), MSG_PIPE_ACQUIRE, 0, &mp, "a\0", 2);
	assert_string_equal(decode_fails(buf, (size_t)n), "malformed payload");
	n = msg_encode(buf, sizeof(buf), MSG_PIPE_ACQUIRE, 0, &mp, NULL, 0);
	assert_string_equal(decode_fails(buf, (size_t)n), "malformed payload");
	memset(name, 'Z', sizeof(name));
	n = msg_encode(buf, sizeof(buf), MSG_PIPE_ACQUIRE, 0, &mp, name,
	    CONF_NAME_MAX - 1);
	assert_int_equal(msg_decode(buf, (size_t)n, &m, &why), n);
	assert_int_equal(m.taillen, CONF_NAME_MAX - 1);
	n = msg_encode(buf, sizeof(buf), MSG_PIPE_ACQUIRE, 0, &mp, "A-z_09", 6);
	assert_int_equal(msg_decode(buf, (size_t)n, &m, &why), n);
	/* one byte too long cannot even be encoded */
	assert_int_equal(msg_encode(buf, sizeof(buf), MSG_PIPE_ACQUIRE, 0, &mp,
	                     name, CONF_NAME_MAX),
	    -1);
}

/* The config's numbers are range-checked: nprograms, max_line, level;
 * the bounds themselves are accepted. */
static void
refuses_config_numbers_out_of_range(void **state)
{
	struct sample s;

	(void)state;
	for (int c = 0; c < 5; c++) {
		sample(MSG_CONFIG, &s);
		s.u.config.nprograms = 0;
		switch (c) {
		case 0:
			s.u.config.nprograms = CONF_MAX_PROGRAMS + 1;
			break;
		case 1:
			s.u.config.max_line = 0;
			break;
		case 2:
			s.u.config.max_line = CONF_LINE_MAX + 1;
			break;
		case 3:
			s.u.config.log_level = LOG_ERROR + 1;
			break;
		default:
			s.u.config.log_level = UINT32_MAX;
			break;
		}
		assert_int_equal(config_decodes(&s.u.config, NULL, 0), -1);
	}
	sample(MSG_CONFIG, &s);
	s.u.config.nprograms = 0;
	s.u.config.max_line = CONF_LINE_MAX;
	s.u.config.log_level = LOG_ERROR;
	assert_int_equal(config_decodes(&s.u.config, NULL, 0), 0);
	s.u.config.max_line = 1;
	s.u.config.log_level = LOG_DEBUG;
	assert_int_equal(config_decodes(&s.u.config, NULL, 0), 0);
}

/* Well-formed programs tails are accepted: records of name, path and up
 * to CONF_MAX_ARGS - 1 more words, as many as nprograms says. */
static void
accepts_wellformed_programs_tail(void **state)
{
	char tail[1024];
	size_t len = 0;

	(void)state;
	assert_int_equal(
	    config_tail_decodes(two_programs, sizeof(two_programs) - 1, 2), 0);
	assert_int_equal(config_tail_decodes("a\0/p\0\0", 6, 1), 0);
	/* a name and the most words a program can have */
	memcpy(tail, "max\0", 4);
	len = 4;
	for (int i = 0; i < CONF_MAX_ARGS; i++) {
		len +=
		    (size_t)snprintf(tail + len, sizeof(tail) - len, "w%d", i) +
		    1;
	}
	tail[len++] = '\0';
	assert_int_equal(config_tail_decodes(tail, len, 1), 0);
}

/* Malformed programs tails are refused. */
static void
refuses_malformed_programs_tail(void **state)
{
	static const struct {
		const char *tail;
		size_t len;
		uint32_t n;
	} bad[] = {
	    {"a\0/p\0", 5, 1},             /* record not ended */
	    {"a\0/p", 4, 1},               /* word not ended */
	    {"a\0\0", 3, 1},               /* a name and no program */
	    {"\0", 1, 1},                  /* empty record */
	    {"a b\0/p\0\0", 8, 1},         /* bad name */
	    {"a/\0/p\0\0", 7, 1},          /* bad name */
	    {"a\0/p\0\0b\0/q\0\0", 12, 1}, /* more records than nprograms */
	    {"a\0/p\0\0", 6, 2},           /* fewer records */
	    {"a\0/p\0\0x", 7, 1},          /* junk after the records */
	    {"a\0/p\0\0", 6, 0},           /* a tail with no programs */
	    {"", 0, 1},                    /* nothing at all */
	    {"0123456789012345678901234567890123\0/p\0\0", 39, 1}, /* name */
	};
	char tail[1024];
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(
		    config_tail_decodes(bad[i].tail, bad[i].len, bad[i].n), -1);
	/* one word more than a program can have */
	memcpy(tail, "max\0", 4);
	len = 4;
	for (int i = 0; i <= CONF_MAX_ARGS; i++) {
		len +=
		    (size_t)snprintf(tail + len, sizeof(tail) - len, "w%d", i) +
		    1;
	}
	tail[len++] = '\0';
	assert_int_equal(config_tail_decodes(tail, len, 1), -1);
}

/* A configuration with programs survives msg_config_programs, encode,
 * decode and msg_config_apply: numbers, names and argv words. */
static void
config_programs_roundtrip(void **state)
{
	static uint8_t buf[MSG_PACKET_MAX];
	static char tail[MSG_TAIL_MAX];
	static const char text[] =
	    "[chatd]\nmax_line = 2048\n"
	    "[programs]\n"
	    "shell = /bin/sh -c  cat\n"
	    "t = /bin/true\n"
	    "many = /bin/sh a2 a3 a4 a5 a6 a7 a8 a9 a10 a11 a12 a13 a14 a15 "
	    "a16 a17 a18 a19 a20 a21 a22 a23 a24 a25 a26 a27 a28 a29 a30 a31 "
	    "a32\n";
	struct conf src, dst;
	struct msg_config mc;
	char err[CONF_ERRLEN];
	struct msg m;
	const char *why = NULL;
	long tl, n;

	(void)state;
	if (conf_load_string(&src, text, "roundtrip", err, sizeof(err)) != 0)
		fail_msg("conf_load_string: %s", err);
	assert_int_equal(src.nprograms, 3);
	assert_int_equal(src.programs[2].argc, CONF_MAX_ARGS);
	tl = msg_config_programs(&src, tail, sizeof(tail));
	assert_true(tl > 0);
	memset(&mc, 0, sizeof(mc));
	mc.max_output = src.max_output;
	mc.pipe_max_output = 777;
	mc.max_line = src.max_line;
	mc.rate = 9;
	mc.burst = 10;
	mc.pipe_timeout_ms = 250;
	mc.log_level = LOG_WARNING;
	mc.nprograms = (uint32_t)src.nprograms;
	n = msg_encode(buf, sizeof(buf), MSG_CONFIG, 0, &mc, tail, (size_t)tl);
	assert_true(n > 0);
	assert_int_equal(msg_decode(buf, (size_t)n, &m, &why), n);
	conf_defaults(&dst);
	assert_int_equal(msg_config_apply(&m, &dst), 0);
	assert_int_equal(dst.max_line, 2048);
	assert_int_equal(dst.max_output, src.max_output);
	assert_int_equal(dst.pipe_max_output, 777);
	assert_int_equal(dst.rate, 9);
	assert_int_equal(dst.burst, 10);
	assert_int_equal(dst.pipe_timeout_ms, 250);
	assert_int_equal(dst.log_level, LOG_WARNING);
	assert_int_equal(dst.nprograms, src.nprograms);
	for (size_t i = 0; i < src.nprograms; i++) {
		const struct conf_program *a = &src.programs[i];
		const struct conf_program *b = &dst.programs[i];
		assert_string_equal(a->name, b->name);
		assert_int_equal(a->argc, b->argc);
		for (size_t w = 0; w < a->argc; w++)
			assert_string_equal(a->argv[w], b->argv[w]);
		assert_null(b->argv[b->argc]);
		assert_ptr_equal(
		    conf_program_find(&dst, a->name, strlen(a->name)), b);
	}
	assert_string_equal(dst.programs[0].argv[2], "cat");
	conf_free(&src);
	conf_free(&dst);
}

/* msg_config_programs refuses a buffer too small by even one byte. */
static void
config_programs_needs_room(void **state)
{
	static const char text[] =
	    "[programs]\na = /bin/sh -c x\nbb = /bin/true\n";
	struct conf c;
	char err[CONF_ERRLEN], buf[256];
	long need;

	(void)state;
	if (conf_load_string(&c, text, "room", err, sizeof(err)) != 0)
		fail_msg("conf_load_string: %s", err);
	need = msg_config_programs(&c, buf, sizeof(buf));
	assert_int_equal(need, (long)strlen("a./bin/sh.-c.x..bb./bin/true.."));
	assert_memory_equal(
	    buf, "a\0/bin/sh\0-c\0x\0\0bb\0/bin/true\0\0", need);
	for (long cap = 0; cap < need; cap++)
		assert_int_equal(msg_config_programs(&c, buf, (size_t)cap), -1);
	assert_int_equal(msg_config_programs(&c, buf, (size_t)need), need);
	conf_free(&c);
	conf_defaults(&c);
	assert_int_equal(msg_config_programs(&c, buf, 0), 0);
}

/* The encoder refuses what the decoder would: unknown types, tails past
 * tailmax, a wrong descriptor flag, and output that does not fit. */
static void
encode_refusals(void **state)
{
	static uint8_t buf[MSG_PACKET_MAX];
	static char big[MSG_TAIL_MAX + 1];
	struct sample s;
	size_t n;

	(void)state;
	assert_int_equal(
	    msg_encode(buf, sizeof(buf), MSG_NONE, 0, NULL, NULL, 0), -1);
	assert_int_equal(
	    msg_encode(buf, sizeof(buf), MSG_TYPE_MAX, 0, NULL, NULL, 0), -1);
	for (unsigned t = MSG_NONE + 1; t < MSG_TYPE_MAX; t++) {
		sample(t, &s);
		assert_int_equal(
		    msg_encode(buf, sizeof(buf), t, s.flags, s.u.bytes, big,
		        (size_t)msg_table[t].tailmax + 1),
		    -1);
		assert_int_equal(
		    msg_encode(buf, sizeof(buf), t, s.flags ^ MSG_F_FD,
		        s.u.bytes, s.tail, s.taillen),
		    -1);
		n = HDR + msg_table[t].fixed + s.taillen;
		assert_int_equal(msg_encode(buf, n - 1, t, s.flags, s.u.bytes,
		                     s.tail, s.taillen),
		    -1);
		assert_int_equal(msg_encode(buf, n, t, s.flags, s.u.bytes,
		                     s.tail, s.taillen),
		    (long)n);
	}
	/* the largest reply fits in one packet */
	assert_true(
	    HDR + sizeof(struct msg_reply) + MSG_TAIL_MAX <= MSG_PACKET_MAX);
	assert_true(
	    msg_encode(buf, sizeof(buf), MSG_REPLY, 0,
	        &(struct msg_reply){0, 0, 0, 0}, big, MSG_TAIL_MAX) > 0);
}

/* Several messages back to back in one packet decode one after another,
 * as channel.c walks a packet. */
static void
decodes_packet_of_several(void **state)
{
	static uint8_t buf[MSG_PACKET_MAX];
	struct sample s;
	size_t off = 0, n;
	unsigned want = MSG_NONE + 1;
	struct msg m;
	const char *why = NULL;
	long used;

	(void)state;
	for (unsigned t = MSG_NONE + 1; t < MSG_TYPE_MAX; t++) {
		sample(t, &s);
		off += encode_sample(buf + off, sizeof(buf) - off, t, &s);
	}
	n = off;
	for (off = 0; off < n; off += (size_t)used) {
		used = msg_decode(buf + off, n - off, &m, &why);
		assert_true(used > 0);
		assert_int_equal(m.type, want);
		want++;
	}
	assert_int_equal(off, n);
	assert_int_equal(want, MSG_TYPE_MAX);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(roundtrip_every_type),
	    cmocka_unit_test(decode_zeroes_rest_of_union),
	    cmocka_unit_test(names),
	    cmocka_unit_test(refuses_truncated_header),
	    cmocka_unit_test(refuses_truncated_payload),
	    cmocka_unit_test(refuses_short_fixed_part),
	    cmocka_unit_test(refuses_oversized_tail),
	    cmocka_unit_test(refuses_unknown_type),
	    cmocka_unit_test(refuses_unknown_flags),
	    cmocka_unit_test(refuses_fd_flag_mismatch),
	    cmocka_unit_test(refuses_text_with_nul_or_newline),
	    cmocka_unit_test(refuses_client_addr_without_nul),
	    cmocka_unit_test(refuses_request_cmd_out_of_range),
	    cmocka_unit_test(checks_pipe_acquire_name),
	    cmocka_unit_test(refuses_config_numbers_out_of_range),
	    cmocka_unit_test(accepts_wellformed_programs_tail),
	    cmocka_unit_test(refuses_malformed_programs_tail),
	    cmocka_unit_test(config_programs_roundtrip),
	    cmocka_unit_test(config_programs_needs_room),
	    cmocka_unit_test(encode_refusals),
	    cmocka_unit_test(decodes_packet_of_several),
	};

	return cmocka_run_group_tests_name("msg", tests, NULL, NULL);
}
