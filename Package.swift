// swift-tools-version:6.0
import PackageDescription

/// The binaries allocate with jemalloc (Debian/Ubuntu: libjemalloc-dev to build,
/// libjemalloc2 to run). librdkafka frees each produced message, and its headers, on
/// the thread that serves the delivery reports, not the one that allocated them; glibc's
/// per-thread caches do not help with that, and its arenas' locks and chunk merging took
/// about a sixth of the worker's CPU; with jemalloc the worker spends 6–18% less per
/// alert (measured with `bench pipeline`; see docs/benchmarks.md).
let jemalloc: [LinkerSetting] = [.linkedLibrary("jemalloc", .when(platforms: [.linux]))]

let package = Package(
    name: "proactivity",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "proactivity", targets: ["proactivity"]),
        .executable(name: "proactivity-bench", targets: ["ProactivityBench"]),
        .library(name: "Kafka", targets: ["Kafka"]),
    ],
    // Exact versions: Package.resolved cannot be committed here (the local package
    // mirror's commit ids are not upstream's), so the pins live in this file and every
    // build, the Docker image's included, resolves what the tests ran.
    dependencies: [
        .package(url: "https://github.com/apple/swift-async-algorithms", exact: "1.1.4"),
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        // Named for the modules our code imports from them (NIOCore's ByteBuffer in
        // the HTTP context, HTTPTypes' fields in the tests), at the versions the
        // packages above resolve to.
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-http-types", exact: "1.8.0"),
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", exact: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "4.5.2"),
        .package(url: "https://github.com/apple/swift-configuration", exact: "1.4.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", exact: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        // W3C trace context on Kafka headers: the ecosystem's tracing API and the W3C codec.
        // swift-service-context (ServiceContext's module, which Tracing re-exports) is
        // named only to pin the version that goes with this swift-distributed-tracing.
        .package(url: "https://github.com/apple/swift-distributed-tracing", exact: "1.7.3"),
        .package(url: "https://github.com/apple/swift-service-context", exact: "1.5.1"),
        .package(url: "https://github.com/swift-otel/swift-w3c-trace-context", exact: "1.0.0"),
        // Tests only: reads docker-compose.yml and the Prometheus files.
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
    ],
    targets: [
        // librdkafka, the C library (pkg-config `rdkafka`).
        .systemLibrary(
            name: "CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        // Our Swift wrapper over librdkafka; only `Internal/` touches C. Its clients are
        // services (swift-service-lifecycle): a service group owns their lifetime.
        .target(
            name: "Kafka",
            dependencies: [
                "CRdKafka",
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
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
                "ProactivityCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Metrics (declared once), JSON logs, trace context, readiness, and the HTTP endpoints.
        .target(
            name: "Observability",
            dependencies: [
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "ServiceContextModule", package: "swift-service-context"),
                .product(name: "W3CTraceContext", package: "swift-w3c-trace-context"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The long-running stages (tick producer, reminder worker) and their settings.
        .target(
            name: "ProactivityStages",
            dependencies: [
                "Kafka",
                "ProactivityCore",
                "ProactivityStore",
                "Observability",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),
        // What every command shares: its options (how it finds Kafka, PostgreSQL and its
        // settings; logging) and its JSON output.
        .target(
            name: "CommandLineSupport",
            dependencies: [
                "Kafka",
                "ProactivityStages",
                "Observability",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The `proactivity` command: every stage and operator tool.
        .executableTarget(
            name: "proactivity",
            dependencies: [
                "CommandLineSupport",
                "Kafka",
                "ProactivityCore",
                "ProactivityStore",
                "ProactivityStages",
                "Observability",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            linkerSettings: jemalloc
        ),
        // How the tests and the benchmarks start the `proactivity` binary and wait for
        // what happens outside them (Foundation only).
        .target(name: "ProactivityLauncher"),
        // `proactivity-bench`: benchmarks that print numbers, next to the plain-C baseline;
        // a binary of its own, so neither ships in `proactivity`.
        .executableTarget(
            name: "ProactivityBench",
            dependencies: [
                "CommandLineSupport",
                "Kafka",
                "KafkaBaseline",
                "ProactivityCore",
                "ProactivityLauncher",
                "ProactivityStore",
                "ProactivityStages",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // The same allocator as the engine, so the C loop and our producer compare like with like.
            linkerSettings: jemalloc
        ),
        // Tests only: the seeded random source of the property tests (it prints its seed
        // and takes PROACTIVITY_TEST_SEED), one copy for every test target.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(
            name: "KafkaTests",
            dependencies: [
                "Kafka",
                "ProactivityLauncher",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "ProactivityCoreTests",
            dependencies: ["ProactivityCore", "TestSupport"]
        ),
        .testTarget(
            name: "ObservabilityTests",
            dependencies: [
                "Observability",
                "Kafka",
                "TestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),
        .testTarget(
            name: "ProactivityStagesTests",
            dependencies: [
                "ProactivityCore",
                "ProactivityStages",
                "ProactivityStore",
                "Observability",
                "TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "ProactivityStoreTests",
            dependencies: ["ProactivityStore", "TestSupport"]
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "Kafka",
                "ProactivityCore",
                "ProactivityStore",
                "ProactivityStages",
                "Observability",
                "proactivity",
                "ProactivityLauncher",
                "TestSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
