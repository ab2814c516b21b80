import ArgumentParser

/// The benchmark tools, kept out of the shipped `feedcorpus` binary. The scripts in bench/ call
/// them; each prints figures, none changes a corpus.
@main
struct FeedCorpusBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "feedcorpus-bench",
        abstract: "feedcorpus's benchmark tools (see bench/).",
        subcommands: [SimHashBench.self, DedupeEval.self, ParseBench.self, ClusterClaimBench.self])
}
