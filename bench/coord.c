/*
 * The coordinator (coord.h).
 *
 * Everything waits in one epoll set with deadlines: the generators'
 * report pipes, the publisher's socket and, in latency mode, a timerfd
 * that paces the publisher.  A message is complete when every generator
 * says its subscribers have it; the completed count is the minimum over
 * the generators, and the time it was reached the latest of their times.
 */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coord.h"
#include "gen.h"

#define COORD_EVENTS    64
#define COORD_TOKEN_PUB 0xfffffff0u
#define COORD_TOKEN_TFD 0xfffffff1u
#define COORD_SETUP_S   30.0 /* to fork, to report READY, to finish */

/* Ends the run; the first text is the one reported. */
__attribute__((format(printf, 2, 0))) static void
coord_vnote(struct coord *c, const char *fmt, va_list ap)
{
	c->aborted = 1;
	if (c->error[0] == '\0')
		(void)vsnprintf(c->error, sizeof(c->error), fmt, ap);
}

/* Something another process counted already (a generator, the publisher). */
__attribute__((format(printf, 2, 3))) static void
coord_note(struct coord *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	coord_vnote(c, fmt, ap);
	va_end(ap);
}

/* An error of the coordinator's own: counted here. */
__attribute__((format(printf, 2, 3))) static void
coord_error(struct coord *c, const char *fmt, ...)
{
	va_list ap;

	c->errors++;
	va_start(ap, fmt);
	coord_vnote(c, fmt, ap);
	va_end(ap);
}

static uint64_t
coord_after(double seconds)
{
	return bench_now() + (uint64_t)(seconds * 1e9);
}

/* ------------------------------------------------------------ children */

static void
coord_progress(
    struct coord *c, struct coord_child *k, const struct wire_progress *p)
{
	uint64_t min = UINT64_MAX, t = 0;

	k->completed = p->completed;
	k->t_completed = p->t;
	for (unsigned i = 0; i < c->nch; i++) {
		if (c->ch[i].completed < min)
			min = c->ch[i].completed;
		if (c->ch[i].t_completed > t)
			t = c->ch[i].t_completed;
	}
	if (min > c->completed) {
		c->completed = min;
		c->t_completed = t;
	}
}

static void
coord_record(struct coord *c, struct coord_child *k, unsigned idx,
    const struct wire_hdr *h, const void *body)
{
	const struct wire_registered *reg = body;
	const struct wire_error *e = body;

	switch (h->type) {
	case WIRE_READY:
		k->ready = 1;
		break;
	case WIRE_REGISTERED:
		k->registered = 1;
		k->t_reg = reg->t_last;
		break;
	case WIRE_PROGRESS:
		coord_progress(c, k, body);
		break;
	case WIRE_ERROR:
		coord_note(c, "generator %u: %.160s", idx, e->text);
		break;
	case WIRE_FINAL:
		memcpy(&k->fin, body, sizeof(k->fin));
		k->final = 1;
		break;
	default:
		coord_error(c, "generator %u: record of type %u", idx, h->type);
	}
}

