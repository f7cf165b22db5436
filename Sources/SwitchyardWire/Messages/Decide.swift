/// DECIDE request, owned: AUTHORIZE's fields, then ROUTE's after merchant_id.
public struct DecideRequest: Hashable, Sendable {
    public var authorize: AuthorizeRequest
    /// Its `merchantID` is not sent: the AUTHORIZE fields carry it.
    public var route: RouteRequest

    public init(authorize: AuthorizeRequest, route: RouteRequest) {
        self.authorize = authorize
        self.route = route
    }

    public func write(to writer: inout BodyWriter) {
        authorize.writeFields(to: &writer)
        route.writeFields(to: &writer)
        RequestExtensions.write(
            labels: route.labels, operation: authorize.operation,
            traceparent: authorize.traceparent ?? route.traceparent, to: &writer)
    }
}

/// DECIDE request as the server reads it: views into the frame body.
public struct DecideRequestView {
    public let authorize: AuthorizeRequestView
    public let route: RouteRequestView

    public static let layout: StaticString =
        "DECIDE body is the AUTHORIZE fields up to cost, then the ROUTE fields from payment_id on, then the extensions of both"

    public init?(body: UnsafeRawBufferPointer) {
        var reader = BodyReader(body)
        authorize = AuthorizeRequestView(reading: &reader)
        route = RouteRequestView(reading: &reader, merchantID: authorize.merchantID)
        guard route.fillsBody, !reader.failed else { return nil }
    }
}

/// DECIDE reply: the AUTHORIZE reply; when allowed, the ROUTE reply follows.
public struct DecideReply: Hashable, Sendable {
    public var authorization: AuthorizeReply
    public var route: RouteReply?

    public init?(body: UnsafeRawBufferPointer) {
        guard let authorization = AuthorizeReply(body: body) else { return nil }
        self.authorization = authorization
        route = nil
        if authorization.allowed {
            guard let route = RouteReply(body: UnsafeRawBufferPointer(rebasing: body[AuthorizeReply.size...])) else {
                return nil
            }
            self.route = route
        }
    }
}
