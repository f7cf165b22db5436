// CLinux: the Linux calls and constants that Swift's Glibc module does not
// import (it includes none of these headers and is built without _GNU_SOURCE).
#ifndef SWITCHYARD_CLINUX_H
#define SWITCHYARD_CLINUX_H

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>

/* accept4(2) is a GNU extension: invisible to Swift without this wrapper. */
int clinux_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);

/* Names the calling thread (at most 15 characters), for top -H and perf. */
int clinux_set_thread_name(const char *name);

/* Sets the nice value of the calling thread only (Linux applies setpriority
 * to one thread when given its id, which gettid(2), a GNU extension, gives). */
int clinux_set_thread_niceness(int niceness);

#endif
