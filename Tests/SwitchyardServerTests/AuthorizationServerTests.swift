import Glibc
import SwitchyardClient
import SwitchyardCore
import SwitchyardServer
import SwitchyardTesting
import SwitchyardWire
import Testing

/// AUTHORIZE through a real server (in process) and the client library.
@Suite struct AuthorizationServerTests {
    static let hasher = try! KeyHasher(secret: [UInt8](repeating: 0x42, count: 32))
    static let address: [UInt8] = [203, 0, 113, 7]

    static func configuration(_ change: (inout MerchantConfiguration) -> Void = { _ in }) -> Configuration {
        var configuration = TestServer.routingConfiguration()
        var merchant = MerchantConfiguration(id: "m_1")
        merchant.keys = [
            MerchantConfiguration.Key(digest: hasher.digest(of: "sk_live_one")),
            MerchantConfiguration.Key(digest: hasher.digest(of: "sk_live_two")),
        ]
        merchant.limits = [MerchantLimit(RateLimit(rate: 5, periodNanoseconds: 60_000_000_000, burst: 4))]
        change(&merchant)
        configuration.merchants = [merchant]
        configuration.authorization.failuresPerAddress = RateLimit(
            rate: 1, periodNanoseconds: 3_600_000_000_000, burst: 2)
        return configuration
    }

    static func request(_ key: String = "sk_live_one", merchant: String = "m_1", cost: UInt32 = 1) -> AuthorizeRequest {
        AuthorizeRequest(merchantID: merchant, credential: key, clientAddress: address, cost: cost)
    }

    static func status(_ call: () throws -> Void) -> Status? {
        do {
            try call()
            return nil
        } catch let error as ClientError {
            if case .server(let status, _, _) = error { return status }
            return nil
        } catch {
            return nil
        }
    }

    @Test func allowsWithEitherKeyAndLimitsWithExactFields() throws {
        let server = try TestServer(configuration: Self.configuration(), keyHasher: Self.hasher)
        let connection = try Connection(to: server.address)
        let first = try connection.authorize(Self.request("sk_live_one"))
        #expect(first.allowed && first.reason == 0 && first.limit == 5 && first.remaining == 4)
        #expect(first.resetAfterMilliseconds == 12_000)
        #expect(try connection.authorize(Self.request("sk_live_two", cost: 4)).allowed)
        let denied = try connection.authorize(Self.request())
        #expect(!denied.allowed && denied.reason == AuthorizationReason.rateLimited.rawValue)
        #expect(denied.retryAfterMilliseconds > 0 && denied.retryAfterMilliseconds <= 12_000)
    }

    @Test func everyReasonOverTheProtocol() throws {
        var configuration = Self.configuration {
            $0.keys[1].expiresAt = 1_000_000_000  // 2001
            $0.clientAllowlist = [CIDR(parsing: "203.0.113.0/24")!]
        }
        var suspended = MerchantConfiguration(id: "m_s")
        suspended.status = .suspended
        suspended.keys = configuration.merchants[0].keys
        var disabled = suspended
        disabled.id = "m_d"
        disabled.status = .disabled
        configuration.merchants += [suspended, disabled]
        let server = try TestServer(configuration: configuration, keyHasher: Self.hasher)
        let connection = try Connection(to: server.address)
        func reason(_ request: AuthorizeRequest) throws -> AuthorizationReason? {
            AuthorizationReason(rawValue: try connection.authorize(request).reason)
        }
        #expect(try reason(Self.request()) == .allowed)
        #expect(try reason(Self.request("sk_live_two")) == .expiredKey)
        #expect(try reason(Self.request(merchant: "m_s")) == .merchantSuspended)
        #expect(try reason(Self.request(merchant: "m_d")) == .merchantDisabled)
        var outside = Self.request()
        outside.clientAddress = [198, 51, 100, 1]
        #expect(try reason(outside) == .addressNotAllowed)
        #expect(try reason(Self.request(merchant: "m_404")) == .unknownMerchant)
        #expect(try reason(Self.request("sk_live_guess")) == .badKey)
        // The third failure from the address spends its budget (burst 2)...
        #expect(try reason(Self.request("sk_live_guess")) == .badKey)
        // ...and then even the right key is refused.
        #expect(try reason(Self.request()) == .authAttemptsLimited)
    }

