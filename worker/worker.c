/*
 * The worker process: its start, its loop, the messages the supervisor
 * sends it (one handler each) and its exit.
 *
 * Signals: SIGTERM asks the supervisor to retire this worker (drain it,
 * then replace it); SIGINT is ignored, because Ctrl-C in a terminal
 * reaches the whole process group and the supervisor leads the shutdown;
 * SIGCHLD reaps pipe programs.  EOF on the channel means the supervisor
 * is gone: the worker closes everything and exits at once, with
 * PR_SET_PDEATHSIG as a backstop.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "log.h"
#include "worker.h"

void
worker_send(struct worker *w, unsigned type, const void *fixed,
    const void *tail, size_t taillen)
{
	if (w->ch == NULL || channel_closed(w->ch))
		return;
	if (channel_put(w->ch, type, fixed, tail, taillen, -1) != 0)
		log_warnx("cannot queue a %s message", msg_name(type));
	if (!w->blocked && channel_blocked(w->ch)) {
		/* The supervisor is behind: stop reading our clients. */
		w->blocked = 1;
		IDMAP_FOREACH (&w->clients, i) {
			struct client *c = w->clients.slots[i].obj;
			peer_pause(c->p);
		}
	}
}

static void
worker_unblock(struct channel *ch, void *arg)
{
	struct worker *w = arg;

	(void)ch;
	w->blocked = 0;
	IDMAP_FOREACH (&w->clients, i)
		client_maybe_resume(w->clients.slots[i].obj);
}

/* Exits once finishing and nothing is left: no client, no program. */
void
worker_check_done(struct worker *w)
{
	if (w->state == W_FINISHING && w->peers.count == 0 && w->npipes == 0)
		w->state = W_EXITING;
}

static void
worker_config(struct worker *w, const struct msg *m)
{
	struct msg_configured done = {m->u.config.generation, 0};
	struct conf c;

	conf_defaults(&c);
	if (msg_config_apply(m, &c) != 0) {
		conf_free(&c);
		log_errorx("out of memory for the configuration");
		return;
	}
	conf_free(&w->conf);
	w->conf = c;
	log_set_level((enum log_level)c.log_level);
	IDMAP_FOREACH (&w->clients, i)
		client_config(w->clients.slots[i].obj);
	worker_send(w, MSG_CONFIGURED, &done, NULL, 0);
	if (w->state == W_STARTING) {
		struct msg_hello h = {
		    MSG_VERSION, w->num, (uint32_t)getpid(), 0};
		w->state = W_SERVING;
		worker_send(w, MSG_HELLO, &h, NULL, 0);
	}
}

static void
worker_client_add(struct worker *w, const struct msg *m)
{
	struct msg_id gone = {m->u.client.id};

	if (m->fd < 0) {
		log_warnx("client %llu: its descriptor was lost in transit",
		    (unsigned long long)m->u.client.id);
		worker_send(w, MSG_CLIENT_GONE, &gone, NULL, 0);
		return;
	}
	if (w->state != W_SERVING) {
		close(m->fd);
		worker_send(w, MSG_CLIENT_GONE, &gone, NULL, 0);
	} else if (client_new(w, &m->u.client, m->fd) != 0) {
		log_warnx(
		    "client %llu: out of memory", (unsigned long long)gone.id);
		worker_send(w, MSG_CLIENT_GONE, &gone, NULL, 0);
	}
}

static void
worker_reply(struct worker *w, const struct msg *m)
{
	struct client *c = idmap_find(&w->clients, m->u.reply.client);

	if (c != NULL && c->waiting == m->u.reply.req)
		client_reply(c, m);
}

/* KICK or TIMEOUT for one of our clients: act, then answer MSG_ACTED
 * (for a kick only once the last line is out: client.c does that). */
