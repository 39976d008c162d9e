// swift-tools-version: 6.1
// IndicatorHub. No third-party Swift packages: the supply chain is the Swift toolchain,
// libsodium and OpenSSL (see README.md and PRODUCT.md).
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "IndicatorHub",
    products: [
        .executable(name: "ihub", targets: ["ihub"]),
        .library(name: "IndicatorKit", targets: ["IndicatorKit"]),
        .library(name: "IndicatorStore", targets: ["IndicatorStore"]),
        .library(name: "FeedFormats", targets: ["FeedFormats"]),
        .library(name: "HubJSON", targets: ["HubJSON"]),
        .library(name: "HubWire", targets: ["HubWire"]),
        .library(name: "HubPolicy", targets: ["HubPolicy"]),
        .library(name: "HubClient", targets: ["HubClient"]),
    ],
    targets: [
        // C libraries, each behind one wrapper module.
        .systemLibrary(name: "CSodium", pkgConfig: "libsodium",
                       providers: [.apt(["libsodium-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl",
                       providers: [.apt(["libssl-dev"])]),
        // Intrinsics Swift cannot reach (prefetch) and the benchmark's C reference loop.
        .target(name: "CHubShim", dependencies: ["CSodium"],
                cSettings: [.unsafeFlags(["-O3"])]),

        // The file-system calls the modules share (typed errors, EINTR, crash-safe writes).
        .target(name: "HubPOSIX", swiftSettings: strict),
        // Linux interfaces Glibc does not export to Swift (epoll, eventfd, signalfd).
        .target(name: "CHubSys"),

        // SipHash-2-4-128 four messages at a time in AVX2 registers, runtime-dispatched
        // (portable C elsewhere): the batch digest's kernel (docs/STORE-FORMAT.md, "Digest").
        .target(name: "CHubSipHash", cSettings: [.unsafeFlags(["-O3"])]),
        .target(name: "IndicatorKit", dependencies: ["CSodium", "CHubSipHash"], swiftSettings: strict),
        // The strict JSON parser policies and feeds share (tree and pull interfaces). No dependencies.
        .target(name: "HubJSON", dependencies: ["IndicatorKit"], swiftSettings: strict),
        .target(name: "IndicatorStore", dependencies: ["IndicatorKit", "CHubShim", "CHubSipHash", "HubPOSIX"],
                swiftSettings: strict),
        .target(name: "FeedFormats", dependencies: ["IndicatorKit", "HubJSON"], swiftSettings: strict),
        // The binary protocol (docs/PROTOCOL.md): frames, messages, codec. Pure, no sockets.
        .target(name: "HubWire", dependencies: ["IndicatorKit"], swiftSettings: strict),
        // The audit trail (docs/AUDIT-LOG.md): records, hash chain, group-commit writer.
        .target(name: "HubAudit", dependencies: ["IndicatorKit", "HubPOSIX"], swiftSettings: strict),
        // OpenSSL behind one wrapper module: the hub CA, partner certificates, TLS 1.3 contexts.
        .target(name: "HubTLS", dependencies: ["COpenSSL", "HubPOSIX", "IndicatorKit"], swiftSettings: strict),
        // Sockets, event loops, TLS sessions, the request pipeline: policy, matcher, audit.
        .target(name: "HubServer",
                dependencies: ["CHubSys", "IndicatorKit", "IndicatorStore", "HubWire", "HubPolicy", "HubAudit", "HubTLS",
                               "FeedFormats", "HubPOSIX"],
                swiftSettings: strict),
        // Partner policies: model, loader, validator, evaluator. Pure.
        .target(name: "HubPolicy", dependencies: ["IndicatorKit", "HubJSON"], swiftSettings: strict),
        // The partner-side client (docs/CLIENT.md): connect, pipelined queries, typed errors.
        .target(name: "HubClient", dependencies: ["HubWire", "HubTLS", "IndicatorKit"], swiftSettings: strict),
        .executableTarget(name: "ihub",
                          dependencies: ["IndicatorKit", "IndicatorStore", "FeedFormats", "HubPolicy", "HubTLS",
                                         "HubServer", "HubClient", "HubWire", "HubPOSIX", "HubAudit"],
                          swiftSettings: strict),

        // The benchmarks' shared workload (synthetic indicators, query sets, store builder).
        .target(name: "BenchSupport", dependencies: ["IndicatorKit", "IndicatorStore"],
                path: "Benchmarks/BenchSupport", swiftSettings: strict),
        .executableTarget(name: "LiveBench", dependencies: ["IndicatorKit", "IndicatorStore"],
                          path: "Benchmarks/LiveBench", swiftSettings: strict),
        .executableTarget(name: "MatcherBench",
                          dependencies: ["BenchSupport", "IndicatorKit", "IndicatorStore", "CHubShim"],
                          path: "Benchmarks/MatcherBench", swiftSettings: strict),
        // What a lookup's memory layout costs, apart from any matcher code (docs/BENCHMARKS.md).
        .executableTarget(name: "MemoryPatterns", dependencies: ["CBenchSupport"], path: "Benchmarks/MemoryPatterns",
                          linkerSettings: [.linkedLibrary("sodium")]),
        // What the C benchmarks share (timing, medians, their flags' numbers).
        .target(name: "CBenchSupport", path: "Benchmarks/CBenchSupport"),
        // The batch digest's SipHash kernels against libsodium (docs/BENCHMARKS.md).
        .executableTarget(name: "SipHashBench", dependencies: ["CHubSipHash", "CBenchSupport"], path: "Benchmarks/SipHashBench",
                          linkerSettings: [.linkedLibrary("sodium")]),
        // What software prefetches cost the core, by how they are grouped (`make bench-prefetch`).
        .executableTarget(name: "PrefetchShapes", dependencies: ["CBenchSupport"], path: "Benchmarks/PrefetchShapes"),
        // End to end over mutual TLS against Redis (`make bench-e2e`, docs/BENCHMARKS.md).
        .executableTarget(name: "E2EBench",
                          dependencies: ["BenchSupport", "IndicatorKit", "IndicatorStore", "HubWire", "HubTLS",
                                         "HubPOSIX"],
                          path: "Benchmarks/E2EBench", swiftSettings: strict),

        .testTarget(name: "IndicatorKitTests", dependencies: ["IndicatorKit"],
                    resources: [.copy("Fixtures")], swiftSettings: strict),
        .testTarget(name: "IndicatorStoreTests",
                    dependencies: ["IndicatorStore", "IndicatorKit", "LiveCrashScript", "LiveStoreCrashChild"],
                    resources: [.copy("Fixtures")], swiftSettings: strict),
        // The live store's crash test: the writes a killed child performs, and the child.
        .target(name: "LiveCrashScript", dependencies: ["IndicatorStore", "IndicatorKit"],
                path: "Tests/LiveCrashScript", swiftSettings: strict),
        .executableTarget(name: "LiveStoreCrashChild", dependencies: ["IndicatorStore", "LiveCrashScript"],
                          path: "Tests/LiveStoreCrashChild", swiftSettings: strict),
        .testTarget(name: "FeedFormatsTests", dependencies: ["FeedFormats", "IndicatorKit"],
                    resources: [.copy("Fixtures")], swiftSettings: strict),
        .testTarget(name: "HubJSONTests", dependencies: ["HubJSON"],
                    resources: [.copy("Fixtures")], swiftSettings: strict),
        .testTarget(name: "HubTLSTests", dependencies: ["HubTLS"], swiftSettings: strict),
        .testTarget(name: "HubServerTests",
                    dependencies: ["HubServer", "HubWire", "HubPolicy", "HubAudit", "HubTLS", "IndicatorStore", "IndicatorKit",
                                   "HubClient"],
                    swiftSettings: strict),
        .testTarget(name: "HubAuditTests", dependencies: ["HubAudit", "IndicatorKit"], swiftSettings: strict),
        .testTarget(name: "HubWireTests", dependencies: ["HubWire", "IndicatorKit"], swiftSettings: strict),
        .testTarget(name: "HubPolicyTests", dependencies: ["HubPolicy", "IndicatorKit"],
                    resources: [.copy("Fixtures")], swiftSettings: strict),
        // A fake hub for client tests (HubTLS + HubWire, just enough protocol); tests only.
        .target(name: "FakeHub", dependencies: ["HubWire", "HubTLS", "IndicatorKit"],
                path: "Tests/FakeHub", swiftSettings: strict),
        .testTarget(name: "HubClientTests", dependencies: ["HubClient", "FakeHub", "HubWire", "HubTLS", "IndicatorKit"],
                    swiftSettings: strict),
        .testTarget(name: "ihubTests", dependencies: ["ihub", "IndicatorKit", "IndicatorStore", "FakeHub", "HubWire", "HubTLS",
                                                 "HubClient", "HubAudit", "HubServer"],
                    resources: [.copy("Fixtures")], swiftSettings: strict),
    ]
)
