import Glibc

#if !SWITCHYARD_NO_JEMALLOC
    import CJemalloc
#endif

/// Facts about the process allocator. The daemon links jemalloc, and these
/// checks prove that malloc really goes to it (a library linked but not bound
/// would still answer mallctl while glibc's malloc served every request).
public enum Allocator {
    #if SWITCHYARD_NO_JEMALLOC
        // A sanitizer build (Package.swift): no jemalloc, so no figures.
        private static func mallctl(
            _ name: UnsafePointer<CChar>, _ old: UnsafeMutableRawPointer?, _ oldSize: UnsafeMutablePointer<Int>?,
            _ new: UnsafeMutableRawPointer?, _ newSize: Int
        ) -> Int32 { -1 }
        private static let MALLCTL_ARENAS_ALL = 4_096
    #endif

    /// jemalloc's version string, when jemalloc is linked.
    public static var jemallocVersion: String? {
        var version: UnsafePointer<CChar>? = nil
        var size = MemoryLayout<UnsafePointer<CChar>?>.size
        guard mallctl("version", &version, &size, nil, 0) == 0, let version else { return nil }
        return String(cString: version)
    }

    /// Bytes this thread has allocated through jemalloc since it started.
    /// Reading it allocates nothing, so it can bracket code that must not.
    public static var threadAllocatedBytes: UInt64 {
        var value: UInt64 = 0
        var size = MemoryLayout<UInt64>.size
        // A StaticString's bytes are handed to C as they are; a String
        // argument may be copied to the heap first, and that would be counted.
        let name: StaticString = "thread.allocated"
        let status = name.utf8Start.withMemoryRebound(to: CChar.self, capacity: name.utf8CodeUnitCount + 1) {
            mallctl($0, &value, &size, nil, 0)
        }
        return status == 0 ? value : 0
    }

    /// Bytes in live allocations across the process (jemalloc's
    /// `stats.allocated`, refreshed first); nil without jemalloc. A soak
    /// run watches it stay flat: the daemon's own memory, without the
    /// pages jemalloc keeps for reuse that the resident size includes.
    public static var allocatedBytes: UInt64? {
        // Writing any value to "epoch" refreshes the statistics.
        var epoch: UInt64 = 1
        guard mallctl("epoch", nil, nil, &epoch, MemoryLayout<UInt64>.size) == 0 else { return nil }
        var size = MemoryLayout<Int>.size
        var value = 0
        return mallctl("stats.allocated", &value, &size, nil, 0) == 0 ? UInt64(value) : nil
    }

    /// Hands the pages jemalloc holds free back to the kernel at once, in
    /// every arena. Parsing a large configuration (a million merchants is
    /// gigabytes of YAML nodes) leaves its garbage as free pages that
    /// jemalloc would return only after its decay time, and partly as lazily
    /// freed pages the kernel keeps counting in the resident size until it
    /// needs memory: the daemon calls this after loading a configuration, so
    /// its RSS shows what it keeps.
    public static func returnFreePages() {
        _ = mallctl("arena.\(MALLCTL_ARENAS_ALL).purge", nil, nil, nil, 0)
    }

    /// True when a plain malloc call is served by jemalloc: jemalloc's own
    /// per-thread counter moves by the allocation.
    public static var mallocIsJemalloc: Bool {
        let before = threadAllocatedBytes
        guard let block = malloc(4_096) else { return false }
        // Touch the block so the call cannot be optimised away.
        block.storeBytes(of: 1, as: UInt8.self)
        let after = threadAllocatedBytes
        free(block)
        return after - before >= 4_096
    }
}
