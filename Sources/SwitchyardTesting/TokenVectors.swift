public import SwitchyardCore

/// HS256 bearer tokens made by PyJWT 2.9.0, a well-known JWT library, so
/// that the verifier is checked against tokens it did not make itself
/// (Tests/TokenVectors/make-token-vectors.py prints them). Signed with
/// ``secret``, kid `k1`, for merchant `m_1`, issuer
/// `https://auth.example.com`, audience `switchyard`, valid from
/// 1,700,000,000 to 2,000,000,000 (2023 to 2033) unless the name says
/// otherwise.
public enum TokenVectors {
    public static let secret: [UInt8] = Array("Secret first bytes... for HS256!!!".utf8)

    public static let vectors: [String: String] = [
        "valid":
            "eyJhbGciOiJIUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiSldUIn0.eyJzdWIiOiJtXzEiLCJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20iLCJhdWQiOiJzd2l0Y2h5YXJkIiwiZXhwIjoyMDAwMDAwMDAwLCJuYmYiOjE3MDAwMDAwMDAsInNjb3BlIjoicGF5bWVudHM6Y3JlYXRlIHJlZnVuZHM6Y3JlYXRlIn0.AoiosDoS5cOrGbbjX62S03Gjoc29vLBG0RCoHAwZukg",
        "validWithoutKid":
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJtXzEiLCJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20iLCJhdWQiOiJzd2l0Y2h5YXJkIiwiZXhwIjoyMDAwMDAwMDAwLCJuYmYiOjE3MDAwMDAwMDAsInNjb3BlIjoicGF5bWVudHM6Y3JlYXRlIHJlZnVuZHM6Y3JlYXRlIn0.XZ_RwVeGJx6IiRRBFgnlGc2hyY9Mu_p3NsAeQA3P6lk",
        "audienceList":
            "eyJhbGciOiJIUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiSldUIn0.eyJzdWIiOiJtXzEiLCJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20iLCJhdWQiOlsib3RoZXIiLCJzd2l0Y2h5YXJkIl0sImV4cCI6MjAwMDAwMDAwMCwibmJmIjoxNzAwMDAwMDAwLCJzY29wZSI6InBheW1lbnRzOmNyZWF0ZSByZWZ1bmRzOmNyZWF0ZSJ9.4x7QnjZwdlqqMYvJxJ198FglPRhkK5j6Ox_k_VFYzPs",
        "scopeList":
            "eyJhbGciOiJIUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiSldUIn0.eyJzdWIiOiJtXzEiLCJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20iLCJhdWQiOiJzd2l0Y2h5YXJkIiwiZXhwIjoyMDAwMDAwMDAwLCJuYmYiOjE3MDAwMDAwMDAsInNjcCI6WyJwYXltZW50czpjcmVhdGUiXX0.kz8JgoynzsQlHAIgmP4XZgPLWbAQEPK61IQHCJrZXWQ",
        "noScope":
            "eyJhbGciOiJIUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiSldUIn0.eyJzdWIiOiJtXzEiLCJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20iLCJhdWQiOiJzd2l0Y2h5YXJkIiwiZXhwIjoyMDAwMDAwMDAwLCJuYmYiOjE3MDAwMDAwMDB9.-DUTgseHsnsma8TD7umSpvmRC31g1FMl2xBeeZgJmUI",
        "expired":
            "eyJhbGciOiJIUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiSldUIn0.eyJzdWIiOiJtXzEiLCJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20iLCJhdWQiOiJzd2l0Y2h5YXJkIiwiZXhwIjoxNjAwMDAwMDAwLCJuYmYiOjE3MDAwMDAwMDAsInNjb3BlIjoicGF5bWVudHM6Y3JlYXRlIHJlZnVuZHM6Y3JlYXRlIn0.LfS2JDutMF_CrhmokY5hVkrtE05HMc7T3bU6UmccGbU",
        "notYetValid":
            "eyJhbGciOiJIUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiSldUIn0.eyJzdWIiOiJtXzEiLCJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20iLCJhdWQiOiJzd2l0Y2h5YXJkIiwiZXhwIjoyMDAwMDAwMDAwLCJuYmYiOjE5MDAwMDAwMDAsInNjb3BlIjoicGF5bWVudHM6Y3JlYXRlIHJlZnVuZHM6Y3JlYXRlIn0.64y97dL_t1kz-IvsrpXI9lGOPiX7WhoP38TfJZHBLqc",
        "wrongAudience":
            "eyJhbGciOiJIUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiSldUIn0.eyJzdWIiOiJtXzEiLCJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20iLCJhdWQiOiJzb21lb25lLWVsc2UiLCJleHAiOjIwMDAwMDAwMDAsIm5iZiI6MTcwMDAwMDAwMCwic2NvcGUiOiJwYXltZW50czpjcmVhdGUgcmVmdW5kczpjcmVhdGUifQ.JWR5WZi-up7DQlvTBwBWvjuv9EXjFarS7Tut27-4MYU",
        "wrongIssuer":
            "eyJhbGciOiJIUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiSldUIn0.eyJzdWIiOiJtXzEiLCJpc3MiOiJodHRwczovL2V2aWwuZXhhbXBsZS5jb20iLCJhdWQiOiJzd2l0Y2h5YXJkIiwiZXhwIjoyMDAwMDAwMDAwLCJuYmYiOjE3MDAwMDAwMDAsInNjb3BlIjoicGF5bWVudHM6Y3JlYXRlIHJlZnVuZHM6Y3JlYXRlIn0.siOVBRrbEtpz7U6JwFyrS6q6ZvBuKfTZw2NyOeG-mnA",
        "otherMerchant":
            "eyJhbGciOiJIUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiSldUIn0.eyJzdWIiOiJtXzIiLCJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20iLCJhdWQiOiJzd2l0Y2h5YXJkIiwiZXhwIjoyMDAwMDAwMDAwLCJuYmYiOjE3MDAwMDAwMDAsInNjb3BlIjoicGF5bWVudHM6Y3JlYXRlIHJlZnVuZHM6Y3JlYXRlIn0.paFgts094c4OoK1r9k2nD9Tnmjngir4m6kNFVKxtBpU",
        "noExpiry":
            "eyJhbGciOiJIUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiSldUIn0.eyJzdWIiOiJtXzEiLCJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20iLCJhdWQiOiJzd2l0Y2h5YXJkIiwibmJmIjoxNzAwMDAwMDAwLCJzY29wZSI6InBheW1lbnRzOmNyZWF0ZSByZWZ1bmRzOmNyZWF0ZSJ9.CX97NBDo3uwczhP36J8ASvtlEbETzQOO6b_w9yDhI8o",
        "otherSecret":
            "eyJhbGciOiJIUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiSldUIn0.eyJzdWIiOiJtXzEiLCJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20iLCJhdWQiOiJzd2l0Y2h5YXJkIiwiZXhwIjoyMDAwMDAwMDAwLCJuYmYiOjE3MDAwMDAwMDAsInNjb3BlIjoicGF5bWVudHM6Y3JlYXRlIHJlZnVuZHM6Y3JlYXRlIn0.GqAyH46zCRfdauH7DTvhRVf7jmJfEynjv9FclREjGzw",
        "unknownKid":
            "eyJhbGciOiJIUzI1NiIsImtpZCI6Ims5IiwidHlwIjoiSldUIn0.eyJzdWIiOiJtXzEiLCJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20iLCJhdWQiOiJzd2l0Y2h5YXJkIiwiZXhwIjoyMDAwMDAwMDAwLCJuYmYiOjE3MDAwMDAwMDAsInNjb3BlIjoicGF5bWVudHM6Y3JlYXRlIHJlZnVuZHM6Y3JlYXRlIn0.hUKd9ibRPEdc6Vd0n4rvlclDfNnI9682r7iJqy6nxto",
        "hs512":
            "eyJhbGciOiJIUzUxMiIsImtpZCI6ImsxIiwidHlwIjoiSldUIn0.eyJzdWIiOiJtXzEiLCJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20iLCJhdWQiOiJzd2l0Y2h5YXJkIiwiZXhwIjoyMDAwMDAwMDAwLCJuYmYiOjE3MDAwMDAwMDAsInNjb3BlIjoicGF5bWVudHM6Y3JlYXRlIHJlZnVuZHM6Y3JlYXRlIn0.1NcpdrZcbcPmr-WA8WTvvWlnCrXOA7MJDSg7HZYGjwSkdaKkpsaGhh6bhBudYEkMDaYyohUHfUW5xf3q223HZw",
        "algNone":
            "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJtXzEiLCJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20iLCJhdWQiOiJzd2l0Y2h5YXJkIiwiZXhwIjoyMDAwMDAwMDAwLCJuYmYiOjE3MDAwMDAwMDAsInNjb3BlIjoicGF5bWVudHM6Y3JlYXRlIHJlZnVuZHM6Y3JlYXRlIn0.",
        "critical":
            "eyJhbGciOiJIUzI1NiIsImNyaXQiOlsiZXhwIl0sImtpZCI6ImsxIiwidHlwIjoiSldUIn0.eyJzdWIiOiJtXzEiLCJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20iLCJhdWQiOiJzd2l0Y2h5YXJkIiwiZXhwIjoyMDAwMDAwMDAwLCJuYmYiOjE3MDAwMDAwMDAsInNjb3BlIjoicGF5bWVudHM6Y3JlYXRlIHJlZnVuZHM6Y3JlYXRlIn0.CxCsoeLbwoVw7_gjGS5rb-CSUICWsSCwaZoth8B8f0w",
        "oversizedHeader":
            "eyJhbGciOiJIUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiSldUIiwieCI6ImFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYSJ9.eyJzdWIiOiJtXzEiLCJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20iLCJhdWQiOiJzd2l0Y2h5YXJkIiwiZXhwIjoyMDAwMDAwMDAwLCJuYmYiOjE3MDAwMDAwMDAsInNjb3BlIjoicGF5bWVudHM6Y3JlYXRlIHJlZnVuZHM6Y3JlYXRlIn0.1E-Ubzovt3BiuULSIAYzNXRf1xgKztpx4TpHRUCjSCI",
        "swappedClaims":
            "eyJhbGciOiJIUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiSldUIn0.eyJzdWIiOiJtXzIiLCJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20iLCJhdWQiOiJzd2l0Y2h5YXJkIiwiZXhwIjoyMDAwMDAwMDAwLCJuYmYiOjE3MDAwMDAwMDAsInNjb3BlIjoicGF5bWVudHM6Y3JlYXRlIHJlZnVuZHM6Y3JlYXRlIn0.AoiosDoS5cOrGbbjX62S03Gjoc29vLBG0RCoHAwZukg",
    ]

    /// The settings the vectors are made for (no secrets).
    public static func settings(scopesClaim: String = "scope") -> TokenSettings {
        var settings = TokenSettings()
        settings.issuer = "https://auth.example.com"
        settings.audience = "switchyard"
        settings.scopesClaim = scopesClaim
        return settings
    }
}
