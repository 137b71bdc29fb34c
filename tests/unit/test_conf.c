/*
 * Unit tests of common/conf.c: the configuration file of running.md.
 *
 * Files are written into a mkdtemp directory.  Every error test asserts
 * the exact "FILE:LINE: " prefix and a piece of the message, and that a
 * failed load leaves only the defaults behind.  The shipped etc/chatd.conf
 * is found through $SRCDIR (the top source directory, or tests/unit in
 * it), so that the test also runs in make distcheck's build tree.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "conf.h"
#include "log.h"

#define TEXT_MAX ((size_t)8192)

struct fx {
	char dir[256];
	char file[300];   /* DIR/f.conf, rewritten by each test */
	char noexec[300]; /* DIR/noexec, a regular file with mode 0644 */
};

/* A regular file that is not executable (mode 0644). */
static int
fx_make_noexec(const char *path)
{
	FILE *fp = fopen(path, "w");
	int rc = 0;

	if (fp == NULL)
		return -1;
	if (fputs("#!/bin/sh\n", fp) == EOF)
		rc = -1;
	if (fclose(fp) != 0 || chmod(path, 0644) != 0)
		rc = -1;
	return rc;
}

static int
fx_setup(void **state)
{
	const char *tmp = getenv("TMPDIR");
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	(void)snprintf(f->dir, sizeof(f->dir), "%s/test_conf.XXXXXX",
	    tmp != NULL && tmp[0] == '/' ? tmp : "/tmp");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	(void)snprintf(f->file, sizeof(f->file), "%s/f.conf", f->dir);
	(void)snprintf(f->noexec, sizeof(f->noexec), "%s/noexec", f->dir);
	*state = f;
	if (fx_make_noexec(f->noexec) < 0) {
		(void)unlink(f->noexec);
		(void)rmdir(f->dir);
		free(f);
		return -1;
	}
	return 0;
}

static int
fx_teardown(void **state)
{
	struct fx *f = *state;

	(void)unlink(f->file);
	(void)unlink(f->noexec);
	(void)rmdir(f->dir);
	free(f);
	return 0;
}

static void
fx_write(const struct fx *f, const char *text)
{
	FILE *fp = fopen(f->file, "w");

	assert_non_null(fp);
	assert_true(fputs(text, fp) != EOF);
	assert_int_equal(fclose(fp), 0);
}

static int
fx_load(const struct fx *f, const char *text, struct conf *c, char *err)
{
	fx_write(f, text);
	err[0] = '\0';
	return conf_load(c, f->file, err, CONF_ERRLEN);
}

/* A failed load leaves the defaults and nothing to free. */
static void
assert_defaults_only(const struct conf *c)
{
	assert_null(c->path);
	assert_null(c->control);
	assert_int_equal(c->nprograms, 0);
	assert_int_equal(c->nlisten, 1);
	assert_string_equal(c->listen[0].text, "127.0.0.1:7777");
	assert_int_equal(c->rate, 50);
}

/* text must fail at line with what somewhere in the message. */
static void
assert_load_error(
    const struct fx *f, const char *text, int line, const char *what)
{
	struct conf c;
	char err[CONF_ERRLEN], prefix[400];

	(void)snprintf(prefix, sizeof(prefix), "%s:%d: ", f->file, line);
	if (fx_load(f, text, &c, err) != -1 ||
	    strncmp(err, prefix, strlen(prefix)) != 0 ||
	    strstr(err, what) == NULL)
		fail_msg("text:\n%s\ngot \"%s\"\nwant \"%s...%s...\"", text,
		    err, prefix, what);
	assert_defaults_only(&c);
	conf_free(&c);
}

static void
assert_load_ok(const struct fx *f, const char *text, struct conf *c)
{
	char err[CONF_ERRLEN];

	if (fx_load(f, text, c, err) != 0)
		fail_msg("text:\n%s\ngot \"%s\"", text, err);
}

static void
test_defaults(void **state)
{
	const struct sockaddr_in *sin;
	struct conf c;

	(void)state;
	conf_defaults(&c);
	assert_null(c.path);
	assert_int_equal(c.nlisten, 1);
	assert_string_equal(c.listen[0].text, "127.0.0.1:7777");
	sin = (const struct sockaddr_in *)(const void *)&c.listen[0].addr;
	assert_int_equal(c.listen[0].addrlen, sizeof(struct sockaddr_in));
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(ntohs(sin->sin_port), 7777);
	assert_int_equal(ntohl(sin->sin_addr.s_addr), INADDR_LOOPBACK);
	assert_int_equal(c.workers, 0);
	assert_null(c.control);
	assert_int_equal(c.max_clients, 10000);
	assert_int_equal(c.max_line, 1024);
	assert_int_equal(c.max_output, 1048576);
	assert_int_equal(c.rate, 50);
	assert_int_equal(c.burst, 100);
	assert_int_equal(c.shutdown_ms, 5000);
	assert_int_equal(c.log_level, LOG_INFO);
	assert_int_equal(c.pipe_timeout_ms, 5000);
	assert_int_equal(c.pipe_max_output, 65536);
	assert_int_equal(c.pipe_max_running, 16);
	assert_int_equal(c.nprograms, 0);
	conf_free(&c);
}

