/* Socket addresses as text: "127.0.0.1:7777", "[::1]:7777". */
#ifndef CHATD_ADDR_H
#define CHATD_ADDR_H

#include <stddef.h>
#include <sys/socket.h>

/* Writes the address into buf; "?" if the family is not IP. */
void addr_format(const struct sockaddr *sa, char *buf, size_t len);

#endif