static void
coord_child_read(struct coord *c, unsigned idx)
{
	struct coord_child *k = &c->ch[idx];
	struct wire_final body; /* the largest body there is */
	struct wire_hdr h;
	int rc, took;

	rc = wire_fill(&k->r, k->rep_fd);
	if (rc < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	while ((took = wire_take(&k->r, &h, &body, sizeof(body))) > 0)
		coord_record(c, k, idx, &h, &body);
	if (took == 0 && rc > 0)
		return;
	k->eof = 1;
	(void)epoll_ctl(c->ep, EPOLL_CTL_DEL, k->rep_fd, NULL);
	if (!k->final || took < 0) {
		coord_error(c, "generator %u ended unexpectedly", idx);
	}
}

static void
coord_child_start(struct coord *c, unsigned idx, int cmd[2], int rep[2])
{
	const struct bench_opts *o = c->o;
	struct gen_args a = {o, idx, 0, 0, c->pub.id, cmd[0], rep[1]};
	pid_t parent = getppid();

	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(BENCH_EXIT_FAIL);
	close(cmd[1]);
	close(rep[0]);
	for (unsigned i = 0; i < idx; i++) {
		close(c->ch[i].cmd_fd);
		close(c->ch[i].rep_fd);
	}
	if (c->pub.fd >= 0)
		close(c->pub.fd);
	close(c->ep);
	a.first = (unsigned)((uint64_t)o->n * idx / c->nch);
	a.n = (unsigned)((uint64_t)o->n * (idx + 1) / c->nch) - a.first;
	_exit(gen_main(&a));
}

static int
coord_fork(struct coord *c, unsigned idx)
{
	struct coord_child *k = &c->ch[idx];
	int cmd[2], rep[2];

	if (pipe2(cmd, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(rep, O_CLOEXEC) < 0) {
		close(cmd[0]);
		close(cmd[1]);
		return -1;
	}
	(void)fcntl(cmd[0], F_SETFL, O_NONBLOCK);
	(void)fcntl(rep[0], F_SETFL, O_NONBLOCK);
	(void)fflush(NULL);
	k->pid = fork();
	if (k->pid == 0)
		coord_child_start(c, idx, cmd, rep);
	close(cmd[0]);
	close(rep[1]);
	k->cmd_fd = cmd[1];
	k->rep_fd = rep[0];
	return k->pid < 0 ? -1 : 0;
}

static int
coord_spawn(struct coord *c)
{
	struct epoll_event ev = {EPOLLIN, {0}};

	c->nch = c->o->procs;
	c->ch = calloc(c->nch, sizeof(*c->ch));
	if (c->ch == NULL)
		return -1;
	for (unsigned i = 0; i < c->nch; i++) {
		c->ch[i].cmd_fd = c->ch[i].rep_fd = -1;
		if (coord_fork(c, i) < 0)
			return -1;
		ev.data.u32 = i;
		if (epoll_ctl(c->ep, EPOLL_CTL_ADD, c->ch[i].rep_fd, &ev) < 0)
			return -1;
	}
	return 0;
}

static void
coord_tell(struct coord *c, uint32_t type, const void *body, size_t len)
{
	for (unsigned i = 0; i < c->nch; i++)
		if (c->ch[i].cmd_fd >= 0 && !c->ch[i].eof &&
		    wire_send(c->ch[i].cmd_fd, type, body, len) < 0)
			coord_error(c, "generator %u: %s", i, strerror(errno));
}

/* ------------------------------------------------------------ publisher */

static void
coord_pub_sync(struct coord *c)
{
	struct epoll_event ev = {EPOLLIN, {.u32 = COORD_TOKEN_PUB}};
	int rc = pub_flush(&c->pub);

	if (rc < 0) {
		coord_note(c, "%s", c->pub.error);
		return;
	}
	if (rc == c->pub_out)
		return;
	ev.events = rc ? EPOLLIN | EPOLLOUT : EPOLLIN;
	c->pub_out = rc;
	(void)epoll_ctl(c->ep, EPOLL_CTL_MOD, c->pub.fd, &ev);
}

static void
coord_pub_event(struct coord *c, uint32_t events)
{
	if ((events & EPOLLOUT) != 0)
		coord_pub_sync(c);
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0 &&
	    pub_read(&c->pub) < 0)
		coord_note(c, "%s", c->pub.error);
	if (c->pub.errors > 0)
		coord_note(c, "%s", c->pub.error);
}

/* Sends as many messages as are due and fit in the window. */
static void
coord_pub_send(struct coord *c, uint64_t want)
{
	uint64_t room = c->completed + bench_ring_size(c->o) - c->pub.sent;

	if (c->o->mode == MODE_THROUGHPUT)
		room = c->completed + c->o->window - c->pub.sent;
	if (want > room)
		want = room;
	if (want == 0)
		return;
	if (pub_queue(&c->pub, want) < 0) {
		coord_error(c, "publisher: out of memory");
		return;
	}
	coord_pub_sync(c);
}

static void
coord_tick(struct coord *c)
{
	uint64_t exp;

	if (read(c->tfd, &exp, sizeof(exp)) != sizeof(exp))
		return;
	c->due += exp;
	c->late_ticks += exp - 1;
}

/* ------------------------------------------------------------ the loop */

/* Waits for one batch of events, at most until DEADLINE. */
static void
coord_step(struct coord *c, uint64_t deadline)
{
	struct epoll_event evs[COORD_EVENTS];
	int n;

	n = epoll_wait(c->ep, evs, COORD_EVENTS, bench_ms_until(deadline));
	if (n < 0 && errno != EINTR)
		coord_error(c, "epoll_wait: %s", strerror(errno));
	for (int i = 0; i < n; i++) {
		uint32_t t = evs[i].data.u32;
		if (t == COORD_TOKEN_PUB)
			coord_pub_event(c, evs[i].events);
		else if (t == COORD_TOKEN_TFD)
			coord_tick(c);
		else
			coord_child_read(c, t);
	}
}

static int
coord_all(const struct coord *c, size_t field)
{
	int set;

	for (unsigned i = 0; i < c->nch; i++) {
		memcpy(&set, (const char *)&c->ch[i] + field, sizeof(set));
		if (!set)
			return 0;
	}
	return 1;
}

/* Steps until every child has FIELD set; 0 then, -1 at the deadline. */
static int
coord_wait_all(
    struct coord *c, size_t field, uint64_t deadline, const char *what)
{
	while (!coord_all(c, field)) {
		if (c->aborted && field != offsetof(struct coord_child, final))
			return -1;
		if (bench_now() >= deadline) {
			coord_error(c, "generators not %s in time", what);
			return -1;
		}
		coord_step(c, deadline);
	}
	return 0;
}

/* Steps until every published message is complete (or DEADLINE). */
static void
coord_drain(struct coord *c, uint64_t deadline)
{
	while (
	    !c->aborted && c->completed < c->pub.sent && bench_now() < deadline)
		coord_step(c, deadline);
	if (!c->aborted && c->completed < c->pub.sent) {
		coord_error(c,
		    "%llu of %llu messages not delivered to all "
		    "within %g s",
		    (unsigned long long)(c->pub.sent - c->completed),
		    (unsigned long long)c->pub.sent, c->o->drain_timeout);
	}
}

/* ------------------------------------------------------------ phases */

static void
coord_throughput(struct coord *c)
{
	uint64_t end = coord_after(c->o->duration);

	while (!c->aborted && bench_now() < end) {
		coord_pub_send(c, UINT64_MAX);
		coord_step(c, end);
	}
	coord_drain(c, coord_after(c->o->drain_timeout));
}

static void
coord_latency(struct coord *c)
{
	uint64_t total = bench_latency_total(c->o);
	uint64_t period = 1000000000u / c->o->rate;
	struct itimerspec it = {
	    {(time_t)(period / 1000000000u), (long)(period % 1000000000u)},
	    {(time_t)(period / 1000000000u), (long)(period % 1000000000u)},
	};
	struct epoll_event ev = {EPOLLIN, {.u32 = COORD_TOKEN_TFD}};
	uint64_t end = coord_after(c->o->duration + c->o->drain_timeout);
	uint64_t before;

	c->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (c->tfd < 0 || epoll_ctl(c->ep, EPOLL_CTL_ADD, c->tfd, &ev) < 0 ||
	    timerfd_settime(c->tfd, 0, &it, NULL) < 0) {
		coord_error(c, "timerfd: %s", strerror(errno));
		return;
	}
	while (!c->aborted && c->pub.sent < total && bench_now() < end) {
		coord_step(c, end);
		if (c->due > total - c->pub.sent)
			c->due = total - c->pub.sent;
		before = c->pub.sent;
		coord_pub_send(c, c->due);
		c->due -= c->pub.sent - before;
		c->stalls += c->due > 0;
	}
	memset(&it, 0, sizeof(it));
	(void)timerfd_settime(c->tfd, 0, &it, NULL);
	if (!c->aborted && c->pub.sent < total)
		coord_error(c, "sent only %llu of %llu messages in %g s",
		    (unsigned long long)c->pub.sent, (unsigned long long)total,
		    c->o->duration + c->o->drain_timeout);
	coord_drain(c, coord_after(c->o->drain_timeout));
}

static void
coord_scale(struct coord *c)
{
	uint64_t t0;

	c->bcast_ns = calloc(c->o->count, sizeof(*c->bcast_ns));
	if (c->bcast_ns == NULL) {
		coord_error(c, "out of memory");
		return;
	}
	while (!c->aborted && c->nbcast < c->o->count) {
		t0 = bench_now();
		coord_pub_send(c, 1);
		coord_drain(c, coord_after(c->o->drain_timeout));
		if (!c->aborted)
			c->bcast_ns[c->nbcast++] = c->t_completed - t0;
	}
}

static void
coord_idle(struct coord *c)
{
	uint64_t end = coord_after(c->o->duration);

	while (!c->aborted && bench_now() < end)
		coord_step(c, end);
}

static void
coord_measure(struct coord *c)
{
	switch (c->o->mode) {
	case MODE_THROUGHPUT:
		coord_throughput(c);
		break;
	case MODE_LATENCY:
		coord_latency(c);
		break;
	case MODE_SCALE:
		coord_scale(c);
		break;
	case MODE_IDLE:
		coord_idle(c);
		break;
	case MODE_CONNECT:
		break;
	}
}

/* ------------------------------------------------------------ the run */

static void
coord_sample(struct coord *c, int i)
{
	c->cpu[i] = bench_cpu(RUSAGE_SELF);
	if (procstat_enabled(c->o)) {
		if (procstat_sample(c->o, &c->srv[i]) < 0)
			c->srv_ok = 0;
	} else {
		c->srv[i].machine_busy_s = procstat_machine_busy();
	}
}

static int
coord_publisher(struct coord *c)
{
	struct epoll_event ev = {EPOLLIN, {.u32 = COORD_TOKEN_PUB}};
	enum bench_mode m = c->o->mode;

	if (m == MODE_IDLE || m == MODE_CONNECT)
		return 0;
	if (pub_open(&c->pub, c->o, coord_after(c->o->connect_timeout)) < 0) {
		coord_note(c, "%s", c->pub.error);
		return -1;
	}
	return epoll_ctl(c->ep, EPOLL_CTL_ADD, c->pub.fd, &ev);
}

static void
coord_connect(struct coord *c)
{
	c->t_go = bench_now();
	coord_tell(c, WIRE_GO, NULL, 0);
	if (coord_wait_all(c, offsetof(struct coord_child, registered),
	        coord_after(c->o->connect_timeout + COORD_SETUP_S),
	        "registered") < 0)
		return;
	for (unsigned i = 0; i < c->nch; i++)
		if (c->ch[i].t_reg > c->t_registered)
			c->t_registered = c->ch[i].t_reg;
}

/* FINISH to every generator, their counters, and their exits. */
static void
coord_collect(struct coord *c)
{
	struct wire_finish f = {c->pub.sent, (uint32_t)c->aborted, 0};
	int st;

	coord_tell(c, WIRE_FINISH, &f, sizeof(f));
	(void)coord_wait_all(c, offsetof(struct coord_child, final),
	    coord_after(COORD_SETUP_S), "finished");
	memset(&c->tot, 0, sizeof(c->tot));
	for (unsigned i = 0; i < c->nch; i++) {
		struct coord_child *k = &c->ch[i];
		if (k->pid <= 0)
			continue;
		if (!k->final)
			kill(k->pid, SIGKILL);
		while (waitpid(k->pid, &st, 0) < 0 && errno == EINTR) {
			/* a signal: wait again */
		}
		k->pid = 0;
		c->tot.registered += k->fin.registered;
		c->tot.received += k->fin.received;
		c->tot.lost += k->fin.lost;
		c->tot.dup += k->fin.dup;
		c->tot.bad += k->fin.bad;
		c->tot.unexpected += k->fin.unexpected;
		c->tot.closed += k->fin.closed;
		c->tot.failures += k->fin.failures;
		c->tot.cpu_connect += k->fin.cpu_connect;
		c->tot.cpu_measure += k->fin.cpu_measure;
		hist_merge(&c->tot.lat, &k->fin.lat);
	}
}

void
coord_run(struct coord *c, const struct bench_opts *o)
{
	memset(c, 0, sizeof(*c));
	c->o = o;
	c->pub.fd = c->tfd = -1;
	c->srv_ok = 1;
	c->ep = epoll_create1(EPOLL_CLOEXEC);
	if (c->ep < 0 || coord_publisher(c) < 0 || coord_spawn(c) < 0) {
		coord_error(c, "setup: %s", strerror(errno));
		coord_collect(c);
		return;
	}
	if (coord_wait_all(c, offsetof(struct coord_child, ready),
	        coord_after(COORD_SETUP_S), "ready") == 0) {
		coord_sample(c, 0);
		coord_connect(c);
		coord_sample(c, 1);
		c->t_mark = bench_now();
		coord_tell(c, WIRE_MARK, NULL, 0);
		if (!c->aborted)
			coord_measure(c);
		coord_sample(c, 2);
		c->t_end = bench_now();
	}
	coord_collect(c);
	c->gen_cpu_total = bench_cpu(RUSAGE_SELF) + bench_cpu(RUSAGE_CHILDREN);
}

uint64_t
coord_errors(const struct coord *c)
{
	return c->tot.lost + c->tot.dup + c->tot.bad + c->tot.unexpected +
	    c->tot.closed + c->tot.failures + c->pub.errors + c->errors;
}

void
coord_free(struct coord *c)
{
	for (unsigned i = 0; c->ch != NULL && i < c->nch; i++) {
		if (c->ch[i].cmd_fd >= 0)
			close(c->ch[i].cmd_fd);
		if (c->ch[i].rep_fd >= 0)
			close(c->ch[i].rep_fd);
	}
	free(c->ch);
	free(c->bcast_ns);
	pub_close(&c->pub);
	if (c->tfd >= 0)
		close(c->tfd);
	if (c->ep >= 0)
		close(c->ep);
	c->ch = NULL;
	c->bcast_ns = NULL;
}