static const char full_text[] = "; every key, none at its default\n"
                                "[chatd]\n"
                                "listen = 127.0.0.1:0\n"
                                "listen = [::1]:7000\n"
                                "workers = 3\n"
                                "control = /tmp/x/ctl.sock\n"
                                "max_clients = 5\n"
                                "max_line = 32768\n"
                                "max_output = 1024\n"
                                "rate = 0\n"
                                "burst = 1\n"
                                "shutdown_timeout = 0.25\n"
                                "log_level = debug\n"
                                "[pipe]\n"
                                "timeout = 3600\n"
                                "max_output = 16777216\n"
                                "max_running = 1\n"
                                "[programs]\n"
                                "upper = /usr/bin/tr a-z A-Z\n"
                                "rev = /usr/bin/rev\n";

static void
assert_full(const struct conf *c)
{
	assert_int_equal(c->nlisten, 2);
	assert_string_equal(c->listen[0].text, "127.0.0.1:0");
	assert_string_equal(c->listen[1].text, "[::1]:7000");
	assert_int_equal(c->listen[1].addr.ss_family, AF_INET6);
	assert_int_equal(c->workers, 3);
	assert_string_equal(c->control, "/tmp/x/ctl.sock");
	assert_int_equal(c->max_clients, 5);
	assert_int_equal(c->max_line, 32768);
	assert_int_equal(c->max_output, 1024);
	assert_int_equal(c->rate, 0);
	assert_int_equal(c->burst, 1);
	assert_int_equal(c->shutdown_ms, 250);
	assert_int_equal(c->log_level, LOG_DEBUG);
	assert_int_equal(c->pipe_timeout_ms, 3600000);
	assert_int_equal(c->pipe_max_output, 16777216);
	assert_int_equal(c->pipe_max_running, 1);
	assert_int_equal(c->nprograms, 2);
	assert_string_equal(c->programs[0].name, "upper");
	assert_int_equal(c->programs[0].argc, 3);
	assert_string_equal(c->programs[0].argv[0], "/usr/bin/tr");
	assert_string_equal(c->programs[0].argv[1], "a-z");
	assert_string_equal(c->programs[0].argv[2], "A-Z");
	assert_null(c->programs[0].argv[3]);
	assert_string_equal(c->programs[1].name, "rev");
	assert_int_equal(c->programs[1].argc, 1);
	assert_string_equal(c->programs[1].argv[0], "/usr/bin/rev");
	assert_null(c->programs[1].argv[1]);
}

static void
test_full_file(void **state)
{
	const struct fx *f = *state;
	struct conf c;

	assert_load_ok(f, full_text, &c);
	assert_string_equal(c.path, f->file);
	assert_full(&c);
	conf_free(&c);
}

/* Upper and lower bounds are accepted. */
static void
test_bounds_ok(void **state)
{
	const struct fx *f = *state;
	struct conf c;

	assert_load_ok(f,
	    "[chatd]\nworkers = 64\nmax_clients = 1000000\nmax_line = 1\n"
	    "max_output = 1073741824\nrate = 1000000\nburst = 1000000\n"
	    "shutdown_timeout = 0.001\nlog_level = error\n"
	    "[pipe]\ntimeout = 0.001\nmax_output = 1\nmax_running = 1024\n",
	    &c);
	assert_int_equal(c.workers, 64);
	assert_int_equal(c.max_clients, 1000000);
	assert_int_equal(c.max_line, 1);
	assert_int_equal(c.max_output, 1073741824);
	assert_int_equal(c.rate, 1000000);
	assert_int_equal(c.burst, 1000000);
	assert_int_equal(c.shutdown_ms, 1);
	assert_int_equal(c.log_level, LOG_ERROR);
	assert_int_equal(c.pipe_timeout_ms, 1);
	assert_int_equal(c.pipe_max_output, 1);
	assert_int_equal(c.pipe_max_running, 1024);
	conf_free(&c);
	assert_load_ok(
	    f, "[chatd]\nworkers = auto\nshutdown_timeout = 3600\n", &c);
	assert_int_equal(c.workers, 0);
	assert_int_equal(c.shutdown_ms, 3600000);
	conf_free(&c);
}

struct bad_value {
	const char *section, *key, *value, *what;
};

