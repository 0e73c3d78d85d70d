// swift-tools-version: 6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "airlock",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "airlock", targets: ["airlock"]),
        .library(name: "AirlockCore", targets: ["AirlockCore"]),
        .library(name: "AirlockEval", targets: ["AirlockEval"]),
        .library(name: "AirlockSuites", targets: ["AirlockSuites"]),
        .library(name: "AirlockStore", targets: ["AirlockStore"]),
        .library(name: "AirlockExchange", targets: ["AirlockExchange"]),
        .library(name: "AirlockAPI", targets: ["AirlockAPI"]),
        .library(name: "AirlockServer", targets: ["AirlockServer"]),
        .library(name: "AirlockNATS", targets: ["AirlockNATS"]),
        .library(name: "AirlockQueue", targets: ["AirlockQueue"]),
        .library(name: "AirlockWorker", targets: ["AirlockWorker"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/vapor/sql-kit.git", from: "3.36.0"),
        .package(url: "https://github.com/vapor/sqlite-kit.git", from: "4.5.2"),
        .package(url: "https://github.com/vapor/postgres-kit.git", from: "2.17.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(
            url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1",
            traits: [.defaults, "ConfigurationSupport"]
        ),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0", traits: [.defaults, "YAML"]),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.8.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        // zlib for the store's large records (a small wrapper; links the system's libz).
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
        // The web UI's templates (escaped by default).
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        // Generators and seeds for the fuzz tests (Tests/AirlockTestSupport/Fuzzing.swift).
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
    ],
    targets: [
        // Domain types and rules; no I/O.
        .target(name: "AirlockCore", swiftSettings: swiftSettings),
        // posix_spawn with what Swift's Glibc module does not show (the `_np` file actions), so
        // every child starts with a clean signal state and no inherited descriptors.
        .target(name: "CAirlockSpawn"),
        // The evaluation engine: tasks, datasets, solvers, scorers, providers, logs, statistics.
        .target(
            name: "AirlockEval",
            dependencies: [
                "AirlockCore",
                "CAirlockSpawn",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        // The standard battery: importers of third-party data, generators, policy and reports.
        .target(
            name: "AirlockSuites",
            dependencies: [
                "AirlockCore",
                "AirlockEval",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        // The program's records: SQLKit over SQLite (default) and PostgreSQL, migrations, the audit chain.
        .target(
            name: "AirlockStore",
            dependencies: [
                "AirlockCore",
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The access gateway: grant keys to unreleased models, with limits, quotas and a record.
        .target(
            name: "AirlockGateway",
            dependencies: [
                "AirlockCore",
                "AirlockStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Sharing and disclosure: STIX 2.1, TAXII 2.1, CSAF 2.0 and CVE JSON 5 documents.
        .target(
            name: "AirlockExchange",
            dependencies: [
                "AirlockCore",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // Airlock's own NATS client on SwiftNIO: the core protocol and the JetStream calls the work queue needs.
        .target(
            name: "AirlockNATS",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Where runs' attempts wait for workers: in the server's process, or on NATS JetStream.
        .target(
            name: "AirlockQueue",
            dependencies: ["AirlockNATS", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        // `airlock worker` and the server's own worker: attempts from the queue, run with the engine.
        // Above both stacks, like the CLI: it joins the engine to the program's queue and runs.
        .target(
            name: "AirlockWorker",
            dependencies: [
                "AirlockCore", "AirlockEval", "AirlockQueue", "AirlockAPI",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The program API's contract: request bodies, views, problem details, pages and the JSON coding,
        // shared by the server and its clients.
        .target(name: "AirlockAPI", dependencies: ["AirlockCore"], swiftSettings: swiftSettings),

        // `airlock serve`: the program server's HTTP API (Hummingbird 2).
        .target(
            name: "AirlockServer",
            dependencies: [
                "AirlockCore",
                "AirlockAPI",
                "AirlockStore",
                "AirlockGateway",
                "AirlockExchange",
                "AirlockQueue",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "HummingbirdOTP", package: "hummingbird-auth"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("Resources/openapi.json"), .copy("Resources/web")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "airlock",
            dependencies: [
                "AirlockCore",
                "AirlockAPI",
                "AirlockEval",
                "AirlockSuites",
                "AirlockStore",
                "AirlockServer",
                "AirlockGateway",
                "AirlockNATS",
                "AirlockQueue",
                "AirlockWorker",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AirlockCoreTests",
            dependencies: ["AirlockCore", "AirlockTestSupport", .product(name: "PropertyBased", package: "swift-property-based")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AirlockNATSTests",
            dependencies: ["AirlockNATS", "AirlockTestSupport", .product(name: "NIOCore", package: "swift-nio"), .product(name: "Logging", package: "swift-log"), .product(name: "PropertyBased", package: "swift-property-based")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AirlockQueueTests",
            dependencies: ["AirlockQueue", "AirlockNATS", "AirlockTestSupport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AirlockWorkerTests",
            dependencies: [
                "AirlockWorker", "AirlockCore", "AirlockEval", "AirlockQueue", "AirlockAPI", "AirlockNATS", "AirlockTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AirlockAPITests",
            dependencies: ["AirlockCore", "AirlockAPI", "AirlockTestSupport", .product(name: "PropertyBased", package: "swift-property-based")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AirlockExchangeTests",
            dependencies: ["AirlockCore", "AirlockExchange", "AirlockTestSupport", .product(name: "PropertyBased", package: "swift-property-based")],
            swiftSettings: swiftSettings
        ),
        // A scripted model server on 127.0.0.1:0 for the engine and CLI tests; the fuzz targets' harness.
        .target(
            name: "AirlockTestSupport",
            dependencies: [
                "AirlockCore",
                "AirlockStore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            path: "Tests/AirlockTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AirlockEvalTests",
            dependencies: [
                "AirlockCore",
                "AirlockEval",
                "AirlockTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AirlockSuitesTests",
            dependencies: [
                "AirlockCore",
                "AirlockEval",
                "AirlockSuites",
                "AirlockTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AirlockStoreTests",
            dependencies: [
                "AirlockCore", "AirlockStore", "AirlockTestSupport", .product(name: "Logging", package: "swift-log"),
                .product(name: "CompressNIO", package: "compress-nio"), .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AirlockGatewayTests",
            dependencies: [
                "AirlockCore",
                "AirlockStore",
                "AirlockGateway",
                "AirlockServer",
                "AirlockTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AirlockServerTests",
            dependencies: [
                "AirlockCore",
                "AirlockAPI",
                "AirlockStore",
                "AirlockServer",
                "AirlockExchange",
                "AirlockTestSupport",
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Drives the built `airlock` binary: crash-and-resume, export interop, the real local model.
        .testTarget(
            name: "AirlockCLITests",
            dependencies: ["airlock", "AirlockCore", "AirlockEval", "AirlockSuites", "AirlockStore", "AirlockNATS", "AirlockTestSupport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
    ]
)
