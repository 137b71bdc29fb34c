/*
 * One logging API for every chatd process.
 *
 * Lines go to standard error as "chatd[PID] ROLE: LEVEL: message".  When
 * JOURNAL_STREAM is set (we run under systemd) each line starts with the
 * sd-daemon priority prefix "<N>" instead, and the journal adds the rest.
 * Normal operation and a clean shutdown log nothing above LOG_INFO.
 */
#ifndef CHATD_LOG_H
#define CHATD_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_DEBUG,
	LOG_INFO,
	LOG_NOTICE,
	LOG_WARNING,
	LOG_ERROR,
	LOG_FATAL,
};

#define LOG_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define LOG_NORETURN     __attribute__((noreturn))

/* role is "supervisor", "worker 3", "chatctl", ...; copied. */
void log_init(const char *role, enum log_level level);
void log_set_role(const char *role);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parses "debug" ... "error"; returns -1 for anything else. */
int log_level_parse(const char *name);
const char *log_level_name(enum log_level level);

void log_debug(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_notice(const char *fmt, ...) LOG_PRINTF(1, 2);
/* log_warn and log_error append ": strerror(errno)"; the x forms do not. */
void log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_warnx(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_error(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_errorx(const char *fmt, ...) LOG_PRINTF(1, 2);
void fatal(const char *fmt, ...) LOG_PRINTF(1, 2) LOG_NORETURN;
void fatalx(const char *fmt, ...) LOG_PRINTF(1, 2) LOG_NORETURN;

/* A message exactly as given ("FILE:LINE: what is wrong"), with only the
 * journal's priority prefix when JOURNAL_STREAM is set. */
void log_bare(enum log_level level, const char *fmt, ...) LOG_PRINTF(2, 3);

/* Routes libevent's own warnings through this logger. */
void log_hook_libevent(void);

#endif
