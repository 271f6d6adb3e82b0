#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The cores this process may use: the CPUs it may run on (affinity, as
/// `ProcessInfo.activeProcessorCount` gives them) and, inside a container, the cgroup's CPU quota
/// (`cpu.max` in cgroup v2, `cpu.cfs_quota_us` / `cpu.cfs_period_us` in v1), rounded up.
///
/// Foundation's count alone is the node's cores under cgroup v2 (a pod limited to 2 CPUs on a
/// 64-core node saw 64), so every default that sizes threads by cores asks here: the CLI's `-j`,
/// the HTTP sidecar's `--workers`, libavif's encoder threads.
public enum CPUBudget {
    /// At least 1.
    public static func cores() -> Int { cached }

    private static let cached: Int = {
        var cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
        if let quota = cgroupQuota() { cores = min(cores, max(1, quota)) }
        return cores
    }()

    /// ceil(quota / period), or nil when there is no quota (`max`), the files are absent, or their
    /// text is not two positive integers. The arithmetic cannot overflow whatever the files hold.
    static func cgroupQuota(v2 text: String? = read("/sys/fs/cgroup/cpu.max"),
                            v1Quota: String? = read("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"),
                            v1Period: String? = read("/sys/fs/cgroup/cpu/cpu.cfs_period_us")) -> Int? {
        func ceilDiv(_ q: Int, _ p: Int) -> Int? { q > 0 && p > 0 ? q / p + (q % p == 0 ? 0 : 1) : nil }
        if let text {
            let fields = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
            if fields.count >= 2, let q = Int(fields[0]), let p = Int(fields[1]) { return ceilDiv(q, p) }
            return nil  // "max": no quota
        }
        if let q = v1Quota.flatMap({ Int($0.trimmingSpaces().filter { $0 != "\n" }) }),
           let p = v1Period.flatMap({ Int($0.trimmingSpaces().filter { $0 != "\n" }) }) { return ceilDiv(q, p) }
        return nil
    }

    private static func read(_ path: String) -> String? {
        guard let bytes = try? InputFile.read(path, limit: 4096, image: false) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }
}
