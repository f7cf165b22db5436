/*
 * The machine's own scheduling jitter: a thread that asks to wake every
 * 20 microseconds (timerfd, absolute deadlines) and records how late each
 * wake-up is. Nothing else runs in it, so its tail is the floor under any
 * latency measured on this machine: a server cannot answer sooner than the
 * host lets its thread run. perf/jitter builds and runs it.
 *
 * Usage: jitter SECONDS [PERIOD_US]
 * Prints: wakeups, p50, p99, p99.9, max lateness (us), and how many were
 * later than 100 us and than 1 ms, as one JSON object.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int ascending(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    double seconds = argc > 1 ? atof(argv[1]) : 5;
    uint64_t period = (argc > 2 ? strtoull(argv[2], NULL, 10) : 20) * 1000;
    size_t capacity = (size_t)(seconds * 1e9 / (double)period) + 16, count = 0;
    uint64_t *lags = malloc(capacity * sizeof *lags);
    int fd = timerfd_create(CLOCK_MONOTONIC, 0);
    if (fd < 0 || lags == NULL) return 1;
    uint64_t next = now_ns() + period, end = next + (uint64_t)(seconds * 1e9), late100 = 0, late1000 = 0;
    while (count < capacity) {
        struct itimerspec spec = {{0, 0}, {(time_t)(next / 1000000000u), (long)(next % 1000000000u)}};
        uint64_t expirations;
        timerfd_settime(fd, TFD_TIMER_ABSTIME, &spec, NULL);
        if (read(fd, &expirations, sizeof expirations) != sizeof expirations) return 1;
        uint64_t woke = now_ns(), lag = woke - next;
        lags[count++] = lag;
        late100 += lag > 100000;
        late1000 += lag > 1000000;
        if (woke >= end) break;
        next += period;
        if (next < woke) next = woke + period; /* after a stall, do not count the missed wake-ups twice */
    }
    qsort(lags, count, sizeof *lags, ascending);
    printf("{\"wakeups\": %zu, \"period_us\": %lu, \"p50_us\": %.1f, \"p99_us\": %.1f, \"p99_9_us\": %.1f, "
           "\"max_us\": %.1f, \"later_than_100us\": %lu, \"later_than_1ms\": %lu}\n",
           count, (unsigned long)(period / 1000), lags[count / 2] / 1e3, lags[count * 99 / 100] / 1e3,
           lags[count * 999 / 1000] / 1e3, lags[count - 1] / 1e3, (unsigned long)late100, (unsigned long)late1000);
    return 0;
}
