import ArgumentParser
import Dedupe
import Foundation
import StateStore

/// Loads the near-duplicate indexes from a state file the way `fetch` does and times lookups and
/// inserts. `bench/dedupe.sh` builds a state with a million fingerprints and calls this.
struct BenchSimHashCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-simhash",
        abstract: "Time loading the near-duplicate index from a state file and lookup+insert per story.",
        shouldDisplay: false)

    @Option(help: "The state database to load.")
    var state: String

    @Option(help: "Lookups (each followed by an insert) to time.")
    var queries: Int = 20_000

    @Option(help: "Hamming distance.")
    var distance: Int = 3

    func run() throws {
        let baseline = Self.residentMegabytes()
        let started = ContinuousClock.now
        // The same steps as the pipeline's start-up (Ingestor.init).
        var wholeItems: [(id: Int64, fingerprint: UInt64)] = []
        var leadItems: [(id: Int64, fingerprint: UInt64)] = []
        do {
            let store = try StateStore(path: state)
            try store.forEachSimHash { id, simhash, leadHash in
                wholeItems.append((id, simhash))
                if let leadHash { leadItems.append((id, leadHash)) }
            }
        } catch {
            throw ValidationError("\(error)")
        }
        var whole = SimHashIndex.build(maxDistance: distance, wholeItems)
        var lead = SimHashIndex.build(maxDistance: distance, leadItems)
        let samples = wholeItems.prefix(1000).map(\.fingerprint)
        wholeItems = []
        leadItems = []
        let loadSeconds = Self.seconds(ContinuousClock.now - started)
        let memory = Self.residentMegabytes() - baseline
        var generator = SystemRandomNumberGenerator()
        var latencies: [Double] = []
        latencies.reserveCapacity(queries)
        var found = 0
        for query in 0..<queries {
            // Half are near copies of stored fingerprints (a few bits flipped), half are new.
            var fingerprint = UInt64.random(in: .min ... .max, using: &generator)
            if query % 2 == 0, let sample = samples.randomElement() {
                fingerprint = sample ^ (1 << UInt64.random(in: 0..<64)) ^ (1 << UInt64.random(in: 0..<64))
            }
            let leadFingerprint = UInt64.random(in: .min ... .max, using: &generator)
            let before = ContinuousClock.now
            let match = whole.nearest(fingerprint) ?? lead.nearest(leadFingerprint)
            if match == nil {
                whole.insert(fingerprint, id: Int64(whole.count + 1))
                lead.insert(leadFingerprint, id: Int64(whole.count))
            } else {
                found += 1
            }
            latencies.append(Self.seconds(ContinuousClock.now - before) * 1e6)
        }
        latencies.sort()
        let median = latencies[latencies.count / 2]
        let p99 = latencies[min(latencies.count - 1, latencies.count * 99 / 100)]
        print("fingerprints loaded: \(whole.count - (queries - found)) (whole text) + \(lead.count - (queries - found)) (lead)")
        print(String(format: "index load at start-up: %.2f s  (target < 2 s)", loadSeconds))
        print(String(format: "index memory: %.0f MB  (target < 200 MB)", memory))
        print(String(format: "lookup+insert per story: median %.1f µs, p99 %.1f µs  (target median < 20 µs); %d of %d queries matched",
                     median, p99, found, queries))
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
