// swift-tools-version: 6.2
import PackageDescription

// Settings for every target. Each upcoming feature links the proposal that explains it.
let swiftSettings: [SwiftSetting] = [
    // https://github.com/swiftlang/swift-evolution/blob/main/proposals/0335-existential-any.md
    .enableUpcomingFeature("ExistentialAny"),
    // https://github.com/swiftlang/swift-evolution/blob/main/proposals/0409-access-level-on-imports.md
    .enableUpcomingFeature("InternalImportsByDefault"),
    // https://github.com/swiftlang/swift-evolution/blob/main/proposals/0444-member-import-visibility.md
    .enableUpcomingFeature("MemberImportVisibility"),
]

// Only the targets that touch C, pthreads or raw buffers get strict memory safety, so every unsafe expression there is
// marked.
// https://github.com/swiftlang/swift-evolution/blob/main/proposals/0458-strict-memory-safety.md
let unsafeCodeSettings = swiftSettings + [.strictMemorySafety()]

let package = Package(
    name: "spout",
    products: [
        .executable(name: "spout", targets: ["spout"]),
        .executable(name: "spout-bench", targets: ["spout-bench"]),
        .library(name: "Threading", targets: ["Threading"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        // JSON Web Tokens, checked by a well-kept library rather than by hand (it brings swift-crypto).
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.7.1"),
    ],
    targets: [
        // <sys/epoll.h> for spout-bench, which Glibc's module leaves out.
        .systemLibrary(name: "CEpoll"),
        .systemLibrary(
            name: "CMicroHTTPD",
            pkgConfig: "libmicrohttpd",
            providers: [.apt(["libmicrohttpd-dev"])]
        ),
        .target(name: "MicroHTTPD", dependencies: ["CMicroHTTPD", "Threading"], swiftSettings: unsafeCodeSettings),
        // GnuTLS, which libmicrohttpd-dev brings, for spout-bench's HTTPS client.
        .systemLibrary(name: "CGnuTLS", pkgConfig: "gnutls", providers: [.apt(["libgnutls28-dev"])]),
        .target(name: "BenchTLS", dependencies: ["CGnuTLS"], swiftSettings: unsafeCodeSettings),
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        // The embedded database: the only importer of CSQLite.
        .target(name: "Store", dependencies: ["CSQLite", "Threading"], swiftSettings: unsafeCodeSettings),
        .target(name: "Threading", swiftSettings: unsafeCodeSettings),
        .target(name: "JSON", swiftSettings: swiftSettings),
        // Tokens and grants: the only importer of JWTKit.
        .target(
            name: "Auth",
            dependencies: ["JSON", "Threading", .product(name: "JWTKit", package: "jwt-kit")],
            swiftSettings: swiftSettings
        ),
        .target(name: "EventStream", swiftSettings: swiftSettings),
        // What every stream shares: frames, the outbox, the lifecycle, control events, the multiplexer.
        .target(
            name: "Feeds",
            dependencies: ["Threading", "EventStream", "JSON", .product(name: "DequeModule", package: "swift-collections")],
            swiftSettings: swiftSettings
        ),
        // Pub/sub: topics, their logs, subscriptions and policies.
        .target(
            name: "Topics",
            dependencies: ["Feeds", "Threading", "EventStream", "JSON", .product(name: "DequeModule", package: "swift-collections")],
            swiftSettings: swiftSettings
        ),
        // The tail -F engine: inotify and polling, followers, the ring, file cursors.
        .target(
            name: "Tails",
            dependencies: ["Feeds", "Threading", "EventStream", "JSON", .product(name: "DequeModule", package: "swift-collections")],
            swiftSettings: unsafeCodeSettings
        ),
        .target(
            name: "SpoutServer",
            dependencies: [
                "MicroHTTPD",
                "Auth",
                "Feeds",
                "Topics",
                "Tails",
                "Store",
                "Threading",
                "EventStream",
                "JSON",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HeapModule", package: "swift-collections"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "spout",
            dependencies: [
                "SpoutServer",
                "Store",
                "Auth",
                "MicroHTTPD",
                "JSON",
                "EventStream",
                "Feeds",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "spout-bench",
            dependencies: ["Threading", "CEpoll", "BenchTLS", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: swiftSettings
        ),

        // test targets
        .target(name: "TestSupport", dependencies: ["EventStream", "Feeds", "Topics", "Tails", "JSON"], path: "Tests/TestSupport", swiftSettings: swiftSettings),
        .testTarget(name: "ThreadingTests", dependencies: ["Threading"], swiftSettings: swiftSettings),
        .testTarget(name: "JSONTests", dependencies: ["JSON"], swiftSettings: swiftSettings),
        .testTarget(name: "EventStreamTests", dependencies: ["EventStream"], swiftSettings: swiftSettings),
        .testTarget(
            name: "FeedsTests",
            dependencies: ["Feeds", "Topics", "Tails", "EventStream", "JSON", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TopicsTests",
            dependencies: ["Topics", "Feeds", "EventStream", "JSON", "Threading", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TailsTests",
            dependencies: ["Tails", "Feeds", "EventStream", "JSON", "Threading", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "StoreTests", dependencies: ["Store", "Threading", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "MicroHTTPDTests", dependencies: ["MicroHTTPD", "Threading", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "SpoutServerTests",
            // The executable is a dependency so that the end-to-end tests can start the binary built with them.
            dependencies: [
                "SpoutServer", "Auth", "JSON", "EventStream", "Threading", "Topics", "Store", "TestSupport", "spout",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
