import Foundation

/// The random source of every property and fuzz test: SplitMix64 from a 64-bit seed that
/// the test prints, taken from `PROACTIVITY_TEST_SEED` when it is set. A failure seen
/// once is repeated exactly by running again with the printed seed; without the variable
/// each test draws a fresh seed, so runs keep exploring.
///
/// SplitMix64 (Steele, Lea, Flood 2014): small, fast and well distributed; not for
/// cryptography, which no test needs.
public struct SeededRandom: RandomNumberGenerator {
    /// The environment variable that fixes the seed.
    public static let environmentVariable = "PROACTIVITY_TEST_SEED"

    /// A seed that is not a decimal 64-bit unsigned number.
    public struct InvalidSeed: Error, CustomStringConvertible {
        public let text: String
        public var description: String { "\(SeededRandom.environmentVariable) '\(text)' is not a number from 0 to \(UInt64.max)" }
    }

    /// The seed this generator started from.
    public let seed: UInt64
    private var state: UInt64

    /// A generator seeded from `PROACTIVITY_TEST_SEED`, or from the system's generator
    /// when it is unset; prints the seed with the test's name.
    /// - Throws: ``InvalidSeed`` when the variable is set to something else than a number.
    public init(test: String = #function, file: String = #fileID) throws {
        if let text = ProcessInfo.processInfo.environment[Self.environmentVariable], !text.isEmpty {
            guard let seed = UInt64(text) else { throw InvalidSeed(text: text) }
            self.init(seed: seed)
        } else {
            var system = SystemRandomNumberGenerator()
            self.init(seed: system.next())
        }
        print("\(file) \(test): seed \(seed) (\(Self.environmentVariable)=\(seed) repeats it)")
    }

    /// A generator from a fixed seed, printing nothing.
    public init(seed: UInt64) {
        self.seed = seed
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}
