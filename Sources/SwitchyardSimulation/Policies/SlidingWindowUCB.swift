import Foundation
import SwitchyardCore

/// Sliding-window UCB (Garivier and Moulines, arXiv 0805.3415), with the
/// window of 200 Dream11's study found best: per segment, over the last 200
/// outcomes of any gateway, the mean reward of each gateway plus
/// √(ξ · ln(min(t, 200)) / N); a gateway absent from the window goes first.
struct SlidingWindowUCB: RoutingPolicy {
    static let window = 200

    private let eligible: Eligibility
    private let gateways: Int
    /// Per segment: the last outcomes as (gateway, success), a ring.
    private var rings: [[(gateway: Int, success: Bool)]]
    private var positions: [Int]
    /// Per (segment, gateway): plays and successes inside the window.
    private var plays: [Int]
    private var wins: [Int]
    /// Per segment: outcomes seen so far.
    private var seen: [Int]
    private var random: SplitMix64

    init(_ scenario: Scenario, seed: UInt64) {
        eligible = Eligibility(scenario)
        gateways = scenario.gateways.count
        rings = Array(repeating: [], count: scenario.segments.count)
        positions = Array(repeating: 0, count: scenario.segments.count)
        plays = Array(repeating: 0, count: scenario.segments.count * gateways)
        wins = plays
        seen = positions
        random = SplitMix64(seed: seed)
    }

    mutating func choose(_ payment: SimulatedPayment, at now: UInt64) -> (gateway: Int, token: UInt32) {
        let candidates = eligible.bySegment[payment.segment]
        let base = payment.segment * gateways
        let (plays, wins) = (self.plays, self.wins)
        let logT = log(Double(max(2, min(seen[payment.segment], Self.window))))
        return (
            argmax(candidates, random: &random) {
                upperConfidenceBound(
                    wins: Double(wins[base + $0]), plays: Double(plays[base + $0]), logTerm: logT, scale: 1)
            }, 0
        )
    }

    mutating func learn(_ outcome: SimulatedOutcome, at now: UInt64) {
        let s = outcome.payment.segment
        let base = s * gateways
        seen[s] += 1
        if rings[s].count < Self.window {
            rings[s].append((outcome.gateway, outcome.success))
        } else {
            let old = rings[s][positions[s]]
            plays[base + old.gateway] -= 1
            if old.success { wins[base + old.gateway] -= 1 }
            rings[s][positions[s]] = (outcome.gateway, outcome.success)
            positions[s] = (positions[s] + 1) % Self.window
        }
        plays[base + outcome.gateway] += 1
        if outcome.success { wins[base + outcome.gateway] += 1 }
    }
}
