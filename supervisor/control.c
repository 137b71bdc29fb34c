/*
 * The control socket: a Unix stream socket (mode 0600) that takes the
 * chat's command lines plus the admin ones, for chatctl.  Only the
 * server's own uid and root are served (SO_PEERCRED at accept); anyone
 * else gets "-ERR permission denied" and a lingering close.  A socket
 * left by a dead server is replaced; a live server's is left alone and
 * we refuse to start.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "clock.h"
#include "command.h"
#include "ctlpath.h"
#include "log.h"
#include "reply.h"
#include "sup.h"

#define CONTROL_BACKLOG  64
#define CONTROL_LINE_MAX 4096

struct ctl_conn {
	uint64_t id;
	struct peer *p;
	struct sup *sup;
	unsigned waiting : 1; /* a routed command has not been answered */
	unsigned eof : 1;
	char reload[128]; /* the /reload reply, sent once it is in force */
};

static void control_accept_cb(evutil_socket_t lfd, short what, void *arg);

static int
control_addr(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path)) {
		log_errorx("control socket path too long: %s", path);
		return -1;
	}
	strcpy(sun->sun_path, path);
	return 0;
}

/* 1 if a server answers on path, 0 if not (a stale socket is removed). */
static int
control_live(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), r;

	if (fd < 0)
		return 0;
	r = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	close(fd);
	if (r == 0)
		return 1;
	if (errno == ECONNREFUSED) {
		log_info("removing stale control socket %s", sun->sun_path);
		unlink(sun->sun_path);
	}
	return 0;
}

