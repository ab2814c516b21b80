// swift-tools-version:6.0
import PackageDescription

// One module per pipeline stage (README, "Architecture"). Only `Fetcher` links libcurl,
// only `XMLSupport` links libxml2 (feeds and the HTML tree `ArticleExtractor` works on), only
// `StateStore` links SQLite, only `ClusterState` links PostgreSQL's client.
let package = Package(
    name: "feedcorpus",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "feedcorpus", targets: ["feedcorpus"]),
        .executable(name: "feedcorpus-bench", targets: ["FeedCorpusBench"]),
        // The input-facing stages as a library, for the libFuzzer package in Fuzz/.
        .library(name: "FeedCorpusKit", targets: ["FeedParser", "ArticleExtractor", "FeedConfig", "XMLSupport", "FeedModel", "DatesAndCharsets", "TextCleanup"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.1.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.0"),
    ],
    targets: [
        // C libraries, behind thin system-library targets.
        .systemLibrary(
            name: "CCurl", pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]),
        .target(name: "CCurlShim", dependencies: ["CCurl"]),
        .systemLibrary(
            name: "CLibXML2", pkgConfig: "libxml-2.0",
            providers: [.apt(["libxml2-dev"])]),
        .systemLibrary(
            name: "CSQLite", pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(
            name: "CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),

        // Pipeline stages.
        // Date and charset reading for every stage (feeds, pages, HTTP headers, the command line).
        .target(name: "DatesAndCharsets"),
        .target(name: "FeedModel", dependencies: ["DatesAndCharsets"]),
        .target(name: "XMLSupport", dependencies: ["CLibXML2", "DatesAndCharsets"]),
        .target(name: "FeedParser", dependencies: ["FeedModel", "XMLSupport", "DatesAndCharsets"]),
        // Where markup becomes paragraphs, and the headline and "read more" rules all stages share.
        .target(name: "TextCleanup", dependencies: ["XMLSupport"]),
        .target(name: "ArticleExtractor", dependencies: ["XMLSupport", "DatesAndCharsets", "TextCleanup"]),
        .target(
            name: "Fetcher",
            dependencies: ["CCurl", "CCurlShim", "CZlib", "FeedModel", "DatesAndCharsets", .product(name: "Logging", package: "swift-log")]),
        .target(
            name: "Dedupe",
            dependencies: ["FeedModel", .product(name: "Crypto", package: "swift-crypto")]),
        // syncfs(2) for grouped flushes: Glibc hides it behind _GNU_SOURCE.
        .target(name: "CFileSync"),
        .target(name: "CSpawn"),
        // glibc malloc settings made at start (arenas, mmap threshold).
        .target(name: "CMallocTuning"),
        .target(name: "CorpusWriter", dependencies: ["FeedModel", "CFileSync"]),
        .target(name: "StateStore", dependencies: ["CSQLite", "FeedModel"]),
        .target(name: "FeedConfig", dependencies: ["Yams", "XMLSupport", "DatesAndCharsets"]),
        .target(
            name: "Pipeline",
            dependencies: [
                "FeedModel", "FeedParser", "Fetcher", "Dedupe", "CorpusWriter", "StateStore",
                "FeedConfig", "XMLSupport", "ArticleExtractor", "DatesAndCharsets", "TextCleanup", "CSpawn", .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"), .product(name: "CoreMetrics", package: "swift-metrics"),
            ]),
        // Cluster mode's shared state: PostgreSQL (leases, host slots, the commit lock).
        .target(
            name: "ClusterState",
            dependencies: ["Fetcher", .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "Logging", package: "swift-log")]),
        // Cluster mode's workers: the pipeline's polling over the shared state.
        .target(name: "ClusterWorker", dependencies: ["ClusterState", "Pipeline", "StateStore", "Dedupe", "CorpusWriter", "FeedConfig", "FeedModel", "Fetcher",
                                               .product(name: "CoreMetrics", package: "swift-metrics"),
                                               .product(name: "Logging", package: "swift-log")]),
        // Cluster mode's corpus copies: the corpus folder written from the shared state.
        .target(name: "Materializer", dependencies: ["ClusterState", "CorpusWriter", "FeedModel"]),
        // The service behind `feedcorpus run`: its loop, signals, systemd notifications, health.
        .target(
            name: "FeedDaemon",
            dependencies: [
                "Pipeline", "FeedConfig", "FeedModel", .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]),
        // The optional Prometheus listener (/metrics, /healthz) and textfile writer.
        .target(
            name: "MetricsEndpoint",
            dependencies: [
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .executableTarget(
            name: "feedcorpus",
            dependencies: [
                "Pipeline", "FeedDaemon", "FeedConfig", "FeedParser", "ArticleExtractor", "Fetcher", "Dedupe", "StateStore", "FeedModel",
                "MetricsEndpoint", "CorpusWriter", "CMallocTuning", "XMLSupport", "DocumentInput", "DatesAndCharsets",
                "ClusterState", "ClusterWorker", "Materializer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            plugins: ["BuildInfo"]),
        // A feed or page named on the command line: a mapped file or one HTTP fetch.
        .target(name: "DocumentInput", dependencies: ["Fetcher", "FeedConfig"]),
        // The benchmark tools (bench/), outside the shipped binary; with their heap reservation shim.
        .target(name: "CBenchHeap"),
        .executableTarget(
            name: "FeedCorpusBench",
            dependencies: [
                "Dedupe", "FeedModel", "FeedParser", "StateStore", "DocumentInput", "CBenchHeap", "ClusterState",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "Logging", package: "swift-log"),
            ]),
        // Records the git commit for `feedcorpus --version`.
        .plugin(name: "BuildInfo", capability: .buildTool()),

        // Tests (Swift Testing). `TestSupport` starts the real loopback HTTP server.
        .target(name: "TestSupport", path: "Tests/TestSupport", resources: [.copy("http_server.py")]),
        .testTarget(name: "FeedModelTests", dependencies: ["FeedModel"]),
        .testTarget(name: "XMLSupportTests", dependencies: ["XMLSupport", "FeedModel", "DatesAndCharsets"]),
        .testTarget(name: "TextCleanupTests", dependencies: ["TextCleanup"]),
        .testTarget(name: "CMallocTuningTests", dependencies: ["CMallocTuning"]),
        .testTarget(name: "DatesAndCharsetsTests", dependencies: ["DatesAndCharsets", "FeedModel", "TestSupport"]),
        .testTarget(
            name: "MetricsEndpointTests",
            dependencies: ["MetricsEndpoint", .product(name: "Prometheus", package: "swift-prometheus"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"), .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "FeedConfigTests", dependencies: ["FeedConfig"]),
        .testTarget(name: "FeedParserTests", dependencies: ["FeedParser", "FeedModel", "XMLSupport", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "ArticleExtractorTests", dependencies: ["ArticleExtractor", "XMLSupport"]),
        .testTarget(name: "DedupeTests", dependencies: ["Dedupe", "FeedModel", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "CorpusWriterTests", dependencies: ["CorpusWriter", "FeedModel", "Dedupe"]),
        .testTarget(name: "StateStoreTests", dependencies: ["StateStore", "FeedModel"]),
        .testTarget(name: "ClusterStateTests", dependencies: ["ClusterState", "Fetcher", "Dedupe", "FeedModel", "TestSupport", .product(name: "PostgresNIO", package: "postgres-nio"),
                                                              .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "ClusterWorkerTests", dependencies: ["ClusterWorker", "ClusterState", "Pipeline", "StateStore", "TestSupport",
                                                               .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "MaterializerTests", dependencies: ["Materializer", "ClusterState", "CorpusWriter", "FeedModel", "TestSupport",
                                                              .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "FetcherTests", dependencies: ["Fetcher", "FeedModel", "TestSupport"]),
        .testTarget(
            name: "PipelineTests",
            dependencies: ["Pipeline", "FeedConfig", "StateStore", "Fetcher", "ArticleExtractor", "TestSupport", "DatesAndCharsets",
                           .product(name: "Prometheus", package: "swift-prometheus")]),
        .testTarget(
            name: "FeedDaemonTests",
            dependencies: ["FeedDaemon", "Pipeline", "FeedConfig", "StateStore", "TestSupport",
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]),
        // Runs the built `feedcorpus` binary (the dependency makes `swift test` build it).
        .testTarget(name: "CLITests", dependencies: ["feedcorpus", "FeedCorpusBench", "TestSupport", "Dedupe", "FeedModel", "CorpusWriter"]),
    ],
    swiftLanguageModes: [.v6]
)
