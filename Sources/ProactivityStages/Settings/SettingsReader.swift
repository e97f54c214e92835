import Configuration
import Foundation
import Kafka
import ProactivityCore

/// What a command line sets: the top layer of every command's configuration, above the
/// environment, the `PROACTIVITY_CONFIG_FILE` JSON file and the defaults.
public struct CommandLineValues: Sendable {
    /// Settings by key as in the configuration file (`kafka.bootstrapServers`, `log.level`).
    public var values: [String: String]
    /// librdkafka properties (`-X name=value`): they win over `KAFKA_*` variables.
    public var kafkaProperties: [String: String]

    public init(values: [String: String] = [:], kafkaProperties: [String: String] = [:]) {
        self.values = values
        self.kafkaProperties = kafkaProperties
    }
}

/// Every configuration value a command reads, typed, with the refusals of all of them.
///
/// The one provider stack of the engine: command line, then environment variables, then
/// the JSON file named by `PROACTIVITY_CONFIG_FILE`, then each read's default. A value
/// that is present but cannot be used (not a number, out of range, not `true`/`false`,
/// not one of the allowed names) is recorded in ``problems`` naming its environment
/// variable, and the read returns the default, so a caller lists every problem at once
/// instead of stopping at the first. Nothing here traps on a value.
public struct SettingsReader {
    /// What cannot be used, one line each; a secret's value never appears in them.
    public private(set) var problems: [String] = []
    private let config: ConfigReader
    private let providers: [any ConfigProvider]
    private let environment: [String: String]
    private let commandLine: CommandLineValues

    /// Builds the provider stack; a configuration file that cannot be read is a problem.
    public init(environment: [String: String], commandLine: CommandLineValues = .init()) async {
        var providers: [any ConfigProvider] = [
            InMemoryProvider(
                name: "command line",
                values: Dictionary(uniqueKeysWithValues: commandLine.values.map { (AbsoluteConfigKey(ConfigKey($0.key)), ConfigValue(.string($0.value), isSecret: false)) })),
            EnvironmentVariablesProvider(
                environmentVariables: environment,
                secretsSpecifier: .dynamic { name, _ in KafkaConfiguration.isSecret(property: name.lowercased()) || name.contains("URL") || name.contains("TOKEN") }),
        ]
        if let path = environment["PROACTIVITY_CONFIG_FILE"], !path.isEmpty {
            do {
                providers.append(try await FileProvider<JSONSnapshot>(filePath: .init(path)))
            } catch {
                problems.append("PROACTIVITY_CONFIG_FILE \(path) cannot be read as JSON: \(error)")
            }
        }
        self.providers = providers
        self.config = ConfigReader(providers: providers)
        self.environment = environment
        self.commandLine = commandLine
    }

    /// Records a problem found while interpreting values read here.
    public mutating func refuse(_ problem: String) {
        problems.append(problem)
    }

    /// The environment variable of `key`: `worker.pageSize` is `WORKER_PAGE_SIZE`
    /// (the mapping of swift-configuration's environment provider).
    public static func variable(_ key: String) -> String {
        var name = ""
        var previous: Character?
        for character in key {
            if character == "." {
                name.append("_")
            } else {
                if let previous, previous.isLowercase, character.isUppercase { name.append("_") }
                name.append(character.isLetter || character.isNumber ? String(character).uppercased() : "_")
            }
            previous = character
        }
        return name
    }

    // MARK: Typed reads

    /// Text; `nil` when not set.
    public mutating func string(_ key: String) -> String? {
        read(key, default: nil, refusal: "must be text") { try $0.requiredString(forKey: ConfigKey(key)) }
    }

    /// Text, or `defaultValue` when not set.
    public mutating func string(_ key: String, default defaultValue: String) -> String {
        string(key) ?? defaultValue
    }

    /// A secret's text; `nil` when not set. Refusals name the variable, never the value.
    public mutating func secret(_ key: String) -> String? {
        read(key, default: nil, refusal: "must be text", isSecret: true) { try $0.requiredString(forKey: ConfigKey(key), isSecret: true) }
    }

    /// A whole number in `range`, or `defaultValue` when not set.
    public mutating func int(_ key: String, in range: ClosedRange<Int>, default defaultValue: Int) -> Int {
        let refusal = "must be a whole number from \(range.lowerBound) to \(range.upperBound)"
        let number = read(key, default: defaultValue, refusal: refusal) { try $0.requiredInt(forKey: ConfigKey(key)) }
        guard range.contains(number) else {
            problems.append("\(Self.variable(key)) '\(number)' \(refusal)")
            return defaultValue
        }
        return number
    }

