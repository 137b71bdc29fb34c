/*
 * Records between the coordinator and its generators, over pipes: a
 * header (type, body length) and a fixed body per type.  Both ends are
 * the same process image (fork), so bodies travel as laid out in memory.
 */
#ifndef CHATBENCH_WIRE_H
#define CHATBENCH_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "hist.h"

enum wire_type {
	WIRE_READY = 1,  /* g->c  (none): set up, waiting for GO */
	WIRE_REGISTERED, /* g->c  wire_registered: every subscriber is in */
	WIRE_PROGRESS,   /* g->c  wire_progress: messages complete here */
	WIRE_ERROR,      /* g->c  wire_error: the first thing that went wrong */
	WIRE_FINAL,  /* g->c  wire_final: counters, then the generator exits */
	WIRE_GO,     /* c->g  (none): connect now */
	WIRE_MARK,   /* c->g  (none): the measured phase starts */
	WIRE_FINISH, /* c->g  wire_finish: report and exit */
};

struct wire_hdr {
	uint32_t type;
	uint32_t len;
};

struct wire_registered {
	uint64_t count;
	uint64_t t_last; /* when the last one got registered (ns) */
};

struct wire_progress {
	uint64_t completed; /* every local subscriber has every seq below */
	uint64_t t;         /* when the last of them arrived (ns) */
};

struct wire_error {
	char text[160];
};

struct wire_finish {
	uint64_t total;   /* messages published */
	uint32_t aborted; /* the run was cut short: no tail accounting */
	uint32_t pad;
};

struct wire_final {
	uint64_t registered;
	uint64_t received; /* deliveries in order, exactly once */
	uint64_t lost;     /* sequence numbers skipped or never seen */
	uint64_t dup;      /* at or below one already seen: dup/reorder */
	uint64_t bad;      /* malformed frames or payloads */
	uint64_t
	    unexpected;     /* notices, other senders, replies we did not ask */
	uint64_t closed;    /* connections that failed or ended */
	uint64_t failures;  /* the generator itself: timeouts, setup */
	double cpu_connect; /* CPU seconds from GO to registered */
	double cpu_measure; /* CPU seconds from MARK to FINISH */
	struct hist lat;
};

#define WIRE_BODY_MAX sizeof(struct wire_final)

struct wire_reader {
	size_t len;
	char buf[sizeof(struct wire_hdr) + WIRE_BODY_MAX];
};

/* Writes one whole record (blocking); -1 on error. */
int wire_send(int fd, uint32_t type, const void *body, size_t len);

/* Reads what is there; 1 got bytes, 0 end of file, -1 error (errno). */
int wire_fill(struct wire_reader *r, int fd);

/* Takes the next whole record: 1 with *H and BODY (up to CAP bytes) set,
 * 0 when none is complete, -1 on a malformed one. */
int wire_take(
    struct wire_reader *r, struct wire_hdr *h, void *body, size_t cap);

#endif
