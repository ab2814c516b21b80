import ArgumentParser
import Dedupe
import FeedModel
import Foundation
import StateStore

/// Loads the near-duplicate indexes from a state file the way `fetch` does and times the lookup
/// and verification of one story. `bench/dedupe.sh` builds a state with a million stored
/// fingerprints and calls this.
struct SimHashBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simhash",
        abstract: "Time loading the near-duplicate indexes from a state file and lookup+verification per story.")

    @Option(help: "The state database to load.")
    var state: String

    @Option(help: "Lookups to time.")
    var queries: Int = 20_000

    @Option(help: "SimHash Hamming distance for candidates.")
    var distance: Int = 3

    func run() throws {
        let baseline = Self.residentMegabytes()
        let started = ContinuousClock.now
        // The same steps as the pipeline's start-up (Ingestor.init).
        var stored: [Deduplicator.StoredFingerprint] = []
        do {
            let store = try StateStore(path: state)
            try store.forEachFingerprint { row in
                guard let whole = row.minhash.flatMap({ MinHashSignature(bytes: $0) }),
                      let lead = row.leadMinhash.flatMap({ MinHashSignature(bytes: $0) }) else { return }
                stored.append(.init(id: row.id, simhash: row.simhash, signature: whole, leadSignature: lead))
            }
        } catch {
            throw ValidationError("\(error)")
        }
        let samples = Array(stored.prefix(1000))
        let deduplicator = Deduplicator(rule: NearDuplicateRule(simhashDistance: distance), stored: stored, events: EventGrouper())
        let count = stored.count
        stored = []
        let loadSeconds = Self.seconds(ContinuousClock.now - started)
        let memory = Self.residentMegabytes() - baseline
        var generator = SystemRandomNumberGenerator()
        var latencies: [Double] = []
        latencies.reserveCapacity(queries)
        var found = 0
        var expected = 0
        for query in 0..<queries {
            // Half are edited copies of stored stories (a few signature slots and SimHash bits
            // changed, as a light edit does), half are new texts.
            var fingerprint = Self.randomFingerprint(using: &generator)
            if query % 2 == 0, let sample = samples.randomElement(using: &generator) {
                expected += 1
                var whole = sample.signature
                for _ in 0..<3 { whole.slots[Int.random(in: 0..<whole.slots.count, using: &generator)] = UInt16.random(in: 0...UInt16.max, using: &generator) }
                fingerprint = TextFingerprint(sha256: "", simhash: sample.simhash ^ (1 << UInt64.random(in: 0..<64, using: &generator)),
                                              signature: whole, leadSignature: sample.leadSignature)
            }
            let before = ContinuousClock.now
            if deduplicator.nearDuplicate(of: fingerprint) != nil { found += 1 }
            latencies.append(Self.seconds(ContinuousClock.now - before) * 1e6)
        }
        latencies.sort()
        let median = latencies[latencies.count / 2]
        let p99 = latencies[min(latencies.count - 1, latencies.count * 99 / 100)]
        print("stored stories loaded: \(count)")
        print(String(format: "index load at start-up: %.2f s", loadSeconds))
        print(String(format: "index memory: %.0f MB resident (%.0f MB in indexes and signatures)", memory, Double(deduplicator.memoryBytes) / 1_048_576))
        print(String(format: "lookup+verification per story (candidates and their signature estimates; a positive is then confirmed against one stored file): median %.1f µs, p99 %.1f µs  (target median < 20 µs)", median, p99))
        print("queries that are edited copies: \(expected); verified near duplicates found: \(found)")
    }

    static func randomFingerprint(using generator: inout some RandomNumberGenerator) -> TextFingerprint {
        let whole = MinHashSignature(slots: (0..<MinHashSignature.wholeSlots).map { _ in UInt16.random(in: 0...UInt16.max, using: &generator) },
                                     shingleCount: Int.random(in: 200...900, using: &generator))
        let lead = MinHashSignature(slots: (0..<MinHashSignature.leadSlots).map { _ in UInt16.random(in: 0...UInt16.max, using: &generator) },
                                    shingleCount: 46)
        return TextFingerprint(sha256: "", simhash: UInt64.random(in: .min ... .max, using: &generator), signature: whole, leadSignature: lead)
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// Resident set size from /proc/self/status, MB.
    static func residentMegabytes() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
        return kilobytes / 1024
    }
}
