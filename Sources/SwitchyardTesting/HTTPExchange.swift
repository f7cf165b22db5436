/// One HTTP/1.1 exchange with the admin endpoints: `request` sent as is,
/// the answer read until the server closes, split into status and body.
public func httpExchange(port: UInt16, _ request: String, timeoutMilliseconds: Int = 5_000) throws -> (
    status: Int, body: String
) {
    let connection = try RawConnection(port: port, timeoutMilliseconds: timeoutMilliseconds)
    try connection.write(Array(request.utf8))
    return httpAnswer(try connection.readToEnd())
}

/// A GET of `path`, as a scraper or a load balancer sends it.
public func httpGet(port: UInt16, _ path: String) throws -> (status: Int, body: String) {
    try httpExchange(port: port, "GET \(path) HTTP/1.1\r\nHost: localhost\r\nUser-Agent: switchyard-test\r\n\r\n")
}

/// The status code and body of an HTTP answer.
public func httpAnswer(_ bytes: [UInt8]) -> (status: Int, body: String) {
    let text = String(decoding: bytes, as: UTF8.self)
    let status = Int(text.split(separator: " ").dropFirst().first ?? "") ?? 0
    let body = text.ranges(of: "\r\n\r\n").first.map { String(text[$0.upperBound...]) } ?? ""
    return (status, body)
}
