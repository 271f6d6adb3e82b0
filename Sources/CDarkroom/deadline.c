// The clock of Darkroom's deadlines (the Swift `Deadline`): CLOCK_MONOTONIC in nanoseconds, read
// by the libjpeg progress monitor and the libpng row callbacks of the shims.
#include <time.h>
#include "CDarkroom.h"

uint64_t darkroom_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int darkroom_deadline_passed(uint64_t deadline_ns) {
    return deadline_ns != 0 && darkroom_monotonic_ns() >= deadline_ns;
}