static const struct bad_value bad_values[] = {
    {"chatd", "workers", "0", "workers: \"0\" is not auto or a number"},
    {"chatd", "workers", "65", "between 1 and 64"},
    {"chatd", "workers", "Auto", "workers: \"Auto\""},
    {"chatd", "workers", "-1", "workers: \"-1\""},
    {"chatd", "control", "run/chatd.sock", "is not an absolute path"},
    {"chatd", "control", "", "control: \"\" is not an absolute path"},
    {"chatd", "control",
        "/tmp/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "control: path is longer than 107 bytes"},
    {"chatd", "max_clients", "0",
        "max_clients: \"0\" is not a number "
        "between 1 and 1000000"},
    {"chatd", "max_clients", "1000001", "between 1 and 1000000"},
    {"chatd", "max_clients", "", "max_clients: \"\""},
    {"chatd", "max_clients", "+5", "max_clients: \"+5\""},
    {"chatd", "max_clients", "5 5", "max_clients: \"5 5\""},
    {"chatd", "max_clients", "0x10", "max_clients: \"0x10\""},
    {"chatd", "max_clients", "99999999999999999999999", "max_clients: "},
    {"chatd", "max_line", "abc",
        "max_line: \"abc\" is not a number between 1 and 32768"},
    {"chatd", "max_line", "0", "max_line: \"0\""},
    {"chatd", "max_line", "32769", "max_line: \"32769\""},
    {"chatd", "max_output", "1023", "between 1024 and 1073741824"},
    {"chatd", "max_output", "1073741825", "max_output: \"1073741825\""},
    {"chatd", "rate", "1000001",
        "rate: \"1000001\" is not a number "
        "between 0 and 1000000"},
    {"chatd", "rate", "-1", "rate: \"-1\""},
    {"chatd", "rate", "1.5", "rate: \"1.5\""},
    {"chatd", "burst", "0", "burst: \"0\" is not a number between 1 and"},
    {"chatd", "shutdown_timeout", "0",
        "shutdown_timeout: \"0\" is not a number of seconds between 0.001 "
        "and 3600"},
    {"chatd", "shutdown_timeout", "3600.001", "shutdown_timeout: "},
    {"chatd", "shutdown_timeout", "1.2345", "shutdown_timeout: \"1.2345\""},
    {"chatd", "shutdown_timeout", "1e3", "shutdown_timeout: \"1e3\""},
    {"chatd", "shutdown_timeout", ".5", "shutdown_timeout: \".5\""},
    {"chatd", "shutdown_timeout", "5s", "shutdown_timeout: \"5s\""},
    {"chatd", "log_level", "verbose",
        "log_level: \"verbose\" is not one of debug, info, notice, "
        "warning, error"},
    {"chatd", "log_level", "INFO", "log_level: \"INFO\""},
    {"chatd", "listen", "localhost:7777", "listen: \"localhost:7777\""},
    {"chatd", "listen", "127.0.0.1", "listen: \"127.0.0.1\" is not"},
    {"pipe", "timeout", "0", "timeout: \"0\" is not a number of seconds"},
    {"pipe", "timeout", "3601", "timeout: \"3601\""},
    {"pipe", "timeout", "-1", "timeout: \"-1\""},
    {"pipe", "max_output", "0",
        "max_output: \"0\" is not a number "
        "between 1 and 16777216"},
    {"pipe", "max_output", "16777217", "max_output: \"16777217\""},
    {"pipe", "max_running", "0",
        "max_running: \"0\" is not a number "
        "between 1 and 1024"},
    {"pipe", "max_running", "1025", "max_running: \"1025\""},
};

static void
test_bad_values(void **state)
{
	const struct fx *f = *state;
	char text[TEXT_MAX];
	size_t n = sizeof(bad_values) / sizeof(bad_values[0]);

	for (size_t i = 0; i < n; i++) {
		const struct bad_value *b = &bad_values[i];

		(void)snprintf(text, sizeof(text),
		    "# line 1\n[%s]\n%s = %s\nrate = 5\n", b->section, b->key,
		    b->value);
		assert_load_error(f, text, 3, b->what);
	}
}

static void
test_sections_and_keys(void **state)
{
	const struct fx *f = *state;
	struct conf c;

	assert_load_error(f, "[chatd]\nrate = 1\n[bogus]\nx = 1\n", 3,
	    "unknown section [bogus]");
	assert_load_error(
	    f, "[chatd]\n[Chatd]\n", 2, "unknown section [Chatd]");
	assert_load_error(f, "[chatd] x\nrate = 1\n", 1, "junk after [chatd]");
	assert_load_error(f, "[chatd\nrate = 1\n", 1, "not a [section]");
	assert_load_error(
	    f, "[chatd]\nrate = 1\nfoo = 2\n", 3, "unknown key foo in [chatd]");
	assert_load_error(
	    f, "[pipe]\nrate = 1\n", 2, "unknown key rate in [pipe]");
	assert_load_error(f, "rate = 1\n", 1, "key rate outside any [section]");
	assert_load_error(f, "[chatd]\nrate\n", 2, "not a [section]");
	assert_load_error(f,
	    "[chatd]\nrate = 1\n[pipe]\ntimeout = 1\n[chatd]\nburst = 2\n"
	    "rate = 2\n",
	    7, "duplicate key rate in [chatd]");
	assert_load_error(f, "[pipe]\ntimeout = 1\ntimeout = 1\n", 3,
	    "duplicate key timeout in [pipe]");
	/* A section may come back; its keys still count once. */
	assert_load_ok(f,
	    "[chatd]\nrate = 1\n[pipe]\ntimeout = 1\n[chatd] ; again\n"
	    "burst = 2\n",
	    &c);
	assert_int_equal(c.rate, 1);
	assert_int_equal(c.burst, 2);
	assert_int_equal(c.pipe_timeout_ms, 1000);
	conf_free(&c);
	/* An empty file and a file of comments are the defaults. */
	assert_load_ok(f, "", &c);
	assert_int_equal(c.rate, 50);
	conf_free(&c);
	assert_load_ok(f, "; nothing\n# here\n\n   \n", &c);
	assert_int_equal(c.nlisten, 1);
	conf_free(&c);
}

static void
test_listen_repeat(void **state)
{
	const struct fx *f = *state;
	char text[TEXT_MAX];
	size_t len;
	struct conf c;

	assert_load_ok(f, "[chatd]\nlisten = 10.0.0.1:1\n", &c);
	assert_int_equal(c.nlisten, 1);
	assert_string_equal(c.listen[0].text, "10.0.0.1:1");
	conf_free(&c);
	assert_load_ok(f,
	    "[chatd]\nlisten = *:1\nrate = 2\nlisten = [::]:2\n[chatd]\n"
	    "listen = 127.0.0.1:3\n",
	    &c);
	assert_int_equal(c.nlisten, 3);
	assert_string_equal(c.listen[0].text, "*:1");
	assert_string_equal(c.listen[1].text, "[::]:2");
	assert_string_equal(c.listen[2].text, "127.0.0.1:3");
	conf_free(&c);
	len = (size_t)snprintf(text, sizeof(text), "[chatd]\n");
	for (int i = 0; i < CONF_MAX_LISTEN; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
		    "listen = 127.0.0.1:%d\n", 1000 + i);
	assert_load_ok(f, text, &c);
	assert_int_equal(c.nlisten, CONF_MAX_LISTEN);
	conf_free(&c);
	(void)snprintf(text + len, sizeof(text) - len, "listen = *:9\n");
	assert_load_error(
	    f, text, CONF_MAX_LISTEN + 2, "listen: more than 16 addresses");
}

static void
test_parse_listen_good(void **state)
{
	const struct sockaddr_in6 *sin6;
	const struct sockaddr_in *sin;
	struct conf_listen l;
	char err[CONF_ERRLEN];
	struct in6_addr lo6 = IN6ADDR_LOOPBACK_INIT;

	(void)state;
	assert_int_equal(
	    conf_parse_listen(&l, "127.0.0.1:0", err, sizeof(err)), 0);
	sin = (const struct sockaddr_in *)(const void *)&l.addr;
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(sin->sin_port, 0);
	assert_int_equal(ntohl(sin->sin_addr.s_addr), INADDR_LOOPBACK);
	assert_int_equal(l.addrlen, sizeof(*sin));
	assert_string_equal(l.text, "127.0.0.1:0");

	assert_int_equal(conf_parse_listen(&l, "*:65535", err, sizeof(err)), 0);
	assert_int_equal(ntohs(sin->sin_port), 65535);
	assert_int_equal(sin->sin_addr.s_addr, htonl(INADDR_ANY));

	assert_int_equal(
	    conf_parse_listen(&l, "[::1]:7777", err, sizeof(err)), 0);
	sin6 = (const struct sockaddr_in6 *)(const void *)&l.addr;
	assert_int_equal(sin6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(sin6->sin6_port), 7777);
	assert_memory_equal(&sin6->sin6_addr, &lo6, sizeof(lo6));
	assert_int_equal(l.addrlen, sizeof(*sin6));
	assert_string_equal(l.text, "[::1]:7777");

	assert_int_equal(conf_parse_listen(&l, "[::]:1", err, sizeof(err)), 0);
	assert_memory_equal(&sin6->sin6_addr, &in6addr_any, sizeof(lo6));
	assert_int_equal(
	    conf_parse_listen(&l, "[::ffff:10.1.2.3]:80", err, sizeof(err)), 0);
	assert_int_equal(l.addr.ss_family, AF_INET6);
}

static void
test_parse_listen_bad(void **state)
{
	static const char *const bad[] = {
	    "localhost:7777",
	    "127.0.0.1",
	    "127.0.0.1:",
	    "127.0.0.1:65536",
	    "127.0.0.1:-1",
	    "127.0.0.1:+1",
	    "127.0.0.1:0x10",
	    "127.0.0.1: 1",
	    "127.0.0.1:99999999999999999999999",
	    "[::1]7777",
	    "[::1]",
	    "[::1:7777",
	    "::1:7777",
	    "[127.0.0.1]:7777",
	    "[*]:7777",
	    "1.2.3:7",
	    "1.2.3.4.5:7",
	    "",
	    ":7777",
	    "*",
	    "[]:7777",
	    "[fe80::1%eth0]:7777",
	    "[::1]:7777:1",
	    "1234567890123456789012345678901234567890123456789012345678901:1",
	    "[1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc]:1",
	};
	struct conf_listen l;
	char err[CONF_ERRLEN];

	(void)state;
	memset(&l, 0x5a, sizeof(l));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (conf_parse_listen(&l, bad[i], err, sizeof(err)) != -1)
			fail_msg("\"%s\" was accepted", bad[i]);
		assert_true(err[0] != '\0');
		assert_int_equal((unsigned char)l.text[0], 0x5a);
	}
	assert_int_equal(conf_parse_listen(&l, "a:1", NULL, 0), -1);
	assert_int_equal(conf_parse_listen(&l, "a:1", err, sizeof(err)), -1);
	assert_string_equal(err, "\"a:1\": \"a\" is not an IPv4 address");
}