    @Test func badInputGetsItsCodeAndSpendsNothing() throws {
        let server = try TestServer(configuration: Self.configuration(), keyHasher: Self.hasher)
        let connection = try Connection(to: server.address)
        #expect(Self.status { _ = try connection.authorize(Self.request(cost: 0)) } == .invalidCost)
        #expect(
            Self.status { _ = try connection.authorize(Self.request(cost: 6)) } == .invalidCost, "burst 4: at most 5")
        #expect(Self.status { _ = try connection.authorize(Self.request("")) } == .invalidCredential)
        #expect(
            Self.status { _ = try connection.authorize(Self.request(String(repeating: "k", count: 513))) }
                == .invalidCredential)
        var bearer = Self.request()
        bearer.credentialKind = 2
        #expect(Self.status { _ = try connection.authorize(bearer) } == .unsupportedCredential)
        #expect(Self.status { _ = try connection.authorize(Self.request(merchant: "")) } == .malformedBody)
        // An addr family of 5 does not exist.
        var body: [UInt8] = [3] + Array("m_1".utf8) + [1, 3, 0] + Array("key".utf8) + [5, 1, 2, 3, 4] + [1, 0, 0, 0]
        #expect(Self.status { _ = try connection.call(.authorize, bytes: body) } == .malformedBody)
        body.removeLast()
        #expect(Self.status { _ = try connection.call(.authorize, bytes: body) } == .malformedBody)
        // Nothing above spent a unit: the full burst is still there.
        #expect(try connection.authorize(Self.request()).remaining == 4)
    }

    @Test func suspensionTakesEffectOnReload() throws {
        let configuration = Self.configuration()
        let server = try TestServer(configuration: configuration, keyHasher: Self.hasher)
        let connection = try Connection(to: server.address)
        #expect(try connection.authorize(Self.request()).allowed)
        var updated = configuration
        updated.merchants[0].status = .suspended
        server.server.reload(updated)
        var reason: UInt16 = 0
        for _ in 0..<200 where reason != AuthorizationReason.merchantSuspended.rawValue {
            reason = try connection.authorize(Self.request()).reason
            if reason != AuthorizationReason.merchantSuspended.rawValue { usleep(2_000) }
        }
        #expect(reason == AuthorizationReason.merchantSuspended.rawValue)
    }

    @Test func aLockoutIsReleasedWhenTheBudgetRefills() throws {
        var configuration = Self.configuration()
        // One failure refills every 100 ms: a real-time test, with generous bounds.
        configuration.authorization.failuresPerAddress = RateLimit(rate: 10, periodNanoseconds: 1_000_000_000, burst: 0)
        let server = try TestServer(configuration: configuration, keyHasher: Self.hasher)
        let connection = try Connection(to: server.address)
        #expect(try connection.authorize(Self.request("guess")).reason == AuthorizationReason.badKey.rawValue)
        let locked = try connection.authorize(Self.request())
        #expect(locked.reason == AuthorizationReason.authAttemptsLimited.rawValue)
        #expect(locked.retryAfterMilliseconds > 0 && locked.retryAfterMilliseconds <= 100)
        var allowed = false
        for _ in 0..<500 where !allowed {
            allowed = try connection.authorize(Self.request()).allowed
            if !allowed { usleep(5_000) }
        }
        #expect(allowed, "released once the budget refilled")
    }

    @Test func aReloadRevokesARemovedKeyAndKeepsTheLimit() throws {
        let configuration = Self.configuration()
        let server = try TestServer(configuration: configuration, keyHasher: Self.hasher)
        let connection = try Connection(to: server.address)
        #expect(try connection.authorize(Self.request("sk_live_one", cost: 3)).allowed)
        var updated = configuration
        updated.merchants[0].keys.removeFirst()
        server.server.reload(updated)
        var revoked = false
        for _ in 0..<200 where !revoked {
            revoked =
                try connection.authorize(Self.request("sk_live_one")).reason == AuthorizationReason.badKey.rawValue
            if !revoked { usleep(2_000) }
        }
        #expect(revoked, "the removed key is refused after the reload")
        let kept = try connection.authorize(Self.request("sk_live_two"))
        #expect(kept.allowed && kept.remaining < 2, "the units spent before the reload stay spent: \(kept)")
    }
}

