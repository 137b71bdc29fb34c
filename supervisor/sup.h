/*
 * The supervisor: the one context struct of the supervisor process and
 * the interfaces of its files.
 *
 *   main.c      command line, start-up, the loop, the exit path
 *   listen.c    binding the chat listeners, or taking systemd's
 *   accept.c    accepting connections and handing them to a worker
 *   registry.c  the registry of child processes: spawn, reap, respawn
 *   dispatch.c  one handler per message type arriving from a worker
 *   clients.c   the roster of connected clients (id -> worker, address)
 *   fanout.c    chat lines to every worker, in one total order
 *   request.c   commands the supervisor answers or routes (/who, /kick...)
 *   control.c   the control socket (chatctl)
 *   shutdown.c  the clean shutdown sequence and worker retirement
 *   notify.c    sd_notify: READY=1, STOPPING=1, RELOADING=1, WATCHDOG=1
 *   reload.c    re-reading the configuration
 */
#ifndef CHATD_SUP_H
#define CHATD_SUP_H

#include <limits.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include <event2/event.h>

#include "channel.h"
#include "conf.h"
#include "idmap.h"
#include "peer.h"

struct evbuffer;

enum child_role {
	ROLE_WORKER,
	ROLE_PIPE,
};

enum child_state {
	CHILD_STARTING, /* spawned; its MSG_HELLO has not arrived */
	CHILD_SERVING,
	CHILD_DRAINING, /* retiring or shutting down: no new clients */
	CHILD_EXITED,
};

/* One entry of the registry: a worker, or a pipe program that a worker
 * runs (reported by the worker; the worker reaps it). */
struct child {
	pid_t pid;
	enum child_role role;
	unsigned slot;      /* worker number; a pipe's: the worker running it */
	struct channel *ch; /* workers only */
	enum child_state state;
	uint64_t started_ms;
	unsigned restarts;     /* workers: how many times this slot restarted */
	uint32_t nclients;     /* workers */
	unsigned drained : 1;  /* workers: MSG_DRAINED arrived */
	unsigned finished : 1; /* workers: MSG_FINISH sent */
	unsigned killed : 1;   /* SIGKILL sent by the supervisor */
	uint32_t config_acked; /* workers: generation in force there */
	uint64_t pipe_req;     /* pipes: the worker's pipe id */
	uint64_t client;       /* pipes: requester */
	char name[CONF_NAME_MAX]; /* pipes: program name */
	int chfd; /* workers: our end of the socketpair until it is a channel */
	struct sup *sup;
	TAILQ_ENTRY(child) link;
};

TAILQ_HEAD(child_list, child);

/* A worker slot: the current child and its restart back-off. */
struct slot {
	unsigned num;          /* from 1 */
	struct child *child;   /* NULL while waiting to be restarted */
	struct event *restart; /* back-off timer */
	uint64_t last_start_ms;
	unsigned crashes; /* recent quick deaths, for the back-off */
	struct sup *sup;
};

/* A connected client, as the supervisor knows it. */
struct sup_client {
	uint64_t id;
	unsigned worker;
	uint32_t timeout_ms;
	uint64_t since_ms;
	char addr[MSG_ADDR_MAX];
};

struct listener {
	int fd;
	struct event *ev;
	char text[64]; /* "127.0.0.1:40123", the port actually bound */
	struct sup *sup;
};

/* Where a reply goes: a worker's client, or a control connection. */
struct origin {
	unsigned slot; /* 0 = control connection */
	pid_t pid; /* the worker that asked (a replacement must not get it) */
	uint64_t req;    /* the worker's request id */
	uint64_t client; /* the client, or the control connection id */
};

/* A kick or timeout waiting for the owning worker's MSG_ACTED. */
struct pending {
	uint64_t sreq;
	struct origin from;
	uint32_t cmd; /* MSG_CMD_KICK or MSG_CMD_TIMEOUT */
	uint64_t target;
	uint32_t ms;
	unsigned slot; /* the worker that owns target */
	TAILQ_ENTRY(pending) link;
};

/* A connection accepted but not handed over yet: its worker died before
 * taking it, and no other could take it at once. */
struct parked {
	int fd;
	uint64_t id;
	TAILQ_ENTRY(parked) link;
};

struct ctl_conn;

enum sup_state {
	SUP_STARTING, /* waiting for every worker's MSG_HELLO */
	SUP_RUNNING,
	SUP_DRAINING,  /* shutdown: waiting for every MSG_DRAINED */
	SUP_FINISHING, /* shutdown: waiting for every worker to exit */
	SUP_DONE,
};

struct sup_opts {
	const char *conf_path; /* -c, or the installed file, or NULL */
	const char *listen[CONF_MAX_LISTEN];
	size_t nlisten;
	long workers;       /* -w, or -1 */
	const char *socket; /* -s, or NULL */
	int test_only;      /* -t */
};

struct sup {
	struct event_base *base;
	struct sup_opts opts;
	struct conf conf;
	char exe[PATH_MAX]; /* our own binary, to start workers */
	enum sup_state state;
	uint64_t started_ms;
	int exit_status;

	struct listener listeners[CONF_MAX_LISTEN];
	size_t nlisteners;
	int accepting;
	int activated;              /* listeners came from systemd */
	struct event *accept_retry; /* after EMFILE */
	int emfile_logged;
	TAILQ_HEAD(, parked) parked;

	struct slot slots[CONF_WORKERS_MAX];
	unsigned nworkers;
	struct child_list children;

