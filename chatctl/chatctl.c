/*
 * chatctl: chatd's admin tool.  Sends one command to the control socket
 * and prints the reply for people or, with --json, for programs.
 *
 *   chatctl [-s SOCKET] [--json] COMMAND [ARGS]
 *
 * Exit status: 0 on "+OK", 1 on "-ERR" (or a reply that broke off),
 * 2 on bad usage, 3 when the server cannot be reached.
 *
 * Each command is one entry of chatctl_cmds: its words, a check of the
 * shape of its arguments (the server's -ERR decides everything else),
 * the kind of reply and the function that prints it.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "ctlpath.h"
#include "output.h"

#define CHATCTL_EXIT_OK          0
#define CHATCTL_EXIT_ERR         1
#define CHATCTL_EXIT_USAGE       2
#define CHATCTL_EXIT_UNREACHABLE 3
#define CHATCTL_CONTINUE         (-1) /* options parsed: run the command */

#define CHATCTL_OPT_JSON  0x100 /* --json has no short form */
#define CHATCTL_ARGS_REST (-1)  /* one word or more, joined by blanks */
#define CHATCTL_PATH_MAX  4096

struct chatctl_opts {
	const char *socket; /* -s, or NULL for ctlpath_default() */
	int json;
};

struct chatctl_cmd {
	const char *name;
	const char *usage; /* "kick ID" */
	const char *help;
	/* 0 if the arguments have the right shape, else -1 (said why) */
	int (*check)(const struct chatctl_cmd *cmd, char **args);
	int (*print)(const struct client_reply *r, int json);
	int argc; /* arguments, or CHATCTL_ARGS_REST */
	enum client_kind kind;
};

static int chatctl_check_none(const struct chatctl_cmd *cmd, char **args);
static int chatctl_check_kick(const struct chatctl_cmd *cmd, char **args);
static int chatctl_check_timeout(const struct chatctl_cmd *cmd, char **args);

/* name, usage, help, argument check, printer, arguments, reply kind */
static const struct chatctl_cmd chatctl_cmds[] = {
    {"status", "status", "server figures: pid, uptime, clients, listen...",
        chatctl_check_none, output_status, 0, CLIENT_MULTI},
    {"who", "who", "list the connected clients", chatctl_check_none,
        output_table, 0, CLIENT_MULTI},
    {"ps", "ps", "list the server's processes", chatctl_check_none,
        output_table, 0, CLIENT_MULTI},
    {"kick", "kick ID", "close client ID's connection", chatctl_check_kick,
        output_text, 1, CLIENT_SINGLE},
    {"timeout", "timeout ID SECONDS",
        "close ID after SECONDS without input (0 clears)",
        chatctl_check_timeout, output_text, 2, CLIENT_SINGLE},
    {"say", "say TEXT", "broadcast TEXT as client 0", chatctl_check_none,
        output_text, CHATCTL_ARGS_REST, CLIENT_SINGLE},
    {"reload", "reload", "re-read the configuration file", chatctl_check_none,
        output_text, 0, CLIENT_SINGLE},
    {"shutdown", "shutdown", "stop the server cleanly", chatctl_check_none,
        output_text, 0, CLIENT_SINGLE},
};

#define CHATCTL_NCMDS (sizeof(chatctl_cmds) / sizeof(chatctl_cmds[0]))

/* ---- usage ----------------------------------------------------------- */

static void
chatctl_usage(FILE *f)
{
	(void)fputs("usage: chatctl [-s SOCKET] [--json] COMMAND [ARGS]\n"
	            "       chatctl -h | -V\n",
	    f);
}

/* Bad usage of one command: its own usage line. */
static int
chatctl_cmd_usage(const struct chatctl_cmd *cmd)
{
	(void)fprintf(
	    stderr, "usage: chatctl [-s SOCKET] [--json] %s\n", cmd->usage);
	return -1;
}

static void
chatctl_help(void)
{
	char buf[CHATCTL_PATH_MAX];
	const char *path = buf;

	if (ctlpath_default(buf, sizeof(buf)) != 0)
		path = "none: the path would be too long";
	chatctl_usage(stdout);
	printf("\ncommands:\n");
	for (size_t i = 0; i < CHATCTL_NCMDS; i++)
		printf("  %-20s %s\n", chatctl_cmds[i].usage,
		    chatctl_cmds[i].help);
	printf("\noptions:\n"
	       "  -s, --socket PATH    control socket (default %s)\n"
	       "      --json           print the reply as JSON\n"
	       "  -V, --version        print the version and exit\n"
	       "  -h, --help           print this help and exit\n"
	       "\nexit status: 0 +OK, 1 -ERR, 2 bad usage, "
	       "3 chatd cannot be reached\n",
	    path);
}

