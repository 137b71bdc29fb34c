/*
 * Talking to systemd (sd_notify(3)): READY=1 once every listener is bound,
 * the control socket listens and every worker serves; STOPPING=1 when a
 * shutdown starts; RELOADING=1 (with MONOTONIC_USEC) and READY=1 around a
 * reload; WATCHDOG=1 from a timer every half WATCHDOG_USEC.  With
 * libsystemd we call sd_notify(); without it we write the documented
 * datagram to $NOTIFY_SOCKET ourselves.  Only the supervisor notifies:
 * workers are started without these variables.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "clock.h"
#include "log.h"
#include "sup.h"

#ifndef HAVE_LIBSYSTEMD
/* The datagram of sd_notify(3), for systems without libsystemd. */
static void
notify_raw(struct sup *s, const char *text)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun;
	socklen_t len;

	if (path == NULL || path[0] == '\0' ||
	    strlen(path) >= sizeof(sun.sun_path))
		return;
	if (s->notify_fd < 0)
		s->notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s->notify_fd < 0)
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	if (sun.sun_path[0] == '@')
		sun.sun_path[0] = '\0'; /* abstract namespace */
	len =
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	if (sendto(s->notify_fd, text, strlen(text), MSG_NOSIGNAL,
	        (struct sockaddr *)&sun, len) < 0)
		log_debug("notify: %s", strerror(errno));
}
#endif

void
notify_send(struct sup *s, const char *text)
{
#ifdef HAVE_LIBSYSTEMD
	(void)s;
	if (sd_notify(0, text) < 0)
		log_debug("sd_notify failed");
#else
	notify_raw(s, text);
#endif
}

static void
notify_watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	notify_send(arg, "WATCHDOG=1");
}

/* Starts the watchdog timer if systemd asked for pings from us. */
void
notify_init(struct sup *s)
{
	const char *usec = getenv("WATCHDOG_USEC"),
	           *pid = getenv("WATCHDOG_PID");
	unsigned long long us;
	struct timeval tv;
	char *end;

	if (usec == NULL)
		return;
	if (pid != NULL && strtol(pid, &end, 10) != (long)getpid())
		return;
	errno = 0;
	us = strtoull(usec, &end, 10);
	if (errno != 0 || *end != '\0' || us == 0) {
		log_warnx("ignoring bad WATCHDOG_USEC=%s", usec);
		return;
	}
	s->watchdog_ms = us / 2000 > 0 ? us / 2000 : 1;
	tv = clock_tv(s->watchdog_ms);
	s->watchdog = event_new(s->base, -1, EV_PERSIST, notify_watchdog_cb, s);
	if (s->watchdog == NULL || event_add(s->watchdog, &tv) != 0)
		fatalx("cannot arm the watchdog timer");
}

void
notify_ready(struct sup *s)
{
	char status[128];

	snprintf(status, sizeof(status),
	    "READY=1\nSTATUS=serving on %s with %u workers",
	    s->nlisteners > 0 ? s->listeners[0].text : "nothing", s->nworkers);
	notify_send(s, status);
	log_info("ready");
}

void
notify_close(struct sup *s)
{
	if (s->notify_fd >= 0)
		close(s->notify_fd);
	s->notify_fd = -1;
}