static void
test_comments(void **state)
{
	const struct fx *f = *state;
	struct conf c;

	assert_load_ok(f,
	    "; comment\n# comment\n  ; indented comment\n[chatd] # c\n"
	    "rate = 7 ; seven\nburst = 8\t# eight\n",
	    &c);
	assert_int_equal(c.rate, 7);
	assert_int_equal(c.burst, 8);
	conf_free(&c);
	/* Not after a blank: part of the value. */
	assert_load_error(
	    f, "[chatd]\nrate = 7\nmax_line = 9;x\n", 3, "max_line: \"9;x\"");
	assert_load_error(f, "[chatd]\nrate = 7#x\n", 2, "rate: \"7#x\"");
	assert_load_error(f, "[programs]\nrev = /usr/bin/rev#x\n", 2,
	    "rev: /usr/bin/rev#x: No such file or directory");
	assert_load_ok(f, "[programs]\nrev = /usr/bin/rev #x\n", &c);
	assert_int_equal(c.programs[0].argc, 1);
	conf_free(&c);
}

static void
test_indented_line(void **state)
{
	const struct fx *f = *state;

	assert_load_error(f, "[programs]\nupper = /usr/bin/tr\n    a-z A-Z\n",
	    3, "not a [section], a name = value or a comment");
	assert_load_error(f, "[chatd]\nrate = 5\n\t7\n", 3, "not a [section]");
}

