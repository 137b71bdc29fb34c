/*
 * Unit tests of common/command.c: every command line of protocol.md on
 * the chat and on the control socket, every malformed argument, the
 * SECONDS syntax of /timeout, command_format_ms and the /help texts.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "command.h"
#include "conf.h"

#define ERRLEN 256

/* Parses the string s; asserts success and returns the id. */
static enum command_id
parse_ok(const char *s, enum command_where where, struct command *c)
{
	char err[ERRLEN] = "";

	if (command_parse(s, strlen(s), where, c, err, sizeof(err)) != 0)
		fail_msg("\"%s\" refused: %s", s, err);
	return c->id;
}

/* Parses the string s; asserts a refusal whose text is want. */
static void
parse_err(const char *s, enum command_where where, const char *want)
{
	struct command c;
	char err[ERRLEN] = "";

	if (command_parse(s, strlen(s), where, &c, err, sizeof(err)) == 0)
		fail_msg("\"%s\" accepted as command %d", s, (int)c.id);
	assert_string_equal(err, want);
}

/* The same in both places. */
static void
parse_err_both(const char *s, const char *want)
{
	parse_err(s, COMMAND_CHAT, want);
	parse_err(s, COMMAND_CONTROL, want);
}

/* c's text is exactly want and lies inside line. */
static void
assert_text(const struct command *c, const char *line, const char *want)
{
	assert_int_equal(c->textlen, strlen(want));
	assert_memory_equal(c->text, want, c->textlen);
	assert_true(
	    c->text >= line && c->text + c->textlen <= line + strlen(line));
}

/* ---------------------------------------------------------------- chat */

/* A line not starting with "/" is chat text, as it is, in both places. */
static void
plain_line_is_chat(void **state)
{
	static const char *const lines[] = {
	    "hello", " /who", "a/b", "\t/x", "caf\xC3\xA9"};
	struct command c;

	(void)state;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		assert_int_equal(
		    parse_ok(lines[i], COMMAND_CHAT, &c), CMD_CHAT);
		assert_ptr_equal(c.text, lines[i]);
		assert_text(&c, lines[i], lines[i]);
		assert_int_equal(
		    parse_ok(lines[i], COMMAND_CONTROL, &c), CMD_CHAT);
	}
}

/* The empty line is chat with no text (the caller ignores it). */
static void
empty_line_is_empty_chat(void **state)
{
	struct command c;

	(void)state;
	assert_int_equal(command_parse("", 0, COMMAND_CHAT, &c, NULL, 0), 0);
	assert_int_equal(c.id, CMD_CHAT);
	assert_int_equal(c.textlen, 0);
}

/* "//text" is chat text "/text": exactly one "/" is removed. */
static void
double_slash_says_slash_text(void **state)
{
	static const struct {
		const char *in, *text;
	} cases[] = {{"//text", "/text"}, {"//", "/"}, {"///x", "//x"},
	    {"//who", "/who"}, {"// spaced ", "/ spaced "}};
	struct command c;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(
		    parse_ok(cases[i].in, COMMAND_CHAT, &c), CMD_CHAT);
		assert_ptr_equal(c.text, cases[i].in + 1);
		assert_text(&c, cases[i].in, cases[i].text);
	}
}

/* "/" alone, or "/" followed by a blank, is an unknown command. */
static void
lone_slash_is_unknown(void **state)
{
	(void)state;
	parse_err_both("/", "unknown command / (try /help)");
	parse_err_both("/ who", "unknown command / (try /help)");
	parse_err_both("/\t", "unknown command / (try /help)");
}

/* ---------------------------------------------------------------- commands */

/* The commands without arguments parse in both places, trailing blanks
 * allowed, and refuse any argument with their usage. */
