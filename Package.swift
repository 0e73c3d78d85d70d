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
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
    ],
    targets: [
        // Domain types and rules; no I/O.
        .target(name: "AirlockCore", swiftSettings: swiftSettings),
        // The evaluation engine: tasks, datasets, solvers, scorers, providers, logs, statistics.
        .target(
            name: "AirlockEval",
            dependencies: [
                "AirlockCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
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
        .executableTarget(
            name: "airlock",
            dependencies: [
                "AirlockCore",
                "AirlockEval",
                "AirlockSuites",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "AirlockCoreTests", dependencies: ["AirlockCore"], swiftSettings: swiftSettings),
        // A scripted model server on 127.0.0.1:0 for the engine and CLI tests.
        .target(
            name: "AirlockTestSupport",
            dependencies: [
                "AirlockCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
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
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Drives the built `airlock` binary: crash-and-resume, export interop, the real local model.
        .testTarget(
            name: "AirlockCLITests",
            dependencies: ["airlock", "AirlockEval", "AirlockTestSupport"],
            swiftSettings: swiftSettings
        ),
    ]
)
