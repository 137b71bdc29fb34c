/*
 * Encoding and decoding of the typed messages of msg.h.  The decoder is
 * the trust boundary between chatd processes: it refuses anything that
 * does not match msg_table exactly, so handlers only see well-formed
 * messages.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "msg.h"

static int msg_check_config(const struct msg *m);
static int msg_check_client(const struct msg *m);
static int msg_check_text(const struct msg *m);
static int msg_check_request(const struct msg *m);
static int msg_check_name(const struct msg *m);

#define FIX(t) ((uint16_t)sizeof(struct t))

const struct msg_info msg_table[MSG_TYPE_MAX] = {
    [MSG_NONE] = {"none", 0, 0, 0, NULL},
    [MSG_HELLO] = {"hello", FIX(msg_hello), 0, 0, NULL},
    [MSG_CONFIG] = {"config", FIX(msg_config), MSG_TAIL_MAX, 0,
        msg_check_config},
    [MSG_CLIENT_ADD] = {"client-add", FIX(msg_client), 0, 1, msg_check_client},
    [MSG_CLIENT_GONE] = {"client-gone", FIX(msg_id), 0, 0, NULL},
    [MSG_SAY] = {"say", FIX(msg_line), CONF_LINE_MAX, 0, msg_check_text},
    [MSG_DELIVER] = {"deliver", FIX(msg_line), CONF_LINE_MAX, 0,
        msg_check_text},
    [MSG_REQUEST] = {"request", FIX(msg_request), 0, 0, msg_check_request},
    [MSG_REPLY] = {"reply", FIX(msg_reply), MSG_TAIL_MAX, 0, NULL},
    [MSG_KICK] = {"kick", FIX(msg_act), 0, 0, NULL},
    [MSG_TIMEOUT] = {"timeout", FIX(msg_act), 0, 0, NULL},
    [MSG_ACTED] = {"acted", FIX(msg_acted), 0, 0, NULL},
    [MSG_PIPE_ACQUIRE] = {"pipe-acquire", FIX(msg_pipe), MSG_NAME_MAX - 1, 0,
        msg_check_name},
    [MSG_PIPE_GRANT] = {"pipe-grant", FIX(msg_grant), 0, 0, NULL},
    [MSG_PIPE_STARTED] = {"pipe-started", FIX(msg_pipe), 0, 0, NULL},
    [MSG_PIPE_ENDED] = {"pipe-ended", FIX(msg_pipe), 0, 0, NULL},
    [MSG_DRAIN] = {"drain", 0, 0, 0, NULL},
    [MSG_DRAINED] = {"drained", 0, 0, 0, NULL},
    [MSG_FINISH] = {"finish", FIX(msg_finish), 0, 0, NULL},
    [MSG_RETIRE] = {"retire", 0, 0, 0, NULL},
    [MSG_CONFIGURED] = {"configured", FIX(msg_configured), 0, 0, NULL},
};

const char *
msg_name(unsigned type)
{
	if (type == MSG_NONE || type >= MSG_TYPE_MAX)
		return "unknown";
	return msg_table[type].name;
}

/* Copies the fixed part into the union member that starts it. */
static void
msg_copy_fixed(struct msg *m, const uint8_t *p, size_t len)
{
	memset(&m->u, 0, sizeof(m->u));
	memcpy(&m->u, p, len);
}

long
msg_decode(const uint8_t *p, size_t n, struct msg *m, const char **why)
{
	struct msg_hdr h;
	const struct msg_info *info;
	size_t tail;

	if (n < sizeof(h))
		return *why = "truncated header", -1;
	memcpy(&h, p, sizeof(h));
	if (h.type == MSG_NONE || h.type >= MSG_TYPE_MAX)
		return *why = "unknown type", -1;
	info = &msg_table[h.type];
	if (h.len > n - sizeof(h))
		return *why = "truncated message", -1;
	if (h.len < info->fixed)
		return *why = "payload too short", -1;
	tail = h.len - info->fixed;
	if (tail > info->tailmax)
		return *why = "payload too long", -1;
	if ((h.flags & ~MSG_F_FD) != 0)
		return *why = "unknown flags", -1;
	if (((h.flags & MSG_F_FD) != 0) != (info->fd != 0))
		return *why = "descriptor flag does not match type", -1;
	m->type = h.type;
	m->flags = h.flags;
	msg_copy_fixed(m, p + sizeof(h), info->fixed);
	m->tail = (const char *)p + sizeof(h) + info->fixed;
	m->taillen = tail;
	m->fd = -1;
	if (info->check != NULL && info->check(m) != 0)
		return *why = "malformed payload", -1;
	return (long)(sizeof(h) + h.len);
}

long
msg_encode(uint8_t *out, size_t cap, unsigned type, unsigned flags,
    const void *fixed, const void *tail, size_t taillen)
{
	struct msg_hdr h;
	const struct msg_info *info;
	size_t total;

	if (type == MSG_NONE || type >= MSG_TYPE_MAX)
		return -1;
	info = &msg_table[type];
	if (taillen > info->tailmax || (info->fd != 0) != (flags & MSG_F_FD))
		return -1;
	total = sizeof(h) + info->fixed + taillen;
	if (total > cap)
		return -1;
	h.type = (uint16_t)type;
	h.flags = (uint16_t)flags;
	h.len = (uint32_t)(info->fixed + taillen);
	memcpy(out, &h, sizeof(h));
	if (info->fixed > 0)
		memcpy(out + sizeof(h), fixed, info->fixed);
	if (taillen > 0)
		memcpy(out + sizeof(h) + info->fixed, tail, taillen);
	return (long)total;
}