static void
commands_without_arguments(void **state)
{
	static const struct {
		const char *word;
		enum command_id id;
	} cmds[] = {{"help", CMD_HELP}, {"who", CMD_WHO}, {"ps", CMD_PS},
	    {"quit", CMD_QUIT}};
	char line[64], want[64];
	struct command c;

	(void)state;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		(void)snprintf(line, sizeof(line), "/%s", cmds[i].word);
		assert_int_equal(parse_ok(line, COMMAND_CHAT, &c), cmds[i].id);
		assert_int_equal(
		    parse_ok(line, COMMAND_CONTROL, &c), cmds[i].id);
		(void)snprintf(line, sizeof(line), "/%s \t ", cmds[i].word);
		assert_int_equal(parse_ok(line, COMMAND_CHAT, &c), cmds[i].id);
		(void)snprintf(line, sizeof(line), "/%s x", cmds[i].word);
		(void)snprintf(want, sizeof(want), "usage: /%s", cmds[i].word);
		parse_err_both(line, want);
		(void)snprintf(line, sizeof(line), "/%s\tx y", cmds[i].word);
		parse_err_both(line, want);
	}
}

/* The admin commands parse on the control socket only; on the chat they
 * are unknown commands. */
static void
control_only_commands(void **state)
{
	static const struct {
		const char *word;
		enum command_id id;
	} cmds[] = {{"status", CMD_STATUS}, {"reload", CMD_RELOAD},
	    {"shutdown", CMD_SHUTDOWN}};
	char line[64], want[96];
	struct command c;

	(void)state;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		(void)snprintf(line, sizeof(line), "/%s", cmds[i].word);
		assert_int_equal(
		    parse_ok(line, COMMAND_CONTROL, &c), cmds[i].id);
		(void)snprintf(want, sizeof(want),
		    "unknown command /%s (try /help)", cmds[i].word);
		parse_err(line, COMMAND_CHAT, want);
		(void)snprintf(line, sizeof(line), "/%s now", cmds[i].word);
		(void)snprintf(want, sizeof(want), "usage: /%s", cmds[i].word);
		parse_err(line, COMMAND_CONTROL, want);
	}
	parse_err("/say hi", COMMAND_CHAT, "unknown command /say (try /help)");
}

/* /kick ID takes one decimal id of up to 19 digits. */
static void
kick_parses_id(void **state)
{
	static const struct {
		const char *in;
		uint64_t id;
	} ok[] = {{"/kick 42", 42}, {"/kick 0", 0}, {"/kick  7  ", 7},
	    {"/kick\t8", 8}, {"/kick 0009", 9},
	    {"/kick 9999999999999999999", UINT64_C(9999999999999999999)}};
	struct command c;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(
		    parse_ok(ok[i].in, COMMAND_CHAT, &c), CMD_KICK);
		assert_int_equal(c.target, ok[i].id);
		assert_int_equal(
		    parse_ok(ok[i].in, COMMAND_CONTROL, &c), CMD_KICK);
		assert_int_equal(c.target, ok[i].id);
	}
}

/* /kick refuses a missing, signed, fractional, non-decimal or too long
 * id, and anything after it. */
static void
kick_refuses_bad_ids(void **state)
{
	static const char *const bad[] = {"/kick", "/kick ", "/kick x",
	    "/kick -1", "/kick +1", "/kick 1.5", "/kick 0x10", "/kick 1e3",
	    "/kick 12345678901234567890", "/kick \xD9\xA3" /* Arabic 3 */};
	const char *want = "bad client id (usage: /kick ID)";

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		parse_err_both(bad[i], want);
	parse_err_both("/kick 1 2", "usage: /kick ID");
	parse_err_both("/kick 1 x", "usage: /kick ID");
}

/* /timeout ID SECONDS: the accepted forms and their milliseconds. */
static void
timeout_accepts_seconds(void **state)
{
	static const struct {
		const char *in;
		uint64_t id;
		uint32_t ms;
	} ok[] = {
	    {"/timeout 3 0.25", 3, 250}, {"/timeout 3 0.001", 3, 1},
	    {"/timeout 3 86400", 3, 86400000},
	    {"/timeout 3 86400.000", 3, 86400000}, {"/timeout 3 0", 3, 0},
	    {"/timeout 3 0.000", 3, 0}, {"/timeout 12 1.5", 12, 1500},
	    {"/timeout 12 10.10", 12, 10100}, {"/timeout 12 007", 12, 7000},
	    {"/timeout 1 2.345", 1, 2345}, {"/timeout\t1\t2", 1, 2000},
	    {"/timeout 1  2 ", 1, 2000}, /* blanks separate words */
	};
	struct command c;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(
		    parse_ok(ok[i].in, COMMAND_CHAT, &c), CMD_TIMEOUT);
		assert_int_equal(c.target, ok[i].id);
		assert_int_equal(c.ms, ok[i].ms);
		assert_int_equal(
		    parse_ok(ok[i].in, COMMAND_CONTROL, &c), CMD_TIMEOUT);
		assert_int_equal(c.ms, ok[i].ms);
	}
}

