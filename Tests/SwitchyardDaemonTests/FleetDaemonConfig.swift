/// The configuration the fleet daemon tests start from: one loop on free
/// ports, syncing with Redis every 100 ms under `fleet`. `redisFields` adds
/// fields to the `redis` section, `serverFields` to `server`; `rest`
/// (top-level sections) follows them.
func fleetDaemonConfig(
    redis port: UInt16, fleet: String, serverFields: [String] = [], redisFields: [String] = [], rest: String
) -> String {
    let lines =
        ["server:", "  listen: \"127.0.0.1:0\"", "  admin_listen: \"127.0.0.1:0\"", "  loops: 1"]
        + serverFields.map { "  " + $0 }
        + ["redis:", "  address: \"127.0.0.1:\(port)\"", "  sync_interval_ms: 100", "  fleet: \(fleet)"]
        + redisFields.map { "  " + $0 }
    return (lines + [rest]).joined(separator: "\n")
}
