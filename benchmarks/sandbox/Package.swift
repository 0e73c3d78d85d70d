// swift-tools-version: 6.1
// A package of its own, so the main build (and CI) never compiles the benchmark.
import Foundation
import PackageDescription

// A path dependency is named after its folder, which is wherever the repository was cloned.
let airlock = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

let package = Package(
    name: "sandbox-benchmark",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "../.."),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        .executableTarget(
            name: "SandboxBenchmark",
            dependencies: [
                .product(name: "AirlockEval", package: airlock),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ]
)
