/*
 * What chatbench sends and expects on the wire, for both protocols.
 *
 * A payload is exactly P bytes of ASCII: the sequence number in 16 hex
 * digits, a blank, the send time (CLOCK_MONOTONIC ns) in 16 hex digits, a
 * blank, then filler.  Around it, a frame has a fixed prefix and suffix:
 *   chat publish     "PAYLOAD\n"         chat delivery    "PUBID PAYLOAD\n"
 *   redis publish    PUBLISH chan PAYLOAD as a RESP array of bulk strings
 *   redis delivery   ["message", chan, PAYLOAD] as a RESP array
 * so the hot path checks a delivery with one memcmp and two hex numbers;
 * anything else goes to the slow path that says what it was.
 */
#ifndef CHATBENCH_PROTO_H
#define CHATBENCH_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "bench.h"

#define PROTO_PRE_MAX 160

struct proto_frame {
	char pre[PROTO_PRE_MAX];
	size_t pre_len;
	char suf[4];
	size_t suf_len;
	size_t len; /* whole frame: pre + payload + suf */
};

void proto_payload(char *dst, unsigned p, uint64_t seq, uint64_t ts);

/* Checks a payload of LEN bytes (it must be P) and reads its sequence
 * number and, unless TS is NULL, its send time; -1 if it is not ours. */
int proto_payload_parse(
    const char *s, size_t len, unsigned p, uint64_t *seq, uint64_t *ts);

/* The frame the publisher sends. */
void proto_frame_publish(const struct bench_opts *o, struct proto_frame *f);

/* The frame a subscriber receives; PUBID is the chat publisher's id. */
void proto_frame_delivery(
    const struct bench_opts *o, uint64_t pubid, struct proto_frame *f);

/* The redis SUBSCRIBE command for o->channel; its length. */
size_t proto_subscribe(const struct bench_opts *o, char *dst, size_t cap);

/* "* welcome ID" (without the newline) -> ID; -1 if it is not one. */
int proto_welcome(const char *s, size_t len, uint64_t *id);

#endif
