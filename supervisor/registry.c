/*
 * The registry of child processes: every worker and every pipe program,
 * with its pid, role, slot, channel, state and start time.  Spawning,
 * reaping, respawning and shutdown all go through it; nothing else keeps
 * a list of pids.
 *
 * A worker is this same binary started with posix_spawn() as
 * "chatd --worker N PPID", its end of a SOCK_SEQPACKET socketpair on
 * descriptor 3 and nothing else open but 0-2.  A worker that dies is
 * reaped by the SIGCHLD handler (a waitpid loop), its clients are
 * forgotten and a replacement starts: at once if it exited cleanly after
 * being asked to, after a growing back-off if it keeps crashing.
 *
 * Pipe programs are the workers' children (a worker reaps its own); they
 * are listed here from MSG_PIPE_STARTED so that /ps and max_running see
 * the whole server.  The supervisor is a child subreaper, so the programs
 * of a worker that died come to it to be killed and reaped.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "reap.h"
#include "sup.h"
#include "worker.h"

#define REGISTRY_QUICK_DEATH_MS 10000 /* dying sooner counts as a crash */
#define REGISTRY_BACKOFF_MAX_MS 10000
#define REGISTRY_SNDBUF         (4 << 20)

/* Makes our end of a worker channel roomy: fan-out bursts queue there. */
static void
registry_sndbuf(int fd)
{
	int size = REGISTRY_SNDBUF;

	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) !=
	    0)
		(void)setsockopt(
		    fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

/* Our environment minus what belongs to the supervisor alone: systemd's
 * notification socket, watchdog and socket-activation variables. */
static char **
registry_env(void)
{
	static const char *const drop[] = {"NOTIFY_SOCKET=", "WATCHDOG_USEC=",
	    "WATCHDOG_PID=", "LISTEN_PID=", "LISTEN_FDS=", "LISTEN_FDNAMES="};
	size_t n = 0, k = 0;
	char **env;

	while (environ[n] != NULL)
		n++;
	env = calloc(n + 1, sizeof(*env));
	if (env == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		size_t d = 0;
		while (d < sizeof(drop) / sizeof(drop[0]) &&
		    strncmp(environ[i], drop[d], strlen(drop[d])) != 0)
			d++;
		if (d == sizeof(drop) / sizeof(drop[0]))
			env[k++] = environ[i];
	}
	return env;
}

/* posix_spawn()s the worker binary; returns its pid or -1. */
static pid_t
registry_exec(struct sup *s, unsigned num, int fd)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	char snum[16], sppid[24];
	char worker[] = "--worker";
	char *argv[] = {s->exe, worker, snum, sppid, NULL};
	sigset_t none, all;
	char **env = registry_env();
	pid_t pid;
	int r;

	if (env == NULL) {
		log_warnx("worker %u: no memory to start it", num);
		return -1;
	}
	snprintf(snum, sizeof(snum), "%u", num);
	snprintf(sppid, sizeof(sppid), "%ld", (long)getpid());
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fd, WORKER_CHANNEL_FD);
	posix_spawn_file_actions_addclosefrom_np(&fa, WORKER_CHANNEL_FD + 1);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(
	    &attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	r = posix_spawn(&pid, s->exe, &fa, &attr, argv, env);
	free(env);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0) {
		errno = r;
		log_error("worker %u: cannot start %s", num, s->exe);
		return -1;
	}
	return pid;
}

static int
registry_channel(struct sup *s, struct child *c)
{
	c->ch = channel_new(s->base, c->chfd, &dispatch_ops, c);
	if (c->ch == NULL) {
		log_errorx("worker %u: no memory for its channel", c->slot);
		return -1;
	}
	c->chfd = -1;
	return registry_send_config(s, c);
}

/* Starts the worker of slot sl.  Before the event base exists the
 * channel is made later, by registry_attach(). */
