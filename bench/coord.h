/*
 * The coordinator: the parent process.  It forks the generators, starts
 * them connecting, waits until every subscriber is registered, drives the
 * publisher through the measured phase of the mode, samples the server
 * (procstat.h) at the edges of each phase, then collects every
 * generator's counters.  It holds no subscriber connection itself.
 */
#ifndef CHATBENCH_COORD_H
#define CHATBENCH_COORD_H

#include <stdint.h>
#include <sys/types.h>

#include "bench.h"
#include "hist.h"
#include "procstat.h"
#include "pub.h"
#include "wire.h"

struct coord_child {
	pid_t pid;
	int cmd_fd; /* to it */
	int rep_fd; /* from it */
	int ready, registered, final, eof;
	uint64_t t_reg;
	uint64_t completed, t_completed;
	struct wire_reader r;
	struct wire_final fin;
};

struct coord {
	const struct bench_opts *o;
	int ep;
	int tfd;     /* latency: the send timer */
	int pub_out; /* EPOLLOUT is armed on the publisher */
	struct pub pub;
	struct coord_child *ch;
	unsigned nch;
	uint64_t completed;   /* every subscriber has every seq below */
	uint64_t t_completed; /* when the last of them got it */
	int aborted;
	unsigned errors; /* the coordinator's own: timeouts, lost children */
	char error[256]; /* the first error of anybody */
	uint64_t due;    /* latency: timer ticks not yet sent */
	uint64_t late_ticks, stalls;
	uint64_t t_go, t_registered, t_mark, t_end;
	double cpu[3];          /* own CPU at GO, MARK, end */
	struct procstat srv[3]; /* the server at GO, MARK, end */
	int srv_ok;
	uint64_t *bcast_ns; /* scale: each broadcast's time to reach all */
	unsigned nbcast;
	struct wire_final tot; /* the generators' counters, summed */
	double gen_cpu_total;  /* getrusage of self and children at the end */
};

/* Runs the whole benchmark; C is filled for the report. */
void coord_run(struct coord *c, const struct bench_opts *o);

/* Everything that went wrong, summed. */
uint64_t coord_errors(const struct coord *c);

void coord_free(struct coord *c);

#endif
