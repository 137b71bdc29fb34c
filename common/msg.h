/*
 * The messages chatd's processes send each other: one table of types,
 * one payload struct per type, a name for logs, and the protocol version.
 *
 * A channel (channel.h) carries packets of up to MSG_PACKET_MAX bytes; a
 * packet holds one or more messages, each a struct msg_hdr followed by the
 * type's fixed payload struct and, for some types, a variable tail (text).
 * A message that owns a file descriptor has MSG_F_FD set; the descriptors
 * of a packet ride on it as SCM_RIGHTS, in the order of their messages.
 *
 * Both ends are the same chatd binary (a worker is the supervisor's own
 * executable), so payload structs travel as they are laid out in memory:
 * fixed-width fields, ordered so that there is no hidden padding (checked
 * below with static_assert).  Adding a message means: one enum entry, one
 * struct, one msg_table row in msg.c, one handler on each side.  Any
 * change to a payload bumps MSG_VERSION: a worker of another version is
 * refused at MSG_HELLO.
 */
#ifndef CHATD_MSG_H
#define CHATD_MSG_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"

#define MSG_VERSION    1
#define MSG_PACKET_MAX 65536 /* bytes of one packet (one sendmsg) */
#define MSG_FDS_MAX    32    /* descriptors on one packet */
#define MSG_ADDR_MAX   64    /* "[ipv6]:port" with its NUL */
#define MSG_NAME_MAX   CONF_NAME_MAX

/* MSG_TAIL_MAX leaves room for the header and the largest fixed part. */
#define MSG_TAIL_MAX (MSG_PACKET_MAX - 256)

#define MSG_F_FD 0x0001 /* this message owns the next descriptor */

struct msg_hdr {
	uint16_t type;
	uint16_t flags;
	uint32_t len; /* bytes after the header: fixed part + tail */
};

enum msg_type {
	MSG_NONE,
	MSG_HELLO,       /* w->s  msg_hello: the worker is serving */
	MSG_CONFIG,      /* s->w  msg_config + programs tail */
	MSG_CLIENT_ADD,  /* s->w  msg_client + fd: serve this connection */
	MSG_CLIENT_GONE, /* w->s  msg_id: this client left the chat */
	MSG_SAY,         /* w->s  msg_line + text: a client said this */
	MSG_DELIVER,     /* s->w  msg_line + text: deliver to every client */
	MSG_REQUEST, /* w->s  msg_request: a command the supervisor answers */
	MSG_REPLY,   /* s->w  msg_reply + text: reply bytes for a client */
	MSG_KICK,    /* s->w  msg_act: kick your client act.target */
	MSG_TIMEOUT, /* s->w  msg_act: set act.target's read timeout */
	MSG_ACTED,   /* w->s  msg_acted: the answer to KICK/TIMEOUT */
	MSG_PIPE_ACQUIRE, /* w->s  msg_pipe + name: may this program start? */
	MSG_PIPE_GRANT,   /* s->w  msg_grant: yes, or busy */
	MSG_PIPE_STARTED, /* w->s  msg_pipe: it runs with this pid */
	MSG_PIPE_ENDED,   /* w->s  msg_pipe: it was reaped (or never ran) */
	MSG_DRAIN,        /* s->w  (none): stop reading, send what you hold */
	MSG_DRAINED,      /* w->s  (none): everything held has been sent */
	MSG_FINISH,       /* s->w  msg_finish: say goodbye, close, exit */
	MSG_RETIRE,       /* w->s  (none): I got SIGTERM, drain me */
	MSG_CONFIGURED, /* w->s  msg_configured: this MSG_CONFIG is in force */
	MSG_TYPE_MAX
};

struct msg_hello {
	uint32_t version;
	uint32_t worker; /* worker number, from 1 */
	uint32_t pid;
	uint32_t pad;
};

/* The part of the configuration a worker uses; programs follow as a tail:
 * for each program "name\0arg0\0arg1\0...\0\0". */
struct msg_config {
	uint64_t max_output;
	uint64_t pipe_max_output;
	uint32_t max_line;
	uint32_t rate;
	uint32_t burst;
	uint32_t pipe_timeout_ms;
	uint32_t log_level;
	uint32_t nprograms;
	uint32_t generation; /* answered by MSG_CONFIGURED */
	uint32_t pad;
};

struct msg_configured {
	uint32_t generation;
	uint32_t pad;
};

struct msg_client {
	uint64_t id;
	char addr[MSG_ADDR_MAX]; /* NUL-terminated */
};

struct msg_id {
	uint64_t id;
};

struct msg_line {
	uint64_t from; /* client id; 0 = the admin (/say) */
};

enum msg_cmd {
	MSG_CMD_WHO = 1,
	MSG_CMD_KICK,
	MSG_CMD_TIMEOUT,
	MSG_CMD_PS,
	MSG_CMD_MAX
};