static void
test_programs(void **state)
{
	const struct fx *f = *state;
	struct conf c;

	assert_load_ok(f,
	    "[programs]\nupper = /usr/bin/tr \t a-z   A-Z\t\n"
	    "Rev_2-x = /usr/bin/rev\n",
	    &c);
	assert_int_equal(c.nprograms, 2);
	assert_int_equal(c.programs[0].argc, 3);
	assert_string_equal(c.programs[0].argv[0], "/usr/bin/tr");
	assert_string_equal(c.programs[0].argv[1], "a-z");
	assert_string_equal(c.programs[0].argv[2], "A-Z");
	assert_null(c.programs[0].argv[3]);
	assert_string_equal(c.programs[1].name, "Rev_2-x");
	conf_free(&c);
	assert_load_error(f, "[programs]\nrev = rev\n", 2,
	    "rev: \"rev\" is not an absolute path");
	assert_load_error(
	    f, "[programs]\nrev = ./rev\n", 2, "is not an absolute path");
	assert_load_error(f, "[programs]\nx = /nonexistent/x\n", 2,
	    "x: /nonexistent/x: No such file or directory");
	assert_load_error(f, "[programs]\nx = /usr/bin\n", 2,
	    "x: /usr/bin is not a regular file");
	assert_load_error(f, "[programs]\nx =\n", 2, "x: no program given");
	assert_load_error(f, "[programs]\nup per = /usr/bin/rev\n", 2,
	    "program name \"up per\" is not");
	assert_load_error(
	    f, "[programs]\nx! = /usr/bin/rev\n", 2, "program name \"x!\"");
	assert_load_error(f,
	    "[programs]\nrev = /usr/bin/rev\nupper = /usr/bin/tr\n"
	    "rev = /usr/bin/rev\n",
	    4, "duplicate program rev");
}

