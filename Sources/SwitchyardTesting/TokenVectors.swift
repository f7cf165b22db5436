public import SwitchyardCore

/// Bearer tokens made by PyJWT 2.9.0, a well-known JWT library, so
/// that the verifier is checked against tokens it did not make itself
/// (Tests/TokenVectors/make-token-vectors.py prints them). Signed with
/// ``secret``, kid `k1` (the `rs256` and `es256` ones with the keys of
/// ``publicKeys``), for merchant `m_1`, issuer
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
        "rs256":
            "eyJhbGciOiJSUzI1NiIsImtpZCI6InIxIiwidHlwIjoiSldUIn0.eyJzdWIiOiJtXzEiLCJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20iLCJhdWQiOiJzd2l0Y2h5YXJkIiwiZXhwIjoyMDAwMDAwMDAwLCJuYmYiOjE3MDAwMDAwMDAsInNjb3BlIjoicGF5bWVudHM6Y3JlYXRlIHJlZnVuZHM6Y3JlYXRlIn0.GU-FHjuJFNwmkB9yHrIFwgtJvhEWiAeBy77g6YISjNpaB9K7u_Avz-8R_Ss1Zrjr5gy2R9FBlid2tRk3zieEwvnQyTcIIl7KpvEwVKqDuM1UFELFEwbPEfHH4Hz42dDbaSUFgHRM18rwY1v8EKK7qHyeU8IX3lE49jx7KKRjYG02620gk40PiLibE4PjGtTlS1SbBGKuaRXbK6vp2b_igbLjIYZYNN9mhJK5_itHgN5ER3V-UD0HPxnjHrswKf_o9P4PJc3iEq_hKG6Fru8QFR864zwnW8oSSrR88aCEJG9kopHJqTT3sjz7WLpyyt_zGnOqGmxS22LNTZ-QdAx2CA",
        "rs256Rotated":
            "eyJhbGciOiJSUzI1NiIsImtpZCI6InIyIiwidHlwIjoiSldUIn0.eyJzdWIiOiJtXzEiLCJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20iLCJhdWQiOiJzd2l0Y2h5YXJkIiwiZXhwIjoyMDAwMDAwMDAwLCJuYmYiOjE3MDAwMDAwMDAsInNjb3BlIjoicGF5bWVudHM6Y3JlYXRlIHJlZnVuZHM6Y3JlYXRlIn0.VE8xB0gbGw71qaXu7eXCBeUpTV01RYdGPtzVE1IBIeRPbIVqtDB3Wms9JmZnHd0zr1Iv5AmtnEgMAC4PnR5WFwbJChCNKZWUcy_Yy6oqN4l8_XaD3y5iJe1k0ozgCj9eh8Fxyp3l5AbeBBdht4oka6reX20kVOB8ucz6tWpevCxx6xszF9xgtRYU89y_ryPMU2YcXjlEagIkCiljdEKDE_i9I6Z1UacE9FiVOP6K141UuMFnvrVGsrPwbG3W9qWa8CgCWc3YIpTzqKA_CO2OFq5ydJp6y1JHloQCbwmmxF54AnnKXgVDNaNUVt9E67Cw6vNxyU04feI3S33MCTWy9w",
        "rs256WithoutKid":
            "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJtXzEiLCJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20iLCJhdWQiOiJzd2l0Y2h5YXJkIiwiZXhwIjoyMDAwMDAwMDAwLCJuYmYiOjE3MDAwMDAwMDAsInNjb3BlIjoicGF5bWVudHM6Y3JlYXRlIHJlZnVuZHM6Y3JlYXRlIn0.mZ-6voQAhJC5JzBwMb67i6F7Ch5lHelGvCG2_jVjScP0F9Qfn6Yhncrh5KZKksYnxxz4i0aEoYf1iMm5avPC7KZkBnhMzB3hJSAQ9DLWCCKCe2I9cFxD-sBptyfbcxf57mXIAuXxlPfjCd6sZTVjLL_lkkMNZUeQQwiFPY0RRABOZVjux0y_EGsAZDivxmkp7ZBOGrL4iOzDa-TNTxyLHnFjrhD3v2G3-FS41afravShMvK6IimOEMQxFubG9Lifxn0OS7AVMF5ioJpw9JqOeI7mtZlbTmPBI4kAGeXPNwNP7dHiZZw_5seSd4lRLLamzUBrklg33DwaS_PjV6GGMw",
        "es256":
            "eyJhbGciOiJFUzI1NiIsImtpZCI6ImUxIiwidHlwIjoiSldUIn0.eyJzdWIiOiJtXzEiLCJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20iLCJhdWQiOiJzd2l0Y2h5YXJkIiwiZXhwIjoyMDAwMDAwMDAwLCJuYmYiOjE3MDAwMDAwMDAsInNjb3BlIjoicGF5bWVudHM6Y3JlYXRlIHJlZnVuZHM6Y3JlYXRlIn0.vH_UbO2E5-HNw6SBH32D5HxsqCOtkfxi9hCWegUxblB6iR2bEvgDZRlhtWR4dZ1U5_LS6-1bgdiCYsKAHSIUZw",
        "rs256UnknownKid":
            "eyJhbGciOiJSUzI1NiIsImtpZCI6InI5IiwidHlwIjoiSldUIn0.eyJzdWIiOiJtXzEiLCJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20iLCJhdWQiOiJzd2l0Y2h5YXJkIiwiZXhwIjoyMDAwMDAwMDAwLCJuYmYiOjE3MDAwMDAwMDAsInNjb3BlIjoicGF5bWVudHM6Y3JlYXRlIHJlZnVuZHM6Y3JlYXRlIn0.3Wvkxhxy32IyvayNJGDo5isP5zKNMk_3gohTSKIWznkY6XLtiddckirgwLtj_bhZMDidd6NuW3Ef0mjiHjgim0zVwbU0TBhhGiaOPhvvYc-MyPeQc0HsGfqYKPzhRKnYvUZnI4FVbiKlOTu1fArTE125vi8vTAA3hb7wDEdFXzUGHONwy7N_VfLtDAz0LZDoDZEjEDbWaEbvZHjeWuFZ1b27Zj3MyMiIVp-JZMDIsFNRNSAsVPzXw-1KCXZK0_VjgORnqqzhEQLTgSw8BJD7H5a6m_jXabz3OwcEFMM8_ZOsjqtSrj4EfvICm8Nacj4jz2jXxCyJlOtTWDoUq7TydQ",
        "rs256WrongKey":
            "eyJhbGciOiJSUzI1NiIsImtpZCI6InIxIiwidHlwIjoiSldUIn0.eyJzdWIiOiJtXzEiLCJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20iLCJhdWQiOiJzd2l0Y2h5YXJkIiwiZXhwIjoyMDAwMDAwMDAwLCJuYmYiOjE3MDAwMDAwMDAsInNjb3BlIjoicGF5bWVudHM6Y3JlYXRlIHJlZnVuZHM6Y3JlYXRlIn0.jLKBVVhWJmshRzvxQoPyCjsvM8DmI4Mn0VhCkNPrdK0W0kFF0rMtzwHwMaWqnr3HxHGkvPk0N8OLOtvTwC1-COWxR0oCKh346BLs8fOGpK6rOgJg_sIAv4V6X6kI9UhRUZSZa8gm12NpY9L7JAkUB-R1yxDNwSzjFNPTd7WzKAY7Z1RE35ALgCrxwdt1Z-7u4EjcsX5-Y55H60XD4J5hfY8sr9K8Op00ATm28kewqquQrUMD7emrrzHtWvdKrGNnk0Z-rg3BPyO2nFxZvyV_zUjw9dSGHGgs4YalNp-z80O9tbNE2Z8HXsOl4GR4sIV1bi-Ti7x6V0NJLHSfLA_Nvg",
        "es256UnderRSAKid":
            "eyJhbGciOiJFUzI1NiIsImtpZCI6InIxIiwidHlwIjoiSldUIn0.eyJzdWIiOiJtXzEiLCJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20iLCJhdWQiOiJzd2l0Y2h5YXJkIiwiZXhwIjoyMDAwMDAwMDAwLCJuYmYiOjE3MDAwMDAwMDAsInNjb3BlIjoicGF5bWVudHM6Y3JlYXRlIHJlZnVuZHM6Y3JlYXRlIn0.a2I7lMK_nsXQoB0pf43ZMcI3Pz2AmJFQ0S6vLoZ3iTMI57YxeSC9G5O4hdHSvo7-n-RugdJCfM3CcJ_FsM1Q1w",
        "rs384":
            "eyJhbGciOiJSUzM4NCIsImtpZCI6InIxIiwidHlwIjoiSldUIn0.eyJzdWIiOiJtXzEiLCJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20iLCJhdWQiOiJzd2l0Y2h5YXJkIiwiZXhwIjoyMDAwMDAwMDAwLCJuYmYiOjE3MDAwMDAwMDAsInNjb3BlIjoicGF5bWVudHM6Y3JlYXRlIHJlZnVuZHM6Y3JlYXRlIn0.Ttccln94aHFknHYcUcWhPRYOY799otJJMFftLMoW7s203Rk246qp6_y9vZtJ6t2t2KlJ--ocOC2z_xLO_H4elMk6h-IWFtivKWhzdAFDZIT6kY91FRDjY9uD-09FSraIygm3r5pOPPMy7cVjjvy1a6qcJ0_9QGpkAcr29Eldfjg_rp77cpAdm0j5ED74pghNyXu4YIiZyx393EetaASD7GflHr6EUBO_NoF-dfPP6k7Xl-hSER9LZiKPtzBnwr6w8CRsly7jBpq-0R4g-owmZy8veEjeZlr8UkZdErhCxkiTcqOq623CsaAwK3zvsrMM_3VOeY8uBsOjGZWnS4CRiw",
        "rs256Expired":
            "eyJhbGciOiJSUzI1NiIsImtpZCI6InIxIiwidHlwIjoiSldUIn0.eyJzdWIiOiJtXzEiLCJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20iLCJhdWQiOiJzd2l0Y2h5YXJkIiwiZXhwIjoxNjAwMDAwMDAwLCJuYmYiOjE3MDAwMDAwMDAsInNjb3BlIjoicGF5bWVudHM6Y3JlYXRlIHJlZnVuZHM6Y3JlYXRlIn0.rJWGyyNfzvG0XETNZ_W99rSHI4xuF-HpvxaFtaPIW5Bd072IovO1M2mWb130Sqx6v-h2mqiFllxG_2LXvRBnkRPnTfNqam5mrN5ASNXmjCnZ3F5spnjUB4reaViK8XZ0jfOPUi4uFoVpC9I0OBy32V1XO0e5yU7RpCvDBSVoonAqIpUEk-Z5sSA-H3DXJ93A3ruP8cp-nbDeJOxom4BFehndmbFGz5oJmEcW3hPrUOyjU0Yo-N2W4HLqjj9ZgeO2FzIqfxQdf99O2Ahi4Xj_pJICNgumLk0R1xQzLdI_mQHd-Wv_C3YhF_7m-eCOOuD-ZdwfZSbCe8YKjXL2-CoCcg",
        "hs256KeyedWithPublicKey":
            "eyJhbGciOiJIUzI1NiIsImtpZCI6InIxIn0.eyJzdWIiOiJtXzEiLCJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20iLCJhdWQiOiJzd2l0Y2h5YXJkIiwiZXhwIjoyMDAwMDAwMDAwLCJuYmYiOjE3MDAwMDAwMDAsInNjb3BlIjoicGF5bWVudHM6Y3JlYXRlIHJlZnVuZHM6Y3JlYXRlIn0.T6k8eQR6qz6eevTbSzFWA6mPuWAdzjjsADpmFbhtLrI",
        "rs256SwappedClaims":
            "eyJhbGciOiJSUzI1NiIsImtpZCI6InIxIiwidHlwIjoiSldUIn0.eyJzdWIiOiJtXzIiLCJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20iLCJhdWQiOiJzd2l0Y2h5YXJkIiwiZXhwIjoyMDAwMDAwMDAwLCJuYmYiOjE3MDAwMDAwMDAsInNjb3BlIjoicGF5bWVudHM6Y3JlYXRlIHJlZnVuZHM6Y3JlYXRlIn0.GU-FHjuJFNwmkB9yHrIFwgtJvhEWiAeBy77g6YISjNpaB9K7u_Avz-8R_Ss1Zrjr5gy2R9FBlid2tRk3zieEwvnQyTcIIl7KpvEwVKqDuM1UFELFEwbPEfHH4Hz42dDbaSUFgHRM18rwY1v8EKK7qHyeU8IX3lE49jx7KKRjYG02620gk40PiLibE4PjGtTlS1SbBGKuaRXbK6vp2b_igbLjIYZYNN9mhJK5_itHgN5ER3V-UD0HPxnjHrswKf_o9P4PJc3iEq_hKG6Fru8QFR864zwnW8oSSrR88aCEJG9kopHJqTT3sjz7WLpyyt_zGnOqGmxS22LNTZ-QdAx2CA",
    ]

    /// Public keys in PEM: `r1` and `r2` (RSA 2048) sign the RS256 vectors,
    /// `e1` (P-256) the ES256 one; `weak` (RSA 1024) and `p384` (P-384) are
    /// keys the configuration refuses.
    public static let publicKeys: [String: String] = [
        "r1": """
        -----BEGIN PUBLIC KEY-----
        MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA6DfTFFOd4NiISBeDSgfA
        JCHaQrv3kXkaet+PsRHRumuFHynL682TNppGG0RUQz6ls45vUZhdt98GR4QJOioo
        czl1DOqkZIvQWB9CPNkeFTixBR0BOV4EkJAC82o2amCsG3YSkfgCq3+8CBjBCD0O
        RUNJPZ6ckFx/q6dmnxn1Ob4FhT9+EgVvZssrh1putITg6Bxr1A1/5KR7jXFQtC9q
        3pEX/vmIVGwSaKo3kDGOTkftpbeoBafrtM6VGMr1uj7jNwjNE2j4nxy0ovh0GWpM
        jodyYIXvMuYktUqMwP+YVPLdO9XwUITqPxHKwtoqV/pi3r9JqdKAPyenD4NHWCP2
        2QIDAQAB
        -----END PUBLIC KEY-----
        """,
        "r2": """
        -----BEGIN PUBLIC KEY-----
        MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAxxHfvXvFqyi/Xl7/q1MN
        6kAdfWmBHXHduJ8P7RkemWrUtPkbAnJj4/cUTkJrgq9XKXi4KxvSzOkKItaqTNdx
        mJf2ySIAY2B7NuW9QrbCYB1JqA0EF8pKsiJGohoJx6u0IRYw/5i2xwTZeGuniBLw
        gPe9zTqDlwqLNoftcuspfDDpghRsqNM/ScoJwxJvHZjhBHSOJm1wNH8WI3njrUra
        pYhcjhlgh2g35EPSrkPwdSloboUe59794m33M/7h5UrLE7OwHNWJdIVHfEB/CJfG
        9b6fLjMmBXxMkmX9Hhrfu/mzoeQIt3PooyAdfZVvo0lI6rxPCikZ21nvdEYs99qR
        LQIDAQAB
        -----END PUBLIC KEY-----
        """,
        "e1": """
        -----BEGIN PUBLIC KEY-----
        MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEVbbpJ3yxVDIucTyZFRpNft9hU6Js
        02/89/udd1x6GaUpRj41Gs8ra2kRkDqo6lWmBHhWgTWDmzb5IYOWGOqL9w==
        -----END PUBLIC KEY-----
        """,
        "weak": """
        -----BEGIN PUBLIC KEY-----
        MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC2jNFt+z/MTC9OyCb/mFveQJ6h
        qbMUEAJmJJhO9ilUPPgOoCv7NT+4V/alwY3nwjBiMTUEOn2cvFOWDmNBx1AK2Pyy
        /9QEWPWFSB6uyJ4UCv3M8MDCndc8VpZ3gE7e4g5pZlRbh0gvhA13KNCINuK/nBhT
        bNDa1oy+G0GzC8Qi2wIDAQAB
        -----END PUBLIC KEY-----
        """,
        "p384": """
        -----BEGIN PUBLIC KEY-----
        MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEIjiBP6ItUv8iTkCbk9YkzCBYJ8lldOtp
        9RbEJiL3pF8s7IIIOiG8v00z/zxfef9OZFQJH2N3QL/J68J6LFmNaiMTPz7+mtYb
        H/vspafS8zBoEJzjgXTd4z2BHm2NeK0U
        -----END PUBLIC KEY-----
        """,
    ]

    /// `publicKeys` as configured public keys, kid for kid.
    public static func publicKeyFiles(_ kids: [String] = ["r1", "r2", "e1"]) -> [TokenSettings.PublicKeyFile] {
        kids.map { kid in
            TokenSettings.PublicKeyFile(
                kid: kid, algorithm: kid.hasPrefix("e") ? .es256 : .rs256, path: "\(kid).pem",
                pem: Array(publicKeys[kid]!.utf8))
        }
    }

    /// The settings the vectors are made for (no HS256 secrets; the public
    /// keys `publicKeys` names).
    public static func settings(scopesClaim: String = "scope", publicKeys kids: [String] = ["r1", "r2", "e1"])
        -> TokenSettings
    {
        var settings = TokenSettings()
        settings.publicKeys = publicKeyFiles(kids)
        settings.issuer = "https://auth.example.com"
        settings.audience = "switchyard"
        settings.scopesClaim = scopesClaim
        return settings
    }
}
