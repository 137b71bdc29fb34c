/*
 * A generator process: holds its share of the subscriber connections,
 * checks that each gets every message exactly once and in order, counts
 * per sequence number how many of its subscribers have it, and tells the
 * coordinator (wire.h) how far its subscribers are complete.
 */
#ifndef CHATBENCH_GEN_H
#define CHATBENCH_GEN_H

#include <stdint.h>

#include "bench.h"

struct gen_args {
	const struct bench_opts *o;
	unsigned index; /* generator number, from 0 */
	unsigned first; /* global index of its first subscriber */
	unsigned n;     /* its subscribers, at least 1 */
	uint64_t pubid; /* the chat publisher's id (chat only) */
	int cmd_fd;     /* records from the coordinator */
	int rep_fd;     /* records to the coordinator */
};

/* Runs the generator to its end; returns its exit status. */
int gen_main(const struct gen_args *a);

#endif
