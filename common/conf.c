/*
 * The configuration file of running.md, read with inih.
 *
 * inih cuts the text into sections and name = value pairs; this file owns
 * what they mean: a table of keys with their ranges, the [programs], and
 * one "FILE:LINE: what is wrong" message for the first error.  Lines reach
 * inih through conf_read_line(), so that a line too long for inih's buffer
 * or a NUL byte is an error with its line number instead of a line cut in
 * two, and so that an empty unknown section is caught too.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <ini.h>

#include "conf.h"
#include "log.h"

#define CONF_TEXT_LINE   4096 /* longest line of the file, newline excluded */
#define CONF_SECONDS_MAX 3600000 /* timeouts: 3600 s, in ms */
#define CONF_CONTROL_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)
#define CONF_BLANKS      " \t"

/* Where inih's lines come from: a file or a string. */
struct conf_src {
	FILE *fp;
	const char *s;
	unsigned lineno; /* of the line last handed to inih */
};

/* The state of one load, handed to inih's callbacks. */
struct conf_parse {
	struct conf *c;
	struct conf_src src;
	char msg[CONF_ERRLEN]; /* the first error, without "FILE:LINE: " */
	bool failed;
	unsigned failline; /* line of an error found by the reader */
	uint32_t seen;     /* bit i: conf_keys[i] was set */
	bool listen_set;   /* a listen line replaced the default list */
};

struct conf_key {
	const char *section;
	const char *name;
	int (*set)(
	    struct conf_parse *p, const struct conf_key *k, const char *value);
	size_t off; /* of the field in struct conf */
	uint64_t min, max;
};

static int conf_set_listen(
    struct conf_parse *, const struct conf_key *, const char *);
static int conf_set_workers(
    struct conf_parse *, const struct conf_key *, const char *);
static int conf_set_control(
    struct conf_parse *, const struct conf_key *, const char *);
static int conf_set_u32(
    struct conf_parse *, const struct conf_key *, const char *);
static int conf_set_u64(
    struct conf_parse *, const struct conf_key *, const char *);
static int conf_set_ms(
    struct conf_parse *, const struct conf_key *, const char *);
static int conf_set_log_level(
    struct conf_parse *, const struct conf_key *, const char *);

#define CONF_OFF(field) offsetof(struct conf, field)

static const struct conf_key conf_keys[] = {
    {"chatd", "listen", conf_set_listen, 0, 0, 0},
    {"chatd", "workers", conf_set_workers, 0, 1, CONF_WORKERS_MAX},
    {"chatd", "control", conf_set_control, 0, 0, 0},
    {"chatd", "max_clients", conf_set_u32, CONF_OFF(max_clients), 1, 1000000},
    {"chatd", "max_line", conf_set_u32, CONF_OFF(max_line), 1, CONF_LINE_MAX},
    {"chatd", "max_output", conf_set_u64, CONF_OFF(max_output), 1024,
        1073741824},
    {"chatd", "rate", conf_set_u32, CONF_OFF(rate), 0, 1000000},
    {"chatd", "burst", conf_set_u32, CONF_OFF(burst), 1, 1000000},
    {"chatd", "shutdown_timeout", conf_set_ms, CONF_OFF(shutdown_ms), 1,
        CONF_SECONDS_MAX},
    {"chatd", "log_level", conf_set_log_level, 0, 0, 0},
    {"pipe", "timeout", conf_set_ms, CONF_OFF(pipe_timeout_ms), 1,
        CONF_SECONDS_MAX},
    {"pipe", "max_output", conf_set_u64, CONF_OFF(pipe_max_output), 1,
        16777216},
    {"pipe", "max_running", conf_set_u32, CONF_OFF(pipe_max_running), 1, 1024},
};

#define CONF_NKEYS (sizeof(conf_keys) / sizeof(conf_keys[0]))

static const char *const conf_sections[] = {"chatd", "pipe", "programs"};

