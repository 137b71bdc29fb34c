/*
 * The default control socket path, shared by chatd and chatctl (the rule
 * is in ctlpath.h), and the directory it lives in.
 *
 * The per-uid directory under /tmp is the one place where somebody else
 * may have been first: it must be a real directory (not a symlink), ours,
 * and closed to others, or we refuse to put a socket in it.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "ctlpath.h"

#define CTLPATH_SOCK     "chatd.sock"
#define CTLPATH_ROOT_DIR "/run/chatd"
#define CTLPATH_TMP_FMT  "/tmp/chatd-%lu"
#define CTLPATH_DIR_MAX  4096

/* What the rule depends on, gathered so that tests can fake it. */
struct ctlpath_env {
	uid_t euid;
	const char *runtime; /* $RUNTIME_DIRECTORY, NULL when unset */
	const char *xdg;     /* $XDG_RUNTIME_DIR, NULL when unset */
};

/* Writes the per-uid /tmp directory of euid; -1 if it does not fit. */
static int
ctlpath_tmpdir(uid_t euid, char *buf, size_t len)
{
	int n = snprintf(buf, len, CTLPATH_TMP_FMT, (unsigned long)euid);

	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* Writes DIR/chatd.sock, where DIR is the first dirlen bytes of dir. */
static int
ctlpath_join(char *buf, size_t len, const char *dir, size_t dirlen)
{
	int n = snprintf(buf, len, "%.*s/%s", (int)dirlen, dir, CTLPATH_SOCK);

	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* The rule of ctlpath.h for env.  A directory from the environment that
 * is empty or relative does not count. */
static int
ctlpath_rule(const struct ctlpath_env *env, char *buf, size_t len)
{
	const char *runtime = env->runtime, *xdg = env->xdg;
	char tmp[64];

	if (runtime != NULL && runtime[0] == '/') {
		size_t n = strcspn(runtime, ":");

		if (n < CTLPATH_DIR_MAX)
			return ctlpath_join(buf, len, runtime, n);
	}
	if (env->euid == 0)
		return ctlpath_join(
		    buf, len, CTLPATH_ROOT_DIR, strlen(CTLPATH_ROOT_DIR));
	if (xdg != NULL && xdg[0] == '/' && strlen(xdg) < CTLPATH_DIR_MAX)
		return ctlpath_join(buf, len, xdg, strlen(xdg));
	if (ctlpath_tmpdir(env->euid, tmp, sizeof(tmp)) < 0)
		return -1;
	return ctlpath_join(buf, len, tmp, strlen(tmp));
}

int
ctlpath_default(char *buf, size_t len)
{
	struct ctlpath_env env = {
	    geteuid(), getenv("RUNTIME_DIRECTORY"), getenv("XDG_RUNTIME_DIR")};

	return ctlpath_rule(&env, buf, len);
}

/* The per-uid directory must be a directory (lstat: not a symlink to one)
 * owned by euid with no access for group or others. */
static int
ctlpath_check_private(const char *dir, uid_t euid)
{
	struct stat st;

	if (lstat(dir, &st) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode) || st.st_uid != euid ||
	    (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

static int
ctlpath_check_dir(const char *dir)
{
	struct stat st;

	if (stat(dir, &st) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

/* ctlpath_prepare_dir() with the private directory given ("/tmp/chatd-UID"
 * in real use; tests pass one of their own). */
static int
ctlpath_prepare(const char *path, uid_t euid, const char *private_dir)
{
	const char *slash = strrchr(path, '/');
	char dir[CTLPATH_DIR_MAX];
	bool is_private;
	size_t n;

	if (slash == NULL || slash == path)
		return 0; /* the current directory or "/" */
	n = (size_t)(slash - path);
	if (n >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(dir, path, n);
	dir[n] = '\0';
	is_private = strcmp(dir, private_dir) == 0;
	if (mkdir(dir, is_private ? 0700 : 0755) < 0 && errno != EEXIST)
		return -1;
	return is_private ? ctlpath_check_private(dir, euid)
	                  : ctlpath_check_dir(dir);
}

int
ctlpath_prepare_dir(const char *path)
{
	uid_t euid = geteuid();
	char private_dir[64];

	if (ctlpath_tmpdir(euid, private_dir, sizeof(private_dir)) < 0)
		return -1;
	return ctlpath_prepare(path, euid, private_dir);
}
