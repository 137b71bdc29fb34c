/*
 * libFuzzer harness for command_parse() of common/command.c.
 *
 * Each "\n"-separated line of the input is copied into a buffer of its
 * exact length (so that AddressSanitizer sees any read past it) and parsed
 * for the chat and for the control socket.  Checked: the result is a
 * command allowed in that place; name and text point inside the line;
 * /pipe and /say text runs to the end of the line; ids have at most 19
 * digits; milliseconds are in range and survive command_format_ms and
 * conf_parse_ms; an error is a NUL-terminated text that fits errlen, is
 * valid UTF-8 when the line was, and is cut safely in a buffer of any
 * small size.  Any violation calls abort().
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "conf.h"
#include "line.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant: abort() so that libFuzzer keeps the input. */
static void
fuzz_assert(int ok)
{
	if (!ok)
		abort();
}

/* [p, p + n) lies within [line, line + len). */
static int
inside(const char *p, size_t n, const char *line, size_t len)
{
	return p != NULL && p >= line && n <= len &&
	    (size_t)(p - line) <= len - n;
}

static void
check_ok(const struct command *c, const char *line, size_t len,
    enum command_where where)
{
	char buf[32];
	uint32_t ms;

	fuzz_assert(c->id >= CMD_CHAT && c->id < CMD_MAX);
	if (where == COMMAND_CHAT)
		fuzz_assert(c->id < CMD_SAY);
	else
		fuzz_assert(c->id != CMD_PIPE);
	switch (c->id) {
	case CMD_CHAT:
		fuzz_assert(len == 0 || inside(c->text, c->textlen, line, len));
		fuzz_assert(c->textlen == len || c->textlen == len - 1);
		break;
	case CMD_TIMEOUT:
		fuzz_assert(c->ms <= COMMAND_TIMEOUT_MAX_MS);
		command_format_ms(c->ms, buf, sizeof(buf));
		fuzz_assert(
		    conf_parse_ms(buf, COMMAND_TIMEOUT_MAX_MS, &ms) == 0);
		fuzz_assert(ms == c->ms);
		/* fall through */
	case CMD_KICK:
		fuzz_assert(c->target <= UINT64_C(9999999999999999999));
		break;
	case CMD_PIPE:
		fuzz_assert(
		    c->namelen > 0 && inside(c->name, c->namelen, line, len));
		fuzz_assert(memchr(c->name, ' ', c->namelen) == NULL);
		fuzz_assert(memchr(c->name, '\t', c->namelen) == NULL);
		/* fall through */
	case CMD_SAY:
		fuzz_assert(inside(c->text, c->textlen, line, len));
		fuzz_assert(c->text + c->textlen == line + len);
		fuzz_assert(c->id != CMD_SAY || c->textlen > 0);
		break;
	default:
		fuzz_assert(c->textlen == 0 && c->namelen == 0);
		break;
	}
}

static void
check_line(const char *line, size_t len, enum command_where where)
{
	struct command c;
	char err[256];
	char *small;
	int rc;

	memset(err, 0, sizeof(err));
	rc = command_parse(line, len, where, &c, err, sizeof(err));
	fuzz_assert(rc == 0 || rc == -1);
	if (rc == 0) {
		check_ok(&c, line, len, where);
		return;
	}
	fuzz_assert(memchr(err, '\0', sizeof(err)) != NULL);
	fuzz_assert(err[0] != '\0');
	if (line_check(line, len) == LINE_OK)
		fuzz_assert(line_check(err, strlen(err)) == LINE_OK);
	/* the same error in a buffer of every small size */
	for (size_t n = 1; n <= 16; n++) {
		small = malloc(n);
		fuzz_assert(small != NULL);
		fuzz_assert(
		    command_parse(line, len, where, &c, small, n) == -1);
		fuzz_assert(memchr(small, '\0', n) != NULL);
		fuzz_assert(strncmp(small, err, n - 1) == 0);
		free(small);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *nl;
	size_t len;
	char *line;

	while (p <= end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		len = nl == NULL ? (size_t)(end - p) : (size_t)(nl - p);
		line = malloc(len > 0 ? len : 1);
		fuzz_assert(line != NULL);
		memcpy(line, p, len);
		check_line(line, len, COMMAND_CHAT);
		check_line(line, len, COMMAND_CONTROL);
		free(line);
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	return 0;
}