/* ---- argument shapes ------------------------------------------------- */

static int
chatctl_is_digits(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* "12" or "0.25": digits, then '.' and one to three digits. */
static int
chatctl_is_seconds(const char *s)
{
	const char *dot = strchr(s, '.');
	size_t n = dot == NULL ? strlen(s) : (size_t)(dot - s);

	if (!chatctl_is_digits(s, n))
		return 0;
	if (dot == NULL)
		return 1;
	n = strlen(dot + 1);
	return n <= 3 && chatctl_is_digits(dot + 1, n);
}

static int
chatctl_bad_arg(const struct chatctl_cmd *cmd, const char *what,
    const char *want, const char *arg)
{
	output_warn(
	    "%s: %s must be %s, not \"%s\"", cmd->name, what, want, arg);
	return chatctl_cmd_usage(cmd);
}

static int
chatctl_check_none(const struct chatctl_cmd *cmd, char **args)
{
	(void)cmd;
	(void)args;
	return 0;
}

static int
chatctl_check_kick(const struct chatctl_cmd *cmd, char **args)
{
	if (!chatctl_is_digits(args[0], strlen(args[0])))
		return chatctl_bad_arg(cmd, "ID", "a client id", args[0]);
	return 0;
}

static int
chatctl_check_timeout(const struct chatctl_cmd *cmd, char **args)
{
	if (chatctl_check_kick(cmd, args) != 0)
		return -1;
	if (!chatctl_is_seconds(args[1]))
		return chatctl_bad_arg(cmd, "SECONDS",
		    "a number of seconds with up to 3 decimals", args[1]);
	return 0;
}

/* ---- the command line sent ------------------------------------------- */

/* An argument with a line break would smuggle in a second command. */
static int
chatctl_check_lines(const struct chatctl_cmd *cmd, char **args, int nargs)
{
	for (int i = 0; i < nargs; i++)
		if (strpbrk(args[i], "\r\n") != NULL) {
			output_warn(
			    "%s: an argument holds a line break", cmd->name);
			return chatctl_cmd_usage(cmd);
		}
	return 0;
}

/* Appends sep (if not NUL) and s at line + *off. */
static void
chatctl_append(char *line, size_t *off, char sep, const char *s)
{
	size_t n = strlen(s);

	if (sep != '\0')
		line[(*off)++] = sep;
	memcpy(line + *off, s, n);
	*off += n;
	line[*off] = '\0';
}

/* "/NAME ARG ARG...": the arguments joined by single blanks. */
static char *
chatctl_line(const struct chatctl_cmd *cmd, char **args, int nargs)
{
	size_t len = strlen(cmd->name) + 2, off = 0;
	char *line;

	for (int i = 0; i < nargs; i++)
		len += strlen(args[i]) + 1;
	if ((line = malloc(len)) == NULL)
		return NULL;
	chatctl_append(line, &off, '/', cmd->name);
	for (int i = 0; i < nargs; i++)
		chatctl_append(line, &off, ' ', args[i]);
	return line;
}

/* ---- running --------------------------------------------------------- */

static const struct chatctl_cmd *
chatctl_find(const char *name)
{
	for (size_t i = 0; i < CHATCTL_NCMDS; i++)
		if (strcmp(chatctl_cmds[i].name, name) == 0)
			return &chatctl_cmds[i];
	return NULL;
}

/* Sends line and prints the reply; returns the exit status. */
static int
chatctl_call(const struct chatctl_opts *o, const struct chatctl_cmd *cmd,
    const char *path, const char *line)
{
	struct client_reply r;
	char err[CHATCTL_PATH_MAX + 256];
	int rc;

	switch (client_call(path, line, cmd->kind, &r, err, sizeof(err))) {
	case CLIENT_UNREACHABLE:
		output_warn("%s", err);
		return CHATCTL_EXIT_UNREACHABLE;
	case CLIENT_FAILED:
		output_warn("%s", err);
		return CHATCTL_EXIT_ERR;
	case CLIENT_DONE:
		break;
	}
	rc = CHATCTL_EXIT_ERR;
	if (!r.ok)
		(void)output_error(&r, o->json);
	else if (cmd->print(&r, o->json) == 0)
		rc = CHATCTL_EXIT_OK;
	client_reply_free(&r);
	return rc;
}

/* Resolves the socket, builds the line and calls. */
static int
chatctl_run(const struct chatctl_opts *o, const struct chatctl_cmd *cmd,
    char **args, int nargs)
{
	char path[CHATCTL_PATH_MAX];
	char *line;
	int rc;

	if (o->socket == NULL && ctlpath_default(path, sizeof(path)) != 0) {
		output_warn("the default control socket path is too long "
		            "(use -s SOCKET)");
		return CHATCTL_EXIT_UNREACHABLE;
	}
	if ((line = chatctl_line(cmd, args, nargs)) == NULL) {
		output_warn("out of memory");
		return CHATCTL_EXIT_ERR;
	}
	rc = chatctl_call(o, cmd, o->socket != NULL ? o->socket : path, line);
	free(line);
	return rc;
}

/* Finds the command and checks its arguments; NULL on bad usage. */
static const struct chatctl_cmd *
chatctl_command(char **args, int nargs)
{
	const struct chatctl_cmd *cmd;
	int have = nargs - 1, least;

	if (nargs == 0) {
		output_warn("no command given");
		return NULL;
	}
	if ((cmd = chatctl_find(args[0])) == NULL) {
		output_warn("unknown command \"%s\"", args[0]);
		return NULL;
	}
	least = cmd->argc == CHATCTL_ARGS_REST ? 1 : cmd->argc;
	if (have < least || (cmd->argc != CHATCTL_ARGS_REST && have > least)) {
		output_warn("%s: %s argument", cmd->name,
		    have < least ? "missing" : "extra");
		(void)chatctl_cmd_usage(cmd);
		return NULL;
	}
	if (chatctl_check_lines(cmd, args + 1, nargs - 1) != 0 ||
	    cmd->check(cmd, args + 1) != 0)
		return NULL;
	return cmd;
}

/* getopt's own messages would start with argv[0], not "chatctl:". */
static void
chatctl_bad_option(int ch, char **argv)
{
	/* optopt: the bad short option, 0 for an unknown long one, or the
	 * value of a long one given "=ARG" that it does not take */
	if (ch == ':')
		output_warn("option %s needs an argument", argv[optind - 1]);
	else if (optopt == 0)
		output_warn("unknown option %s", argv[optind - 1]);
	else if (optopt == CHATCTL_OPT_JSON || optopt == 'h' || optopt == 'V')
		output_warn("option %s takes no argument", argv[optind - 1]);
	else
		output_warn("unknown option -%c", optopt);
	chatctl_usage(stderr);
}

/* Fills o; CHATCTL_CONTINUE, or the exit status for -h, -V and errors. */
static int
chatctl_options(struct chatctl_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"socket", required_argument, NULL, 's'},
	    {"json", no_argument, NULL, CHATCTL_OPT_JSON},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	int ch;

	/* "+": options end at the command, so "say -x" says "-x";
	 * ":": missing arguments are told apart from unknown options */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:s:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			o->socket = optarg;
			break;
		case CHATCTL_OPT_JSON:
			o->json = 1;
			break;
		case 'h':
			chatctl_help();
			return CHATCTL_EXIT_OK;
		case 'V':
			printf("chatctl %s\n", PACKAGE_VERSION);
			return CHATCTL_EXIT_OK;
		default:
			chatctl_bad_option(ch, argv);
			return CHATCTL_EXIT_USAGE;
		}
	}
	return CHATCTL_CONTINUE;
}

/* Standard output may fail late (a full disk, a closed pipe). */
static int
chatctl_flush(int rc)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		output_warn("cannot write the output: %s", strerror(errno));
		return rc == CHATCTL_EXIT_OK ? CHATCTL_EXIT_ERR : rc;
	}
	return rc;
}

int
main(int argc, char **argv)
{
	struct chatctl_opts o = {NULL, 0};
	const struct chatctl_cmd *cmd;
	int rc;

	if ((rc = chatctl_options(&o, argc, argv)) != CHATCTL_CONTINUE)
		return chatctl_flush(rc);
	cmd = chatctl_command(argv + optind, argc - optind);
	if (cmd == NULL) {
		if (optind >= argc || chatctl_find(argv[optind]) == NULL)
			chatctl_usage(stderr);
		return CHATCTL_EXIT_USAGE;
	}
	rc = chatctl_run(&o, cmd, argv + optind + 1, argc - optind - 1);
	return chatctl_flush(rc);
}
