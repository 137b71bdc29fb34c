/*
 * The publisher: one more client of the server, in the coordinator.  It
 * sends messages (their payload stamped with the send time), and reads
 * what comes back: for chat its own lines (the sender receives its own
 * message too; counted apart and checked for order), for redis the
 * integer reply of every PUBLISH, which must name all N subscribers.
 */
#ifndef CHATBENCH_PUB_H
#define CHATBENCH_PUB_H

#include <stddef.h>
#include <stdint.h>

#include "bench.h"
#include "proto.h"

struct pub {
	const struct bench_opts *o;
	int fd;
	uint64_t id; /* chat: our client id */
	struct proto_frame frame;
	struct proto_frame echo;
	char *out;
	size_t out_off, out_len, out_cap;
	char *in;
	size_t in_len;
	uint64_t sent;
	uint64_t echoed;  /* chat: own lines back, in order */
	uint64_t replies; /* redis: PUBLISH replies */
	uint64_t errors;
	char error[160]; /* the first one */
};

/* Connects and, for chat, reads the welcome; -1 with p->error set. */
int pub_open(struct pub *p, const struct bench_opts *o, uint64_t deadline);
void pub_close(struct pub *p);

/* Queues COUNT messages, the next sequence numbers; -1 out of memory. */
int pub_queue(struct pub *p, uint64_t count);

/* Writes what is queued; 1 when some is left, 0 when all went, -1. */
int pub_flush(struct pub *p);

/* Reads and checks what arrived; -1 on end of file or error. */
int pub_read(struct pub *p);

#endif
