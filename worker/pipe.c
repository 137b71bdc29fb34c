/*
 * /pipe NAME TEXT: run the program the configuration calls NAME, give it
 * TEXT and a newline on its standard input, and reply with its output.
 *
 * The supervisor first grants a place (max_running counts the whole
 * server).  The program is started by fork and execve (see pipe_exec for
 * why not posix_spawn) - no shell, TEXT never in argv - in its own process
 * group, with fds 0-2 only (stderr is
 * /dev/null), an empty signal mask, default signal dispositions and a
 * minimal environment.  Its exit (SIGCHLD, reaped by pipe_reap) and EOF
 * on its output are two events; the reply goes when both have happened.
 * Output is capped at [pipe] max_output (the group is killed, the reply
 * says "truncated") and the run at [pipe] timeout (the group is killed,
 * "-ERR NAME timed out").  A program whose requester left is killed and
 * still reaped.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "clock.h"
#include "log.h"
#include "reap.h"
#include "reply.h"
#include "worker.h"

#define PIPE_READ_MAX 16384

struct pipe_run {
	uint64_t id; /* also what the requester waits for */
	struct worker *w;
	struct client *c; /* NULL once the requester left */
	char name[CONF_NAME_MAX];
	char *input; /* TEXT "\n" */
	size_t inlen, inoff;
	pid_t pid; /* 0 until granted and started */
	int in_fd, out_fd;
	struct event *in_ev, *out_ev, *timer;
	struct evbuffer *out;
	int status;
	unsigned granted : 1;
	unsigned failed : 1; /* started, but its events could not be set */
	unsigned exited : 1;
	unsigned eof : 1;
	unsigned truncated : 1;
	unsigned timed_out : 1;
	TAILQ_ENTRY(pipe_run) link;
};

static void pipe_finish(struct pipe_run *p);

static void
pipe_free(struct pipe_run *p)
{
	struct worker *w = p->w;

	if (p->in_ev != NULL)
		event_free(p->in_ev);
	if (p->out_ev != NULL)
		event_free(p->out_ev);
	if (p->timer != NULL)
		event_free(p->timer);
	if (p->in_fd >= 0)
		close(p->in_fd);
	if (p->out_fd >= 0)
		close(p->out_fd);
	if (p->out != NULL)
		evbuffer_free(p->out);
	if (p->c != NULL)
		p->c->pipe = NULL;
	free(p->input);
	TAILQ_REMOVE(&w->pipes, p, link);
	w->npipes--;
	free(p);
	worker_check_done(w);
}

/* The slot the supervisor granted is free again. */
static void
pipe_release(struct pipe_run *p)
{
	struct msg_pipe mp = {
	    p->id, p->c != NULL ? p->c->id : 0, (uint32_t)p->pid, 0};

	worker_send(p->w, MSG_PIPE_ENDED, &mp, NULL, 0);
}

/* Answers the requester, if it still waits, and lets it read again. */
static void
pipe_answer(struct pipe_run *p, struct evbuffer *b)
{
	struct client *c = p->c;

	if (c == NULL || c->waiting != p->id)
		return;
	peer_write_buffer(c->p, b);
	c->waiting = 0;
	c->pipe = NULL;
	p->c = NULL;
	if (c->eof)
		client_end(c, NULL, 0);
	else
		client_maybe_resume(c);
}

static void
pipe_answer_line(struct pipe_run *p, const char *line)
{
	struct evbuffer *b = evbuffer_new();

	if (b == NULL)
		return;
	evbuffer_add(b, line, strlen(line));
	pipe_answer(p, b);
	evbuffer_free(b);
}

/* Stops the program: its whole process group, and our ends of its pipes.
 * It is still reaped by pipe_reap(). */
static void
pipe_stop(struct pipe_run *p)
{
	/* The group even when its leader has exited: what it left behind
	 * may still hold the output open. */
	if (p->pid > 0 && kill(-p->pid, SIGKILL) != 0 && errno != ESRCH)
		log_warn("pipe %s: kill", p->name);
	if (p->in_ev != NULL)
		event_del(p->in_ev);
	if (p->in_fd >= 0)
		close(p->in_fd);
	p->in_fd = -1;
	if (p->out_ev != NULL)
		event_del(p->out_ev);
	if (p->out_fd >= 0)
		close(p->out_fd);
	p->out_fd = -1;
	p->eof = 1;
}