static void
test_program_noexec(void **state)
{
	const struct fx *f = *state;
	char text[TEXT_MAX], what[400];

	(void)snprintf(
	    text, sizeof(text), "[programs]\n\nx = %s a b\n", f->noexec);
	(void)snprintf(
	    what, sizeof(what), "x: %s is not executable", f->noexec);
	assert_load_error(f, text, 3, what);
	(void)snprintf(text, sizeof(text), "[programs]\nx = %s\n", f->dir);
	assert_load_error(f, text, 2, "is not a regular file");
}

static void
test_program_limits(void **state)
{
	const struct fx *f = *state;
	char text[TEXT_MAX];
	size_t len;
	struct conf c;

	/* Names of 31 characters, and 32 words. */
	len = (size_t)snprintf(text, sizeof(text),
	    "[programs]\n%.31s = /usr/bin/tr",
	    "abcdefghijklmnopqrstuvwxyz0123456789");
	for (int i = 1; i < CONF_MAX_ARGS; i++)
		len +=
		    (size_t)snprintf(text + len, sizeof(text) - len, " a%d", i);
	(void)snprintf(text + len, sizeof(text) - len, "\n");
	assert_load_ok(f, text, &c);
	assert_int_equal(c.programs[0].argc, CONF_MAX_ARGS);
	assert_string_equal(c.programs[0].argv[CONF_MAX_ARGS - 1], "a31");
	assert_null(c.programs[0].argv[CONF_MAX_ARGS]);
	conf_free(&c);
	(void)snprintf(text + len, sizeof(text) - len, " a32\n");
	assert_load_error(f, text, 2, "more than 32 words");
	assert_load_error(f,
	    "[programs]\nabcdefghijklmnopqrstuvwxyz012345 = /usr/bin/rev\n", 2,
	    "is not 1 to 31");

	len = (size_t)snprintf(text, sizeof(text), "[programs]\n");
	for (int i = 0; i < CONF_MAX_PROGRAMS; i++)
		len += (size_t)snprintf(
		    text + len, sizeof(text) - len, "p%d = /usr/bin/rev\n", i);
	assert_load_ok(f, text, &c);
	assert_int_equal(c.nprograms, CONF_MAX_PROGRAMS);
	conf_free(&c);
	(void)snprintf(
	    text + len, sizeof(text) - len, "extra = /usr/bin/rev\n");
	assert_load_error(
	    f, text, CONF_MAX_PROGRAMS + 2, "more than 64 programs");
}

static void
test_program_find_names(void **state)
{
	const struct fx *f = *state;
	char buf[32];
	struct conf c;

	assert_load_ok(f, full_text, &c);
	assert_ptr_equal(conf_program_find(&c, "upperX", 5), &c.programs[0]);
	assert_ptr_equal(conf_program_find(&c, "rev", 3), &c.programs[1]);
	assert_null(conf_program_find(&c, "up", 2));
	assert_null(conf_program_find(&c, "revs", 4));
	assert_null(conf_program_find(&c, "", 0));
	conf_program_names(&c, buf, sizeof(buf));
	assert_string_equal(buf, "upper rev");
	conf_program_names(&c, buf, 10);
	assert_string_equal(buf, "upper rev");
	conf_program_names(&c, buf, 9);
	assert_string_equal(buf, "upper");
	conf_program_names(&c, buf, 5);
	assert_string_equal(buf, "");
	buf[0] = 'z';
	conf_program_names(&c, buf, 0);
	assert_int_equal(buf[0], 'z');
	conf_free(&c);
	conf_defaults(&c);
	conf_program_names(&c, buf, sizeof(buf));
	assert_string_equal(buf, "");
	assert_null(conf_program_find(&c, "rev", 3));
}

static void
test_parse_ms(void **state)
{
	static const struct {
		const char *text;
		uint32_t ms;
	} good[] = {
	    {"5", 5000},
	    {"0", 0},
	    {"0.25", 250},
	    {"0.001", 1},
	    {"1.5", 1500},
	    {"1.05", 1050},
	    {"007", 7000},
	    {"86400", 86400000},
	    {"4294967.295", 4294967295U},
	};
	static const char *const bad[] = {
	    "",
	    ".5",
	    "1.",
	    "1.2345",
	    "-1",
	    "+1",
	    "1e3",
	    " 1",
	    "1 ",
	    "0x10",
	    "1,5",
	    "1..2",
	    "1.2.3",
	    "4294967.296",
	    "4294968",
	    "99999999999999999999",
	};
	uint32_t ms;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ms = 1;
		if (conf_parse_ms(good[i].text, UINT32_MAX, &ms) != 0)
			fail_msg("\"%s\" was refused", good[i].text);
		assert_int_equal(ms, good[i].ms);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ms = 12345;
		if (conf_parse_ms(bad[i], UINT32_MAX, &ms) != -1)
			fail_msg("\"%s\" was accepted", bad[i]);
		assert_int_equal(ms, 12345);
	}
	assert_int_equal(conf_parse_ms("3600", 3600000, &ms), 0);
	assert_int_equal(ms, 3600000);
	assert_int_equal(conf_parse_ms("3600.001", 3600000, &ms), -1);
	assert_int_equal(conf_parse_ms("0.001", 0, &ms), -1);
}

