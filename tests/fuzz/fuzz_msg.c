/*
 * libFuzzer harness for msg_decode() and msg_encode() of common/msg.c.
 *
 * The input is one packet, walked as channel.c walks it: decode a message,
 * advance by what it used, stop at the first refusal.  Every decoded
 * message is encoded again into a buffer of exactly its size: the bytes
 * must equal the ones it was decoded from, and decoding them must give
 * the same message.  A MSG_CONFIG is also applied to a configuration with
 * msg_config_apply(), whose programs msg_config_programs() must turn back
 * into the same tail; the configuration is then freed (LeakSanitizer
 * checks).  Any violation calls abort().
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant: abort() so that libFuzzer keeps the input. */
static void
fuzz_assert(int ok)
{
	if (!ok)
		abort();
}

/* The programs of a decoded MSG_CONFIG encode back to its tail. */
static void
check_config(const struct msg *m)
{
	struct conf c;
	char *buf;
	long n;

	conf_defaults(&c);
	fuzz_assert(msg_config_apply(m, &c) == 0);
	fuzz_assert(c.nprograms == m->u.config.nprograms);
	fuzz_assert(c.max_line == m->u.config.max_line);
	for (size_t i = 0; i < c.nprograms; i++) {
		fuzz_assert(c.programs[i].argc >= 1);
		fuzz_assert(c.programs[i].argc <= CONF_MAX_ARGS);
		fuzz_assert(c.programs[i].argv[c.programs[i].argc] == NULL);
	}
	buf = malloc(m->taillen + 1);
	fuzz_assert(buf != NULL);
	n = msg_config_programs(&c, buf, m->taillen + 1);
	fuzz_assert(n >= 0 && (size_t)n == m->taillen);
	fuzz_assert(n == 0 || memcmp(buf, m->tail, (size_t)n) == 0);
	free(buf);
	conf_free(&c);
}

/* Re-encodes m (decoded from orig, used bytes) and decodes it again. */
static void
check_roundtrip(const struct msg *m, const uint8_t *orig, size_t used)
{
	const struct msg_info *in = &msg_table[m->type];
	struct msg m2;
	const char *why = NULL;
	uint8_t *buf;
	long n;

	fuzz_assert(used == sizeof(struct msg_hdr) + in->fixed + m->taillen);
	fuzz_assert(m->taillen <= in->tailmax);
	fuzz_assert(m->fd == -1);
	fuzz_assert(((m->flags & MSG_F_FD) != 0) == (in->fd != 0));
	buf = malloc(used);
	fuzz_assert(buf != NULL);
	fuzz_assert(msg_encode(buf, used - 1, m->type, m->flags, &m->u, m->tail,
	                m->taillen) == -1);
	n = msg_encode(
	    buf, used, m->type, m->flags, &m->u, m->tail, m->taillen);
	fuzz_assert(n >= 0 && (size_t)n == used);
	fuzz_assert(memcmp(buf, orig, used) == 0);
	fuzz_assert(msg_decode(buf, used, &m2, &why) == (long)used);
	fuzz_assert(m2.type == m->type && m2.flags == m->flags);
	fuzz_assert(memcmp((const uint8_t *)&m2.u, (const uint8_t *)&m->u,
	                sizeof(m->u)) == 0);
	fuzz_assert(m2.taillen == m->taillen);
	fuzz_assert(
	    m->taillen == 0 || memcmp(m2.tail, m->tail, m->taillen) == 0);
	free(buf);
	if (m->type == MSG_CONFIG)
		check_config(m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;
	struct msg m;
	const char *why;
	long used;

	if (size > MSG_PACKET_MAX)
		return 0;
	while (off < size) {
		why = NULL;
		used = msg_decode(data + off, size - off, &m, &why);
		if (used < 0) {
			fuzz_assert(used == -1 && why != NULL);
			break;
		}
		fuzz_assert(why == NULL);
		fuzz_assert(used >= (long)sizeof(struct msg_hdr));
		fuzz_assert((size_t)used <= size - off);
		fuzz_assert(m.type > MSG_NONE && m.type < MSG_TYPE_MAX);
		fuzz_assert(m.tail ==
		    (const char *)data + off + sizeof(struct msg_hdr) +
		        msg_table[m.type].fixed);
		check_roundtrip(&m, data + off, (size_t)used);
		off += (size_t)used;
	}
	return 0;
}
