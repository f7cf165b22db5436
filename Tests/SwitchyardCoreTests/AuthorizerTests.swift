import SwitchyardCore
import Testing

/// The authorization decision on a manual clock, through bytes as the server
/// will hand them over.
@Suite struct AuthorizerTests {
    static let second: UInt64 = 1_000_000_000
    static let hasher = try! KeyHasher(secret: [UInt8](repeating: 0x5A, count: 32))

    static func configuration(_ change: (inout MerchantConfiguration) -> Void = { _ in }) -> Configuration {
        var configuration = Configuration()
        var merchant = MerchantConfiguration(id: "m_1")
        merchant.keys = [
            MerchantConfiguration.Key(digest: hasher.digest(of: "sk_live_old")),
            MerchantConfiguration.Key(digest: hasher.digest(of: "sk_live_new")),
        ]
        merchant.limits = [MerchantLimit(RateLimit(rate: 10, periodNanoseconds: second, burst: 2))]
        change(&merchant)
        configuration.merchants = [merchant]
        configuration.authorization.failuresPerAddress = RateLimit(rate: 1, periodNanoseconds: 60 * second, burst: 2)
        configuration.authorization.failuresPerMerchant = RateLimit(rate: 1, periodNanoseconds: 60 * second, burst: 9)
        return configuration
    }

    static func ask(
        _ table: AuthorizationTable, merchant: String = "m_1", key: String = "sk_live_new",
        address: [UInt8] = [203, 0, 113, 7], cost: Int = 1, now: UInt64 = second, wall: Int64 = 1_800_000_000,
        operation: String = ""
    ) -> AuthorizationVerdict {
        var merchant = merchant
        var key = key
        var operation = operation
        return merchant.withUTF8 { m in
            key.withUTF8 { k in
                operation.withUTF8 { o in
                    address.withUnsafeBytes { a in
                        table.authorize(
                            AuthorizationQuery(
                                merchantID: UnsafeRawBufferPointer(m), key: UnsafeRawBufferPointer(k), address: a,
                                cost: cost, now: now, wallSeconds: wall, operation: UnsafeRawBufferPointer(o)))
                    }
                }
            }
        }
    }

    @Test func aScopedKeyMayOnlyDoItsOperations() {
        let table = AuthorizationTable(
            Self.configuration {
                $0.keys[1].scopes = ["payments:create", "refunds:create"]
                $0.limits = []
            }, hasher: Self.hasher)
        #expect(Self.ask(table, operation: "payments:create").allowed)
        #expect(Self.ask(table, operation: "refunds:create").allowed)
        #expect(Self.ask(table, operation: "payouts:create").reason == .scopeDenied)
        #expect(Self.ask(table, operation: "no-key-has-this").reason == .scopeDenied)
        #expect(Self.ask(table).reason == .scopeDenied, "a scoped key must name its operation")
        // The unscoped key of the same merchant may do anything, named or not.
        #expect(Self.ask(table, key: "sk_live_old", operation: "payouts:create").allowed)
        #expect(Self.ask(table, key: "sk_live_old").allowed)
        // A scope denial is not a failed authentication: it locks nothing out.
        for _ in 0..<20 { _ = Self.ask(table, operation: "payouts:create") }
        #expect(Self.ask(table, operation: "payments:create").allowed)
    }

    @Test func scopesComeAcrossFromTheTableAKeptCopyReplaces() {
        let full = Self.configuration { $0.keys[1].scopes = ["payments:create"] }
        let before = AuthorizationTable(full, hasher: Self.hasher)
        let after = AuthorizationTable(full.credentialsMovedToTables(), hasher: Self.hasher, carryingOver: before)
        #expect(Self.ask(after, operation: "payments:create").allowed)
        #expect(Self.ask(after, operation: "refunds:create").reason == .scopeDenied)
    }

    @Test func bothKeysOfARotationWorkAndLimitsAreReported() {
        let table = AuthorizationTable(Self.configuration(), hasher: Self.hasher)
        let first = Self.ask(table, key: "sk_live_old")
        #expect(first.allowed && first.limit == 10 && first.remaining == 2)
        #expect(Self.ask(table, key: "sk_live_new").allowed)
        #expect(Self.ask(table).allowed)
        let limited = Self.ask(table)
        #expect(limited.reason == .rateLimited && limited.retryAfter == Self.second / 10)
        #expect(Self.ask(table, now: Self.second + Self.second / 10).allowed, "retrying when told succeeds")
    }

