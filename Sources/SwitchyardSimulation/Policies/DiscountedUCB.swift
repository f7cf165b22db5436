import Foundation
import SwitchyardCore

/// Discounted UCB (Garivier and Moulines, arXiv 0805.3415) with the
/// discount 0.6 Dream11's study reports: per segment, after each outcome
/// every gateway's plays and successes are multiplied by γ and the played
/// one's incremented; choose the best S/N + 2·√(ξ · ln(ΣN) / N). Unplayed
/// gateways go first.
struct DiscountedUCB: RoutingPolicy {
    static let discount = 0.6

    private let eligible: Eligibility
    private let gateways: Int
    private var plays: [Double]
    private var wins: [Double]
    private var random: SplitMix64

    init(_ scenario: Scenario, seed: UInt64) {
        eligible = Eligibility(scenario)
        gateways = scenario.gateways.count
        plays = Array(repeating: 0, count: scenario.segments.count * gateways)
        wins = plays
        random = SplitMix64(seed: seed)
    }

    mutating func choose(_ payment: SimulatedPayment, at now: UInt64) -> (gateway: Int, token: UInt32) {
        let candidates = eligible.bySegment[payment.segment]
        let base = payment.segment * gateways
        let (plays, wins) = (self.plays, self.wins)
        var total = 0.0
        for g in candidates { total += plays[base + g] }
        let logN = max(0, log(total))
        return (
            argmax(candidates, random: &random) {
                upperConfidenceBound(wins: wins[base + $0], plays: plays[base + $0], logTerm: logN, scale: 2)
            }, 0
        )
    }

    mutating func learn(_ outcome: SimulatedOutcome, at now: UInt64) {
        let base = outcome.payment.segment * gateways
        for g in 0..<gateways {
            plays[base + g] *= Self.discount
            wins[base + g] *= Self.discount
        }
        plays[base + outcome.gateway] += 1
        if outcome.success { wins[base + outcome.gateway] += 1 }
    }
}
