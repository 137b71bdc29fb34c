/*
 * chatd's configuration: the INI file of running.md, parsed with inih.
 *
 * conf_load() fills a struct conf from a file; every error is reported as
 * "FILE:LINE: what is wrong" in err and makes the whole load fail, so a
 * caller never sees a half-read configuration.  The supervisor keeps one
 * struct conf; a reload loads a second one and swaps it in only when valid.
 */
#ifndef CHATD_CONF_H
#define CHATD_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define CONF_ERRLEN       512
#define CONF_MAX_LISTEN   16
#define CONF_MAX_PROGRAMS 64
#define CONF_MAX_ARGS     32
#define CONF_NAME_MAX     32    /* program names: [A-Za-z0-9_-], 1..31 */
#define CONF_LINE_MAX     32768 /* upper bound of max_line */
#define CONF_WORKERS_MAX  64

struct conf_listen {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char text[64]; /* as written: "127.0.0.1:7777", "[::1]:7777" */
};

struct conf_program {
	char name[CONF_NAME_MAX];
	char *argv[CONF_MAX_ARGS + 1]; /* argv[0] is the absolute path */
	size_t argc;
};

struct conf {
	char *path; /* file it came from; NULL for built-in defaults */

	struct conf_listen listen[CONF_MAX_LISTEN];
	size_t nlisten;
	unsigned workers; /* 0 = auto: the number of online CPUs */
	char *control;    /* NULL = the default path (ctlpath_default) */
	uint32_t max_clients;
	uint32_t max_line;   /* bytes, newline excluded */
	uint64_t max_output; /* unread output bytes per client */
	uint32_t rate;       /* lines per second, 0 = unlimited */
	uint32_t burst;
	uint32_t shutdown_ms; /* shutdown_timeout */
	int log_level;        /* enum log_level */

	uint32_t pipe_timeout_ms;
	uint64_t pipe_max_output;
	uint32_t pipe_max_running;

	struct conf_program programs[CONF_MAX_PROGRAMS];
	size_t nprograms;
};

/* The built-in defaults of running.md (listen 127.0.0.1:7777, ...). */
void conf_defaults(struct conf *c);

/* Loads FILE over the defaults.  0 on success; -1 with err filled. */
int conf_load(struct conf *c, const char *file, char *err, size_t errlen);

/* The same from a string; name is used in error messages (fuzzing, tests). */
int conf_load_string(struct conf *c, const char *text, const char *name,
    char *err, size_t errlen);

void conf_free(struct conf *c);

/* Parses "ADDR:PORT" ("127.0.0.1:0", "[::1]:7777", "*:7777" = any IPv4,
 * "[::]:7777" = any IPv6).  0 on success, -1 with err filled. */
int conf_parse_listen(
    struct conf_listen *l, const char *text, char *err, size_t errlen);

/* Parses a decimal number of seconds with up to 3 fractional digits into
 * milliseconds ("0.25" -> 250).  Refuses signs, exponents, spaces, more
 * than 3 decimals and values above max_ms.  0 on success, -1 otherwise. */
int conf_parse_ms(const char *text, uint32_t max_ms, uint32_t *ms);

/* Looks a program up by name; NULL if it is not configured. */
const struct conf_program *conf_program_find(
    const struct conf *c, const char *name, size_t namelen);

/* "upper rev" - the configured names, blank-separated, into buf. */
void conf_program_names(const struct conf *c, char *buf, size_t len);

/* Deep copy (for the per-process copy of the configuration). */
int conf_copy(struct conf *dst, const struct conf *src);

#endif