static void conf_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int conf_fail(struct conf_parse *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
conf_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Records the first error of a load; returns 0, inih's "stop". */
static int
conf_fail(struct conf_parse *p, const char *fmt, ...)
{
	va_list ap;

	if (p->failed)
		return 0;
	p->failed = true;
	va_start(ap, fmt);
	(void)vsnprintf(p->msg, sizeof(p->msg), fmt, ap);
	va_end(ap);
	return 0;
}

void
conf_defaults(struct conf *c)
{
	struct sockaddr_in *sin;

	memset(c, 0, sizeof(*c));
	sin = (struct sockaddr_in *)(void *)&c->listen[0].addr;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(7777);
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->listen[0].addrlen = sizeof(*sin);
	(void)snprintf(c->listen[0].text, sizeof(c->listen[0].text), "%s",
	    "127.0.0.1:7777");
	c->nlisten = 1;
	c->workers = 0;
	c->max_clients = 10000;
	c->max_line = 1024;
	c->max_output = 1048576;
	c->rate = 50;
	c->burst = 100;
	c->shutdown_ms = 5000;
	c->log_level = LOG_INFO;
	c->pipe_timeout_ms = 5000;
	c->pipe_max_output = 65536;
	c->pipe_max_running = 16;
}

/* A program's words live in one block that argv[0] points to. */
static void
conf_program_clear(struct conf_program *pr)
{
	free(pr->argv[0]);
	memset(pr->argv, 0, sizeof(pr->argv));
	pr->argc = 0;
}

void
conf_free(struct conf *c)
{
	free(c->path);
	c->path = NULL;
	free(c->control);
	c->control = NULL;
	for (size_t i = 0; i < c->nprograms; i++)
		conf_program_clear(&c->programs[i]);
	c->nprograms = 0;
}

/* Plain decimal digits, at least one, no overflow. */
static int
conf_parse_u64(const char *text, uint64_t *out)
{
	uint64_t v = 0;
	const char *s = text;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		unsigned d = (unsigned)(unsigned char)*s - '0';

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* Up to 3 digits after the point, scaled to thousandths. */
static int
conf_parse_frac(const char *s, uint64_t *frac)
{
	uint64_t scale = 100;

	*frac = 0;
	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		unsigned d = (unsigned)(unsigned char)*s - '0';

		if (d > 9 || scale == 0)
			return -1;
		*frac += d * scale;
		scale /= 10;
	}
	return 0;
}

int
conf_parse_ms(const char *text, uint32_t max_ms, uint32_t *ms)
{
	uint64_t v = 0, frac = 0;
	const char *s = text;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > UINT32_MAX)
			return -1;
	}
	if (*s == '.' && conf_parse_frac(s + 1, &frac) < 0)
		return -1;
	if (*s != '.' && *s != '\0')
		return -1;
	v = v * 1000 + frac;
	if (v > max_ms)
		return -1;
	*ms = (uint32_t)v;
	return 0;
}

/* Splits "HOST:PORT" or "[HOST]:PORT"; host gets at most hostlen - 1. */
static int
conf_split_hostport(const char *text, char *host, size_t hostlen,
    const char **port, int *family)
{
	const char *end;

	if (text[0] == '[') {
		end = strchr(text, ']');
		if (end == NULL || end[1] != ':')
			return -1;
		text++;
		*port = end + 2;
		*family = AF_INET6;
	} else {
		end = strrchr(text, ':');
		if (end == NULL)
			return -1;
		*port = end + 1;
		*family = AF_INET;
	}
	if ((size_t)(end - text) >= hostlen)
		return -1;
	memcpy(host, text, (size_t)(end - text));
	host[end - text] = '\0';
	return 0;
}

static int
conf_fill_v4(struct conf_listen *l, const char *host, uint16_t port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)(void *)&l->addr;

	if (strcmp(host, "*") == 0)
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
	else if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
		return -1;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	l->addrlen = sizeof(*sin);
	return 0;
}