/// Key scopes over the protocol: AUTHORIZE names its operation after its
/// fields, DECIDE after its ROUTE fields (with the labels).
@Suite struct ScopeServerTests {
    static func configuration() -> Configuration {
        AuthorizationServerTests.configuration { $0.keys[0].scopes = ["payments:create"] }
    }

    @Test func aKeyIsDeniedOperationsOutsideItsScopes() throws {
        let server = try TestServer(configuration: Self.configuration(), keyHasher: AuthorizationServerTests.hasher)
        let connection = try Connection(to: server.address)
        var request = AuthorizationServerTests.request("sk_live_one")
        request.operation = "payments:create"
        #expect(try connection.authorize(request).allowed)
        request.operation = "payouts:create"
        let denied = try connection.authorize(request)
        #expect(!denied.allowed && denied.reason == AuthorizationReason.scopeDenied.rawValue)
        request.operation = nil
        #expect(try connection.authorize(request).reason == AuthorizationReason.scopeDenied.rawValue)
        // The other key has no scopes: any operation.
        var other = AuthorizationServerTests.request("sk_live_two")
        other.operation = "payouts:create"
        #expect(try connection.authorize(other).allowed)

        var decide = DecideServerTests.decide("sk_live_one")
        decide.authorize.operation = "payments:create"
        decide.route.labels = ["channel": "app"]
        let routed = try connection.decide(decide)
        #expect(routed.authorization.allowed && routed.route?.entries.isEmpty == false)
        decide.authorize.operation = "refunds:create"
        let refused = try connection.decide(decide)
        #expect(refused.authorization.reason == AuthorizationReason.scopeDenied.rawValue && refused.route == nil)
    }

    @Test func aMalformedOperationIsAMalformedBody() throws {
        let server = try TestServer(configuration: Self.configuration(), keyHasher: AuthorizationServerTests.hasher)
        let connection = try Connection(to: server.address)
        for operation in ["", String(repeating: "x", count: 65)] {
            let status = AuthorizationServerTests.status {
                _ = try connection.call(.authorize) { writer in
                    AuthorizationServerTests.request("sk_live_one").write(to: &writer)
                    writer.u8(RequestExtensions.Tag.operation)
                    writer.str16(operation)
                }
            }
            #expect(status == .malformedBody, "'\(operation)'")
        }
        // Two operations: ambiguous.
        let twice = AuthorizationServerTests.status {
            _ = try connection.call(.authorize) { writer in
                AuthorizationServerTests.request("sk_live_one").write(to: &writer)
                for operation in ["payments:create", "payouts:create"] {
                    writer.u8(RequestExtensions.Tag.operation)
                    writer.str16(operation)
                }
            }
        }
        #expect(twice == .malformedBody)
        // An extension this server does not know is skipped.
        var request = AuthorizationServerTests.request("sk_live_one")
        request.operation = "payments:create"
        let skipped = try connection.call(.authorize) { writer in
            request.write(to: &writer)
            writer.u8(200)
            writer.str16("from a later client")
        }
        #expect(skipped.header.status == .ok)
    }
}

/// Bearer tokens (credential kind 2) over the protocol, with the PyJWT
/// vectors of `TokenVerifierTests` (valid from 2023 to 2033).
@Suite struct TokenServerTests {
    static func configuration() -> Configuration {
        var configuration = AuthorizationServerTests.configuration()
        var tokens = TokenVectors.settings()
        tokens.secrets = ["m_1": [TokenSettings.Secret(kid: "k1", bytes: TokenVectors.secret)]]
        configuration.authorization.tokens = tokens
        return configuration
    }

