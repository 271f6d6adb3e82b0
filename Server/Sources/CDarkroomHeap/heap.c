#include "CDarkroomHeap.h"
#include <stdlib.h>  // defines __GLIBC__ on glibc
#if defined(__GLIBC__)
#include <malloc.h>
#endif

int darkroom_heap_stats(size_t *in_use, size_t *free_held) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    struct mallinfo2 info = mallinfo2();
    *in_use = info.uordblks + info.hblkhd;
    *free_held = info.fordblks;
    return 1;
#else
    (void)in_use;
    (void)free_held;
    return 0;
#endif
}
