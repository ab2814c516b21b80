// swift-tools-version:6.0
import PackageDescription

// libFuzzer targets for feedcorpus's input-facing code. Not part of the main build: each target
// has no `main` (libFuzzer supplies it), so they are built only by `Fuzz/run.sh`, with
// `swift build --sanitize=fuzzer --sanitize=address`.
let package = Package(
    name: "feedcorpus-fuzz",
    dependencies: [.package(name: "feedcorpus", path: "..")],
    targets: [
        .executableTarget(name: "FuzzFeedParser", dependencies: [.product(name: "FeedCorpusKit", package: "feedcorpus")]),
        .executableTarget(name: "FuzzHTMLExtractor", dependencies: [.product(name: "FeedCorpusKit", package: "feedcorpus")]),
        .executableTarget(name: "FuzzDateParser", dependencies: [.product(name: "FeedCorpusKit", package: "feedcorpus")]),
        .executableTarget(name: "FuzzConfigLoader", dependencies: [.product(name: "FeedCorpusKit", package: "feedcorpus")]),
    ],
    swiftLanguageModes: [.v6]
)
