/*
 * Command lines: one table of commands, a parser per argument shape.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "command.h"
#include "conf.h"

struct command_def {
	const char *word;
	enum command_id id;
	enum command_where where; /* COMMAND_CONTROL = control socket only */
	const char *usage;
};

static const struct command_def command_defs[] = {
    {"help", CMD_HELP, COMMAND_CHAT, "/help"},
    {"who", CMD_WHO, COMMAND_CHAT, "/who"},
    {"kick", CMD_KICK, COMMAND_CHAT, "/kick ID"},
    {"timeout", CMD_TIMEOUT, COMMAND_CHAT, "/timeout ID SECONDS"},
    {"pipe", CMD_PIPE, COMMAND_CHAT, "/pipe NAME [TEXT]"},
    {"ps", CMD_PS, COMMAND_CHAT, "/ps"},
    {"quit", CMD_QUIT, COMMAND_CHAT, "/quit"},
    {"say", CMD_SAY, COMMAND_CONTROL, "/say TEXT"},
    {"status", CMD_STATUS, COMMAND_CONTROL, "/status"},
    {"reload", CMD_RELOAD, COMMAND_CONTROL, "/reload"},
    {"shutdown", CMD_SHUTDOWN, COMMAND_CONTROL, "/shutdown"},
};

#define NDEFS (sizeof(command_defs) / sizeof(command_defs[0]))

static const char command_help_chat[] =
    "/help                list the commands\n"
    "/who                 list the connected clients\n"
    "/kick ID             close client ID's connection\n"
    "/timeout ID SECONDS  close ID after SECONDS without input (0 clears)\n"
    "/pipe NAME [TEXT]    run program NAME with TEXT as its input\n"
    "/ps                  list the server's processes\n"
    "/quit                leave\n"
    "//TEXT               say /TEXT\n";

static const char command_help_control[] =
    "/help                list the commands\n"
    "/who                 list the connected clients\n"
    "/kick ID             close client ID's connection\n"
    "/timeout ID SECONDS  close ID after SECONDS without input (0 clears)\n"
    "/ps                  list the server's processes\n"
    "/say TEXT            broadcast TEXT as client 0\n"
    "/status              server figures as key=value lines\n"
    "/reload              re-read the configuration file\n"
    "/shutdown            stop the server cleanly\n";

const char *
command_help(enum command_where where)
{
	return where == COMMAND_CONTROL ? command_help_control
	                                : command_help_chat;
}

/* Splits off the next blank-separated word of [*s, end). */
static int
command_word(const char **s, const char *end, const char **w, size_t *wl)
{
	const char *p = *s;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	*w = p;
	while (p < end && *p != ' ' && *p != '\t')
		p++;
	*wl = (size_t)(p - *w);
	*s = p;
	return *wl > 0;
}