static int
conf_fill_v6(struct conf_listen *l, const char *host, uint16_t port)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)&l->addr;

	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
		return -1;
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	l->addrlen = sizeof(*sin6);
	return 0;
}

int
conf_parse_listen(
    struct conf_listen *l, const char *text, char *err, size_t errlen)
{
	struct conf_listen tmp;
	char host[INET6_ADDRSTRLEN];
	const char *port;
	uint64_t portnum;
	int family;

	memset(&tmp, 0, sizeof(tmp));
	if (strlen(text) >= sizeof(tmp.text)) {
		conf_errf(err, errlen, "\"%.40s...\" is too long", text);
		return -1;
	}
	if (conf_split_hostport(text, host, sizeof(host), &port, &family) < 0) {
		conf_errf(err, errlen,
		    "\"%s\" is not A.B.C.D:PORT, [IPv6]:PORT or *:PORT", text);
		return -1;
	}
	if (conf_parse_u64(port, &portnum) < 0 || portnum > 65535) {
		conf_errf(err, errlen,
		    "\"%s\": port is not a number between 0 and 65535", text);
		return -1;
	}
	if ((family == AF_INET6 ? conf_fill_v6 : conf_fill_v4)(
	        &tmp, host, (uint16_t)portnum) < 0) {
		conf_errf(err, errlen, "\"%s\": \"%s\" is not an %s address",
		    text, host, family == AF_INET6 ? "IPv6" : "IPv4");
		return -1;
	}
	(void)snprintf(tmp.text, sizeof(tmp.text), "%s", text);
	*l = tmp;
	return 0;
}

/* The first listen line replaces the built-in list; later ones append. */
static int
conf_set_listen(
    struct conf_parse *p, const struct conf_key *k, const char *value)
{
	struct conf *c = p->c;
	struct conf_listen l;
	char err[CONF_ERRLEN / 2];

	if (conf_parse_listen(&l, value, err, sizeof(err)) < 0)
		return conf_fail(p, "%s: %s", k->name, err);
	if (!p->listen_set) {
		c->nlisten = 0;
		p->listen_set = true;
	}
	if (c->nlisten == CONF_MAX_LISTEN)
		return conf_fail(
		    p, "%s: more than %d addresses", k->name, CONF_MAX_LISTEN);
	c->listen[c->nlisten++] = l;
	return 1;
}

static int
conf_set_workers(
    struct conf_parse *p, const struct conf_key *k, const char *value)
{
	uint64_t v = 0;

	if (strcmp(value, "auto") == 0) {
		p->c->workers = 0;
		return 1;
	}
	if (conf_parse_u64(value, &v) < 0 || v < k->min || v > k->max)
		return conf_fail(p,
		    "%s: \"%s\" is not auto or a number between %llu and %llu",
		    k->name, value, (unsigned long long)k->min,
		    (unsigned long long)k->max);
	p->c->workers = (unsigned)v;
	return 1;
}

static int
conf_set_control(
    struct conf_parse *p, const struct conf_key *k, const char *value)
{
	char *copy;

	if (value[0] != '/')
		return conf_fail(
		    p, "%s: \"%s\" is not an absolute path", k->name, value);
	if (strlen(value) > CONF_CONTROL_MAX)
		return conf_fail(p, "%s: path is longer than %zu bytes",
		    k->name, CONF_CONTROL_MAX);
	copy = strdup(value);
	if (copy == NULL)
		return conf_fail(p, "%s: out of memory", k->name);
	free(p->c->control);
	p->c->control = copy;
	return 1;
}

static int
conf_get_number(struct conf_parse *p, const struct conf_key *k,
    const char *value, uint64_t *v)
{
	if (conf_parse_u64(value, v) < 0 || *v < k->min || *v > k->max)
		return conf_fail(p,
		    "%s: \"%s\" is not a number between %llu and %llu", k->name,
		    value, (unsigned long long)k->min,
		    (unsigned long long)k->max);
	return 1;
}

