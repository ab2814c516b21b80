import ArgumentParser
import CBenchHeap
import DocumentInput
import FeedModel
import FeedParser
import Foundation

/// `feedcorpus-bench parse FILE`: parses one feed the way `feedcorpus parse` does and prints
/// counts, in-process parse throughput and the size of the parsed model instead of the JSON.
/// `bench/parse.sh` calls it.
struct ParseBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parse",
        abstract: "Parse one feed file and print counts, parse throughput and the parsed model's size.")

    @Argument(help: "A feed file path or an http(s):// URL.")
    var source: String

    @Option(help: "The HTTP Content-Type to assume for a file (its charset takes part in decoding).")
    var contentType: String?

    func run() async throws {
        let document: DocumentSource
        do {
            document = try await DocumentSource.load(source, mapFile: true)
        } catch {
            FileHandle.standardError.write(Data("feedcorpus-bench: \(error.message)\n".utf8))
            throw ExitCode(1)
        }
        let contentType = self.contentType ?? document.contentType
        do {
            HeapReservation.prepare(forDocumentOf: document.count)
            let started = ContinuousClock.now
            let feed = try document.withBytes { bytes throws(FeedParseError) in
                try FeedParser.parse(buffer: bytes, url: document.url, contentType: contentType, consumed: document.release)
            }
            let elapsed = ContinuousClock.now - started
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let megabytes = Double(document.count) / 1_000_000
            print("format=\(feed.format.rawValue) entries=\(feed.entries.count) bozo=\(feed.bozo) bytes=\(document.count) "
                + String(format: "parse_seconds=%.4f mb_per_second=%.1f model_mb=%.1f", seconds, megabytes / max(seconds, 1e-9),
                         Double(Self.modelBytes(feed)) / 1_000_000))
            ProcessExit.withoutTeardown()
        } catch {
            FileHandle.standardError.write(Data("feedcorpus-bench: \(source): \(error.description)\n".utf8))
            throw ExitCode(1)
        }
    }
}

extension ParseBench {
    /// About how much memory the parsed model holds: its entry records plus the heap storage of
    /// its strings and arrays (what the benchmark's memory target calls "the parsed model").
    static func modelBytes(_ feed: ParsedFeed) -> Int {
        // Strings of up to 15 UTF-8 bytes live inside the String value; longer ones have a
        // heap object with a 32-byte header.
        func heap(_ string: String?) -> Int {
            guard let count = string?.utf8.count, count > 15 else { return 0 }
            return 32 + count
        }
        var total = MemoryLayout<ParsedFeed>.stride + feed.entries.capacity * MemoryLayout<FeedEntry>.stride
        for entry in feed.entries {
            total += heap(entry.id) + heap(entry.title) + heap(entry.link) + heap(entry.author)
                + heap(entry.summary) + heap(entry.content)
            total += 32 + entry.links.capacity * MemoryLayout<FeedLink>.stride
                + entry.links.reduce(0) { $0 + heap($1.href) + heap($1.rel) + heap($1.type) }
            total += 32 + entry.categories.capacity * MemoryLayout<String>.stride + entry.categories.reduce(0) { $0 + heap($1) }
            total += entry.enclosures.reduce(0) { $0 + MemoryLayout<FeedEnclosure>.stride + heap($1.url) + heap($1.type) }
        }
        return total
    }
}


/// Readies this thread's malloc heap for the model of one large document.
///
/// The parsed model is about as large as the document, built from many small allocations. A
/// worker thread's glibc heap grows one `mprotect` call per page it runs past and faults its
/// memory in one 4 KiB page at a time: for a 60 MB feed that is some 15,000 system calls and
/// 20,000 faults. Allocating one large block and freeing it again extends the heap in one step
/// (the protection stays when glibc trims the block's pages), and asking for transparent huge
/// pages on that range lets the kernel back it 2 MiB at a time. Only the parse benchmark does
/// this, for one document, after its last suspension point (the heap belongs to the thread).
enum HeapReservation {
    /// Documents smaller than this parse fast enough as they are.
    static let minimumDocument = 8 << 20

    static func prepare(forDocumentOf size: Int) {
        guard size >= minimumDocument else { return }
        _ = fc_reserve_heap(size)
    }
}