struct msg_request {
	uint64_t req;    /* the worker's request id, never reused */
	uint64_t client; /* who asked */
	uint64_t target; /* KICK, TIMEOUT: the client acted on */
	uint32_t cmd;    /* enum msg_cmd */
	uint32_t ms;     /* TIMEOUT: milliseconds, 0 = clear */
};

#define MSG_REPLY_MORE 0x1 /* more chunks of this reply follow */

struct msg_reply {
	uint64_t req;
	uint64_t client;
	uint32_t flags;
	uint32_t pad;
};

struct msg_act {
	uint64_t sreq;   /* the supervisor's request id */
	uint64_t target; /* client to act on */
	uint64_t by;     /* KICK: requester id (0 = admin) */
	uint32_t ms;     /* TIMEOUT: milliseconds, 0 = clear */
	uint32_t pad;
};

enum msg_acted_status {
	MSG_ACTED_DONE,
	MSG_ACTED_NO_CLIENT,
};

struct msg_acted {
	uint64_t sreq;
	uint32_t status; /* enum msg_acted_status */
	uint32_t pad;
};

struct msg_pipe {
	uint64_t req;    /* the worker's pipe id */
	uint64_t client; /* requester */
	uint32_t pid;    /* STARTED: the program's pid */
	uint32_t pad;
};

struct msg_grant {
	uint64_t req;
	uint32_t ok; /* 0 = busy */
	uint32_t pad;
};

struct msg_finish {
	uint32_t ms; /* time left to say goodbye before the deadline */
	uint32_t pad;
};

static_assert(sizeof(struct msg_hdr) == 8, "msg_hdr has padding");
static_assert(sizeof(struct msg_hello) == 16, "msg_hello has padding");
static_assert(sizeof(struct msg_config) == 48, "msg_config has padding");
static_assert(sizeof(struct msg_configured) == 8, "msg_configured padding");
static_assert(sizeof(struct msg_client) == 72, "msg_client has padding");
static_assert(sizeof(struct msg_request) == 32, "msg_request has padding");
static_assert(sizeof(struct msg_reply) == 24, "msg_reply has padding");
static_assert(sizeof(struct msg_act) == 32, "msg_act has padding");
static_assert(sizeof(struct msg_acted) == 16, "msg_acted has padding");
static_assert(sizeof(struct msg_pipe) == 24, "msg_pipe has padding");
static_assert(sizeof(struct msg_grant) == 16, "msg_grant has padding");
static_assert(sizeof(struct msg_finish) == 8, "msg_finish has padding");

/* A decoded message.  tail points into the packet it came from and is
 * valid only while the message is being handled. */
struct msg {
	uint16_t type;
	uint16_t flags;
	union {
		struct msg_hello hello;
		struct msg_config config;
		struct msg_configured configured;
		struct msg_client client;
		struct msg_id id;
		struct msg_line line;
		struct msg_request request;
		struct msg_reply reply;
		struct msg_act act;
		struct msg_acted acted;
		struct msg_pipe pipe;
		struct msg_grant grant;
		struct msg_finish finish;
	} u;
	const char *tail;
	size_t taillen;
	int fd; /* -1 unless MSG_F_FD; the handler then owns it */
};

/* How each type looks on the wire; used by both encoder and decoder. */
struct msg_info {
	const char *name;
	uint16_t fixed;                    /* size of the payload struct */
	uint16_t tailmax;                  /* 0: no tail allowed */
	uint8_t fd;                        /* 1: MSG_F_FD required */
	int (*check)(const struct msg *m); /* extra checks, 0 = fine */
};

extern const struct msg_info msg_table[MSG_TYPE_MAX];

/* "say", "deliver", ...; "unknown" for a type outside the table. */
const char *msg_name(unsigned type);

/*
 * Decodes the message at p (n bytes left in the packet).  On success
 * fills m (m->fd = -1; the caller binds descriptors) and returns the
 * number of bytes it used.  A truncated, oversized or malformed message
 * returns -1 with *why set to a static explanation.
 */
long msg_decode(const uint8_t *p, size_t n, struct msg *m, const char **why);

/*
 * Encodes one message into out (cap bytes).  fixed must be
 * msg_table[type].fixed bytes.  Returns the bytes written, or -1 if the
 * message does not fit or breaks the table's rules.
 */
long msg_encode(uint8_t *out, size_t cap, unsigned type, unsigned flags,
    const void *fixed, const void *tail, size_t taillen);

/* The programs tail of MSG_CONFIG: encodes conf's programs into buf;
 * returns the length or -1 if they do not fit in MSG_TAIL_MAX. */
long msg_config_programs(const struct conf *c, char *buf, size_t cap);

/* Fills the worker-side fields of conf from a MSG_CONFIG (already checked
 * by msg_decode).  conf must be freshly conf_defaults()ed.  0 or -1. */
int msg_config_apply(const struct msg *m, struct conf *c);

#endif
