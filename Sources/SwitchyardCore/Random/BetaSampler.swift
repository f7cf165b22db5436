import Foundation

/// Draws from Beta(α, β) without allocating, for Thompson sampling: a Beta
/// variate is X / (X + Y) with X ~ Gamma(α), Y ~ Gamma(β), and Gamma variates
/// come from Marsaglia and Tsang's method (2000), which needs one normal
/// variate (Box-Muller) and usually one uniform per draw.
public enum BetaSampler {
    public static func sample(alpha: Double, beta: Double, using random: inout some RandomNumberGenerator) -> Double {
        precondition(alpha > 0 && beta > 0, "Beta parameters must be positive")
        let x = gamma(shape: alpha, using: &random)
        let y = gamma(shape: beta, using: &random)
        let sum = x + y
        return sum > 0 ? x / sum : alpha / (alpha + beta)
    }

    static func gamma(shape: Double, using random: inout some RandomNumberGenerator) -> Double {
        if shape < 1 {
            // Boost: Gamma(a) = Gamma(a + 1) · U^(1/a).
            let u = openUniform(using: &random)
            return gamma(shape: shape + 1, using: &random) * Foundation.pow(u, 1 / shape)
        }
        let d = shape - 1.0 / 3.0
        let c = 1 / (9 * d).squareRoot()
        while true {
            var x: Double
            var v: Double
            repeat {
                x = normal(using: &random)
                v = 1 + c * x
            } while v <= 0
            v = v * v * v
            let u = openUniform(using: &random)
            if u < 1 - 0.0331 * x * x * x * x { return d * v }
            if Foundation.log(u) < 0.5 * x * x + d * (1 - v + Foundation.log(v)) { return d * v }
        }
    }

    static func normal(using random: inout some RandomNumberGenerator) -> Double {
        let u1 = openUniform(using: &random)
        let u2 = Double.random(in: 0..<1, using: &random)
        return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
    }

    /// Uniform on (0, 1): never 0, so logarithms stay finite.
    static func openUniform(using random: inout some RandomNumberGenerator) -> Double {
        Double.random(in: Double.ulpOfOne..<1, using: &random)
    }
}