static int
registry_spawn(struct sup *s, struct slot *sl)
{
	struct child *c;
	int sv[2], t;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC,
	        0, sv) != 0) {
		log_error("worker %u: socketpair", sl->num);
		return -1;
	}
	if (sv[1] == WORKER_CHANNEL_FD) { /* dup2 onto itself keeps CLOEXEC */
		t = fcntl(sv[1], F_DUPFD_CLOEXEC, WORKER_CHANNEL_FD + 1);
		close(sv[1]);
		sv[1] = t;
	}
	registry_sndbuf(sv[0]);
	registry_sndbuf(sv[1]);
	c = calloc(1, sizeof(*c));
	pid = c == NULL || sv[1] < 0 ? -1 : registry_exec(s, sl->num, sv[1]);
	if (sv[1] >= 0)
		close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		free(c);
		return -1;
	}
	c->pid = pid;
	c->role = ROLE_WORKER;
	c->slot = sl->num;
	c->state = CHILD_STARTING;
	c->started_ms = clock_ms();
	c->restarts = sl->crashes;
	c->chfd = sv[0];
	c->sup = s;
	TAILQ_INSERT_TAIL(&s->children, c, link);
	sl->child = c;
	sl->last_start_ms = c->started_ms;
	log_debug("worker %u: started, pid %ld", sl->num, (long)pid);
	return s->base != NULL ? registry_channel(s, c) : 0;
}

int
registry_start(struct sup *s)
{
	for (unsigned i = 0; i < s->nworkers; i++) {
		s->slots[i].num = i + 1;
		s->slots[i].sup = s;
		if (registry_spawn(s, &s->slots[i]) != 0)
			return -1;
	}
	return 0;
}

static void
registry_restart_cb(evutil_socket_t fd, short what, void *arg)
{
	struct slot *sl = arg;
	struct timeval tv = clock_tv(REGISTRY_BACKOFF_MAX_MS);

	(void)fd;
	(void)what;
	if (sl->sup->state != SUP_RUNNING || sl->child != NULL)
		return;
	if (registry_spawn(sl->sup, sl) != 0)
		evtimer_add(sl->restart, &tv);
}

int
registry_attach(struct sup *s)
{
	struct child *c;

	for (unsigned i = 0; i < s->nworkers; i++) {
		s->slots[i].restart =
		    evtimer_new(s->base, registry_restart_cb, &s->slots[i]);
		if (s->slots[i].restart == NULL)
			return -1;
	}
	TAILQ_FOREACH (c, &s->children, link)
		if (c->chfd >= 0 && registry_channel(s, c) != 0)
			return -1;
	return 0;
}

int
registry_send_config(struct sup *s, struct child *w)
{
	struct msg_config mc;
	char *progs;
	long len;
	int r;

	memset(&mc, 0, sizeof(mc));
	mc.max_output = s->conf.max_output;
	mc.pipe_max_output = s->conf.pipe_max_output;
	mc.max_line = s->conf.max_line;
	mc.rate = s->conf.rate;
	mc.burst = s->conf.burst;
	mc.pipe_timeout_ms = s->conf.pipe_timeout_ms;
	mc.log_level = (uint32_t)s->conf.log_level;
	mc.nprograms = (uint32_t)s->conf.nprograms;
	mc.generation = s->config_gen;
	progs = malloc(MSG_TAIL_MAX);
	len = progs == NULL
	    ? -1
	    : msg_config_programs(&s->conf, progs, MSG_TAIL_MAX);
	r = len < 0
	    ? -1
	    : channel_put(w->ch, MSG_CONFIG, &mc, progs, (size_t)len, -1);
	free(progs);
	if (r != 0)
		log_errorx("worker %u: cannot send the configuration", w->slot);
	return r;
}

struct child *
registry_worker(struct sup *s, unsigned slot)
{
	if (slot < 1 || slot > s->nworkers)
		return NULL;
	return s->slots[slot - 1].child;
}

struct child *
registry_find_pid(struct sup *s, pid_t pid)
{
	struct child *c;

	TAILQ_FOREACH (c, &s->children, link)
		if (c->pid == pid)
			return c;
	return NULL;
}

/* The serving worker with the fewest clients (the lowest number wins). */
struct child *
registry_least_loaded(struct sup *s)
{
	struct child *best = NULL, *w;

	for (unsigned i = 0; i < s->nworkers; i++) {
		w = s->slots[i].child;
		if (w == NULL || w->state != CHILD_SERVING || w->killed ||
		    channel_closed(w->ch))
			continue;
		if (best == NULL || w->nclients < best->nclients)
			best = w;
	}
	return best;
}

