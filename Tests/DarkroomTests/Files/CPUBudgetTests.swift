import Testing
@testable import Darkroom

/// The cgroup quota that caps ``CPUBudget/cores()``: cgroup v2's `cpu.max`, else v1's files.
@Suite struct CPUBudgetTests {
    @Test func quotaFromCgroupV2AndV1() {
        #expect(CPUBudget.cgroupQuota(v2: "200000 100000\n", v1Quota: nil, v1Period: nil) == 2)
        #expect(CPUBudget.cgroupQuota(v2: "150000 100000\n", v1Quota: nil, v1Period: nil) == 2)  // rounded up
        #expect(CPUBudget.cgroupQuota(v2: "50000 100000\n", v1Quota: nil, v1Period: nil) == 1)
        #expect(CPUBudget.cgroupQuota(v2: "max 100000\n", v1Quota: "400000", v1Period: "100000") == nil)
        #expect(CPUBudget.cgroupQuota(v2: nil, v1Quota: "400000\n", v1Period: "100000\n") == 4)
        #expect(CPUBudget.cgroupQuota(v2: nil, v1Quota: "-1\n", v1Period: "100000\n") == nil)  // v1: no quota
        #expect(CPUBudget.cgroupQuota(v2: nil, v1Quota: nil, v1Period: nil) == nil)
    }

    /// Whatever the files hold: no trap, no quota from nonsense.
    @Test func hostileTextNeverTraps() {
        #expect(CPUBudget.cgroupQuota(v2: "9223372036854775807 1\n", v1Quota: nil, v1Period: nil) == Int.max)
        #expect(CPUBudget.cgroupQuota(v2: "9223372036854775807 100000\n", v1Quota: nil, v1Period: nil) == 92_233_720_368_548)
        #expect(CPUBudget.cgroupQuota(v2: "100000 0\n", v1Quota: nil, v1Period: nil) == nil)
        #expect(CPUBudget.cgroupQuota(v2: "1 99999999999999999999999\n", v1Quota: nil, v1Period: nil) == nil)
        #expect(CPUBudget.cgroupQuota(v2: "", v1Quota: nil, v1Period: nil) == nil)
        #expect(CPUBudget.cores() >= 1)
    }
}
