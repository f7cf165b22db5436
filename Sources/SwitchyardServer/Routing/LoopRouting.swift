import SwitchyardCore

/// One event loop's side of routing: the snapshot it decides on, its ring
/// to the merger, its decision buffer and random source. Owned by the loop's
/// thread and touched by no other.
final class LoopRouting {
    let service: RoutingService
    let loopIndex: Int
    /// The newest publication this loop has taken (see ``refresh()``).
    private(set) var publication: RoutingService.Publication
    private var seenPublications: UInt64
    let ring: OutcomeRing
    // Unchecked: only the loop's thread touches these, and the dynamic
    // exclusivity check on each inout use of a class property (a
    // thread-local access set) cost a few percent of a DECIDE.
    @exclusivity(unchecked) var decision = RouteDecision()
    /// Working space for the rules in shadow (``Router/shadow``).
    @exclusivity(unchecked) var shadowDecision = RouteDecision()
    @exclusivity(unchecked) var cache = DecisionCache(size: 128)
    @exclusivity(unchecked) var random: SplitMix64
    @exclusivity(unchecked) private var sequence: UInt32 = 0
    /// The loop's last decisions, for `ADMIN_EXPLAIN`.
    let decisionLog: DecisionLog
    /// Bearer tokens this loop has verified, sized by the publication's
    /// `authorization.tokens.cache_entries` (nil: no tokens, or no cache).
    private(set) var tokenCache: TokenCache?
    /// This loop's ring to the audit log, and the events it records (nil: no audit log).
    let audit: (ring: AuditRing, denials: Bool, allows: Bool, decisions: Bool)?
    /// Where a record is written before it goes to the ring whole.
    let auditScratch: UnsafeMutableRawBufferPointer
    /// The loop's clock readings for this batch of events.
    var now: UInt64 = 0
    var wallSeconds: Int64 = 0

    init(
        service: RoutingService, loopIndex: Int, seed: UInt64, decisionLog: DecisionLog = DecisionLog(),
        audit: AuditLog? = nil
    ) {
        self.service = service
        self.audit = audit.map {
            (
                $0.rings[loopIndex], $0.settings.events.contains(.denials), $0.settings.events.contains(.allows),
                $0.settings.events.contains(.decisions)
            )
        }
        auditScratch = .allocate(byteCount: audit == nil ? 0 : AuditEvent.maxBytes, alignment: 16)
        self.loopIndex = loopIndex
        self.decisionLog = decisionLog
        ring = service.rings[loopIndex]
        publication = service.current
        seenPublications = service.publicationCount
        random = SplitMix64(seed: seed)
        resizeTokenCache()
    }

    deinit { auditScratch.deallocate() }

    /// Takes the newest snapshot if one was published since the last look:
    /// one atomic load per batch, the lock only when something changed.
    func refresh() {
        let count = service.publicationCount
        guard count != seenPublications else { return }
        seenPublications = count
        publication = service.current
        resizeTokenCache()
    }

    /// Only a reload that changes the size (or turns tokens on or off)
    /// replaces the cache; entries of a replaced verifier lapse by themselves.
    private func resizeTokenCache() {
        let wanted = publication.authorization.tokens?.cacheEntries ?? 0
        guard wanted != (tokenCache?.requestedCapacity ?? 0) else { return }
        tokenCache = wanted == 0 ? nil : TokenCache(capacity: wanted)
    }

    // MARK: - Decision ids

    // An id packs the instance tag (16 bits), the low 24 bits of the snapshot
    // version, the loop (6 bits) and a per-loop sequence (18 bits): unique
    // within an instance, and enough for REPORT to tell which snapshot the
    // decision saw without remembering decisions.
    static let versionBits: UInt64 = 24
    static let versionMask: UInt32 = (1 << 24) - 1

    func nextDecisionID(on snapshot: RoutingSnapshot) -> UInt64 {
        sequence &+= 1
        return UInt64(service.instanceTag) << 48
            | UInt64(snapshot.version & LoopRouting.versionMask) << 24
            | UInt64(loopIndex & 0x3F) << 18
            | UInt64(sequence & 0x3FFFF)
    }

    /// The snapshot version a decision id was made on, when this instance
    /// made it within the 2^23 snapshots up to `snapshot`; nil otherwise.
    func decisionVersion(of id: UInt64, on snapshot: RoutingSnapshot) -> UInt32? {
        guard id != 0, UInt16(truncatingIfNeeded: id >> 48) == service.instanceTag else { return nil }
        let low = UInt32(truncatingIfNeeded: id >> 24) & LoopRouting.versionMask
        let age = (snapshot.version &- low) & LoopRouting.versionMask
        guard age < 1 << 23 else { return nil }
        return snapshot.version &- age
    }
}