static int
conf_set_u32(struct conf_parse *p, const struct conf_key *k, const char *value)
{
	uint64_t v = 0;

	if (!conf_get_number(p, k, value, &v))
		return 0;
	*(uint32_t *)(void *)((char *)p->c + k->off) = (uint32_t)v;
	return 1;
}

static int
conf_set_u64(struct conf_parse *p, const struct conf_key *k, const char *value)
{
	uint64_t v = 0;

	if (!conf_get_number(p, k, value, &v))
		return 0;
	*(uint64_t *)(void *)((char *)p->c + k->off) = v;
	return 1;
}

static int
conf_set_ms(struct conf_parse *p, const struct conf_key *k, const char *value)
{
	uint32_t ms;

	if (conf_parse_ms(value, (uint32_t)k->max, &ms) < 0 || ms < k->min)
		return conf_fail(p,
		    "%s: \"%s\" is not a number of seconds between %.3f and "
		    "%.0f (up to 3 decimals)",
		    k->name, value, (double)k->min / 1000,
		    (double)k->max / 1000);
	*(uint32_t *)(void *)((char *)p->c + k->off) = ms;
	return 1;
}

static int
conf_set_log_level(
    struct conf_parse *p, const struct conf_key *k, const char *value)
{
	int level = log_level_parse(value);

	if (level < 0)
		return conf_fail(p,
		    "%s: \"%s\" is not one of debug, info, notice, warning, "
		    "error",
		    k->name, value);
	p->c->log_level = level;
	return 1;
}