	struct idmap clients; /* struct sup_client, by id */
	uint64_t last_id;
	uint64_t messages;
	uint32_t config_gen; /* of the configuration pushed last */
	int reloading;       /* a pushed generation is not in force yet */

	TAILQ_HEAD(, pending) pendings;
	uint64_t last_sreq;

	int ctl_fd;
	struct event *ctl_ev;
	char ctl_path[108];
	struct peer_set peers; /* control connections and refused clients */
	struct idmap ctls;     /* struct ctl_conn, by id */
	uint64_t last_ctl;

	struct event *sig_int, *sig_term, *sig_hup, *sig_chld;
	struct event *deadline; /* shutdown_timeout */
	uint64_t deadline_ms;
	struct event *watchdog;
	struct event *stall; /* a worker that stopped reading its channel */
	int notify_fd;
	char notify_path[108];
	uint64_t watchdog_ms;
};

/* main.c */
void sup_flush(struct sup *s);
/* Applies -l, -w and -s over a loaded configuration.  0 or -1 (err). */
int sup_overrides(const struct sup *s, struct conf *c, char *err, size_t len);

/* listen.c */
int listen_open(struct sup *s);
void listen_close(struct sup *s);

/* accept.c */
int accept_start(struct sup *s);
void accept_pause(struct sup *s);
void accept_resume(struct sup *s);
void accept_stop(struct sup *s);
/* Out of descriptors: stop accepting anything for a while. */
void accept_exhausted(struct sup *s);
/* A client left: capacity for the accept paused by EMFILE/ENFILE. */
void accept_capacity(struct sup *s);
/* Gives client c (descriptor fd) to the least-loaded serving worker, or
 * parks it until one serves. */
void accept_handoff(struct sup *s, struct sup_client *c, int fd);
/* A worker serves: hand it the parked clients. */
void accept_unpark(struct sup *s);
void accept_free(struct sup *s);

/* registry.c */
int registry_start(struct sup *s);
int registry_attach(struct sup *s);
struct child *registry_worker(struct sup *s, unsigned slot);
struct child *registry_find_pid(struct sup *s, pid_t pid);
struct child *registry_least_loaded(struct sup *s);
void registry_reap(struct sup *s);
unsigned registry_count(struct sup *s, enum child_role role);
void registry_kill_all(struct sup *s, int sig);
void registry_free(struct sup *s);
void registry_worker_hello(
    struct sup *s, struct child *w, const struct msg_hello *h);
void registry_pipe_acquire(struct sup *s, struct child *w, const struct msg *m);
void registry_pipe_started(
    struct sup *s, struct child *w, const struct msg_pipe *p);
void registry_pipe_ended(
    struct sup *s, struct child *w, const struct msg_pipe *p);
int registry_send_config(struct sup *s, struct child *w);

/* dispatch.c */
extern const struct channel_ops dispatch_ops;
/* Pauses reading from every worker while one's queue is too long. */
void dispatch_flow(struct sup *s);

/* clients.c */
struct sup_client *clients_add(
    struct sup *s, unsigned worker, const char *addr);
void clients_gone(struct sup *s, struct child *w, uint64_t id);
void clients_forget(struct sup *s, uint64_t id);
void clients_forget_worker(struct sup *s, unsigned slot);
struct sup_client *clients_find(struct sup *s, uint64_t id);
void clients_free(struct sup *s);

/* fanout.c */
void fanout_line(struct sup *s, uint64_t from, const char *text, size_t len);

/* request.c */
void request_from_worker(
    struct sup *s, struct child *w, const struct msg_request *r);
void request_acted(struct sup *s, struct child *w, const struct msg_acted *a);
void request_worker_gone(struct sup *s, unsigned slot);
/* The commands both sides share; the reply goes to from. */
void request_who(struct sup *s, const struct origin *from);
void request_ps(struct sup *s, const struct origin *from);
void request_act(struct sup *s, const struct origin *from, uint32_t cmd,
    uint64_t target, uint32_t ms);
void request_reply(
    struct sup *s, const struct origin *from, struct evbuffer *text);
void request_free(struct sup *s);

/* control.c */
int control_open(struct sup *s);
int control_attach(struct sup *s);
void control_close(struct sup *s);
void control_reply(struct sup *s, uint64_t id, struct evbuffer *text);
void control_refuse(struct sup *s, int fd, const char *line);
void control_pause(struct sup *s);
/* The reload is in force: answer the /reload commands waiting for it. */
void control_reloaded(struct sup *s);
void control_resume(struct sup *s);

/* shutdown.c */
void shutdown_begin(struct sup *s, const char *why);
void shutdown_retire(struct sup *s, struct child *w);
void shutdown_drained(struct sup *s, struct child *w);
void shutdown_worker_exited(struct sup *s);

/* notify.c */
void notify_init(struct sup *s);
void notify_send(struct sup *s, const char *text);
void notify_ready(struct sup *s);
void notify_close(struct sup *s);

/* reload.c */
/* Re-reads the configuration.  -1: refused, reply holds the -ERR line;
 * 1: pushed to the workers, reply holds the +OK line to send once every
 * worker has it in force (reload_check says when). */
int reload_run(struct sup *s, char *reply, size_t len);
void reload_configured(struct sup *s, struct child *w, uint32_t generation);
/* A worker acknowledged or went away: is the reload complete? */
void reload_check(struct sup *s);

#endif
