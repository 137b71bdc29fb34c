/*
 * Unit tests of common/ctlpath.c: where the control socket lives.
 *
 * The file includes ctlpath.c itself to reach its static helpers: the rule
 * with a faked euid and environment (CI runs as root, so the user branches
 * could not be reached otherwise), and the directory check with a private
 * directory of the test's own instead of the real /tmp/chatd-UID.  Link
 * this test without ctlpath.o.
 */
#include "config.h"

#include <errno.h>
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

/* NOLINTNEXTLINE(bugprone-suspicious-include): for the static helpers */
#include "../../common/ctlpath.c"

struct fx {
	char dir[256]; /* a fresh mkdtemp directory */
	char *saved_runtime, *saved_xdg;
	mode_t saved_umask;
};

static char *
fx_save(const char *name)
{
	const char *v = getenv(name);

	return v != NULL ? strdup(v) : NULL;
}

static void
fx_restore(const char *name, const char *value)
{
	if (value != NULL)
		(void)setenv(name, value, 1);
	else
		(void)unsetenv(name);
}

static int
fx_setup(void **state)
{
	const char *tmp = getenv("TMPDIR");
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	(void)snprintf(f->dir, sizeof(f->dir), "%s/test_ctlpath.XXXXXX",
	    tmp != NULL && tmp[0] == '/' ? tmp : "/tmp");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	f->saved_runtime = fx_save("RUNTIME_DIRECTORY");
	f->saved_xdg = fx_save("XDG_RUNTIME_DIR");
	f->saved_umask = umask(022);
	*state = f;
	return 0;
}

static int
fx_teardown(void **state)
{
	struct fx *f = *state;

	fx_restore("RUNTIME_DIRECTORY", f->saved_runtime);
	fx_restore("XDG_RUNTIME_DIR", f->saved_xdg);
	(void)umask(f->saved_umask);
	free(f->saved_runtime);
	free(f->saved_xdg);
	(void)rmdir(f->dir);
	free(f);
	return 0;
}

/* DIR/rel into buf. */
static void
fx_path(const struct fx *f, const char *rel, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", f->dir, rel);

	assert_true(n > 0 && (size_t)n < len);
}

