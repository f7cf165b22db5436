import ArgumentParser
import Foundation
import SwitchyardClient
import SwitchyardWire

/// `switchyardctl`: the SRE's handle on a running daemon, over the admin
/// operations of the protocol.
struct SwitchyardCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchyardctl",
        abstract: "Inspect and steer a running Switchyard daemon.",
        discussion: """
            Exit codes: 0 done; 64 bad usage; 65 the daemon refused (a bad value, an unknown \
            gateway or merchant, a broken configuration file, Redis not taking a fleet change); \
            69 the daemon cannot be reached; 70 an unexpected reply; 75 a fleet change Redis did \
            not confirm (it may still apply); 77 no token, a wrong token, or admin operations turned off.
            """,
        subcommands: [
            Stats.self, Health.self, Top.self, SetWeight.self, Breaker.self, Gateway.self, Reload.self,
            Merchant.self, MerchantStatus.self, Explain.self, Rules.self,
        ]
    )
}

/// Runs a subcommand's body; a failure goes to standard error with its exit code.
func reporting(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let failure as Failure {
        FileHandle.standardError.write(Data("switchyardctl: \(failure.message)\n".utf8))
        throw ExitCode(failure.code.rawValue)
    }
}

struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "What the instance has done since it started.")
    @OptionGroup var options: AdminOptions

    func run() throws {
        try reporting {
            try options.show(try options.call(.stats), as: AdminStats.self, Table.stats)
        }
    }
}

struct Health: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The gateway health table: scores, traffic, breakers and weights per gateway and segment.")
    @OptionGroup var options: AdminOptions

    func run() throws {
        try reporting {
            try options.show(try options.call(.health), as: AdminHealth.self, Table.health)
        }
    }
}

struct Top: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The health table, refreshed every second until interrupted.")
    @OptionGroup var options: AdminOptions

    @Option(help: "Milliseconds between refreshes.")
    var intervalMs = 1_000

    @Option(help: "Stop after this many refreshes (default: until interrupted).")
    var iterations: Int?

    func run() throws {
        try reporting {
            let client: Client
            do { client = try options.connect() } catch { throw Failure(error, address: options.address ?? "") }
            var shown = 0
            while iterations.map({ shown < $0 }) ?? true {
                let reply = try options.call(.health, client: client)
                // Home and clear, like top; JSON output is one document per line instead.
                if !options.json { print("\u{1B}[H\u{1B}[2J", terminator: "") }
                try options.show(reply, as: AdminHealth.self) { Table.health($0) + "\n\(Date())" }
                shown += 1
                if iterations.map({ shown < $0 }) ?? true { usleep(UInt32(max(intervalMs, 10)) * 1_000) }
            }
        }
    }
}

struct SetWeight: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set-weight",
        abstract: "Set a gateway's SRE weight (0 to 1000; 0 takes it out of rotation, 1 is neutral).")
    @OptionGroup var options: AdminOptions
    @Argument(help: "The gateway id.") var gateway: String
    @Argument(help: "The weight, up to three decimals.") var weight: Double

    func validate() throws {
        guard weight.isFinite, weight >= 0 else { throw ValidationError("the weight is a number, 0 or more") }
    }

    func run() throws {
        try reporting {
            let thousandths = UInt32(clamping: Int((min(weight, 4_000_000) * 1000).rounded()))
            try options.show(
                try options.call(.setWeight(gateway: gateway, thousandths: thousandths)), as: AdminChange.self,
                Table.change)
        }
    }
}

struct Breaker: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Force a gateway's breakers open or closed, or reset them to automatic.")

    enum Action: String, ExpressibleByArgument, CaseIterable {
        case open, close, reset
    }

    @OptionGroup var options: AdminOptions
    @Argument(help: "open, close or reset.") var action: Action
    @Argument(help: "The gateway id.") var gateway: String
    @Option(help: "Only the breaker of this method (default: every method).") var method: String = ""

    func run() throws {
        let wire: AdminRequest.BreakerAction =
            switch action {
            case .open: .forceOpen
            case .close: .forceClosed
            case .reset: .reset
            }
        try reporting {
            try options.show(
                try options.call(.breaker(gateway: gateway, method: method, action: wire)), as: AdminChange.self,
                Table.change)
        }
    }
}

struct Gateway: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Drain a gateway (no new traffic) or enable it again.")

    enum Action: String, ExpressibleByArgument, CaseIterable {
        case drain, enable
    }

    @OptionGroup var options: AdminOptions
    @Argument(help: "drain or enable.") var action: Action
    @Argument(help: "The gateway id.") var gateway: String

    func run() throws {
        try reporting {
            try options.show(
                try options.call(.gatewayState(gateway: gateway, state: action == .drain ? .draining : .enabled)),
                as: AdminChange.self, Table.change)
        }
    }
}

struct Reload: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read the configuration file again; a broken file is refused and changes nothing.")
    @OptionGroup var options: AdminOptions

    func run() throws {
        try reporting {
            try options.show(try options.call(.reload), as: AdminReload.self, Table.reload)
        }
    }
}

struct Merchant: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "A merchant's status and limits.")
    @OptionGroup var options: AdminOptions
    @Argument(help: "The merchant id.") var merchant: String

    func run() throws {
        try reporting {
            try options.show(try options.call(.merchant(id: merchant)), as: AdminMerchant.self, Table.merchant)
        }
    }
}

struct MerchantStatus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merchant-status",
        abstract: "Set a merchant's status (active, suspended, disabled), or `configured` to lift the override.")

    enum Status: String, ExpressibleByArgument, CaseIterable {
        case active, suspended, disabled, configured
    }

    @OptionGroup var options: AdminOptions
    @Argument(help: "The merchant id.") var merchant: String
    @Argument(help: "active, suspended, disabled or configured.") var status: Status

    func run() throws {
        let wire: AdminRequest.MerchantStatus =
            switch status {
            case .active: .active
            case .suspended: .suspended
            case .disabled: .disabled
            case .configured: .configured
            }
        try reporting {
            try options.show(
                try options.call(.merchantStatus(id: merchant, status: wire)), as: AdminChange.self, Table.change)
        }
    }
}

struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Explain a decision by its id (hex or decimal).")
    @OptionGroup var options: AdminOptions
    @Argument(help: "The decision id ROUTE or DECIDE returned.") var decision: String

    func run() throws {
        let text = decision.lowercased()
        guard
            let id = text.hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : UInt64(text)
        else { throw ValidationError("'\(decision)' is not a decision id (decimal, or hex with 0x)") }
        try reporting {
            try options.show(try options.call(.explain(decisionID: id)), as: AdminExplain.self, Table.explain)
        }
    }
}

struct Rules: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The routing rules in force, in the order they are tried, with what each decided or, in "
            + "shadow, would have decided (--json prints the stats reply, whose rules field holds them).")
    @OptionGroup var options: AdminOptions
    @Option(help: "Only the rules that apply to this merchant: its own, then the global ones.")
    var merchant: String?

    func run() throws {
        try reporting {
            try options.show(try options.call(.stats), as: AdminStats.self) {
                Table.rules($0.rules, merchant: merchant)
            }
        }
    }
}

SwitchyardCtl.main()