    /// Without a client address unless given: the failed ones below would
    /// spend the address's small budget of failures.
    static func request(_ vector: String, operation: String? = nil, address: [UInt8] = []) -> AuthorizeRequest {
        AuthorizeRequest(
            merchantID: "m_1", credential: TokenVectors.vectors[vector] ?? vector, clientAddress: address,
            credentialKind: 2, operation: operation)
    }

    @Test func tokensAuthorizeWithTheirScopesAndEachRejectionHasItsReason() throws {
        let server = try TestServer(configuration: Self.configuration(), keyHasher: AuthorizationServerTests.hasher)
        let connection = try Connection(to: server.address)
        let first = try connection.authorize(Self.request("valid", operation: "payments:create"))
        #expect(first.allowed, "\(first.reason)")
        #expect(
            try connection.authorize(Self.request("valid", operation: "payouts:create")).reason
                == AuthorizationReason.scopeDenied.rawValue)
        #expect(try connection.authorize(Self.request("noScope")).allowed, "no scope claim: any operation")
        for (vector, reason) in [
            ("expired", AuthorizationReason.tokenExpired), ("notYetValid", .tokenNotYetValid),
            ("wrongAudience", .tokenClaimsRejected), ("otherMerchant", .tokenClaimsRejected),
            ("otherSecret", .tokenSignatureInvalid), ("unknownKid", .tokenKeyUnknown),
            ("algNone", .tokenAlgorithmRejected), ("oversizedHeader", .tokenMalformed),
        ] {
            let reply = try connection.authorize(Self.request(vector))
            #expect(!reply.allowed && reply.reason == reason.rawValue, "\(vector): \(reply.reason)")
        }
        var decide = DecideServerTests.decide()
        decide.authorize = Self.request("valid", operation: "payments:create")
        let decided = try connection.decide(decide)
        #expect(decided.authorization.allowed && decided.route?.entries.isEmpty == false)
    }

    /// RS256 and ES256 under the issuer's public keys; a token seen before
    /// comes from the loop's cache, which a reload does not let outlive a
    /// retired key nor hide a suspension.
    @Test func publicKeyTokensRotateByKidAcrossAReload() throws {
        let configuration = Self.configuration()
        let server = try TestServer(configuration: configuration, keyHasher: AuthorizationServerTests.hasher)
        let connection = try Connection(to: server.address)
        for vector in ["rs256", "rs256Rotated", "es256", "rs256"] {
            let reply = try connection.authorize(Self.request(vector, operation: "payments:create"))
            #expect(reply.allowed, "\(vector): \(reply.reason)")
        }
        for (vector, reason) in [
            ("es256UnderRSAKid", AuthorizationReason.tokenAlgorithmRejected), ("rs256WrongKey", .tokenSignatureInvalid),
            ("rs256UnknownKid", .tokenKeyUnknown), ("hs256KeyedWithPublicKey", .tokenKeyUnknown),
        ] {
            let reply = try connection.authorize(Self.request(vector))
            #expect(!reply.allowed && reply.reason == reason.rawValue, "\(vector): \(reply.reason)")
        }

        var retired = configuration
        retired.authorization.tokens?.publicKeys = TokenVectors.publicKeyFiles(["r2", "e1"])
        server.server.reload(retired)
        var reason: UInt16 = 0
        for _ in 0..<200 where reason != AuthorizationReason.tokenKeyUnknown.rawValue {
            reason = try connection.authorize(Self.request("rs256", operation: "payments:create")).reason
            if reason != AuthorizationReason.tokenKeyUnknown.rawValue { usleep(2_000) }
        }
        #expect(reason == AuthorizationReason.tokenKeyUnknown.rawValue, "r1 retired: its cached token lapsed")
        #expect(try connection.authorize(Self.request("rs256Rotated", operation: "payments:create")).allowed)

        retired.merchants[0].status = .suspended
        server.server.reload(retired)
        for _ in 0..<200 where reason != AuthorizationReason.merchantSuspended.rawValue {
            reason = try connection.authorize(Self.request("rs256Rotated", operation: "payments:create")).reason
            if reason != AuthorizationReason.merchantSuspended.rawValue { usleep(2_000) }
        }
        #expect(reason == AuthorizationReason.merchantSuspended.rawValue)
    }

    @Test func badTokensAreFailedAuthenticationsAndOversizedOnesBadInput() throws {
        let server = try TestServer(configuration: Self.configuration(), keyHasher: AuthorizationServerTests.hasher)
        let connection = try Connection(to: server.address)
        // The address's budget of failures is 2 (AuthorizationServerTests): forged tokens spend it.
        let address = AuthorizationServerTests.address
        for _ in 0..<3 { _ = try connection.authorize(Self.request("otherSecret", address: address)) }
        #expect(
            try connection.authorize(Self.request("valid", operation: "payments:create", address: address)).reason
                == AuthorizationReason.authAttemptsLimited.rawValue)
        #expect(
            AuthorizationServerTests.status {
                _ = try connection.authorize(Self.request(String(repeating: "a", count: 4_097)))
            } == .invalidCredential)
        // Without authorization.tokens, kind 2 is not served.
        let plain = try TestServer(
            configuration: AuthorizationServerTests.configuration(), keyHasher: AuthorizationServerTests.hasher)
        #expect(
            AuthorizationServerTests.status {
                _ = try Connection(to: plain.address).authorize(Self.request("valid"))
            } == .unsupportedCredential)
    }
}

