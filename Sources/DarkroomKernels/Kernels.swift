// Resampling kernels. This one file is compiled twice: as DarkroomKernels (baseline x86-64) and,
// through a symlink, as DarkroomKernelsAVX2 (-target-cpu haswell). Entry points are
// @inline(never) so AVX2 code never gets inlined into a baseline caller.

/// Kernel module marker (replaced by the resampling core).
@inline(never)
public func kernelModuleName() -> String { "kernels" }
