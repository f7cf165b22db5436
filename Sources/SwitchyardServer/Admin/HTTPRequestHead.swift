/// The start of an HTTP/1.x request, as much as the admin listener needs:
/// the path of a simple GET. Anything else gets a clear
/// status, never a crash: the admin port is reachable by whatever runs on
/// the host.
enum HTTPRequestHead: Equatable {
    /// The head has not fully arrived yet (no blank line so far).
    case incomplete
    /// A GET of `path` (the query, if any, left off): the only request served.
    case get(path: String)
    /// Refused, with the status to answer and why.
    case refused(status: Int, reason: String)

    /// The longest head the admin listener reads: enough for any scraper.
    static let maxBytes = 8_192

    /// Reads a head from the bytes received so far.
    init(parsing bytes: UnsafeRawBufferPointer) {
        guard let end = HTTPRequestHead.headEnd(bytes) else {
            self =
                bytes.count >= HTTPRequestHead.maxBytes
                ? .refused(status: 431, reason: "request head larger than \(HTTPRequestHead.maxBytes) bytes")
                : .incomplete
            return
        }
        let head = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[..<end]), as: UTF8.self)
        let line = head.split(separator: "\r\n", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let parts = line.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[2].hasPrefix("HTTP/1."), parts[1].hasPrefix("/") else {
            self = .refused(status: 400, reason: "not an HTTP/1.x request line")
            return
        }
        guard parts[0] == "GET" else {
            self = .refused(status: 405, reason: "only GET is served here")
            return
        }
        let target = parts[1]
        let path = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? target
        self = .get(path: String(path))
    }

    /// The offset just past the blank line that ends the head, if it has come.
    private static func headEnd(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 0...(bytes.count - 4)
        where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
            return i + 4
        }
        return nil
    }
}

/// One HTTP/1.1 response, closing the connection after it.
struct HTTPResponse {
    let status: Int
    let contentType: String
    let body: [UInt8]

    static func text(_ status: Int, _ body: String) -> HTTPResponse {
        HTTPResponse(status: status, contentType: "text/plain; charset=utf-8", body: Array((body + "\n").utf8))
    }

    static func json(_ status: Int, _ body: String) -> HTTPResponse {
        HTTPResponse(status: status, contentType: "application/json", body: Array((body + "\n").utf8))
    }

    /// The Prometheus text exposition format, version 0.0.4.
    static func metrics(_ body: [UInt8]) -> HTTPResponse {
        HTTPResponse(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: body)
    }

    var bytes: [UInt8] {
        let reason =
            switch status {
            case 200: "OK"
            case 400: "Bad Request"
            case 404: "Not Found"
            case 405: "Method Not Allowed"
            case 408: "Request Timeout"
            case 431: "Request Header Fields Too Large"
            case 503: "Service Unavailable"
            default: "Status"
            }
        var head = "HTTP/1.1 \(status) \(reason)\r\nContent-Type: \(contentType)\r\n"
        head += "Content-Length: \(body.count)\r\nConnection: close\r\n"
        if status == 405 { head += "Allow: GET\r\n" }
        return Array((head + "\r\n").utf8) + body
    }
}
