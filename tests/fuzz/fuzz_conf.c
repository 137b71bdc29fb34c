/*
 * libFuzzer harness for conf_load_string() of common/conf.c.
 *
 * The input, NUL-terminated, is parsed as a configuration file.  A failed
 * load must leave a NUL-terminated "fuzz:..." error and only the built-in
 * defaults (no memory held); a good one must respect the documented
 * limits, survive conf_copy(), and be freed by conf_free() without a leak
 * (LeakSanitizer checks at the end of each run).  Any violation calls
 * abort().
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant: abort() so that libFuzzer keeps the input. */
static void
fuzz_assert(int ok)
{
	if (!ok)
		abort();
}

/* The limits running.md documents, and well-formed programs. */
static void
check_loaded(const struct conf *c)
{
	fuzz_assert(c->nlisten >= 1 && c->nlisten <= CONF_MAX_LISTEN);
	fuzz_assert(c->workers <= CONF_WORKERS_MAX);
	fuzz_assert(c->max_line >= 1 && c->max_line <= CONF_LINE_MAX);
	fuzz_assert(c->nprograms <= CONF_MAX_PROGRAMS);
	for (size_t i = 0; i < c->nprograms; i++) {
		const struct conf_program *p = &c->programs[i];
		size_t n = strlen(p->name);
		fuzz_assert(n > 0 && n < CONF_NAME_MAX);
		fuzz_assert(p->argc >= 1 && p->argc <= CONF_MAX_ARGS);
		fuzz_assert(p->argv[0][0] == '/');
		fuzz_assert(p->argv[p->argc] == NULL);
		fuzz_assert(conf_program_find(c, p->name, n) == p);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf c, copy;
	char err[CONF_ERRLEN];
	char *text;

	if (size > 65536)
		return 0;
	text = malloc(size + 1);
	fuzz_assert(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';
	memset(err, 'X', sizeof(err));
	if (conf_load_string(&c, text, "fuzz", err, sizeof(err)) != 0) {
		fuzz_assert(memchr(err, '\0', sizeof(err)) != NULL);
		fuzz_assert(strncmp(err, "fuzz:", 5) == 0);
		fuzz_assert(
		    c.nprograms == 0 && c.path == NULL && c.control == NULL);
	} else {
		check_loaded(&c);
		fuzz_assert(c.path == NULL);
		fuzz_assert(conf_copy(&copy, &c) == 0);
		fuzz_assert(copy.nprograms == c.nprograms);
		for (size_t i = 0; i < c.nprograms; i++)
			for (size_t w = 0; w < c.programs[i].argc; w++)
				fuzz_assert(strcmp(copy.programs[i].argv[w],
				                c.programs[i].argv[w]) == 0);
		conf_free(&copy);
	}
	conf_free(&c);
	free(text);
	return 0;
}