/* /timeout refuses SECONDS above 86400, signed, with exponents, without
 * digits on either side of the point, with more than 3 decimals, with
 * other characters, or missing; and a bad id before it. */
static void
timeout_refuses_bad_seconds(void **state)
{
	static const char *const bad[] = {"86400.001", "86401", "-1", "+1",
	    "1e3", ".5", "1.", "0.0001", "abc", "1,5", "0x10", "1.2.3",
	    "4294967.296", "99999999999", "\302\2401", /* U+00A0, then 1 */
	    "0.2500000000000000000000000000000000"};
	const char *want = "bad SECONDS: want 0 to 86400 with up to 3 "
	                   "decimals (usage: /timeout ID SECONDS)";
	char line[128];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		(void)snprintf(line, sizeof(line), "/timeout 3 %s", bad[i]);
		parse_err_both(line, want);
	}
	parse_err_both("/timeout 3", want);
	parse_err_both("/timeout 3 ", want);
	parse_err_both(
	    "/timeout", "bad client id (usage: /timeout ID SECONDS)");
	parse_err_both(
	    "/timeout x 1", "bad client id (usage: /timeout ID SECONDS)");
	parse_err_both("/timeout 3 1 2", "usage: /timeout ID SECONDS");
}

/* The SECONDS parser itself (conf_parse_ms, which /timeout uses) refuses
 * leading and trailing blanks, which the command line splits off. */
static void
seconds_parser_refuses_blanks(void **state)
{
	static const char *const bad[] = {" 1", "1 ", "\t1", "", "0. 5"};
	uint32_t ms = 12345;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(conf_parse_ms(bad[i], 86400000, &ms), -1);
	assert_int_equal(ms, 12345); /* untouched on refusal */
	assert_int_equal(conf_parse_ms("0.25", 86400000, &ms), 0);
	assert_int_equal(ms, 250);
}

/* /pipe NAME [TEXT]: TEXT is everything after the one blank after NAME,
 * possibly empty, and points into the line. */
static void
pipe_parses_name_and_text(void **state)
{
	static const struct {
		const char *in, *name, *text;
	} ok[] = {
	    {"/pipe upper hello world", "upper", "hello world"},
	    {"/pipe upper", "upper", ""}, {"/pipe upper ", "upper", ""},
	    {"/pipe upper  two", "upper", " two"},
	    {"/pipe upper two  ", "upper", "two  "},
	    {"/pipe upper\tx", "upper", "x"}, {"/pipe   rev x", "rev", "x"},
	    {"/pipe rev /who //x", "rev", "/who //x"},
	    {"/pipe bad.name x", "bad.name", "x"}, /* the worker checks it */
	};
	struct command c;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(
		    parse_ok(ok[i].in, COMMAND_CHAT, &c), CMD_PIPE);
		assert_int_equal(c.namelen, strlen(ok[i].name));
		assert_memory_equal(c.name, ok[i].name, c.namelen);
		assert_true(c.name > ok[i].in &&
		    c.name + c.namelen <= ok[i].in + strlen(ok[i].in));
		assert_text(&c, ok[i].in, ok[i].text);
	}
}

/* /pipe without a name is refused, and /pipe is refused on the control
 * socket. */
static void
pipe_refusals(void **state)
{
	(void)state;
	parse_err("/pipe", COMMAND_CHAT, "usage: /pipe NAME [TEXT]");
	parse_err("/pipe ", COMMAND_CHAT, "usage: /pipe NAME [TEXT]");
	parse_err("/pipe \t ", COMMAND_CHAT, "usage: /pipe NAME [TEXT]");
	parse_err("/pipe upper x", COMMAND_CONTROL,
	    "/pipe runs only from a chat connection");
	parse_err(
	    "/pipe", COMMAND_CONTROL, "/pipe runs only from a chat connection");
}

