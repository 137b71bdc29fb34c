/*
 * The chat commands, one handler each.  /help and /quit are answered
 * here; /who, /ps, /kick and /timeout go to the supervisor as a
 * MSG_REQUEST with a request id of their own, and the client reads no
 * further line until the reply has come (so replies keep the order of
 * the commands); /pipe is pipe.c's.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "command.h"
#include "log.h"
#include "reply.h"
#include "worker.h"

static int
commands_request(struct client *c, uint32_t cmd, const struct command *x)
{
	struct msg_request r;

	memset(&r, 0, sizeof(r));
	r.req = ++c->w->last_req;
	r.client = c->id;
	r.cmd = cmd;
	r.target = x->target;
	r.ms = x->ms;
	c->waiting = r.req;
	worker_send(c->w, MSG_REQUEST, &r, NULL, 0);
	return 1;
}

static int
commands_help(struct client *c)
{
	struct evbuffer *b = evbuffer_new();
	const char *text = command_help(COMMAND_CHAT);

	if (b == NULL)
		return 0;
	reply_printf(b, "+OK commands");
	reply_data_lines(b, text, strlen(text));
	reply_end(b);
	peer_write_buffer(c->p, b);
	evbuffer_free(b);
	return 0;
}

static int
commands_say(struct client *c, const char *text, size_t len)
{
	struct msg_line ml = {c->id};

	worker_send(c->w, MSG_SAY, &ml, text, len);
	return 0;
}

static int
commands_quit(struct client *c)
{
	static const char bye[] = "* bye\n";

	client_end(c, bye, sizeof(bye) - 1);
	return 1;
}

int
commands_run(struct client *c, const char *line, size_t len)
{
	char err[160], reply[176];
	struct command x;

	if (command_parse(line, len, COMMAND_CHAT, &x, err, sizeof(err)) != 0) {
		client_write(
		    c, reply, command_refusal(reply, sizeof(reply), err));
		return 0;
	}
	switch (x.id) {
	case CMD_CHAT:
		return commands_say(c, x.text, x.textlen);
	case CMD_HELP:
		return commands_help(c);
	case CMD_QUIT:
		return commands_quit(c);
	case CMD_WHO:
		return commands_request(c, MSG_CMD_WHO, &x);
	case CMD_PS:
		return commands_request(c, MSG_CMD_PS, &x);
	case CMD_KICK:
		return commands_request(c, MSG_CMD_KICK, &x);
	case CMD_TIMEOUT:
		return commands_request(c, MSG_CMD_TIMEOUT, &x);
	case CMD_PIPE:
		return pipe_request(c, x.name, x.namelen, x.text, x.textlen);
	default: /* command_parse gives chat clients no others */
		return 0;
	}
}