    @Test func everyRefusalHasItsReason() {
        let table = AuthorizationTable(
            Self.configuration {
                $0.keys[0].expiresAt = 1_700_000_000
                $0.clientAllowlist = [CIDR(parsing: "203.0.113.0/24")!]
            }, hasher: Self.hasher)
        #expect(Self.ask(table, merchant: "m_404").reason == .unknownMerchant)
        #expect(Self.ask(table, key: "sk_live_wrong").reason == .badKey)
        #expect(Self.ask(table, key: "sk_live_old").reason == .expiredKey)
        #expect(Self.ask(table, address: [198, 51, 100, 1]).reason == .addressNotAllowed)
        #expect(Self.ask(table, address: []).reason == .addressNotAllowed, "no address is not in an allowlist")
        #expect(Self.ask(table).allowed)
        for status in [MerchantConfiguration.Status.suspended, .disabled] {
            let other = AuthorizationTable(Self.configuration { $0.status = status }, hasher: Self.hasher)
            #expect(Self.ask(other).reason == (status == .suspended ? .merchantSuspended : .merchantDisabled))
        }
        #expect(
            Self.ask(AuthorizationTable(Self.configuration(), hasher: nil)).reason == .badKey,
            "no secret: no key matches")
    }

    @Test func failedAttemptsLockOutEvenACorrectKeyUntilTheBudgetRefills() {
        let table = AuthorizationTable(Self.configuration(), hasher: Self.hasher)
        for _ in 0..<3 { #expect(Self.ask(table, key: "guess").reason == .badKey) }
        let locked = Self.ask(table)
        #expect(locked.reason == .authAttemptsLimited && locked.retryAfter > 0)
        #expect(Self.ask(table, address: [198, 51, 100, 1]).allowed, "another address is not locked out")
        #expect(Self.ask(table, now: Self.second + locked.retryAfter).allowed, "released when the budget refills")
        // Unknown merchants spend the address budget too.
        for _ in 0..<3 { _ = Self.ask(table, merchant: "m_x", address: [10, 0, 0, 1], now: 100 * Self.second) }
        #expect(Self.ask(table, address: [10, 0, 0, 1], now: 100 * Self.second).reason == .authAttemptsLimited)
    }

    @Test func merchantsWithTheSameLimitStillHaveABudgetEach() {
        // The table stores each distinct limit once; the budgets stay per merchant.
        var configuration = Self.configuration()
        var twin = configuration.merchants[0]
        twin.id = "m_2"
        configuration.merchants.append(twin)
        let table = AuthorizationTable(configuration, hasher: Self.hasher)
        for _ in 0..<3 { #expect(Self.ask(table).allowed) }
        #expect(Self.ask(table).reason == .rateLimited)
        let other = Self.ask(table, merchant: "m_2")
        #expect(other.allowed && other.limit == 10, "m_2's budget is its own")
        #expect(table.maxCost(merchant: 1) == 3)
    }

    @Test func aTableBuiltFromTheKeptCopyTakesKeysAndLimitsFromTheOneItReplaces() {
        // A server keeps its configuration without keys and limits and
        // re-applies SRE overrides (a merchant status) from that copy.
        let full = Self.configuration()
        let before = AuthorizationTable(full, hasher: Self.hasher)
        for _ in 0..<3 { #expect(Self.ask(before).allowed) }
        var kept = full.credentialsMovedToTables()
        #expect(kept.merchants[0].keys.isEmpty && kept.merchants[0].limits.isEmpty)
        let after = AuthorizationTable(kept, hasher: Self.hasher, carryingOver: before)
        #expect(Self.ask(after).reason == .rateLimited, "the limit and its state came across")
        #expect(Self.ask(after, key: "sk_live_old", now: 10 * Self.second).allowed, "both keys came across")
        #expect(after.maxCost(merchant: 0) == 3)
        #expect(after.credentials(of: "m_1")?.keys == 2)
        #expect(after.credentials(of: "m_1")?.limits.map(\.limit.rate) == [10])

        kept.merchants[0].status = .suspended
        let suspended = AuthorizationTable(kept, hasher: Self.hasher, carryingOver: after)
        #expect(Self.ask(suspended, now: 20 * Self.second).reason == .merchantSuspended)
        // A merchant the replaced table never knew gets no keys: it authorizes nothing.
        kept.merchants.append(MerchantConfiguration(id: "m_new"))
        let unknown = AuthorizationTable(kept, hasher: Self.hasher, carryingOver: after)
        #expect(Self.ask(unknown, merchant: "m_new", now: 30 * Self.second).reason == .badKey)
        #expect(unknown.credentials(of: "m_new")?.keys == 0)
    }

    @Test func aReloadKeepsLimiterStateAndRevokesRemovedKeys() {
        let before = AuthorizationTable(Self.configuration(), hasher: Self.hasher)
        for _ in 0..<3 { #expect(Self.ask(before).allowed) }
        let after = AuthorizationTable(
            Self.configuration { $0.keys.removeFirst() }, hasher: Self.hasher, carryingOver: before)
        #expect(Self.ask(after).reason == .rateLimited, "the limit's state survived the reload")
        #expect(
            Self.ask(after, key: "sk_live_old", now: 10 * Self.second).reason == .badKey, "the removed key is refused")
        #expect(after.maxCost(merchant: 0) == 3)
    }
}
