/*
 * A worker: one process, one libevent loop, many chat clients.
 *
 *   worker.c   start, the loop, messages from the supervisor, the exit
 *   client.c   one chat connection: its lines, limits, timers and end
 *   deliver.c  chat lines from the supervisor to every client, batched
 *   commands.c the chat commands (one handler each)
 *   pipe.c     /pipe: running a configured program for a client
 *
 * Only the worker that owns a client touches its socket.  It hears about
 * new clients, chat lines and commands for its clients from the
 * supervisor over its channel, and tells the supervisor what its clients
 * say and when they leave.
 */
#ifndef CHATD_WORKER_H
#define CHATD_WORKER_H

#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include <event2/event.h>

#include "channel.h"
#include "conf.h"
#include "idmap.h"
#include "peer.h"

#define WORKER_CHANNEL_FD 3 /* where the supervisor puts our channel */

enum worker_state {
	W_STARTING, /* waiting for the first MSG_CONFIG */
	W_SERVING,
	W_DRAINING,  /* MSG_DRAIN: clients are no longer read */
	W_FINISHING, /* MSG_FINISH: saying goodbye, then exit */
	W_EXITING,
};

struct pipe_run;
TAILQ_HEAD(pipe_list, pipe_run);

struct worker {
	struct event_base *base;
	unsigned num;
	pid_t parent;
	enum worker_state state;
	int exit_status;
	struct conf conf;
	struct channel *ch;
	int blocked; /* our channel is over its high-water mark */
	struct peer_set peers;
	struct idmap clients; /* struct client, by id: those in the chat */
	uint64_t last_req;
	uint32_t finish_ms;

	char *batch; /* formatted chat lines not yet given to clients */
	size_t batch_len, batch_cap;
	uint64_t drops;            /* clients dropped as slow consumers */
	uint64_t round_end_us;     /* when the last delivery round ended */
	uint64_t round_cost_us;    /* and how long it took */
	struct event *round_timer; /* a deferred round */

	struct pipe_list pipes;
	unsigned npipes;
	uint64_t last_pipe;

	struct event *sig_term, *sig_int, *sig_hup, *sig_chld;
};

struct client {
	uint64_t id;
	struct worker *w;
	struct peer *p;
	char addr[MSG_ADDR_MAX];
	uint64_t waiting;       /* request or pipe id whose reply we wait for */
	struct evbuffer *reply; /* a reply arriving in chunks */
	struct pipe_run *pipe;  /* the program it runs, if any */

	double tokens; /* rate limit: a token bucket */
	uint64_t refill_ms;
	struct event *rate_timer;

	uint32_t timeout_ms; /* read timeout, 0 = none */
	uint64_t timeout_set_ms;
	struct event *idle_timer;

	uint64_t kick_sreq;  /* answer this kick once our last line is out */
	unsigned member : 1; /* in w->clients, receiving chat lines */
	unsigned eof : 1;
	unsigned kicked : 1;
};

int worker_main(int argc, char **argv);

/* worker.c */
void worker_send(struct worker *w, unsigned type, const void *fixed,
    const void *tail, size_t taillen);
void worker_check_done(struct worker *w);

/* client.c */
/* Serves a new connection; fd is ours either way.  0 or -1. */
int client_new(struct worker *w, const struct msg_client *mc, int fd);
void client_write(struct client *c, const char *s, size_t len);
void client_end(struct client *c, const char *last, size_t len);
void client_leave(struct client *c);
void client_reply(struct client *c, const struct msg *m);
void client_kick(struct client *c, uint64_t sreq, uint64_t by);
void client_set_timeout(struct client *c, uint32_t ms);
void client_maybe_resume(struct client *c);
void client_final_read(struct client *c);
void client_config(struct client *c);

/* deliver.c */
void deliver_add(struct worker *w, uint64_t from, const char *text, size_t len);
/* Writes the batch to every client now (ordering: before any other
 * message from the supervisor is handled). */
void deliver_commit(struct worker *w);
/* The end of a loop iteration: a round now, or a little later if the last
 * one has only just ended (see deliver.c). */
void deliver_flush(struct worker *w);
void deliver_free(struct worker *w);

/* commands.c */
/* Handles one valid, non-empty line; returns 1 if the client must wait
 * for a reply before its next line. */
int commands_run(struct client *c, const char *line, size_t len);

/* pipe.c */
int pipe_request(struct client *c, const char *name, size_t namelen,
    const char *text, size_t textlen);
void pipe_granted(struct worker *w, const struct msg_grant *g);
void pipe_client_gone(struct client *c);
void pipe_reap(struct worker *w);
void pipe_kill_all(struct worker *w);

#endif