/* A program name: [A-Za-z0-9_-], 1 to MSG_NAME_MAX - 1 bytes. */
static int
msg_name_ok(const char *s, size_t len)
{
	if (len == 0 || len >= MSG_NAME_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!(c == '_' || c == '-' || (c >= '0' && c <= '9') ||
		        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
			return 0;
	}
	return 1;
}

static int
msg_check_name(const struct msg *m)
{
	return msg_name_ok(m->tail, m->taillen) ? 0 : -1;
}

static int
msg_check_client(const struct msg *m)
{
	return memchr(m->u.client.addr, '\0', MSG_ADDR_MAX) ? 0 : -1;
}

/* Chat text never holds a newline or a NUL: it becomes one line. */
static int
msg_check_text(const struct msg *m)
{
	if (memchr(m->tail, '\n', m->taillen) != NULL)
		return -1;
	return memchr(m->tail, '\0', m->taillen) != NULL ? -1 : 0;
}

static int
msg_check_request(const struct msg *m)
{
	uint32_t cmd = m->u.request.cmd;

	return cmd >= MSG_CMD_WHO && cmd < MSG_CMD_MAX ? 0 : -1;
}

/* Walks one "name\0arg\0...\0\0" record; returns its length or -1. */
static long
msg_program_len(const char *p, size_t n)
{
	const char *end;
	size_t off = 0, words = 0;

	while (off < n) {
		end = memchr(p + off, '\0', n - off);
		if (end == NULL)
			return -1;
		if (end == p + off) /* the empty word ends the record */
			break;
		if (words == 0 && !msg_name_ok(p, (size_t)(end - p)))
			return -1;
		words++;
		off = (size_t)(end - p) + 1;
	}
	if (off >= n || words < 2 || words > CONF_MAX_ARGS + 1)
		return -1;
	return (long)off + 1;
}

static int
msg_check_config(const struct msg *m)
{
	size_t off = 0;
	long len;

	if (m->u.config.nprograms > CONF_MAX_PROGRAMS ||
	    m->u.config.max_line < 1 || m->u.config.max_line > CONF_LINE_MAX ||
	    m->u.config.log_level > LOG_ERROR)
		return -1;
	for (uint32_t i = 0; i < m->u.config.nprograms; i++) {
		len = msg_program_len(m->tail + off, m->taillen - off);
		if (len < 0)
			return -1;
		off += (size_t)len;
	}
	return off == m->taillen ? 0 : -1;
}

long
msg_config_programs(const struct conf *c, char *buf, size_t cap)
{
	size_t off = 0, len;

	for (size_t i = 0; i < c->nprograms; i++) {
		const struct conf_program *p = &c->programs[i];
		for (size_t w = 0; w <= p->argc; w++) {
			const char *word = w == 0 ? p->name : p->argv[w - 1];
			len = strlen(word) + 1;
			if (len > cap - off)
				return -1;
			memcpy(buf + off, word, len);
			off += len;
		}
		if (off >= cap)
			return -1;
		buf[off++] = '\0';
	}
	return off > MSG_TAIL_MAX ? -1 : (long)off;
}

/* Fills one program from a record that msg_check_config accepted.  As
 * conf.c does, all words live in one block owned by argv[0]. */
static int
msg_config_program(struct conf_program *p, const char *rec, size_t reclen)
{
	size_t len = strlen(rec);
	char *block, *w;

	memcpy(p->name, rec, len + 1);
	block = malloc(reclen - len - 1);
	if (block == NULL)
		return -1;
	memcpy(block, rec + len + 1, reclen - len - 1);
	p->argc = 0;
	w = block; /* msg_check_config saw argv[0]: block is never dropped */
	do {
		p->argv[p->argc++] = w;
		w += strlen(w) + 1;
	} while (*w != '\0');
	p->argv[p->argc] = NULL;
	return 0;
}

int
msg_config_apply(const struct msg *m, struct conf *c)
{
	const struct msg_config *mc = &m->u.config;
	const char *rec = m->tail;

	c->max_output = mc->max_output;
	c->pipe_max_output = mc->pipe_max_output;
	c->max_line = mc->max_line;
	c->rate = mc->rate;
	c->burst = mc->burst;
	c->pipe_timeout_ms = mc->pipe_timeout_ms;
	c->log_level = (int)mc->log_level;
	c->nprograms = 0;
	for (uint32_t i = 0; i < mc->nprograms; i++) {
		long len =
		    msg_program_len(rec, m->taillen - (size_t)(rec - m->tail));
		if (len < 0 ||
		    msg_config_program(&c->programs[i], rec, (size_t)len) != 0)
			return -1;
		c->nprograms++;
		rec += len;
	}
	return 0;
}