    /// `true` or `false` exactly (a JSON boolean in the file), or `defaultValue` when not set.
    public mutating func bool(_ key: String, default defaultValue: Bool) -> Bool {
        read(key, default: defaultValue, refusal: "must be true or false") { config in
            // Text is read strictly: the environment provider alone would also take yes/no/1/0.
            if config.string(forKey: ConfigKey(key)) != nil {
                return try config.requiredString(forKey: ConfigKey(key), as: Switch.self) == .true
            }
            return try config.requiredBool(forKey: ConfigKey(key))
        }
    }

    /// One of the values of `Value` by its raw text, or `defaultValue` when not set.
    public mutating func choice<Value: RawRepresentable & CaseIterable>(_ key: String, default defaultValue: Value) -> Value
    where Value.RawValue == String {
        let names = Value.allCases.map(\.rawValue).joined(separator: ", ")
        return read(key, default: defaultValue, refusal: "must be one of \(names)") { try $0.requiredString(forKey: ConfigKey(key), as: Value.self) }
    }

    /// A value of a type that parses configuration text, or `defaultValue` when not set.
    /// - Parameter refusal: what the value must be, for the problem line.
    public mutating func value<Value: ExpressibleByConfigString>(_ key: String, as type: Value.Type, default defaultValue: Value?, refusal: String) -> Value? {
        read(key, default: defaultValue, refusal: refusal) { try $0.requiredString(forKey: ConfigKey(key), as: Value.self) }
    }

    /// A list, comma-separated in the environment (a JSON array in the file), empty
    /// entries dropped; `nil` when not set.
    public mutating func list(_ key: String) -> [String]? {
        read(key, default: nil, refusal: "must be a comma-separated list") { try $0.requiredStringArray(forKey: ConfigKey(key)) }
            .map { $0.filter { !$0.isEmpty } }
    }

    /// librdkafka properties: `KAFKA_<NAME>` variables (`KAFKA_SASL_PASSWORD` is
    /// `sasl.password`; `KAFKA_BOOTSTRAP_SERVERS` is a setting of its own), then the
    /// command line's `-X` over them.
    public var kafkaProperties: [String: String] {
        var properties: [String: String] = [:]
        for (name, value) in environment where name.hasPrefix("KAFKA_") && name != "KAFKA_BOOTSTRAP_SERVERS" {
            properties[name.dropFirst(6).lowercased().replacingOccurrences(of: "_", with: ".")] = value
        }
        return properties.merging(commandLine.kafkaProperties) { $1 }
    }

    /// The value `read` returns; `defaultValue` when no provider has one, and also when the
    /// value is refused, after recording the refusal.
    private mutating func read<Value>(
        _ key: String, default defaultValue: Value, refusal: String, isSecret: Bool = false, _ read: (ConfigReader) throws -> Value
    ) -> Value {
        do {
            return try read(config)
        } catch {
            guard isSet(key) else { return defaultValue }
            let shown = isSecret ? "" : config.string(forKey: ConfigKey(key)).map { " '\($0.prefix(300))'" } ?? " (in the configuration file)"
            problems.append("\(Self.variable(key))\(shown) \(refusal)")
            return defaultValue
        }
    }

    /// Whether a provider has a value for `key`, of any type (a provider throws when asked
    /// for text where it holds a number, a boolean or a list).
    private func isSet(_ key: String) -> Bool {
        providers.contains { provider in
            do {
                return try provider.value(forKey: AbsoluteConfigKey(ConfigKey(key)), type: .string).value != nil
            } catch {
                return true
            }
        }
    }

    /// `true` and `false` as the only texts of a boolean.
    private enum Switch: String {
        case `true`, `false`
    }
}

/// A duration as `DurationText` reads it (`30s`, `5m`, `1h`, `30d`).
public struct ConfiguredDuration: ExpressibleByConfigString, Sendable {
    public let seconds: Int
    public init?(configString: String) {
        guard let seconds = DurationText.seconds(configString) else { return nil }
        self.seconds = seconds
    }
    public init(seconds: Int) { self.seconds = seconds }
    public var description: String { DurationText.format(seconds) }
}

/// A time zone by its identifier (`Europe/Paris`).
public struct ConfiguredTimeZone: ExpressibleByConfigString, Sendable {
    public let timeZone: TimeZone
    public init?(configString: String) {
        guard let timeZone = TimeZone(identifier: configString) else { return nil }
        self.timeZone = timeZone
    }
    public var description: String { timeZone.identifier }
}