static int
command_id_arg(const char *w, size_t wl, uint64_t *id)
{
	uint64_t v = 0;

	if (wl == 0 || wl > 19)
		return -1;
	for (size_t i = 0; i < wl; i++) {
		if (w[i] < '0' || w[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(w[i] - '0');
	}
	*id = v;
	return 0;
}

static int
command_ms_arg(const char *w, size_t wl, uint32_t *ms)
{
	char buf[32];

	if (wl == 0 || wl >= sizeof(buf))
		return -1;
	memcpy(buf, w, wl);
	buf[wl] = '\0';
	return conf_parse_ms(buf, COMMAND_TIMEOUT_MAX_MS, ms);
}

static int
command_usage(const struct command_def *d, char *err, size_t errlen)
{
	snprintf(err, errlen, "usage: %s", d->usage);
	return -1;
}

/* /kick ID, /timeout ID SECONDS. */
static int
command_target(const struct command_def *d, const char **s, const char *end,
    struct command *c, char *err, size_t errlen)
{
	const char *w;
	size_t wl;

	if (!command_word(s, end, &w, &wl) ||
	    command_id_arg(w, wl, &c->target) != 0) {
		snprintf(err, errlen, "bad client id (usage: %s)", d->usage);
		return -1;
	}
	if (d->id == CMD_TIMEOUT &&
	    (!command_word(s, end, &w, &wl) ||
	        command_ms_arg(w, wl, &c->ms) != 0)) {
		snprintf(err, errlen,
		    "bad SECONDS: want 0 to 86400 with up to 3 decimals "
		    "(usage: %s)",
		    d->usage);
		return -1;
	}
	return 0;
}

/* TEXT is everything after the one space that follows the last word. */
static void
command_text(const char *s, const char *end, struct command *c)
{
	if (s < end)
		s++;
	c->text = s;
	c->textlen = (size_t)(end - s);
}

/* Parses the arguments after the command word; rest is [s, end). */
static int
command_args(const struct command_def *d, const char *s, const char *end,
    struct command *c, char *err, size_t errlen)
{
	const char *w;
	size_t wl;

	switch (d->id) {
	case CMD_KICK:
	case CMD_TIMEOUT:
		if (command_target(d, &s, end, c, err, errlen) != 0)
			return -1;
		break;
	case CMD_PIPE:
		if (!command_word(&s, end, &c->name, &c->namelen))
			return command_usage(d, err, errlen);
		command_text(s, end, c);
		return 0;
	case CMD_SAY:
		command_text(s, end, c);
		return c->textlen == 0 ? command_usage(d, err, errlen) : 0;
	default:
		break;
	}
	if (command_word(&s, end, &w, &wl))
		return command_usage(d, err, errlen);
	return 0;
}

int
command_parse(const char *line, size_t len, enum command_where where,
    struct command *c, char *err, size_t errlen)
{
	const char *end = line + len, *s, *w;
	size_t wl;

	memset(c, 0, sizeof(*c));
	if (len == 0 || line[0] != '/' || (len > 1 && line[1] == '/')) {
		c->id = CMD_CHAT;
		c->text = len > 0 && line[0] == '/' ? line + 1 : line;
		c->textlen = len > 0 && line[0] == '/' ? len - 1 : len;
		return 0;
	}
	w = line + 1;
	for (s = w; s < end && *s != ' ' && *s != '\t'; s++)
		;
	wl = (size_t)(s - w);
	for (size_t i = 0; i < NDEFS; i++) {
		const struct command_def *d = &command_defs[i];
		if (strlen(d->word) != wl || memcmp(d->word, w, wl) != 0)
			continue;
		if (d->where == COMMAND_CONTROL && where != COMMAND_CONTROL)
			break;
		if (d->id == CMD_PIPE && where == COMMAND_CONTROL) {
			snprintf(err, errlen,
			    "/pipe runs only from a chat connection");
			return -1;
		}
		c->id = d->id;
		return command_args(d, s, end, c, err, errlen);
	}
	if (wl > 64) { /* cut long words, but not inside a UTF-8 sequence */
		wl = 64;
		while (wl > 0 && ((unsigned char)w[wl] & 0xC0) == 0x80)
			wl--;
	}
	snprintf(err, errlen, "unknown command /%.*s (try /help)", (int)wl, w);
	return -1;
}

size_t
command_refusal(char *buf, size_t len, const char *err)
{
	int n = snprintf(buf, len, "-ERR %s\n", err);

	if (n < 0)
		return 0;
	return (size_t)n < len ? (size_t)n : len - 1;
}

void
command_format_ms(uint32_t ms, char *buf, size_t len)
{
	uint32_t frac = ms % 1000;

	if (frac == 0)
		snprintf(buf, len, "%u", ms / 1000);
	else if (frac % 100 == 0)
		snprintf(buf, len, "%u.%u", ms / 1000, frac / 100);
	else if (frac % 10 == 0)
		snprintf(buf, len, "%u.%02u", ms / 1000, frac / 10);
	else
		snprintf(buf, len, "%u.%03u", ms / 1000, frac);
}
