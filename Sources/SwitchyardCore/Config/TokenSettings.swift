import Foundation

/// `authorization.tokens`: JSON Web Tokens accepted as bearer credentials
/// (AUTHORIZE's credential kind 2), HS256 under secrets kept in a file of
/// their own (`hs256_secrets_file`), never in the configuration.
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

    static let fields = ["issuer", "audience", "merchant_claim", "scopes_claim", "clock_skew_s", "hs256_secrets_file"]
    /// Secrets per merchant (rotation: the old and the new, by `kid`).
    static let maxSecretsPerMerchant = 4

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
        secretsFile = reader.string("hs256_secrets_file", default: "")
        reader.rejectUnknownKeys(known: TokenSettings.fields)
        guard !secretsFile.isEmpty else {
            reader.report(field: "hs256_secrets_file", "tokens need the file of the merchants' HS256 secrets")
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
