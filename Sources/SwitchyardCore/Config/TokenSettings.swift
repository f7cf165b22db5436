import Foundation

/// `authorization.tokens`: JSON Web Tokens accepted as bearer credentials
/// (AUTHORIZE's credential kind 2): HS256 under merchants' secrets kept in a
/// file of their own (`hs256_secrets_file`), never in the configuration, and
/// RS256 or ES256 under the issuer's public keys (`public_keys`, PEM files).
public struct TokenSettings: Equatable, Sendable {
    /// The `iss` and `aud` every token must carry.
    public var issuer = ""
    public var audience = ""
    /// The claim naming the merchant (it must be the request's merchant_id),
    /// and the one with the token's scopes.
    public var merchantClaim = "sub"
    public var scopesClaim = "scope"
    /// How far `exp` and `nbf` may be off the daemon's clock.
    public var clockSkewSeconds = 30
    public var secretsFile = ""
    /// Per merchant id: its HS256 secrets, as the secrets file lists them.
    public var secrets: [String: [Secret]] = [:]
    /// The issuer's keys for RS256 and ES256, by `kid` (several: rotation).
    public var publicKeys: [PublicKeyFile] = []
    /// How many verified tokens each loop remembers (0: none), so that a hot
    /// token is not verified again on every request; an entry never outlives
    /// the token's `exp`.
    public var cacheEntries = 4_096

    public struct PublicKeyFile: Equatable, Sendable {
        public var kid: String
        public var algorithm: PublicKey.Algorithm
        public var path: String
        /// The file's text, checked when it was read.
        public var pem: [UInt8]

        public init(kid: String, algorithm: PublicKey.Algorithm, path: String, pem: [UInt8]) {
            self.kid = kid
            self.algorithm = algorithm
            self.path = path
            self.pem = pem
        }
    }

    public struct Secret: Equatable, Sendable {
        /// The `kid` tokens signed with it carry ("" : tokens name none).
        public var kid: String
        public var bytes: [UInt8]

        public init(kid: String, bytes: [UInt8]) {
            self.kid = kid
            self.bytes = bytes
        }
    }

    public init() {}

    static let fields = [
        "issuer", "audience", "merchant_claim", "scopes_claim", "clock_skew_s", "hs256_secrets_file", "public_keys",
        "cache_entries",
    ]
    /// Secrets per merchant (rotation: the old and the new, by `kid`).
    static let maxSecretsPerMerchant = 4
    static let maxPublicKeys = 16

    /// Reads the section and the secrets file it names (a relative path is
    /// taken from `directory`).
    init(reading reader: ConfigReader, directory: String) {
        issuer = reader.string("issuer", default: "")
        audience = reader.string("audience", default: "")
        for (field, value) in [("issuer", issuer), ("audience", audience)] where value.isEmpty {
            reader.report(field: field, "tokens are checked against an issuer and an audience: give both")
        }
        merchantClaim = reader.string("merchant_claim", default: merchantClaim)
        scopesClaim = reader.string("scopes_claim", default: scopesClaim)
        clockSkewSeconds = reader.integer("clock_skew_s", default: clockSkewSeconds, in: 0...600, unit: "seconds")
        cacheEntries = reader.integer("cache_entries", default: cacheEntries, in: 0...1 << 20, unit: "tokens")
        secretsFile = reader.string("hs256_secrets_file", default: "")
        readPublicKeys(reader, directory: directory)
        reader.rejectUnknownKeys(known: TokenSettings.fields)
        guard !secretsFile.isEmpty else {
            if publicKeys.isEmpty && !reader.keys.contains("public_keys") {
                reader.report(
                    field: "hs256_secrets_file",
                    "tokens need the merchants' HS256 secrets (hs256_secrets_file), public keys (public_keys), or both")
            }
            return
        }
        let path = secretsFile.hasPrefix("/") ? secretsFile : directory + secretsFile
        if let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let mode = attributes[.posixPermissions] as? Int, mode & 0o077 != 0
        {
            reader.report(
                field: "hs256_secrets_file",
                "\(path) is readable by others (mode \(String(mode, radix: 8))): it holds secrets; chmod 600 it")
            return
        }
        do {
            readSecrets(
                try Configuration.reader(
                    yaml: try Configuration.text(of: path), file: path, sharingProblemsWith: reader))
        } catch {
            reader.report(field: "hs256_secrets_file", error.problems.map(\.description).joined(separator: "; "))
        }
    }

    /// `public_keys: [{kid, algorithm, pem_file}]`, each file read and its key
    /// checked against the algorithm now, so a bad file fails the load or
    /// the reload rather than a request.
    private mutating func readPublicKeys(_ reader: ConfigReader, directory: String) {
        let entries = reader.list("public_keys")
        if reader.keys.contains("public_keys") && entries.isEmpty {
            reader.report(field: "public_keys", "an empty list: give at least one key, or leave public_keys out")
        }
        if entries.count > TokenSettings.maxPublicKeys {
            reader.report(field: "public_keys", "at most \(TokenSettings.maxPublicKeys) public keys")
        }
        var kids: Set<String> = []
        for entry in entries {
            let kid = entry.string("kid", default: "")
            let name = entry.string("algorithm", default: "")
            let file = entry.string("pem_file", default: "")
            entry.rejectUnknownKeys(known: ["kid", "algorithm", "pem_file"])
            if kid.isEmpty {
                entry.report(field: "kid", "a public key needs the kid its tokens name it by")
            } else if !kids.insert(kid).inserted {
                entry.report(field: "kid", "a second public key with kid '\(kid)'")
            }
            guard let algorithm = PublicKey.Algorithm(rawValue: name) else {
                entry.report(field: "algorithm", "'\(name)' is not RS256 or ES256")
                continue
            }
            guard !file.isEmpty else {
                entry.report(field: "pem_file", "a public key needs its PEM file")
                continue
            }
            let path = file.hasPrefix("/") ? file : directory + file
            guard let pem = FileManager.default.contents(atPath: path).map(Array.init) else {
                entry.report(field: "pem_file", "\(path) cannot be read")
                continue
            }
            do {
                _ = try PublicKey(pem: pem, algorithm: algorithm)
                publicKeys.append(PublicKeyFile(kid: kid, algorithm: algorithm, path: path, pem: pem))
            } catch {
                entry.report(field: "pem_file", "\(path) \(error)")
            }
        }
    }

    /// `secrets: {MERCHANT: [{kid, hex}], ...}`: hex of at least 32 bytes.
    private mutating func readSecrets(_ file: ConfigReader) {
        let merchants = file.section("secrets")
        for merchant in merchants.keys {
            var list: [Secret] = []
            for entry in merchants.list(merchant) {
                let kid = entry.string("kid", default: "")
                let hex = entry.string("hex", default: "")
                entry.rejectUnknownKeys(known: ["kid", "hex"])
                guard let bytes = KeySecret.decode(hex: hex), bytes.count >= KeyHasher.minimumSecretBytes else {
                    entry.report(field: "hex", "an HS256 secret is at least 32 bytes, given as hex")
                    continue
                }
                if list.contains(where: { $0.kid == kid }) {
                    entry.report(field: "kid", "a second secret with kid '\(kid)'")
                }
                list.append(Secret(kid: kid, bytes: bytes))
            }
            if list.count > TokenSettings.maxSecretsPerMerchant {
                merchants.report(field: merchant, "at most \(TokenSettings.maxSecretsPerMerchant) secrets per merchant")
            }
            secrets[merchant] = list
        }
        file.rejectUnknownKeys(known: ["secrets"])
    }
}