/// DECIDE: authorize and route in one round trip.
@Suite struct DecideServerTests {
    static func decide(
        _ key: String = "sk_live_one", merchant: String = "m_1", cost: UInt32 = 1, method: String = "card",
        tried: [String] = []
    ) -> DecideRequest {
        DecideRequest(
            authorize: AuthorizationServerTests.request(key, merchant: merchant, cost: cost),
            route: RouteRequest(
                merchantID: merchant, paymentID: "pay_d1", method: method, currency: "INR", amount: 49_900,
                tried: tried))
    }

    @Test func allowedDecisionsCarryTheFailoverList() throws {
        let server = try TestServer(
            configuration: AuthorizationServerTests.configuration(), keyHasher: AuthorizationServerTests.hasher)
        let connection = try Connection(to: server.address)
        let reply = try connection.decide(Self.decide(tried: ["payu"]))
        #expect(reply.authorization.allowed && reply.authorization.remaining == 4)
        #expect(Set(reply.route?.entries.map(\.gateway) ?? []) == ["razorpay", "cashfree"])
        #expect(reply.route?.decisionID ?? 0 != 0)
    }

    @Test func aDenialSpendsNothingOnRoutingAndBadFieldsSpendNothingAtAll() throws {
        let server = try TestServer(
            configuration: AuthorizationServerTests.configuration(), keyHasher: AuthorizationServerTests.hasher)
        let connection = try Connection(to: server.address)
        let denied = try connection.decide(Self.decide("sk_live_wrong"))
        #expect(!denied.authorization.allowed && denied.route == nil)
        #expect(denied.authorization.reason == AuthorizationReason.badKey.rawValue)
        let unknown = try connection.decide(Self.decide(merchant: "m_404"))
        #expect(unknown.authorization.reason == AuthorizationReason.unknownMerchant.rawValue && unknown.route == nil)
        // Bad routing fields: the routing error, and no unit spent.
        #expect(
            AuthorizationServerTests.status { _ = try connection.decide(Self.decide(method: "crypto")) }
                == .unknownMethod)
        #expect(
            AuthorizationServerTests.status { _ = try connection.decide(Self.decide(tried: ["stripe"])) }
                == .invalidTried)
        #expect(AuthorizationServerTests.status { _ = try connection.decide(Self.decide(cost: 0)) } == .invalidCost)
        let allowed = try connection.decide(Self.decide())
        #expect(allowed.authorization.remaining == 4, "only this request spent a unit")
        // Allowed, but nothing can route it: ROUTE's error; the unit stays spent.
        #expect(
            AuthorizationServerTests.status {
                _ = try connection.decide(Self.decide(tried: ["razorpay", "payu", "cashfree"]))
            } == .allGatewaysTried)
        #expect(try connection.decide(Self.decide()).authorization.remaining == 2)
    }
}