static void
test_long_line(void **state)
{
	const struct fx *f = *state;
	char *text = malloc(3 * TEXT_MAX);
	size_t len;
	struct conf c;

	assert_non_null(text);
	/* 4096 bytes is the longest line, also with a CR before the LF. */
	len = (size_t)snprintf(text, 3 * TEXT_MAX, "[chatd]\nrate = 5\r\n#");
	memset(text + len, 'x', 4095);
	len += 4095;
	(void)snprintf(text + len, 3 * TEXT_MAX - len, "\r\nburst = 6\n");
	assert_load_ok(f, text, &c);
	assert_int_equal(c.rate, 5);
	assert_int_equal(c.burst, 6);
	conf_free(&c);
	text[len++] = 'x';
	(void)snprintf(text + len, 3 * TEXT_MAX - len, "\nburst = 6\n");
	assert_load_error(f, text, 3, "line longer than 4096 bytes");
	/* Much longer, and as the last line without a newline. */
	len = (size_t)snprintf(text, 3 * TEXT_MAX, "[chatd]\n\nrate = 5 ;");
	memset(text + len, 'y', 2 * TEXT_MAX);
	text[len + 2 * TEXT_MAX] = '\0';
	assert_load_error(f, text, 3, "line longer than 4096 bytes");
	free(text);
}

static void
test_nul_byte(void **state)
{
	const struct fx *f = *state;
	static const char text[] = "[chatd]\nrate = 5\0junk\n";
	struct conf c;
	char err[CONF_ERRLEN], want[400];
	FILE *fp = fopen(f->file, "w");

	assert_non_null(fp);
	assert_int_equal(
	    fwrite(text, 1, sizeof(text) - 1, fp), sizeof(text) - 1);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(conf_load(&c, f->file, err, sizeof(err)), -1);
	(void)snprintf(want, sizeof(want), "%s:2: NUL byte in line", f->file);
	assert_string_equal(err, want);
	conf_free(&c);
}

static void
test_unreadable(void **state)
{
	const struct fx *f = *state;
	char err[CONF_ERRLEN], want[400];
	struct conf c;

	assert_int_equal(
	    conf_load(&c, "/nonexistent/chatd.conf", err, sizeof(err)), -1);
	assert_string_equal(
	    err, "/nonexistent/chatd.conf: No such file or directory");
	assert_defaults_only(&c);
	conf_free(&c);
	assert_int_equal(conf_load(&c, f->dir, err, sizeof(err)), -1);
	(void)snprintf(want, sizeof(want), "%s: %s", f->dir, strerror(EISDIR));
	assert_string_equal(err, want);
	assert_defaults_only(&c);
	conf_free(&c);
	/* A NULL or empty err buffer is allowed. */
	assert_int_equal(conf_load(&c, "/nonexistent/chatd.conf", NULL, 0), -1);
	conf_free(&c);
}

static void
test_copy_free(void **state)
{
	const struct fx *f = *state;
	struct conf c, d;

	assert_load_ok(f, full_text, &c);
	assert_int_equal(conf_copy(&d, &c), 0);
	assert_ptr_not_equal(d.path, c.path);
	assert_ptr_not_equal(d.control, c.control);
	assert_ptr_not_equal(d.programs[0].argv[0], c.programs[0].argv[0]);
	assert_ptr_not_equal(d.programs[0].argv[2], c.programs[0].argv[2]);
	conf_free(&c);
	assert_full(&d); /* still whole after the original is gone */
	assert_string_equal(d.path, f->file);
	conf_free(&d);
	assert_null(d.path);
	assert_null(d.control);
	assert_int_equal(d.nprograms, 0);
	conf_free(&d); /* twice is fine */
	conf_defaults(&c);
	assert_int_equal(conf_copy(&d, &c), 0);
	assert_null(d.path);
	assert_null(d.control);
	conf_free(&d);
}

