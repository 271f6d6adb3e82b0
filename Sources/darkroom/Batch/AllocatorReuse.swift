#if canImport(Glibc)
import Glibc
#endif

/// Keeps freed image buffers in the process for the next input of a batch.
///
/// glibc hands allocations above its mmap threshold (128 KiB at first, raised on the fly to at most
/// 32 MiB) straight to the kernel and gives them back on `free`, and trims the heap top above its
/// trim threshold; so every image of a batch faulted its buffers in again, page by page, zeroed by
/// the kernel (the input file's bytes, libjpeg's coefficient buffer for optimised Huffman tables,
/// the encoded output). Measured on a 16-photo batch (12 MP → 4 MP JPEG, `-j 2`): 77,000 minor page
/// faults and 0.14–0.29 s of system time before, 12,000 and 0.04 s after, for 5 MB more peak RSS
/// (docs/performance.md, "Batches").
///
/// A batch process's peak is what counts, so memory freed by one image is kept for the next:
/// allocations up to 64 MiB come from the heap, and up to 256 MiB of free heap top stays mapped.
/// The CLI's choice only; the library never tunes the allocator of the process that links it.
enum AllocatorReuse {
    /// glibc's `mallopt` parameters (<malloc.h>, which the Glibc module does not bring in).
    private static let trimThreshold: Int32 = -1, mmapThreshold: Int32 = -3

    static func enable() {
        #if canImport(Glibc)
        // dlsym(RTLD_DEFAULT, ...): RTLD_DEFAULT is the null handle on glibc.
        guard let symbol = dlsym(nil, "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
        _ = mallopt(mmapThreshold, 64 << 20)
        _ = mallopt(trimThreshold, 256 << 20)
        #endif
    }
}