static bool
conf_program_name_ok(const char *name)
{
	size_t n = strspn(name,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");

	return n > 0 && n < CONF_NAME_MAX && name[n] == '\0';
}

/*
 * gcc 12's -fanalyzer forgets a heap pointer stored in an array as soon as
 * a store at a variable index follows, and reports each program's block of
 * words as leaked.  conf_free() frees them; test_conf runs under valgrind.
 */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
#endif

static size_t
conf_count_words(const char *s)
{
	size_t n = 0;

	for (s += strspn(s, CONF_BLANKS); *s != '\0';
	     s += strspn(s, CONF_BLANKS)) {
		s += strcspn(s, CONF_BLANKS);
		n++;
	}
	return n;
}

/* Splits value on blanks into pr->argv; no shell, no quoting. */
static int
conf_split_argv(
    struct conf_parse *p, struct conf_program *pr, const char *value)
{
	size_t words = conf_count_words(value), pos = 0;
	const char *s = value;
	char *buf;

	if (words == 0)
		return conf_fail(p, "%s: no program given", pr->name);
	if (words > CONF_MAX_ARGS)
		return conf_fail(
		    p, "%s: more than %d words", pr->name, CONF_MAX_ARGS);
	buf = malloc(strlen(value) + 1);
	if (buf == NULL)
		return conf_fail(p, "%s: out of memory", pr->name);
	for (size_t i = 0; i < words; i++) {
		size_t n;

		s += strspn(s, CONF_BLANKS);
		n = strcspn(s, CONF_BLANKS);
		memcpy(buf + pos, s, n);
		buf[pos + n] = '\0';
		pr->argv[i] = buf + pos;
		pos += n + 1;
		s += n;
	}
	pr->argc = words;
	return 1;
}

/* argv[0] must be an absolute path to an executable regular file. */
static int
conf_check_program(struct conf_parse *p, const struct conf_program *pr)
{
	const char *path = pr->argv[0];
	struct stat st;

	if (path[0] != '/')
		return conf_fail(
		    p, "%s: \"%s\" is not an absolute path", pr->name, path);
	if (stat(path, &st) < 0)
		return conf_fail(
		    p, "%s: %s: %s", pr->name, path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return conf_fail(
		    p, "%s: %s is not a regular file", pr->name, path);
	if (access(path, X_OK) < 0)
		return conf_fail(p, "%s: %s is not executable", pr->name, path);
	return 1;
}

/* The next free program slot, named; NULL (error recorded) if the name is
 * bad or taken or the table is full. */
static struct conf_program *
conf_new_program(struct conf_parse *p, const char *name)
{
	struct conf *c = p->c;
	struct conf_program *pr;

	if (!conf_program_name_ok(name))
		(void)conf_fail(p,
		    "program name \"%s\" is not 1 to %d of A-Z a-z 0-9 _ -",
		    name, CONF_NAME_MAX - 1);
	else if (conf_program_find(c, name, strlen(name)) != NULL)
		(void)conf_fail(p, "duplicate program %s", name);
	else if (c->nprograms == CONF_MAX_PROGRAMS)
		(void)conf_fail(p, "more than %d programs", CONF_MAX_PROGRAMS);
	if (p->failed)
		return NULL;
	pr = &c->programs[c->nprograms];
	memset(pr, 0, sizeof(*pr));
	(void)snprintf(pr->name, sizeof(pr->name), "%s", name);
	return pr;
}

/* Fills the slot conf_new_program() gave and makes it count. */
static int
conf_add_program(
    struct conf_parse *p, struct conf_program *pr, const char *value)
{
	if (!conf_split_argv(p, pr, value) || !conf_check_program(p, pr)) {
		conf_program_clear(pr);
		return 0;
	}
	p->c->nprograms++;
	return 1;
}

static int
conf_dup(char **dst, const char *src)
{
	char *copy;

	*dst = NULL;
	if (src == NULL)
		return 0;
	copy = strdup(src);
	if (copy == NULL)
		return -1;
	*dst = copy;
	return 0;
}

/* One block for the words of src, as conf_split_argv() lays them out. */
static int
conf_copy_program(struct conf_program *dst, const struct conf_program *src)
{
	size_t size = 0, pos = 0;
	char *buf;

	memset(dst->argv, 0, sizeof(dst->argv));
	for (size_t i = 0; i < src->argc; i++)
		size += strlen(src->argv[i]) + 1;
	if (size == 0)
		return 0;
	buf = malloc(size);
	if (buf == NULL)
		return -1;
	for (size_t i = 0; i < src->argc; i++) {
		size_t n = strlen(src->argv[i]) + 1;

		memcpy(buf + pos, src->argv[i], n);
		dst->argv[i] = buf + pos;
		pos += n;
	}
	return 0;
}

/* dst is overwritten: it must hold nothing (fresh or conf_free'd).
 * -1 with errno ENOMEM on failure, with dst freed. */
int
conf_copy(struct conf *dst, const struct conf *src)
{
	int rc = 0;

	*dst = *src;
	for (size_t i = 0; i < dst->nprograms; i++)
		memset(dst->programs[i].argv, 0, sizeof(dst->programs[i].argv));
	rc |= conf_dup(&dst->path, src->path);
	rc |= conf_dup(&dst->control, src->control);
	for (size_t i = 0; i < src->nprograms && rc == 0; i++)
		rc = conf_copy_program(&dst->programs[i], &src->programs[i]);
	if (rc != 0) {
		conf_free(dst);
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

static bool
conf_section_known(const char *section, size_t len)
{
	size_t n = sizeof(conf_sections) / sizeof(conf_sections[0]);

	for (size_t i = 0; i < n; i++)
		if (strlen(conf_sections[i]) == len &&
		    memcmp(section, conf_sections[i], len) == 0)
			return true;
	return false;
}

static int
conf_set_key(struct conf_parse *p, size_t i, const char *value)
{
	const struct conf_key *k = &conf_keys[i];

	if (k->set != conf_set_listen && (p->seen & (UINT32_C(1) << i)))
		return conf_fail(
		    p, "duplicate key %s in [%s]", k->name, k->section);
	p->seen |= UINT32_C(1) << i;
	return k->set(p, k, value);
}

/* inih's callback: one name = value pair.  Nonzero goes on.  The
 * parameters are inih's ini_handler. */
/* NOLINTBEGIN(bugprone-easily-swappable-parameters) */
static int
conf_handler(
    void *user, const char *section, const char *name, const char *value)
{
	struct conf_parse *p = user;

	if (strcmp(section, "programs") == 0) {
		struct conf_program *pr = conf_new_program(p, name);

		return pr != NULL && conf_add_program(p, pr, value);
	}
	for (size_t i = 0; i < CONF_NKEYS; i++)
		if (strcmp(section, conf_keys[i].section) == 0 &&
		    strcmp(name, conf_keys[i].name) == 0)
			return conf_set_key(p, i, value);
	if (section[0] == '\0')
		return conf_fail(p, "key %s outside any [section]", name);
	if (!conf_section_known(section, strlen(section)))
		return conf_fail(p, "unknown section [%s]", section);
	return conf_fail(p, "unknown key %s in [%s]", name, section);
}
/* NOLINTEND(bugprone-easily-swappable-parameters) */

/* A "[name]" line names a known section and has nothing after the "]"
 * but blanks or a comment.  inih itself would ignore both mistakes. */
static void
conf_check_section(struct conf_parse *p, const char *line)
{
	const char *s = line + strspn(line, CONF_BLANKS), *end, *rest;
	size_t len;

	if (p->src.lineno == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3;
	if (*s != '[')
		return;
	end = strchr(s, ']');
	if (end == NULL)
		return; /* inih reports it */
	len = (size_t)(end - s - 1);
	rest = end + 1 + strspn(end + 1, CONF_BLANKS "\r\n");
	if (*rest != '\0' && (rest == end + 1 || strchr(";#", *rest) == NULL))
		(void)conf_fail(p, "junk after [%.*s]", (int)len, s + 1);
	else if (!conf_section_known(s + 1, len))
		(void)conf_fail(p, "unknown section [%.*s]", (int)len, s + 1);
	if (p->failed)
		p->failline = p->src.lineno;
}

static int
conf_src_getc(struct conf_src *src)
{
	if (src->fp != NULL)
		return getc(src->fp);
	if (*src->s == '\0')
		return EOF;
	return (unsigned char)*src->s++;
}

/* Copies at most max bytes of one line into str; returns what ended it:
 * '\n', EOF, '\0' (a NUL byte) or the first byte that did not fit. */
static int
conf_src_line(struct conf_src *src, char *str, size_t max, size_t *len)
{
	int ch;

	*len = 0;
	while ((ch = conf_src_getc(src)) != EOF && ch != '\n') {
		if (ch == '\0' || *len == max)
			break;
		str[(*len)++] = (char)ch;
	}
	return ch;
}

/* Hands inih one line; a line too long for its buffer, a NUL byte or a
 * read error ends the parse (NULL) with the error recorded. */
static char *
conf_read_line(char *str, int num, void *stream)
{
	struct conf_parse *p = stream;
	size_t n, len;
	int ch;

	if (p->failed || num < 3)
		return NULL;
	ch = conf_src_line(&p->src, str, (size_t)num - 2, &n);
	if (ch == EOF && p->src.fp != NULL && ferror(p->src.fp)) {
		/* reported as "FILE: strerror", without a line */
		(void)conf_fail(p, "%s", strerror(errno != 0 ? errno : EIO));
		return NULL;
	}
	if (ch == EOF && n == 0)
		return NULL;
	p->src.lineno++;
	len = n > 0 && str[n - 1] == '\r' ? n - 1 : n;
	if (ch == '\0')
		(void)conf_fail(p, "NUL byte in line");
	else if ((ch != '\n' && ch != EOF) || len > CONF_TEXT_LINE)
		(void)conf_fail(p, "line longer than %d bytes", CONF_TEXT_LINE);
	if (p->failed) {
		p->failline = p->src.lineno;
		return NULL;
	}
	str[n++] = '\n';
	str[n] = '\0';
	conf_check_section(p, str);
	return p->failed ? NULL : str;
}

/* inih's knobs are process-wide; set all that matter before each parse. */
static void
conf_ini_setup(void)
{
	static char prefixes[] = ";#";

	ini_allow_multiline = false;
	ini_allow_bom = true;
	ini_start_comment_prefixes = prefixes;
	ini_allow_inline_comments = true;
	ini_inline_comment_prefixes = prefixes;
	ini_max_line = CONF_TEXT_LINE + 3; /* '\r', '\n' and '\0' */
	ini_allow_realloc = false;
	ini_stop_on_first_error = true;
	ini_allow_no_value = false;
}

/* Parses what p->src holds into p->c, which holds the defaults.  On error
 * c is reset to the defaults (holding no memory) and err is filled. */
static int
conf_parse_src(struct conf_parse *p, const char *name, char *err, size_t errlen)
{
	int line;

	conf_ini_setup();
	line = ini_parse_stream(conf_read_line, p, conf_handler, p);
	if (line == 0 && !p->failed)
		return 0;
	if (p->failline != 0)
		conf_errf(err, errlen, "%s:%u: %s", name, p->failline, p->msg);
	else if (line > 0)
		conf_errf(err, errlen, "%s:%d: %s", name, line,
		    p->failed ? p->msg
		              : "not a [section], a name = value or a comment");
	else if (line == -2)
		conf_errf(err, errlen, "%s: out of memory", name);
	else
		conf_errf(err, errlen, "%s: %s", name, p->msg);
	conf_free(p->c);
	conf_defaults(p->c);
	return -1;
}

/* c is overwritten, so it must hold no memory (fresh or conf_free'd).  On
 * error c is left holding only the built-in defaults (no memory either),
 * so conf_free() on it is optional. */
int
conf_load(struct conf *c, const char *file, char *err, size_t errlen)
{
	struct conf_parse p;
	int rc;

	conf_defaults(c);
	memset(&p, 0, sizeof(p));
	p.c = c;
	p.src.fp = fopen(file, "re");
	if (p.src.fp == NULL) {
		conf_errf(err, errlen, "%s: %s", file, strerror(errno));
		return -1;
	}
	c->path = strdup(file);
	if (c->path == NULL) {
		conf_errf(err, errlen, "%s: out of memory", file);
		(void)fclose(p.src.fp);
		return -1;
	}
	rc = conf_parse_src(&p, file, err, errlen);
	(void)fclose(p.src.fp);
	return rc;
}

/* The same from text; c->path stays NULL.  On error c holds defaults.
 * The parameters are conf.h's. */
/* NOLINTBEGIN(bugprone-easily-swappable-parameters) */
int
conf_load_string(struct conf *c, const char *text, const char *name, char *err,
    size_t errlen)
{
	struct conf_parse p;

	conf_defaults(c);
	memset(&p, 0, sizeof(p));
	p.c = c;
	p.src.s = text;
	return conf_parse_src(&p, name, err, errlen);
}
/* NOLINTEND(bugprone-easily-swappable-parameters) */

const struct conf_program *
conf_program_find(const struct conf *c, const char *name, size_t namelen)
{
	if (namelen == 0 || namelen >= CONF_NAME_MAX)
		return NULL;
	for (size_t i = 0; i < c->nprograms; i++) {
		const struct conf_program *pr = &c->programs[i];

		if (strlen(pr->name) == namelen &&
		    memcmp(pr->name, name, namelen) == 0)
			return pr;
	}
	return NULL;
}

/* Whole names only: a name that does not fit ends the list. */
void
conf_program_names(const struct conf *c, char *buf, size_t len)
{
	size_t pos = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < c->nprograms; i++) {
		size_t n = strlen(c->programs[i].name);
		size_t need = n + (pos > 0 ? 1 : 0);

		if (pos + need >= len)
			break;
		if (pos > 0)
			buf[pos++] = ' ';
		memcpy(buf + pos, c->programs[i].name, n);
		pos += n;
		buf[pos] = '\0';
	}
}
