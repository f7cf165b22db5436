import Glibc

/// The process's limit on open descriptors (RLIMIT_NOFILE). Many systems
/// start processes at a soft limit of 1,024 while the hard limit allows far
/// more; a server sized for 10,000 connections raises its own.
public enum FileLimit {
    /// Raises the soft limit to `wanted`, or as far as the hard limit lets
    /// it; never lowers it. Returns the soft limit in force afterwards.
    @discardableResult
    public static func raise(to wanted: Int) -> Int {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        let target = min(rlim_t(wanted), limit.rlim_max)
        if target > limit.rlim_cur {
            var raised = limit
            raised.rlim_cur = target
            if setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &raised) == 0 { return Int(target) }
        }
        return Int(clamping: limit.rlim_cur)
    }
}