unsigned
registry_count(struct sup *s, enum child_role role)
{
	struct child *c;
	unsigned n = 0;

	TAILQ_FOREACH (c, &s->children, link)
		if (c->role == role && (role != ROLE_PIPE || c->pid > 0))
			n++;
	return n;
}

void
registry_kill_all(struct sup *s, int sig)
{
	struct child *c;

	TAILQ_FOREACH (c, &s->children, link) {
		if (c->role != ROLE_WORKER || c->state == CHILD_EXITED)
			continue;
		if (kill(c->pid, sig) == 0 && sig == SIGKILL)
			c->killed = 1;
	}
}

void
registry_worker_hello(struct sup *s, struct child *w, const struct msg_hello *h)
{
	if (h->version != MSG_VERSION || h->worker != w->slot ||
	    h->pid != (uint32_t)w->pid || w->state != CHILD_STARTING) {
		log_errorx("worker %u (pid %ld): bad hello (version %u, "
		           "worker %u, pid %u); stopping it",
		    w->slot, (long)w->pid, h->version, h->worker, h->pid);
		if (kill(w->pid, SIGKILL) == 0)
			w->killed = 1;
		return;
	}
	w->state = s->state >= SUP_DRAINING ? CHILD_DRAINING : CHILD_SERVING;
	log_info("worker %u serving (pid %ld)", w->slot, (long)w->pid);
	if (s->state == SUP_STARTING) {
		for (unsigned i = 0; i < s->nworkers; i++)
			if (s->slots[i].child == NULL ||
			    s->slots[i].child->state != CHILD_SERVING)
				return;
		s->state = SUP_RUNNING;
		if (accept_start(s) != 0)
			fatalx("cannot watch the listeners");
		notify_ready(s);
	}
	if (s->state == SUP_RUNNING) {
		accept_unpark(s);
		accept_resume(s);
	}
}

static void
registry_remove(struct sup *s, struct child *c)
{
	TAILQ_REMOVE(&s->children, c, link);
	if (c->ch != NULL)
		channel_free(c->ch);
	if (c->chfd >= 0)
		close(c->chfd);
	free(c);
}

/* A worker died: kill what is left of its pipe programs.  They are
 * reparented to us (subreaper) and reaped by registry_reap(). */
static void
registry_orphan_pipes(struct sup *s, unsigned slot)
{
	struct child *c, *next;

	for (c = TAILQ_FIRST(&s->children); c != NULL; c = next) {
		next = TAILQ_NEXT(c, link);
		if (c->role != ROLE_PIPE || c->slot != slot)
			continue;
		/* Wait only for a leader that is our child now: the worker
		 * may have reaped it already. */
		if (c->pid > 0 && kill(-c->pid, SIGKILL) == 0 &&
		    waitpid(c->pid, NULL, WNOHANG) == 0) {
			c->state = CHILD_DRAINING; /* ours to reap now */
			continue;
		}
		registry_remove(s, c);
	}
}

/* The restart delay of a slot whose worker just ended. */
static uint64_t
registry_backoff(struct slot *sl, int crashed)
{
	uint64_t ms;

	if (!crashed) {
		sl->crashes = 0;
		return 0;
	}
	if (clock_ms() - sl->last_start_ms > REGISTRY_QUICK_DEATH_MS)
		sl->crashes = 0;
	sl->crashes++;
	ms = 100u << (sl->crashes < 8 ? sl->crashes - 1 : 7);
	return ms > REGISTRY_BACKOFF_MAX_MS ? REGISTRY_BACKOFF_MAX_MS : ms;
}

static void
registry_describe(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(
		    buf, len, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d%s", WTERMSIG(status),
		    WCOREDUMP(status) ? " (core dumped)" : "");
	else
		snprintf(buf, len, "ended (status %#x)", (unsigned)status);
}

