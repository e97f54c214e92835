// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "proactivity",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "proactivity", targets: ["proactivity"]),
        .library(name: "Kafka", targets: ["Kafka"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.36.0"),
    ],
    targets: [
        // librdkafka, the C library (pkg-config `rdkafka`).
        .systemLibrary(
            name: "CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        // Our Swift wrapper over librdkafka; only `Internal/` touches C.
        .target(
            name: "Kafka",
            dependencies: [
                "CRdKafka",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // A plain-C librdkafka producer loop: the baseline `bench kafka` compares against.
        .target(
            name: "KafkaBaseline",
            dependencies: ["CRdKafka"]
        ),
        // The engine's domain: jobs, schedules, tick and alert messages. Pure: no Kafka,
        // NIO or PostgreSQL, so its tests run in milliseconds.
        .target(name: "ProactivityCore"),
        // PostgreSQL access (PostgresNIO).
        .target(
            name: "ProactivityStore",
            dependencies: [
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "proactivity",
            dependencies: [
                "Kafka",
                "KafkaBaseline",
                "ProactivityStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "KafkaTests",
            dependencies: ["Kafka"]
        ),
        .testTarget(
            name: "ProactivityCoreTests",
            dependencies: ["ProactivityCore"]
        ),
        .testTarget(
            name: "ProactivityStoreTests",
            dependencies: ["ProactivityStore"]
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "Kafka",
                "ProactivityStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
