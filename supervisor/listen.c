/*
 * The chat listeners: bound here, before any worker or event base exists,
 * or taken over from systemd socket activation (LISTEN_FDS/LISTEN_PID, as
 * sd_listen_fds(3) describes), in which case they are not ours to unlink
 * or shut down, only to close.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "log.h"
#include "sup.h"

#define LISTEN_FDS_START 3
#define LISTEN_BACKLOG   65535 /* the kernel caps it at somaxconn */

/* Records fd as listener number s->nlisteners, with its bound address. */
static void
listen_add(struct sup *s, int fd)
{
	struct listener *l = &s->listeners[s->nlisteners++];
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	l->fd = fd;
	l->sup = s;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		addr_format((struct sockaddr *)&ss, l->text, sizeof(l->text));
	else
		snprintf(l->text, sizeof(l->text), "?");
}

static int
listen_bind(struct sup *s, const struct conf_listen *cl)
{
	int one = 1, fd;

	fd = socket(
	    cl->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_error("socket for %s", cl->text);
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (cl->addr.ss_family == AF_INET6)
		(void)setsockopt(
		    fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&cl->addr, cl->addrlen) != 0 ||
	    listen(fd, LISTEN_BACKLOG) != 0) {
		log_error("cannot listen on %s", cl->text);
		close(fd);
		return -1;
	}
	listen_add(s, fd);
	return 0;
}

/* The number of sockets systemd passed us, or 0 (sd_listen_fds(3)). */
static int
listen_activated(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	char *end;
	long n;

	if (pid == NULL || fds == NULL)
		return 0;
	errno = 0;
	if (strtol(pid, &end, 10) != (long)getpid() || *end != '\0')
		return 0;
	n = strtol(fds, &end, 10);
	if (errno != 0 || *end != '\0' || n < 0 || n > CONF_MAX_LISTEN)
		return -1;
	return (int)n;
}

/* Takes systemd's sockets: listening stream sockets, made nonblocking. */
static int
listen_take(struct sup *s, int n)
{
	int acc, fd, flags;
	socklen_t len;

	for (fd = LISTEN_FDS_START; fd < LISTEN_FDS_START + n; fd++) {
		len = sizeof(acc);
		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) !=
		        0 ||
		    !acc) {
			log_errorx("socket activation: fd %d is not a "
			           "listening socket",
			    fd);
			return -1;
		}
		flags = fcntl(fd, F_GETFL);
		if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0 ||
		    fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
			log_error("socket activation: fd %d", fd);
			return -1;
		}
		listen_add(s, fd);
	}
	s->activated = 1;
	return 0;
}

int
listen_open(struct sup *s)
{
	int n = listen_activated();

	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (n < 0) {
		log_errorx("socket activation: bad LISTEN_FDS");
		return -1;
	}
	if (n > 0 && listen_take(s, n) != 0)
		return -1;
	for (size_t i = 0; n == 0 && i < s->conf.nlisten; i++)
		if (listen_bind(s, &s->conf.listen[i]) != 0)
			return -1;
	for (size_t i = 0; i < s->nlisteners; i++)
		log_info("listening on %s%s", s->listeners[i].text,
		    s->activated ? " (socket activation)" : "");
	return 0;
}

void
listen_close(struct sup *s)
{
	for (size_t i = 0; i < s->nlisteners; i++) {
		if (s->listeners[i].ev != NULL)
			event_free(s->listeners[i].ev);
		s->listeners[i].ev = NULL;
		if (s->listeners[i].fd >= 0)
			close(s->listeners[i].fd);
		s->listeners[i].fd = -1;
	}
	s->nlisteners = 0;
}
