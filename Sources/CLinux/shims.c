#ifndef _GNU_SOURCE
#error "CLinux must be compiled with _GNU_SOURCE (Package.swift defines it)"
#endif

#include "CLinux.h"

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

// Shadow checks: Swift code relies on these layouts.
_Static_assert(sizeof(struct epoll_event) == 12, "epoll_event is packed on x86_64");
_Static_assert(sizeof(struct signalfd_siginfo) == 128, "signalfd_siginfo is 128 bytes");

int clinux_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags) {
    return accept4(fd, addr, len, flags);
}

int clinux_set_thread_name(const char *name) {
    return pthread_setname_np(pthread_self(), name);
}

int clinux_set_thread_niceness(int niceness) {
    return setpriority(PRIO_PROCESS, (id_t)gettid(), niceness);
}