/* /say TEXT (control socket): TEXT after the one blank, never empty. */
static void
say_parses_text(void **state)
{
	struct command c;

	(void)state;
	assert_int_equal(parse_ok("/say hello", COMMAND_CONTROL, &c), CMD_SAY);
	assert_text(&c, "/say hello", "hello");
	assert_int_equal(parse_ok("/say  x ", COMMAND_CONTROL, &c), CMD_SAY);
	assert_text(&c, "/say  x ", " x ");
	assert_int_equal(parse_ok("/say /who", COMMAND_CONTROL, &c), CMD_SAY);
	assert_text(&c, "/say /who", "/who");
	parse_err("/say", COMMAND_CONTROL, "usage: /say TEXT");
	parse_err("/say ", COMMAND_CONTROL, "usage: /say TEXT");
}

/* Anything else starting with "/" is an unknown command, named in the
 * error; command words are case-sensitive and whole. */
static void
unknown_commands(void **state)
{
	(void)state;
	parse_err_both("/foo", "unknown command /foo (try /help)");
	parse_err_both("/foo bar", "unknown command /foo (try /help)");
	parse_err_both("/WHO", "unknown command /WHO (try /help)");
	parse_err_both("/who2", "unknown command /who2 (try /help)");
	parse_err_both("/wh", "unknown command /wh (try /help)");
	parse_err_both("/kickme 1", "unknown command /kickme (try /help)");
	parse_err_both(
	    "/caf\xC3\xA9", "unknown command /caf\xC3\xA9 (try /help)");
}

/* A long unknown word is cut to 64 bytes in the error, but never inside a
 * UTF-8 sequence. */
static void
unknown_long_word_is_cut_cleanly(void **state)
{
	char line[256], want[256];

	(void)state;
	memset(line, 0, sizeof(line));
	line[0] = '/';
	memset(line + 1, 'a', 100);
	(void)snprintf(
	    want, sizeof(want), "unknown command /%.64s (try /help)", line + 1);
	parse_err_both(line, want);
	/* 63 "a", then "é": the cut at 64 would split it */
	memset(line + 1, 'a', 63);
	memcpy(line + 64, "\xC3\xA9zzzz", 7);
	(void)snprintf(
	    want, sizeof(want), "unknown command /%.63s (try /help)", line + 1);
	parse_err_both(line, want);
	/* 62 "a", then "€" (3 bytes) across the cut */
	memset(line, 0, sizeof(line));
	line[0] = '/';
	memset(line + 1, 'a', 62);
	memcpy(line + 63, "\xE2\x82\xACzz", 6);
	(void)snprintf(
	    want, sizeof(want), "unknown command /%.62s (try /help)", line + 1);
	parse_err_both(line, want);
}

/* The error text is cut to errlen and stays NUL-terminated. */
static void
error_respects_errlen(void **state)
{
	struct command c;
	char err[8];

	(void)state;
	memset(err, 'X', sizeof(err));
	assert_int_equal(
	    command_parse("/nosuch", 7, COMMAND_CHAT, &c, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "unknown");
}

/* Parsing resets the struct: nothing of an earlier command remains. */
static void
parse_resets_command(void **state)
{
	struct command c;

	(void)state;
	assert_int_equal(
	    parse_ok("/timeout 5 2", COMMAND_CHAT, &c), CMD_TIMEOUT);
	assert_int_equal(parse_ok("/who", COMMAND_CHAT, &c), CMD_WHO);
	assert_int_equal(c.target, 0);
	assert_int_equal(c.ms, 0);
	assert_null(c.name);
	assert_int_equal(c.textlen, 0);
}

/* Only len bytes are parsed: what follows in memory is ignored. */
static void
parse_honours_length(void **state)
{
	struct command c;
	char err[ERRLEN];

	(void)state;
	assert_int_equal(
	    command_parse("/kick 12345", 8, COMMAND_CHAT, &c, err, sizeof(err)),
	    0);
	assert_int_equal(c.target, 12);
	assert_int_equal(
	    command_parse("/who is", 4, COMMAND_CHAT, &c, err, sizeof(err)), 0);
	assert_int_equal(c.id, CMD_WHO);
	assert_int_equal(command_parse("/pipe up text", 8, COMMAND_CHAT, &c,
	                     err, sizeof(err)),
	    0);
	assert_int_equal(c.namelen, 2);
	assert_int_equal(c.textlen, 0);
}

/* ---------------------------------------------------------------- format */

/* command_format_ms writes the shortest decimal form. */
static void
format_ms_shortest(void **state)
{
	static const struct {
		uint32_t ms;
		const char *s;
	} cases[] = {{0, "0"}, {1, "0.001"}, {10, "0.01"}, {100, "0.1"},
	    {250, "0.25"}, {1000, "1"}, {1010, "1.01"}, {1500, "1.5"},
	    {3000, "3"}, {10100, "10.1"}, {12345, "12.345"},
	    {86400000, "86400"}, {86399999, "86399.999"}};
	char buf[32];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		command_format_ms(cases[i].ms, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].s);
	}
}

