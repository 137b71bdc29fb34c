/*
 * chatbench: a load generator for chatd and, for comparison, Redis pub/sub.
 *
 * One parent process (the coordinator, coord.c) holds the publisher
 * connection (pub.c) and forks K generator processes (gen.c) that hold
 * the N subscriber connections between them, because one process may
 * not have more than 20,000 descriptors here.  Generators report to the
 * parent over a pipe with framed records (wire.c); the parent decides
 * when a message is complete (every subscriber has it), when to publish
 * the next one and when the run ends.
 *
 * This header is included first by every file of chatbench: it also
 * sets up the feature macros, so that the files build both inside the
 * automake tree (config.h) and with a plain "cc -O2" of the bench sources.
 */
#ifndef CHATBENCH_BENCH_H
#define CHATBENCH_BENCH_H

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define BENCH_PIDS_MAX    64         /* --server-pids entries */
#define BENCH_CHANNEL_MAX 64         /* redis channel name, with its NUL */
#define BENCH_PAYLOAD_MIN 34         /* "SEQ16 TS16 " and at least one byte */
#define BENCH_PAYLOAD_MAX 1000       /* under chatd's default max_line */
#define BENCH_FD_SLACK    64         /* descriptors a generator keeps spare */
#define BENCH_PROCS_MAX   64         /* generator processes */
#define BENCH_SRC_MAX     254        /* source addresses 127.0.0.1..254 */
#define BENCH_RING_MAX    (1u << 22) /* messages in flight, at most */
#define BENCH_EXIT_FAIL   1          /* errors seen: losses, duplicates... */
#define BENCH_EXIT_USAGE  2

enum bench_proto { PROTO_CHAT, PROTO_REDIS };

enum bench_mode {
	MODE_THROUGHPUT, /* W messages outstanding for T seconds */
	MODE_LATENCY,    /* R messages per second for T seconds */
	MODE_IDLE,       /* N registered connections, server RSS */
	MODE_CONNECT,    /* connections per second until registered */
	MODE_SCALE,      /* connect + idle + one broadcast at a time */
};

struct bench_opts {
	enum bench_proto proto;
	enum bench_mode mode;
	struct in_addr host;
	uint16_t port;
	unsigned n;              /* subscribers */
	unsigned payload;        /* bytes of message text */
	unsigned window;         /* messages outstanding (throughput) */
	unsigned rate;           /* messages per second (latency) */
	unsigned count;          /* broadcasts (scale) */
	unsigned procs;          /* generator processes */
	unsigned src_addrs;      /* source addresses 127.0.0.1..M */
	unsigned connect_window; /* connects in flight per generator */
	double duration;         /* seconds of measurement */
	double drain_timeout;    /* seconds to wait for the last messages */
	double connect_timeout;  /* seconds to register everybody */
	char channel[BENCH_CHANNEL_MAX];
	pid_t server_root; /* --server-pid: it and its descendants */
	pid_t server_pids[BENCH_PIDS_MAX];
	unsigned nserver_pids;
	int quiet;
};

/* Monotonic nanoseconds: timestamps in payloads and every deadline. */
static inline uint64_t
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Milliseconds from now until DEADLINE (ns), for epoll_wait; 0 if past. */
int bench_ms_until(uint64_t deadline);

/* Messages that may be in flight at once: the size of the per-sequence
 * counter rings, the same in the parent and every generator. */
uint64_t bench_ring_size(const struct bench_opts *o);

/* Messages the publisher sends in latency mode (R x T). */
uint64_t bench_latency_total(const struct bench_opts *o);

/* CPU seconds (user + system) of RUSAGE_SELF or RUSAGE_CHILDREN. */
double bench_cpu(int who);

#endif