static void
assert_rule(const struct ctlpath_env *env, const char *want)
{
	char buf[256];

	memset(buf, 0, sizeof(buf));
	assert_int_equal(ctlpath_rule(env, buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
}

/* An environment: euid, $RUNTIME_DIRECTORY, $XDG_RUNTIME_DIR. */
#define ENV(euid, runtime, xdg) (&(struct ctlpath_env){euid, runtime, xdg})

static void
test_rule_runtime_directory(void **state)
{
	(void)state;
	assert_rule(
	    ENV(1000, "/run/chatd", "/run/user/1000"), "/run/chatd/chatd.sock");
	assert_rule(ENV(0, "/srv/rt", NULL), "/srv/rt/chatd.sock");
	/* systemd gives several directories colon-separated: the first. */
	assert_rule(ENV(1000, "/run/chatd:/run/other:/x", NULL),
	    "/run/chatd/chatd.sock");
	assert_rule(ENV(0, "/run/a:/run/b", NULL), "/run/a/chatd.sock");
	/* Empty or relative does not count. */
	assert_rule(ENV(0, "", NULL), "/run/chatd/chatd.sock");
	assert_rule(ENV(1000, ":/run/b", NULL), "/tmp/chatd-1000/chatd.sock");
	assert_rule(ENV(1000, "rel/dir", "/run/user/1000"),
	    "/run/user/1000/chatd.sock");
}

static void
test_rule_root(void **state)
{
	(void)state;
	assert_rule(ENV(0, NULL, NULL), "/run/chatd/chatd.sock");
	/* Root ignores XDG_RUNTIME_DIR (sudo may have kept a user's). */
	assert_rule(ENV(0, NULL, "/run/user/1000"), "/run/chatd/chatd.sock");
}

static void
test_rule_user(void **state)
{
	(void)state;
	assert_rule(
	    ENV(1000, NULL, "/run/user/1000"), "/run/user/1000/chatd.sock");
	assert_rule(ENV(1000, NULL, NULL), "/tmp/chatd-1000/chatd.sock");
	assert_rule(ENV(1000, NULL, ""), "/tmp/chatd-1000/chatd.sock");
	assert_rule(
	    ENV(1000, NULL, "run/user/1000"), "/tmp/chatd-1000/chatd.sock");
	assert_rule(
	    ENV(4294967294U, NULL, NULL), "/tmp/chatd-4294967294/chatd.sock");
}

static void
test_rule_too_small(void **state)
{
	struct ctlpath_env env = {0, NULL, NULL};
	const char *want = "/run/chatd/chatd.sock";
	char buf[64];

	(void)state;
	errno = 0;
	assert_int_equal(ctlpath_rule(&env, buf, strlen(want)), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	assert_int_equal(ctlpath_rule(&env, buf, strlen(want) + 1), 0);
	assert_string_equal(buf, want);
	assert_int_equal(ctlpath_default(buf, 0), -1);
}

/* The public function reads the real euid and environment. */
static void
test_default_env(void **state)
{
	char buf[256], want[256];

	(void)state;
	assert_int_equal(setenv("RUNTIME_DIRECTORY", "/run/x:/run/y", 1), 0);
	assert_int_equal(setenv("XDG_RUNTIME_DIR", "/run/user/42", 1), 0);
	assert_int_equal(ctlpath_default(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/run/x/chatd.sock");

	assert_int_equal(unsetenv("RUNTIME_DIRECTORY"), 0);
	assert_int_equal(ctlpath_default(buf, sizeof(buf)), 0);
	assert_string_equal(buf,
	    geteuid() == 0 ? "/run/chatd/chatd.sock"
	                   : "/run/user/42/chatd.sock");

	assert_int_equal(unsetenv("XDG_RUNTIME_DIR"), 0);
	assert_int_equal(ctlpath_default(buf, sizeof(buf)), 0);
	if (geteuid() == 0)
		(void)snprintf(want, sizeof(want), "/run/chatd/chatd.sock");
	else
		(void)snprintf(want, sizeof(want), "/tmp/chatd-%lu/chatd.sock",
		    (unsigned long)geteuid());
	assert_string_equal(buf, want);
}

static void
assert_mode(const char *path, mode_t want)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, want);
}

static void
test_prepare_public(void **state)
{
	const struct fx *f = *state;
	char sock[400], sub[400];

	fx_path(f, "sub/chatd.sock", sock, sizeof(sock));
	fx_path(f, "sub", sub, sizeof(sub));
	assert_int_equal(ctlpath_prepare_dir(sock), 0);
	assert_mode(sub, 0755);
	/* It exists now: fine again. */
	assert_int_equal(ctlpath_prepare_dir(sock), 0);
	assert_int_equal(rmdir(sub), 0);
	/* A socket in the current directory or in / needs nothing. */
	assert_int_equal(ctlpath_prepare_dir("chatd.sock"), 0);
	assert_int_equal(ctlpath_prepare_dir("/chatd.sock"), 0);
}

static void
test_prepare_not_recursive(void **state)
{
	const struct fx *f = *state;
	char sock[400], a[400];

	fx_path(f, "a/b/chatd.sock", sock, sizeof(sock));
	fx_path(f, "a", a, sizeof(a));
	errno = 0;
	assert_int_equal(ctlpath_prepare_dir(sock), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(access(a, F_OK), -1);
}

static void
test_prepare_not_dir(void **state)
{
	const struct fx *f = *state;
	char sock[400], file[400];
	FILE *fp;

	fx_path(f, "file", file, sizeof(file));
	fx_path(f, "file/chatd.sock", sock, sizeof(sock));
	fp = fopen(file, "w");
	assert_non_null(fp);
	assert_int_equal(fclose(fp), 0);
	errno = 0;
	assert_int_equal(ctlpath_prepare_dir(sock), -1);
	assert_int_equal(errno, ENOTDIR);
	assert_int_equal(unlink(file), 0);
}

static void
assert_private_fails(const char *sock, uid_t euid, const char *priv)
{
	errno = 0;
	assert_int_equal(ctlpath_prepare(sock, euid, priv), -1);
	assert_int_equal(errno, EPERM);
}

/* The per-uid directory: made 0700, and refused unless it is a real
 * directory of ours closed to others. */
static void
test_prepare_private(void **state)
{
	const struct fx *f = *state;
	char priv[400], sock[400], target[400], tsock[400];
	uid_t euid = geteuid();

	fx_path(f, "chatd-U", priv, sizeof(priv));
	fx_path(f, "chatd-U/chatd.sock", sock, sizeof(sock));
	assert_int_equal(ctlpath_prepare(sock, euid, priv), 0);
	assert_mode(priv, 0700);
	assert_int_equal(ctlpath_prepare(sock, euid, priv), 0);

	assert_int_equal(chmod(priv, 0777), 0);
	assert_private_fails(sock, euid, priv);
	assert_int_equal(chmod(priv, 0750), 0);
	assert_private_fails(sock, euid, priv);
	assert_int_equal(chmod(priv, 0701), 0);
	assert_private_fails(sock, euid, priv);
	assert_int_equal(chmod(priv, 0700), 0);
	assert_int_equal(ctlpath_prepare(sock, euid, priv), 0);
	/* Somebody else's. */
	assert_private_fails(sock, euid + 1, priv);
	if (euid == 0) {
		assert_int_equal(chown(priv, 12345, 12345), 0);
		assert_private_fails(sock, euid, priv);
	}
	assert_int_equal(rmdir(priv), 0);

	/* A symlink to a good directory is refused too. */
	fx_path(f, "target", target, sizeof(target));
	fx_path(f, "target/chatd.sock", tsock, sizeof(tsock));
	assert_int_equal(ctlpath_prepare(tsock, euid, target), 0);
	assert_int_equal(symlink(target, priv), 0);
	assert_private_fails(sock, euid, priv);
	assert_int_equal(unlink(priv), 0);
	assert_int_equal(rmdir(target), 0);

	/* So is a file. */
	assert_int_equal(mkfifo(priv, 0600), 0);
	assert_private_fails(sock, euid, priv);
	assert_int_equal(unlink(priv), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rule_runtime_directory),
	    cmocka_unit_test(test_rule_root),
	    cmocka_unit_test(test_rule_user),
	    cmocka_unit_test(test_rule_too_small),
	    cmocka_unit_test(test_default_env),
	    cmocka_unit_test(test_prepare_public),
	    cmocka_unit_test(test_prepare_not_recursive),
	    cmocka_unit_test(test_prepare_not_dir),
	    cmocka_unit_test(test_prepare_private),
	};

	return cmocka_run_group_tests_name(
	    "ctlpath", tests, fx_setup, fx_teardown);
}
