/*
 * Logging to standard error.  The level and the role are the only
 * file-static state in chatd outside the per-process context: they are set
 * once at start (and on reload) and read by every log call.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"

static struct {
	char role[32];
	enum log_level level;
	int journal;
} log_state = {"chatd", LOG_INFO, 0};

static const char *const log_names[] = {
    [LOG_DEBUG] = "debug",
    [LOG_INFO] = "info",
    [LOG_NOTICE] = "notice",
    [LOG_WARNING] = "warning",
    [LOG_ERROR] = "error",
    [LOG_FATAL] = "fatal",
};

/* sd-daemon(3) priorities: debug 7, info 6, notice 5, warning 4, err 3. */
static const int log_prio[] = {7, 6, 5, 4, 3, 2};

/* systemd.exec(5): JOURNAL_STREAM is "DEVICE:INODE" of the stream that
 * stderr was connected to; it counts only if stderr is still that one. */
static int
log_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char *end;

	if (js == NULL)
		return 0;
	errno = 0;
	dev = strtoull(js, &end, 10);
	if (end == js || *end != ':')
		return 0;
	js = end + 1;
	ino = strtoull(js, &end, 10);
	if (end == js || *end != '\0' || errno != 0 ||
	    fstat(STDERR_FILENO, &st) != 0)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void
log_init(const char *role, enum log_level level)
{
	log_set_role(role);
	log_state.level = level;
	log_state.journal = log_is_journal();
}

void
log_set_role(const char *role)
{
	snprintf(log_state.role, sizeof(log_state.role), "%s", role);
}

void
log_set_level(enum log_level level)
{
	log_state.level = level;
}

enum log_level
log_get_level(void)
{
	return log_state.level;
}

int
log_level_parse(const char *name)
{
	for (int i = LOG_DEBUG; i <= LOG_ERROR; i++)
		if (strcmp(name, log_names[i]) == 0)
			return i;
	if (strcmp(name, "warn") == 0)
		return LOG_WARNING;
	return -1;
}

const char *
log_level_name(enum log_level level)
{
	return log_names[level];
}

static void log_vemit(enum log_level level, int errnum, const char *fmt,
    va_list ap) LOG_PRINTF(3, 0);

/* Formats one line and writes it with a single write(2). */
static void
log_vemit(enum log_level level, int errnum, const char *fmt, va_list ap)
{
	char line[1024];
	int n, m;

	if (level < log_state.level)
		return;
	if (log_state.journal)
		n = snprintf(line, sizeof(line), "<%d>%s: ", log_prio[level],
		    log_state.role);
	else
		n = snprintf(line, sizeof(line),
		    "chatd[%ld] %s: %s: ", (long)getpid(), log_state.role,
		    log_names[level]);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if (m < 0)
		return;
	n = (size_t)n + (size_t)m >= sizeof(line) - 1 ? (int)sizeof(line) - 1
	                                              : n + m;
	if (errnum != 0) {
		m = snprintf(line + n, sizeof(line) - (size_t)n, ": %s",
		    strerror(errnum));
		if (m > 0)
			n = (size_t)n + (size_t)m >= sizeof(line) - 1
			    ? (int)sizeof(line) - 1
			    : n + m;
	}
	line[n++] = '\n';
	/* A failed log write has nowhere to be reported. */
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}

#define LOG_BODY(level, errnum)                                                \
	do {                                                                   \
		int saved = errno;                                             \
		va_list ap;                                                    \
		va_start(ap, fmt);                                             \
		log_vemit(level, errnum, fmt, ap);                             \
		va_end(ap);                                                    \
		errno = saved;                                                 \
	} while (0)

void
log_debug(const char *fmt, ...)
{
	LOG_BODY(LOG_DEBUG, 0);
}

void
log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_INFO, 0);
}

void
log_notice(const char *fmt, ...)
{
	LOG_BODY(LOG_NOTICE, 0);
}

void
log_warn(const char *fmt, ...)
{
	LOG_BODY(LOG_WARNING, errno);
}

void
log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_WARNING, 0);
}

void
log_error(const char *fmt, ...)
{
	LOG_BODY(LOG_ERROR, errno);
}

void
log_errorx(const char *fmt, ...)
{
	LOG_BODY(LOG_ERROR, 0);
}

void
fatal(const char *fmt, ...)
{
	LOG_BODY(LOG_FATAL, errno);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_FATAL, 0);
	exit(1);
}

void
log_bare(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (log_state.journal)
		fprintf(stderr, "<%d>", log_prio[level]);
	va_start(ap, fmt);
	(void)vfprintf(stderr, fmt, ap);
	va_end(ap);
	(void)fputc('\n', stderr);
}

static void
log_libevent_cb(int severity, const char *msg)
{
	switch (severity) {
	case EVENT_LOG_DEBUG:
		log_debug("libevent: %s", msg);
		break;
	case EVENT_LOG_MSG:
		log_info("libevent: %s", msg);
		break;
	case EVENT_LOG_WARN:
		log_warnx("libevent: %s", msg);
		break;
	default:
		log_errorx("libevent: %s", msg);
		break;
	}
}

static void
log_libevent_fatal(int err)
{
	fatalx("libevent: fatal error %d", err);
}

void
log_hook_libevent(void)
{
	event_set_log_callback(log_libevent_cb);
	event_set_fatal_callback(log_libevent_fatal);
}