int
pipe_request(struct client *c, const char *name, size_t namelen,
    const char *text, size_t textlen)
{
	struct worker *w = c->w;
	struct msg_pipe mp;
	struct pipe_run *p;
	char names[512], err[640];

	if (conf_program_find(&w->conf, name, namelen) == NULL) {
		conf_program_names(&w->conf, names, sizeof(names));
		snprintf(err, sizeof(err),
		    "-ERR unknown program %.*s (known: %s)\n",
		    (int)(namelen > 64 ? 64 : namelen), name,
		    names[0] != '\0' ? names : "none");
		client_write(c, err, strlen(err));
		return 0;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL || (p->input = malloc(textlen + 1)) == NULL) {
		free(p);
		client_write(c, "-ERR out of memory\n", 19);
		return 0;
	}
	p->id = ++w->last_req;
	p->w = w;
	p->c = c;
	memcpy(p->name, name, namelen);
	memcpy(p->input, text, textlen);
	p->input[textlen] = '\n';
	p->inlen = textlen + 1;
	p->in_fd = p->out_fd = -1;
	TAILQ_INSERT_TAIL(&w->pipes, p, link);
	w->npipes++;
	c->pipe = p;
	c->waiting = p->id;
	memset(&mp, 0, sizeof(mp));
	mp.req = p->id;
	mp.client = c->id;
	worker_send(w, MSG_PIPE_ACQUIRE, &mp, p->name, namelen);
	return 1;
}

static void
pipe_in_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pipe_run *p = arg;
	ssize_t n;

	(void)what;
	n = write(fd, p->input + p->inoff, p->inlen - p->inoff);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0)
		p->inoff += (size_t)n;
	if (n > 0 && p->inoff < p->inlen)
		return;
	/* All written, or the program stopped reading (EPIPE): EOF it. */
	event_del(p->in_ev);
	close(p->in_fd);
	p->in_fd = -1;
}

static void
pipe_out_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pipe_run *p = arg;
	size_t room = p->w->conf.pipe_max_output - evbuffer_get_length(p->out);
	char buf[PIPE_READ_MAX];
	ssize_t n;

	(void)what;
	n = read(fd, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0) {
		evbuffer_add(p->out, buf, (size_t)n < room ? (size_t)n : room);
		if ((size_t)n <= room)
			return;
		p->truncated = 1; /* over max_output: enough, kill it */
		pipe_stop(p);
	} else { /* EOF (or a broken pipe): the exit is the other event */
		event_del(p->out_ev);
		close(p->out_fd);
		p->out_fd = -1;
		p->eof = 1;
	}
	pipe_finish(p);
}

static void
pipe_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pipe_run *p = arg;

	(void)fd;
	(void)what;
	log_info("pipe %s (pid %ld): over %u ms, killed", p->name, (long)p->pid,
	    p->w->conf.pipe_timeout_ms);
	p->timed_out = 1;
	pipe_stop(p);
	pipe_finish(p);
}

/* Makes the two pipes: the child's ends blocking, ours nonblocking. */
static int
pipe_fds(int in[2], int out[2])
{
	if (pipe2(in, O_CLOEXEC) != 0)
		return -1;
	if (pipe2(out, O_CLOEXEC) != 0) {
		close(in[0]);
		close(in[1]);
		return -1;
	}
	if (fcntl(in[1], F_SETFL, O_NONBLOCK) != 0 ||
	    fcntl(out[0], F_SETFL, O_NONBLOCK) != 0) {
		close(in[0]), close(in[1]), close(out[0]), close(out[1]);
		return -1;
	}
	return 0;
}

/*
 * The child side of pipe_exec: only async-signal-safe calls until execve.
 * Every disposition goes back to SIG_DFL and the mask is emptied with the
 * raw system calls, because the C library's wrappers refuse its own two
 * internal signals, and glibc's posix_spawn leaves exactly those ignored
 * in the new program (glibc 2.36) - a program is owed the defaults.
 */
