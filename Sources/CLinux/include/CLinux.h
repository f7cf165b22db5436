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

/* A cheap tick counter for measuring short intervals on one thread: the
 * time-stamp counter on x86-64 (constant rate on every CPU this targets;
 * half the cost of clock_gettime here), CLOCK_MONOTONIC in nanoseconds
 * elsewhere. Convert with a rate measured against CLOCK_MONOTONIC. */
#include <stdint.h>
#include <time.h>
#if defined(__x86_64__)
#include <x86intrin.h>
static inline uint64_t clinux_ticks(void) { return __rdtsc(); }
#else
static inline uint64_t clinux_ticks(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}
#endif

#endif