static void
test_load_string(void **state)
{
	struct conf c;
	char err[CONF_ERRLEN];

	(void)state;
	assert_int_equal(
	    conf_load_string(&c, full_text, "mem", err, sizeof(err)), 0);
	assert_null(c.path);
	assert_full(&c);
	conf_free(&c);
	assert_int_equal(conf_load_string(&c, "[chatd]\n\nmax_line = abc\n",
	                     "mem", err, sizeof(err)),
	    -1);
	assert_string_equal(err,
	    "mem:3: max_line: \"abc\" is not a number between 1 and 32768");
	assert_defaults_only(&c);
	conf_free(&c);
	assert_int_equal(conf_load_string(&c, "[chatd]\r\nrate = 1", "mem", err,
	                     sizeof(err)),
	    0);
	assert_int_equal(c.rate, 1);
	conf_free(&c);
	/* Only the first error counts. */
	assert_int_equal(
	    conf_load_string(&c, "[x]\nrate = abc\n", "mem", err, sizeof(err)),
	    -1);
	assert_string_equal(err, "mem:1: unknown section [x]");
	conf_free(&c);
}

static bool
shipped_try(char *buf, size_t len, const char *base, const char *rel)
{
	(void)snprintf(buf, len, "%s/%s", base, rel);
	return access(buf, R_OK) == 0;
}

/* The shipped file: $SRCDIR/etc/chatd.conf, or $SRCDIR/../../etc/chatd.conf
 * when SRCDIR is tests/unit; else the source tree this file was compiled
 * from (__FILE__ is relative to the build directory, where tests run). */
static bool
shipped_path(char *buf, size_t len)
{
	const char *srcdir = getenv("SRCDIR");
	const char *slash = strrchr(__FILE__, '/');
	char here[512];

	if (srcdir != NULL && srcdir[0] != '\0')
		return shipped_try(buf, len, srcdir, "etc/chatd.conf") ||
		    shipped_try(buf, len, srcdir, "../../etc/chatd.conf");
	(void)snprintf(here, sizeof(here), "%.*s",
	    slash != NULL ? (int)(slash - __FILE__) : 1,
	    slash != NULL ? __FILE__ : ".");
	return shipped_try(buf, len, here, "../../etc/chatd.conf");
}

static void
test_shipped_conf(void **state)
{
	char path[1024], err[CONF_ERRLEN];
	struct conf c, d;

	(void)state;
	if (!shipped_path(path, sizeof(path)))
		fail_msg("etc/chatd.conf not found; set SRCDIR");
	if (conf_load(&c, path, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	/* The shipped values are the built-in defaults. */
	conf_defaults(&d);
	assert_int_equal(c.nlisten, 1);
	assert_string_equal(c.listen[0].text, d.listen[0].text);
	assert_memory_equal(
	    &c.listen[0].addr, &d.listen[0].addr, d.listen[0].addrlen);
	assert_int_equal(c.workers, d.workers);
	assert_null(c.control);
	assert_int_equal(c.max_clients, d.max_clients);
	assert_int_equal(c.max_line, d.max_line);
	assert_int_equal(c.max_output, d.max_output);
	assert_int_equal(c.rate, d.rate);
	assert_int_equal(c.burst, d.burst);
	assert_int_equal(c.shutdown_ms, d.shutdown_ms);
	assert_int_equal(c.log_level, d.log_level);
	assert_int_equal(c.pipe_timeout_ms, d.pipe_timeout_ms);
	assert_int_equal(c.pipe_max_output, d.pipe_max_output);
	assert_int_equal(c.pipe_max_running, d.pipe_max_running);
	assert_int_equal(c.nprograms, 2);
	assert_non_null(conf_program_find(&c, "upper", 5));
	assert_non_null(conf_program_find(&c, "rev", 3));
	assert_string_equal(c.programs[0].argv[0], "/usr/bin/tr");
	conf_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_full_file),
	    cmocka_unit_test(test_bounds_ok),
	    cmocka_unit_test(test_bad_values),
	    cmocka_unit_test(test_sections_and_keys),
	    cmocka_unit_test(test_listen_repeat),
	    cmocka_unit_test(test_parse_listen_good),
	    cmocka_unit_test(test_parse_listen_bad),
	    cmocka_unit_test(test_comments),
	    cmocka_unit_test(test_indented_line),
	    cmocka_unit_test(test_programs),
	    cmocka_unit_test(test_program_noexec),
	    cmocka_unit_test(test_program_limits),
	    cmocka_unit_test(test_program_find_names),
	    cmocka_unit_test(test_parse_ms),
	    cmocka_unit_test(test_long_line),
	    cmocka_unit_test(test_nul_byte),
	    cmocka_unit_test(test_unreadable),
	    cmocka_unit_test(test_copy_free),
	    cmocka_unit_test(test_load_string),
	    cmocka_unit_test(test_shipped_conf),
	};

	return cmocka_run_group_tests_name(
	    "conf", tests, fx_setup, fx_teardown);
}
