import SwitchyardWire
import Testing

/// Admin request bodies as the server reads them: what a client writes
/// reads back, and each kind of bad body gets its own status.
@Suite struct AdminRequestTests {
    static func body(_ write: (inout BodyWriter) -> Void) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = buffer.withUnsafeMutableBytes { raw in
            var writer = BodyWriter(raw)
            write(&writer)
            return writer.count
        }
        return Array(buffer[..<count])
    }

    static func read(_ opcode: Opcode, _ body: [UInt8]) -> Result<AdminRequest, AdminRequest.Problem> {
        body.withUnsafeBytes { raw in
            Result { () throws(AdminRequest.Problem) in try AdminRequest(opcode: opcode, body: raw) }
        }
    }

    @Test func everyOperationReadsBackAsWritten() throws {
        let operations: [AdminRequest.Operation] = [
            .stats, .health, .reload, .setWeight(gateway: "payu", thousandths: 1_500),
            .breaker(gateway: "payu", method: "", action: .reset), .gatewayState(gateway: "payu", state: .draining),
            .merchant(id: "m_1"), .explain(decisionID: 42), .merchantStatus(id: "m_1", status: .suspended),
        ]
        for operation in operations {
            let request = AdminRequest(token: "t0ken", operation: operation)
            let bytes = Self.body { request.write(to: &$0) }
            #expect(try Self.read(request.opcode, bytes).get() == request, "\(operation)")
        }
    }

    @Test func valuesOutOfRangeAreInvalidArguments() {
        let breaker = Self.body {
            $0.str16("t0ken")
            $0.str8("payu")
            $0.str8("")
            $0.u8(9)
        }
        let state = Self.body {
            $0.str16("t0ken")
            $0.str8("payu")
            $0.u8(0)
        }
        let status = Self.body {
            $0.str16("t0ken")
            $0.str8("m_1")
            $0.u8(4)
        }
        for (opcode, bytes) in [
            (Opcode.adminBreaker, breaker), (.adminGatewayState, state), (.adminMerchantStatus, status),
        ] {
            guard case .failure(let problem) = Self.read(opcode, bytes) else {
                Issue.record("\(opcode) accepted a value out of range")
                continue
            }
            #expect(problem.status == .invalidArgument, "\(opcode): \(problem.message)")
        }
    }

    @Test func truncatedOrTrailingBytesAreMalformedAndNamesTheLayout() {
        let full = Self.body { AdminRequest(token: "t0ken", operation: .explain(decisionID: 7)).write(to: &$0) }
        for bytes in [Array(full.dropLast()), full + [0]] {
            guard case .failure(let problem) = Self.read(.adminExplain, bytes) else {
                Issue.record("accepted \(bytes.count) bytes")
                continue
            }
            #expect(problem.status == .malformedBody)
            #expect(problem.message == "ADMIN_EXPLAIN body is str16 admin_token, u64 decision_id")
        }
        let invalid: [UInt8] = [0xFF, 0xFE]
        let notUTF8 = Self.body { writer in
            writer.str16("t0ken")
            invalid.withUnsafeBytes { writer.str8($0) }
        }
        guard case .failure(let problem) = Self.read(.adminMerchant, notUTF8) else {
            Issue.record("accepted a merchant id that is not UTF-8")
            return
        }
        #expect(problem.status == .malformedBody && problem.message == "merchant_id is not UTF-8")
        guard case .failure(let wrong) = Self.read(.ping, full) else { return }
        #expect(wrong.status == .unknownOpcode)
    }
}
