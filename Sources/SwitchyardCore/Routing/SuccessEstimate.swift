import Foundation

/// How likely a gateway is to succeed for one segment (merchant or fleet
/// level; method, network, ...), from its recent attributable outcomes.
///
/// Successes and failures are counted with exponential time decay: an outcome
/// `h` (the half-life) old weighs half as much as a fresh one, so the estimate
/// follows a gateway that changes, however much history it has. The estimate
/// is a Beta posterior whose prior comes from the parent segment (its mean,
/// with a fixed number of pseudo-observations), so a new or thin segment
/// starts where its parent is, not at 100 % or 0 %, and is pulled toward its
/// own evidence as that grows.
public struct SuccessEstimate: Equatable, Sendable {
    public private(set) var successes: Double = 0
    public private(set) var failures: Double = 0
    /// The clock reading the counts are decayed to.
    public private(set) var updatedAt: UInt64 = 0

    public init() {}

    /// Adds one attributable outcome at `now`.
    public mutating func record(success: Bool, at now: UInt64, halfLife: UInt64) {
        add(successes: success ? 1 : 0, failures: success ? 0 : 1, at: now, halfLife: halfLife)
    }

    /// Adds outcomes seen at `now` (one here, or many from the fleet).
    public mutating func add(successes: Double, failures: Double, at now: UInt64, halfLife: UInt64) {
        decay(to: now, halfLife: halfLife)
        self.successes += successes
        self.failures += failures
    }

    /// The decayed evidence at `now`, without changing the stored counts.
    public func evidence(at now: UInt64, halfLife: UInt64) -> (successes: Double, failures: Double) {
        let factor = SuccessEstimate.decayFactor(from: updatedAt, to: now, halfLife: halfLife)
        return (successes * factor, failures * factor)
    }

    public struct Posterior: Equatable, Sendable {
        public let alpha: Double
        public let beta: Double

        /// Beta(w·m + s, w·(1 − m) + f): `priorWeight` pseudo-observations
        /// centred on `priorMean` (kept inside (0, 1) so neither extreme is
        /// ever certain), plus the evidence.
        public init(priorMean: Double, priorWeight: Double, successes: Double, failures: Double) {
            let mean = min(max(priorMean, 0.001), 0.999)
            let weight = max(priorWeight, 0.01)
            alpha = weight * mean + successes
            beta = weight * (1 - mean) + failures
        }

        /// A posterior already computed (a snapshot's fleet row).
        public init(alpha: Double, beta: Double) {
            self.alpha = alpha
            self.beta = beta
        }

        /// The expected success rate.
        public var mean: Double { alpha / (alpha + beta) }
        public var variance: Double {
            let n = alpha + beta
            return alpha * beta / (n * n * (n + 1))
        }
    }

    private mutating func decay(to now: UInt64, halfLife: UInt64) {
        guard now > updatedAt else { return }
        let factor = SuccessEstimate.decayFactor(from: updatedAt, to: now, halfLife: halfLife)
        successes *= factor
        failures *= factor
        updatedAt = now
    }

    static func decayFactor(from then: UInt64, to now: UInt64, halfLife: UInt64) -> Double {
        guard now > then, halfLife > 0 else { return 1 }
        return Foundation.exp2(-Double(now - then) / Double(halfLife))
    }
}
