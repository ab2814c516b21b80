import ArgumentParser
import Dedupe
import FeedModel
import Foundation

/// Scores the near-duplicate and event stages on a labelled set of story pairs, with the same
/// code the pipeline uses. `bench/dedupe-quality.py` builds the set and calls this.
struct DedupeEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dedupe-eval",
        abstract: "Score near-duplicate and event detection on labelled pairs (see bench/dedupe-quality.py).")

    @Argument(help: "JSON: {\"texts\": {ID: {\"headline\", \"paragraphs\"}}, \"near_pairs\": [[A, B, true|false]], \"event_pairs\": [[A, B, true|false]]}")
    var file: String

    @Option(help: "SimHash Hamming distance for near-duplicate candidates.")
    var distance: Int = 3

    @Option(help: "Event similarity threshold.")
    var eventThreshold: Double = 0.27

    @Flag(help: "List the misclassified pairs.")
    var showErrors = false

    func run() throws {
        guard let data = FileManager.default.contents(atPath: file),
              let root = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let texts = root["texts"] as? [String: [String: Any]] else {
            throw ValidationError("\(file) is not an evaluation set (see --help)")
        }
        var stories: [String: StoryText] = [:]
        for (id, object) in texts {
            stories[id] = StoryText(headline: object["headline"] as? String ?? "", paragraphs: object["paragraphs"] as? [String] ?? [])
        }
        let fingerprints = stories.mapValues { TextFingerprint(story: $0) }
        let terms = stories.mapValues { EventTerms(story: $0) }
        var grouper = EventGrouper(window: .infinity, threshold: eventThreshold)
        // Document frequencies come from the distinct texts, not from their edited copies ("~").
        for (id, value) in terms.sorted(by: { $0.key < $1.key }) where !id.contains("~") {
            grouper.add(.init(id: 0, event: id, terms: value, at: Date(timeIntervalSince1970: 0)))
        }

        func score(_ name: String, _ pairs: [[Any]], predict: (String, String) -> Bool) {
            var tp = 0, fp = 0, fn = 0, tn = 0
            var errors: [String] = []
            for pair in pairs {
                guard pair.count == 3, let a = pair[0] as? String, let b = pair[1] as? String, let label = pair[2] as? Bool,
                      stories[a] != nil, stories[b] != nil else { continue }
                let predicted = predict(a, b)
                switch (predicted, label) {
                case (true, true): tp += 1
                case (true, false): fp += 1; errors.append("false positive: \(a) ~ \(b)")
                case (false, true): fn += 1; errors.append("false negative: \(a) ~ \(b)")
                case (false, false): tn += 1
                }
            }
            let precision = tp + fp == 0 ? 1 : Double(tp) / Double(tp + fp)
            let recall = tp + fn == 0 ? 1 : Double(tp) / Double(tp + fn)
            print(String(format: "%@: precision %.4f  recall %.4f  (tp %d, fp %d, fn %d, tn %d)", name, precision, recall, tp, fp, fn, tn))
            if showErrors { errors.prefix(1000).forEach { print("  " + $0) } }
        }
        let deduplicator = Deduplicator(rule: NearDuplicateRule(simhashDistance: distance), stored: [], events: EventGrouper())
        score("near-duplicate", root["near_pairs"] as? [[Any]] ?? []) { a, b in
            guard let x = fingerprints[a], let y = fingerprints[b] else { return false }
            guard let first = stories[a], let second = stories[b] else { return false }
            // As `decide` does: the estimate stage, then the exact check.
            return x.sha256 == y.sha256 || (deduplicator.nearMatch(x, y) != nil && deduplicator.confirmedMatch(first, second) != nil)
        }
        score("same event", root["event_pairs"] as? [[Any]] ?? []) { a, b in
            guard let x = terms[a], let y = terms[b] else { return false }
            return grouper.similarity(x, y) >= eventThreshold
        }
    }
}