int
control_open(struct sup *s)
{
	struct sockaddr_un sun;
	mode_t old;
	int fd, r;

	if (s->conf.control != NULL)
		snprintf(
		    s->ctl_path, sizeof(s->ctl_path), "%s", s->conf.control);
	else if (ctlpath_default(s->ctl_path, sizeof(s->ctl_path)) != 0)
		return log_errorx("control socket path too long"), -1;
	if (control_addr(s->ctl_path, &sun) != 0)
		return -1;
	if (ctlpath_prepare_dir(s->ctl_path) != 0)
		return log_error(
		           "control socket directory for %s", s->ctl_path),
		       -1;
	if (control_live(&sun)) {
		log_errorx("another chatd is running on %s", s->ctl_path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return log_error("socket"), -1;
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (r != 0 || chmod(s->ctl_path, 0600) != 0 ||
	    listen(fd, CONTROL_BACKLOG) != 0) {
		log_error("control socket %s", s->ctl_path);
		close(fd);
		return -1;
	}
	s->ctl_fd = fd;
	log_info("control socket %s", s->ctl_path);
	return 0;
}

int
control_attach(struct sup *s)
{
	s->ctl_ev = event_new(
	    s->base, s->ctl_fd, EV_READ | EV_PERSIST, control_accept_cb, s);
	return s->ctl_ev == NULL || event_add(s->ctl_ev, NULL) != 0 ? -1 : 0;
}

void
control_pause(struct sup *s)
{
	if (s->ctl_ev != NULL)
		event_del(s->ctl_ev);
}

void
control_resume(struct sup *s)
{
	if (s->ctl_ev != NULL && s->ctl_fd >= 0 &&
	    !event_pending(s->ctl_ev, EV_READ, NULL))
		event_add(s->ctl_ev, NULL);
}

void
control_close(struct sup *s)
{
	IDMAP_FOREACH (&s->ctls, i) {
		struct ctl_conn *c = s->ctls.slots[i].obj;
		peer_cut(c->p); /* on_gone frees c */
	}
	idmap_free(&s->ctls);
	if (s->ctl_ev != NULL)
		event_free(s->ctl_ev);
	s->ctl_ev = NULL;
	if (s->ctl_fd >= 0) {
		close(s->ctl_fd);
		unlink(s->ctl_path);
	}
	s->ctl_fd = -1;
}

/* Refused connections: read and dropped until the lingering close ends. */
static int
control_refused_line(
    struct peer *p, enum line_status st, const char *l, size_t len, void *arg)
{
	(void)p, (void)st, (void)l, (void)len, (void)arg;
	return 0;
}

static void
control_refused_eof(struct peer *p, void *arg)
{
	(void)p, (void)arg;
}

static void
control_refused_gone(struct peer *p, void *arg)
{
	(void)p, (void)arg;
}

static const struct peer_ops control_refused_ops = {
    .on_line = control_refused_line,
    .on_eof = control_refused_eof,
    .on_gone = control_refused_gone,
};

void
control_refuse(struct sup *s, int fd, const char *line)
{
	struct peer *p = peer_new(&s->peers, fd, 64, &control_refused_ops, s);

	if (p == NULL) {
		close(fd);
		return;
	}
	peer_drain(p, line, strlen(line), PEER_DRAIN_MS);
}

static void
control_say(struct sup *s, struct ctl_conn *c, const char *t, size_t n)
{
	if (s->state != SUP_RUNNING) {
		peer_write(c->p, "-ERR shutting down\n", 19);
		return;
	}
	fanout_line(s, 0, t, n);
	peer_write(c->p, "+OK\n", 4);
}

static void
control_status(struct sup *s, struct ctl_conn *c)
{
	struct evbuffer *b = evbuffer_new();

	if (b == NULL)
		return;
	reply_printf(b, "+OK status");
	reply_dataf(b, "pid=%ld", (long)getpid());
	reply_dataf(b, "version=%s", PACKAGE_VERSION);
	reply_dataf(b, "uptime=%llu",
	    (unsigned long long)((clock_ms() - s->started_ms) / 1000));
	reply_dataf(b, "workers=%u", registry_count(s, ROLE_WORKER));
	reply_dataf(b, "clients=%zu", s->clients.count);
	reply_dataf(b, "messages=%llu", (unsigned long long)s->messages);
	reply_dataf(b, "pipes=%u", registry_count(s, ROLE_PIPE));
	for (size_t i = 0; i < s->nlisteners; i++)
		reply_dataf(b, "listen=%s", s->listeners[i].text);
	reply_end(b);
	peer_write_buffer(c->p, b);
	evbuffer_free(b);
}

static void
control_simple(struct ctl_conn *c, const char *text)
{
	struct evbuffer *b = evbuffer_new();

	if (b == NULL)
		return;
	reply_printf(b, "+OK commands");
	reply_data_lines(b, text, strlen(text));
	reply_end(b);
	peer_write_buffer(c->p, b);
	evbuffer_free(b);
}

/* Runs one command; returns 1 when its reply comes later. */
static int
control_command(struct sup *s, struct ctl_conn *c, const struct command *cmd)
{
	struct origin o = {0, 0, 0, c->id};

	switch (cmd->id) {
	case CMD_HELP:
		control_simple(c, command_help(COMMAND_CONTROL));
		return 0;
	case CMD_WHO:
		request_who(s, &o);
		return 0;
	case CMD_PS:
		request_ps(s, &o);
		return 0;
	case CMD_KICK:
	case CMD_TIMEOUT:
		c->waiting = 1;
		request_act(s, &o,
		    cmd->id == CMD_KICK ? MSG_CMD_KICK : MSG_CMD_TIMEOUT,
		    cmd->target, cmd->ms);
		return c->waiting;
	case CMD_SAY:
		control_say(s, c, cmd->text, cmd->textlen);
		return 0;
	case CMD_STATUS:
		control_status(s, c);
		return 0;
	case CMD_RELOAD:
		c->waiting = 1;
		if (reload_run(s, c->reload, sizeof(c->reload)) < 0) {
			c->waiting = 0;
			peer_write(c->p, c->reload, strlen(c->reload));
			c->reload[0] = '\0';
		}
		return c->waiting; /* reload_run may have answered at once */
	case CMD_SHUTDOWN:
		peer_write(c->p, "+OK shutting down\n", 18);
		shutdown_begin(s, "/shutdown on the control socket");
		return 0;
	case CMD_QUIT:
		peer_drain(c->p, "+OK bye\n", 8, PEER_DRAIN_MS);
		return 0;
	default:
		peer_write(c->p, "-ERR not a control command\n", 27);
		return 0;
	}
}

static int
control_line(
    struct peer *p, enum line_status st, const char *l, size_t len, void *arg)
{
	struct ctl_conn *c = arg;
	char err[192], line[208];
	struct command cmd;

	if (st != LINE_OK) {
		peer_write(p, line,
		    line_refusal(line, sizeof(line), st, CONTROL_LINE_MAX));
		return 0;
	}
	if (len == 0)
		return 0;
	if (l[0] != '/' || (len > 1 && l[1] == '/')) {
		static const char e[] = "-ERR not a command: the control "
		                        "socket takes /commands (try /help)\n";
		peer_write(p, e, sizeof(e) - 1);
		return 0;
	}
	if (command_parse(l, len, COMMAND_CONTROL, &cmd, err, sizeof(err)) !=
	    0) {
		peer_write(p, line, command_refusal(line, sizeof(line), err));
		return 0;
	}
	return control_command(c->sup, c, &cmd);
}

static void
control_eof(struct peer *p, void *arg)
{
	struct ctl_conn *c = arg;

	c->eof = 1;
	if (!c->waiting)
		peer_drain(p, NULL, 0, PEER_DRAIN_MS);
}

static void
control_gone(struct peer *p, void *arg)
{
	struct ctl_conn *c = arg;

	(void)p;
	idmap_remove(&c->sup->ctls, c->id);
	free(c);
}

static const struct peer_ops control_ops = {
    .on_line = control_line,
    .on_eof = control_eof,
    .on_gone = control_gone,
};

void
control_reloaded(struct sup *s)
{
	struct evbuffer *b;

	IDMAP_FOREACH (&s->ctls, i) {
		struct ctl_conn *c = s->ctls.slots[i].obj;
		if (c->reload[0] == '\0' || (b = evbuffer_new()) == NULL)
			continue;
		evbuffer_add(b, c->reload, strlen(c->reload));
		c->reload[0] = '\0';
		control_reply(s, c->id, b);
		evbuffer_free(b);
	}
}

void
control_reply(struct sup *s, uint64_t id, struct evbuffer *text)
{
	struct ctl_conn *c = idmap_find(&s->ctls, id);

	if (c == NULL) {
		evbuffer_drain(text, evbuffer_get_length(text));
		return;
	}
	peer_write_buffer(c->p, text);
	if (!c->waiting)
		return;
	c->waiting = 0;
	if (c->eof)
		peer_drain(c->p, NULL, 0, PEER_DRAIN_MS);
	else
		peer_resume(c->p);
}

/* Serves fd if its peer is the server's uid or root. */
static void
control_serve(struct sup *s, int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct ctl_conn *c;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
	    (cred.uid != 0 && cred.uid != geteuid())) {
		log_info("control: refused uid %ld",
		    len == sizeof(cred) ? (long)cred.uid : -1L);
		control_refuse(s, fd, "-ERR permission denied\n");
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c != NULL) {
		c->id = ++s->last_ctl;
		c->sup = s;
		c->p =
		    peer_new(&s->peers, fd, CONTROL_LINE_MAX, &control_ops, c);
	}
	if (c == NULL || c->p == NULL || idmap_add(&s->ctls, c->id, c) != 0) {
		log_warnx("control: out of memory");
		if (c != NULL && c->p != NULL)
			peer_cut(c->p);
		else {
			free(c);
			close(fd);
		}
	}
}

static void
control_accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct sup *s = arg;
	int fd;

	(void)what;
	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd >= 0) {
		control_serve(s, fd);
		return;
	}
	if (errno == EMFILE || errno == ENFILE) {
		accept_exhausted(s);
		return;
	}
	if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
	    errno != ECONNABORTED)
		log_warn("control: accept");
}
