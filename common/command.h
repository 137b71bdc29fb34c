/*
 * The command lines of protocol.md, parsed once for both the chat (worker)
 * and the control socket (supervisor), and the text of /help.
 */
#ifndef CHATD_COMMAND_H
#define CHATD_COMMAND_H

#include <stddef.h>
#include <stdint.h>

enum command_id {
	CMD_CHAT, /* not a command: text to broadcast */
	CMD_HELP,
	CMD_WHO,
	CMD_KICK,
	CMD_TIMEOUT,
	CMD_PIPE,
	CMD_PS,
	CMD_QUIT,
	CMD_SAY, /* control socket only from here on */
	CMD_STATUS,
	CMD_RELOAD,
	CMD_SHUTDOWN,
	CMD_MAX
};

#define COMMAND_TIMEOUT_MAX_MS 86400000u

struct command {
	enum command_id id;
	uint64_t target;  /* KICK, TIMEOUT */
	uint32_t ms;      /* TIMEOUT; 0 = clear */
	const char *name; /* PIPE: the program name */
	size_t namelen;
	const char *text; /* CHAT, SAY, PIPE: the text (may be empty) */
	size_t textlen;
};

enum command_where {
	COMMAND_CHAT,    /* a chat client */
	COMMAND_CONTROL, /* the control socket: admin commands too */
};

/*
 * Parses one valid line (see line.h).  0 with c filled; -1 with the text
 * of the -ERR reply (without "-ERR ") in err.
 */
int command_parse(const char *line, size_t len, enum command_where where,
    struct command *c, char *err, size_t errlen);

/* The reply to a refused command line, "-ERR " err "\n", into buf;
 * returns its length. */
size_t command_refusal(char *buf, size_t len, const char *err);

/* "0.25" for 250 ms, "3" for 3000: the shortest form that parses back. */
void command_format_ms(uint32_t ms, char *buf, size_t len);

/* The usage lines of /help for that place, "\n"-separated. */
const char *command_help(enum command_where where);

#endif