static void
pipe_child(const struct conf_program *prog, int in_r, int out_w, int status)
{
	static char path[] = "PATH=/usr/local/bin:/usr/bin:/bin";
	static char lang[] = "LC_ALL=C.UTF-8";
	char *const env[] = {path, lang, NULL};
	struct {
		void *handler;
		unsigned long flags;
		void *restorer;
		uint64_t mask;
	} dfl = {SIG_DFL, 0, NULL, 0};
	uint64_t none = 0;
	int e, null;

	for (int sig = 1; sig <= 64; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)syscall(SYS_rt_sigaction, sig, &dfl, NULL, 8);
	(void)setpgid(0, 0);
	null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (dup2(in_r, 0) < 0 || dup2(out_w, 1) < 0 || null < 0 ||
	    dup2(null, 2) < 0 || close_range(3, ~0u, CLOSE_RANGE_CLOEXEC) != 0)
		goto fail;
	(void)syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, 8);
	execve(prog->argv[0], prog->argv, env);
fail:
	e = errno;
	if (write(status, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

/*
 * Starts prog with stdin from in_r and stdout to out_w, in its own process
 * group, with fds 0-2 only, default dispositions, an empty signal mask and
 * a minimal environment.  Signals stay blocked across fork() so that no
 * handler of ours runs in the child.  A close-on-exec pipe tells whether
 * execve worked.  Returns 0 or an errno value.
 */
static int
pipe_exec(const struct conf_program *prog, int in_r, int out_w, pid_t *pid)
{
	sigset_t all, old;
	int status[2], e = 0;
	ssize_t n;

	if (pipe2(status, O_CLOEXEC) != 0)
		return errno;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	*pid = fork();
	if (*pid == 0)
		pipe_child(prog, in_r, out_w, status[1]);
	e = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(status[1]);
	if (*pid < 0) {
		close(status[0]);
		*pid = 0;
		return e;
	}
	(void)setpgid(*pid, *pid); /* no window where killpg misses it */
	do
		n = read(status[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(status[0]);
	if (n != (ssize_t)sizeof(e))
		return 0;             /* EOF: execve closed the pipe */
	(void)waitpid(*pid, NULL, 0); /* it has _exit()ed already */
	*pid = 0;
	return e;
}

/* Starts the program and its events; 0, or an errno value. */
static int
pipe_spawn(struct pipe_run *p, const struct conf_program *prog)
{
	struct timeval tv = clock_tv(p->w->conf.pipe_timeout_ms);
	int in[2], out[2], r;

	if (pipe_fds(in, out) != 0)
		return errno;
	r = pipe_exec(prog, in[0], out[1], &p->pid);
	close(in[0]);
	close(out[1]);
	p->in_fd = in[1];
	p->out_fd = out[0];
	if (r != 0) {
		p->pid = 0;
		return r;
	}
	p->out = evbuffer_new();
	p->in_ev = event_new(
	    p->w->base, p->in_fd, EV_WRITE | EV_PERSIST, pipe_in_cb, p);
	p->out_ev = event_new(
	    p->w->base, p->out_fd, EV_READ | EV_PERSIST, pipe_out_cb, p);
	p->timer = evtimer_new(p->w->base, pipe_timer_cb, p);
	if (p->out == NULL || p->in_ev == NULL || p->out_ev == NULL ||
	    p->timer == NULL || event_add(p->in_ev, NULL) != 0 ||
	    event_add(p->out_ev, NULL) != 0 ||
	    evtimer_add(p->timer, &tv) != 0) {
		pipe_stop(p); /* it is still reaped */
		return ENOMEM;
	}
	return 0;
}

void
pipe_granted(struct worker *w, const struct msg_grant *g)
{
	const struct conf_program *prog;
	struct pipe_run *p;
	struct msg_pipe mp;
	char err[160];
	int r;

	TAILQ_FOREACH (p, &w->pipes, link)
		if (p->id == g->req && !p->granted)
			break;
	if (p == NULL)
		return;
	p->granted = 1;
	if (!g->ok) {
		pipe_answer_line(p, "-ERR busy\n");
		pipe_free(p);
		return;
	}
	prog = conf_program_find(&w->conf, p->name, strlen(p->name));
	r = p->c == NULL || prog == NULL || w->state != W_SERVING
	    ? ECANCELED
	    : pipe_spawn(p, prog);
	if (r != 0 && p->pid > 0) {
		p->failed = 1; /* answered once it is reaped */
		return;
	}
	if (r != 0) {
		if (r != ECANCELED)
			log_warnx(
			    "pipe %s: cannot start: %s", p->name, strerror(r));
		snprintf(err, sizeof(err), "-ERR cannot run %s\n", p->name);
		pipe_answer_line(p, err);
		pipe_release(p);
		pipe_free(p);
		return;
	}
	memset(&mp, 0, sizeof(mp));
	mp.req = p->id;
	mp.client = p->c->id;
	mp.pid = (uint32_t)p->pid;
	worker_send(w, MSG_PIPE_STARTED, &mp, NULL, 0);
	log_debug("pipe %s: pid %ld for client %llu", p->name, (long)p->pid,
	    (unsigned long long)mp.client);
}

/* The reply: "+OK exit=N" or "+OK signal=N", maybe " truncated", then the
 * output as data lines. */
static void
pipe_reply_ok(struct pipe_run *p)
{
	struct evbuffer *b = evbuffer_new();
	size_t n = evbuffer_get_length(p->out);

	if (b == NULL)
		return;
	if (WIFSIGNALED(p->status))
		evbuffer_add_printf(b, "+OK signal=%d", WTERMSIG(p->status));
	else
		evbuffer_add_printf(b, "+OK exit=%d", WEXITSTATUS(p->status));
	reply_printf(b, "%s", p->truncated ? " truncated" : "");
	reply_data_lines(b, (const char *)evbuffer_pullup(p->out, -1), n);
	reply_end(b);
	pipe_answer(p, b);
	evbuffer_free(b);
}

/* Both events have happened (exit and EOF): answer and forget it. */
static void
pipe_finish(struct pipe_run *p)
{
	char err[96];

	if (!p->exited || !p->eof)
		return;
	/* A program and whatever it started in its process group end
	 * together: nothing it left running outlives its reply. */
	if (kill(-p->pid, SIGKILL) != 0 && errno != ESRCH)
		log_warn("pipe %s: kill", p->name);
	/* The slot is released before the requester may send its next
	 * command, so a /ps right after the reply no longer lists it. */
	pipe_release(p);
	if (p->failed) {
		snprintf(err, sizeof(err), "-ERR cannot run %s\n", p->name);
		pipe_answer_line(p, err);
	} else if (p->timed_out) {
		snprintf(err, sizeof(err), "-ERR %s timed out\n", p->name);
		pipe_answer_line(p, err);
	} else {
		pipe_reply_ok(p);
	}
	pipe_free(p);
}

void
pipe_reap(struct worker *w)
{
	struct pipe_run *p;
	int status;
	pid_t pid;

	while ((pid = reap_one(&status)) > 0) {
		TAILQ_FOREACH (p, &w->pipes, link)
			if (p->pid == pid)
				break;
		if (p == NULL) {
			log_debug("reaped unknown process %ld", (long)pid);
			continue;
		}
		p->exited = 1;
		p->status = status;
		pipe_finish(p);
	}
}

/* The requester left: the program is killed; it is still reaped. */
void
pipe_client_gone(struct client *c)
{
	struct pipe_run *p = c->pipe;

	if (p == NULL)
		return;
	p->c = NULL;
	c->pipe = NULL;
	if (p->pid > 0)
		pipe_stop(p);
}

/* Shutdown or orphaned: stop every program (each is still reaped); those
 * not started yet are forgotten at once. */
void
pipe_kill_all(struct worker *w)
{
	struct pipe_run *p, *next;

	for (p = TAILQ_FIRST(&w->pipes); p != NULL; p = next) {
		next = TAILQ_NEXT(p, link);
		if (p->c != NULL)
			p->c->pipe = NULL;
		p->c = NULL;
		if (p->pid > 0) {
			pipe_stop(p);
			pipe_finish(p); /* done now if its exit was seen */
		} else {
			pipe_free(p);
		}
	}
}