static void
registry_worker_exited(struct sup *s, struct child *c, int status)
{
	struct slot *sl = &s->slots[c->slot - 1];
	int asked = c->state == CHILD_DRAINING || s->state >= SUP_DRAINING;
	int clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	struct timeval tv;
	char how[64];

	registry_describe(status, how, sizeof(how));
	if (asked && clean)
		log_info("worker %u (pid %ld) %s", c->slot, (long)c->pid, how);
	else
		log_warnx("worker %u (pid %ld) %s", c->slot, (long)c->pid, how);
	clients_forget_worker(s, c->slot);
	request_worker_gone(s, c->slot);
	registry_orphan_pipes(s, c->slot);
	if (sl->child == c)
		sl->child = NULL;
	registry_remove(s, c);
	reload_check(s);
	if (s->state == SUP_RUNNING || s->state == SUP_STARTING) {
		tv = clock_tv(registry_backoff(sl, !(asked && clean)));
		evtimer_add(sl->restart, &tv);
	} else {
		shutdown_worker_exited(s);
	}
}

void
registry_reap(struct sup *s)
{
	struct child *c;
	int status;
	pid_t pid;

	while ((pid = reap_one(&status)) > 0) {
		c = registry_find_pid(s, pid);
		if (c == NULL)
			log_debug("reaped process %ld", (long)pid);
		else if (c->role == ROLE_PIPE)
			registry_remove(s, c);
		else
			registry_worker_exited(s, c, status);
	}
}

/* The pipe entry a worker means by its pipe id. */
static struct child *
registry_pipe(struct sup *s, struct child *w, uint64_t req)
{
	struct child *c;

	TAILQ_FOREACH (c, &s->children, link)
		if (c->role == ROLE_PIPE && c->slot == w->slot &&
		    c->pipe_req == req)
			return c;
	return NULL;
}

/* max_running counts the whole server, so workers ask here first. */
void
registry_pipe_acquire(struct sup *s, struct child *w, const struct msg *m)
{
	struct msg_grant g;
	struct child *c = NULL;
	unsigned running = 0;

	TAILQ_FOREACH (c, &s->children, link)
		if (c->role == ROLE_PIPE)
			running++;
	memset(&g, 0, sizeof(g));
	g.req = m->u.pipe.req;
	c = NULL;
	if (s->state == SUP_RUNNING && running < s->conf.pipe_max_running)
		c = calloc(1, sizeof(*c));
	if (c != NULL) {
		c->role = ROLE_PIPE;
		c->slot = w->slot;
		c->state = CHILD_STARTING;
		c->pipe_req = m->u.pipe.req;
		c->client = m->u.pipe.client;
		c->chfd = -1;
		c->sup = s;
		c->started_ms = clock_ms();
		memcpy(c->name, m->tail, m->taillen);
		c->name[m->taillen] = '\0';
		TAILQ_INSERT_TAIL(&s->children, c, link);
		g.ok = 1;
	}
	channel_put(w->ch, MSG_PIPE_GRANT, &g, NULL, 0, -1);
}

void
registry_pipe_started(struct sup *s, struct child *w, const struct msg_pipe *p)
{
	struct child *c = registry_pipe(s, w, p->req);

	if (c == NULL || p->pid == 0) {
		log_errorx("worker %u: start of unknown pipe %llu", w->slot,
		    (unsigned long long)p->req);
		return;
	}
	c->pid = (pid_t)p->pid;
	c->state = CHILD_SERVING;
	c->started_ms = clock_ms();
}

void
registry_pipe_ended(struct sup *s, struct child *w, const struct msg_pipe *p)
{
	struct child *c = registry_pipe(s, w, p->req);

	if (c != NULL)
		registry_remove(s, c);
}

void
registry_free(struct sup *s)
{
	struct child *c, *next;

	for (c = TAILQ_FIRST(&s->children); c != NULL; c = next) {
		next = TAILQ_NEXT(c, link);
		registry_remove(s, c);
	}
	for (unsigned i = 0; i < s->nworkers; i++) {
		if (s->slots[i].restart != NULL)
			event_free(s->slots[i].restart);
		s->slots[i].restart = NULL;
		s->slots[i].child = NULL;
	}
}