static void
worker_act(struct worker *w, const struct msg *m)
{
	struct client *c = idmap_find(&w->clients, m->u.act.target);
	struct msg_acted a = {m->u.act.sreq, MSG_ACTED_NO_CLIENT, 0};

	if (c == NULL || w->state != W_SERVING) {
		worker_send(w, MSG_ACTED, &a, NULL, 0);
		return;
	}
	if (m->type == MSG_KICK) {
		client_kick(c, m->u.act.sreq, m->u.act.by);
		return;
	}
	client_set_timeout(c, m->u.act.ms);
	a.status = MSG_ACTED_DONE;
	worker_send(w, MSG_ACTED, &a, NULL, 0);
}

/* Phase 1 of shutdown: hand everything read so far to the supervisor. */
static void
worker_drain(struct worker *w)
{
	if (w->state != W_SERVING)
		return;
	w->state = W_DRAINING;
	IDMAP_FOREACH (&w->clients, i)
		client_final_read(w->clients.slots[i].obj);
	worker_send(w, MSG_DRAINED, NULL, NULL, 0);
}

/* Phase 2: every line is delivered; say goodbye and close. */
static void
worker_finish(struct worker *w, const struct msg_finish *f)
{
	static const char bye[] = "* shutdown\n";

	w->state = W_FINISHING;
	w->finish_ms = f->ms > 0 ? f->ms : 1;
	IDMAP_FOREACH (&w->clients, i)
		client_end(w->clients.slots[i].obj, bye, sizeof(bye) - 1);
	pipe_kill_all(w);
	worker_check_done(w);
}

static void
worker_msg(struct channel *ch, struct msg *m, void *arg)
{
	struct worker *w = arg;

	(void)ch;
	if (m->type != MSG_DELIVER)
		deliver_commit(w); /* keep chat lines in order with the rest */
	switch (m->type) {
	case MSG_CONFIG:
		worker_config(w, m);
		break;
	case MSG_CLIENT_ADD:
		worker_client_add(w, m);
		break;
	case MSG_DELIVER:
		deliver_add(w, m->u.line.from, m->tail, m->taillen);
		break;
	case MSG_REPLY:
		worker_reply(w, m);
		break;
	case MSG_KICK:
	case MSG_TIMEOUT:
		worker_act(w, m);
		break;
	case MSG_PIPE_GRANT:
		pipe_granted(w, &m->u.grant);
		break;
	case MSG_DRAIN:
		worker_drain(w);
		break;
	case MSG_FINISH:
		worker_finish(w, &m->u.finish);
		break;
	default:
		log_errorx("unexpected %s message from the supervisor",
		    msg_name(m->type));
		if (m->fd >= 0)
			close(m->fd);
		break;
	}
}

/* The supervisor is gone (or broke the protocol): leave now. */
static void
worker_orphaned(struct worker *w)
{
	peer_set_close_all(&w->peers);
	pipe_kill_all(w);
	w->state = W_FINISHING;
	worker_check_done(w);
}

static void
worker_close(struct channel *ch, const char *why, void *arg)
{
	struct worker *w = arg;

	(void)ch;
	if (why == NULL && w->state == W_FINISHING)
		return; /* the supervisor closed first at the very end */
	if (why == NULL)
		log_warnx("the supervisor is gone; exiting");
	w->exit_status = 1;
	worker_orphaned(w);
}

static const struct channel_ops worker_channel_ops = {
    .on_msg = worker_msg,
    .on_close = worker_close,
    .on_unblock = worker_unblock,
};

static void
worker_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct worker *w = arg;

	(void)what;
	if (sig == SIGCHLD) {
		pipe_reap(w);
	} else if (sig == SIGTERM) {
		if (w->ch == NULL || channel_closed(w->ch) ||
		    getppid() != w->parent)
			worker_orphaned(w);
		else if (w->state == W_SERVING)
			worker_send(w, MSG_RETIRE, NULL, NULL, 0);
	} else {
		log_debug("signal %d ignored: the supervisor leads", (int)sig);
	}
}