/* What command_format_ms writes parses back to the same milliseconds. */
static void
format_ms_parses_back(void **state)
{
	char buf[32];
	uint32_t ms;

	(void)state;
	for (uint64_t v = 0; v <= COMMAND_TIMEOUT_MAX_MS;
	     v += v < 20000 ? 1 : 9973) {
		command_format_ms((uint32_t)v, buf, sizeof(buf));
		assert_int_equal(
		    conf_parse_ms(buf, COMMAND_TIMEOUT_MAX_MS, &ms), 0);
		assert_int_equal(ms, v);
	}
	command_format_ms(COMMAND_TIMEOUT_MAX_MS, buf, sizeof(buf));
	assert_int_equal(conf_parse_ms(buf, COMMAND_TIMEOUT_MAX_MS, &ms), 0);
	assert_int_equal(ms, COMMAND_TIMEOUT_MAX_MS);
}

/* ---------------------------------------------------------------- help */

/* Each place's /help lists its commands, one "/..." line each. */
static void
help_lists_each_places_commands(void **state)
{
	const char *chat = command_help(COMMAND_CHAT);
	const char *ctl = command_help(COMMAND_CONTROL);
	const char *const both[] = {chat, ctl};

	(void)state;
	assert_non_null(strstr(chat, "/pipe NAME [TEXT]"));
	assert_non_null(strstr(chat, "/quit"));
	assert_null(strstr(chat, "/say"));
	assert_null(strstr(chat, "/shutdown"));
	assert_non_null(strstr(ctl, "/say TEXT"));
	assert_non_null(strstr(ctl, "/status"));
	assert_non_null(strstr(ctl, "/reload"));
	assert_non_null(strstr(ctl, "/shutdown"));
	assert_null(strstr(ctl, "/pipe"));
	for (int i = 0; i < 2; i++) {
		const char *s = both[i];
		assert_non_null(strstr(s, "/timeout ID SECONDS"));
		assert_non_null(strstr(s, "/kick ID"));
		assert_true(s[strlen(s) - 1] == '\n');
		for (const char *l = s; *l != '\0'; l = strchr(l, '\n') + 1)
			assert_int_equal(l[0], '/');
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(plain_line_is_chat),
	    cmocka_unit_test(empty_line_is_empty_chat),
	    cmocka_unit_test(double_slash_says_slash_text),
	    cmocka_unit_test(lone_slash_is_unknown),
	    cmocka_unit_test(commands_without_arguments),
	    cmocka_unit_test(control_only_commands),
	    cmocka_unit_test(kick_parses_id),
	    cmocka_unit_test(kick_refuses_bad_ids),
	    cmocka_unit_test(timeout_accepts_seconds),
	    cmocka_unit_test(timeout_refuses_bad_seconds),
	    cmocka_unit_test(seconds_parser_refuses_blanks),
	    cmocka_unit_test(pipe_parses_name_and_text),
	    cmocka_unit_test(pipe_refusals),
	    cmocka_unit_test(say_parses_text),
	    cmocka_unit_test(unknown_commands),
	    cmocka_unit_test(unknown_long_word_is_cut_cleanly),
	    cmocka_unit_test(error_respects_errlen),
	    cmocka_unit_test(parse_resets_command),
	    cmocka_unit_test(parse_honours_length),
	    cmocka_unit_test(format_ms_shortest),
	    cmocka_unit_test(format_ms_parses_back),
	    cmocka_unit_test(help_lists_each_places_commands),
	};

	return cmocka_run_group_tests_name("command", tests, NULL, NULL);
}
