#ifndef CDARKROOM_HEAP_H
#define CDARKROOM_HEAP_H
#include <stddef.h>

/// The C allocator's own account of the heap, for the server's /metrics: `in_use` bytes handed
/// out and not yet freed (glibc mallinfo2's uordblks + hblkhd: arena blocks and mmapped blocks),
/// `free_held` bytes freed but still held in the arenas (fordblks). Returns 0 and leaves both
/// untouched where the C library has no mallinfo2 (not glibc, or glibc before 2.33).
int darkroom_heap_stats(size_t *in_use, size_t *free_held);

#endif