static struct event *
worker_signal(struct worker *w, int sig)
{
	struct event *ev = evsignal_new(w->base, sig, worker_signal_cb, w);

	if (ev == NULL || event_add(ev, NULL) != 0)
		fatalx("cannot watch signal %d", sig);
	return ev;
}

/* Parses "--worker N PPID" and ties our life to the supervisor's. */
static void
worker_args(struct worker *w, int argc, char **argv)
{
	char role[32], *end;
	long num, ppid;

	if (argc != 4)
		fatalx("usage: chatd --worker N PPID (started by chatd)");
	num = strtol(argv[2], &end, 10);
	if (*end != '\0' || num < 1 || num > CONF_WORKERS_MAX)
		fatalx("bad worker number %s", argv[2]);
	ppid = strtol(argv[3], &end, 10);
	if (*end != '\0' || ppid < 1)
		fatalx("bad parent pid %s", argv[3]);
	w->num = (unsigned)num;
	w->parent = (pid_t)ppid;
	snprintf(role, sizeof(role), "worker %u", w->num);
	log_set_role(role);
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0)
		log_warn("prctl(PR_SET_PDEATHSIG)");
	if (getppid() != w->parent)
		fatalx("the supervisor is already gone");
}

static void
worker_free(struct worker *w)
{
	struct event **evs[] = {
	    &w->sig_term, &w->sig_int, &w->sig_hup, &w->sig_chld};

	peer_set_close_all(&w->peers);
	peer_set_flush(&w->peers);
	idmap_free(&w->clients);
	if (w->ch != NULL)
		channel_free(w->ch);
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		if (*evs[i] != NULL)
			event_free(*evs[i]);
	deliver_free(w);
	free(w->batch);
	conf_free(&w->conf);
	event_base_free(w->base);
	libevent_global_shutdown();
}

/*
 * Once per loop iteration, everything queued goes out.  The supervisor's
 * channel first: the lines our clients said travel on while we write to
 * the clients (a broadcast to many clients takes a while), and whatever a
 * client learns from us the supervisor has been told before (a /ps right
 * after a /pipe reply does not list the program).  Then the chat lines,
 * then the other client output - which can queue more for the supervisor
 * (a kick is answered once the last line is out): the channel again.
 */
static void
worker_flush(struct worker *w)
{
	channel_flush(w->ch);
	deliver_flush(w);
	peer_set_flush(&w->peers);
	channel_flush(w->ch);
}

/* Our event base, with timers precise below the millisecond: the spacing
 * of delivery rounds (deliver.c) is often a fraction of one. */
static struct event_base *
worker_base(void)
{
	struct event_config *cfg = event_config_new();
	struct event_base *base;

	if (cfg == NULL ||
	    event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER) != 0)
		fatalx("event_config failed");
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return base;
}

int
worker_main(int argc, char **argv)
{
	static struct worker worker;
	struct worker *w = &worker;

	log_init("worker", LOG_INFO);
	worker_args(w, argc, argv);
	log_hook_libevent();
	(void)signal(SIGPIPE, SIG_IGN);
	conf_defaults(&w->conf);
	idmap_init(&w->clients);
	TAILQ_INIT(&w->pipes);
	w->base = worker_base();
	if (w->base == NULL)
		fatalx("event_base_new failed");
	peer_set_init(&w->peers, w->base);
	w->ch = channel_new(w->base, WORKER_CHANNEL_FD, &worker_channel_ops, w);
	if (w->ch == NULL)
		fatalx("cannot use the channel on fd %d", WORKER_CHANNEL_FD);
	w->sig_term = worker_signal(w, SIGTERM);
	w->sig_int = worker_signal(w, SIGINT);
	w->sig_hup = worker_signal(w, SIGHUP);
	w->sig_chld = worker_signal(w, SIGCHLD);
	/* One iteration of the loop, then everything it queued goes out. */
	for (worker_flush(w); w->state != W_EXITING; worker_flush(w))
		if (event_base_loop(w->base, EVLOOP_ONCE) < 0)
			fatalx("event loop failed");
	worker_free(w);
	return w->exit_status;
}
