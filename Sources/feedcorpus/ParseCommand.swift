import ArgumentParser
import CHeapReservation
import FeedConfig
import FeedModel
import FeedParser
import Fetcher
import Foundation

struct ParseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parse",
        abstract: "Parse one feed (a file or a URL) and print it as JSON.")

    @Argument(help: "A feed file path or an http(s):// URL.")
    var source: String

    @Option(help: "Base URL for relative links (default: the file's URL or the final URL fetched).")
    var baseURL: String?

    @Option(help: "The HTTP Content-Type to assume for a file (its charset takes part in decoding).")
    var contentType: String?

    @Option(help: "The HTTP Content-Location to assume (the base for relative links, resolved against the document's URL).")
    var contentLocation: String?

    @Flag(help: "Print counts and parse throughput instead of the JSON (for benchmarks).")
    var stats = false

    func run() async throws {
        let document: DocumentSource
        do {
            // A file is mapped, not read: a large feed then costs no copy and no second buffer.
            document = try await DocumentSource.load(source, mapFile: true)
        } catch {
            FileHandle.standardError.write(Data("feedcorpus: \(error.message)\n".utf8))
            throw ExitCode(1)
        }
        var documentURL = document.url
        let contentType = self.contentType ?? document.contentType
        if let baseURL { documentURL = baseURL }
        if let contentLocation {
            // As a server's Content-Location would: the base for relative links (RFC 9110 8.7).
            documentURL = FetchResponse(status: 200, effectiveURL: documentURL ?? "", headers: ["content-location": contentLocation], body: []).baseURL
        }
        do {
            HeapReservation.prepare(forDocumentOf: document.count)
            let started = ContinuousClock.now
            let feed = try document.withBytes { bytes throws(FeedParseError) in
                try FeedParser.parse(buffer: bytes, url: documentURL, contentType: contentType, consumed: document.release)
            }
            let elapsed = ContinuousClock.now - started
            if stats {
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                let megabytes = Double(document.count) / 1_000_000
                print("format=\(feed.format.rawValue) entries=\(feed.entries.count) bozo=\(feed.bozo) bytes=\(document.count) "
                    + String(format: "parse_seconds=%.4f mb_per_second=%.1f model_mb=%.1f", seconds, megabytes / max(seconds, 1e-9),
                             Double(Self.modelBytes(feed)) / 1_000_000))
                Self.exitWithoutTeardown()
            }
            guard JSONOutput.writeToStandardOutput(FeedJSON.render(feed)) else { throw ExitCode(1) }
            Self.exitWithoutTeardown()
        } catch let error as FeedParseError {
            // Still the contract on standard output (format unknown, bozo and why), so a caller
            // reading JSON always gets JSON; the exit status says the document is no feed.
            FileHandle.standardError.write(Data("feedcorpus: \(source): \(error.description)\n".utf8))
            if !stats {
                let unknown = ParsedFeed(format: .unknown, bozo: true, bozoReason: error.description)
                _ = JSONOutput.writeToStandardOutput(FeedJSON.render(unknown))
            }
            throw ExitCode(1)
        }
    }
}

extension ParseCommand {
    /// Ends the process once the output is written: freeing a large parsed model object by
    /// object (tens of thousands of entries) would only cost time the caller waits for.
    static func exitWithoutTeardown() -> Never {
        fflush(nil)  // every C stream, standard output included
        Foundation.exit(0)
    }

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

/// A document named on the command line: a file, or an http(s) URL fetched once.
struct DocumentSource: Sendable {
    struct LoadError: Error, Sendable {
        let message: String
    }

    private enum Storage {
        case memory([UInt8])
        case mapped(MappedFile)
    }

    private let storage: Storage
    /// The file's URL, or the final URL after redirects.
    var url: String
    /// The HTTP Content-Type, for a URL.
    var contentType: String?

    private init(_ storage: Storage, url: String, contentType: String?) {
        self.storage = storage
        self.url = url
        self.contentType = contentType
    }

    /// The document's bytes as an array (a copy, for a mapped file).
    var bytes: [UInt8] {
        switch storage {
        case let .memory(bytes): return bytes
        case let .mapped(file): return Array(file.buffer)
        }
    }

    /// For a mapped file: lets the pages of the first `count` bytes go (a later read brings them
    /// back from the file), so a large document does not stay resident while its model is built.
    var release: ((Int) -> Void)? {
        guard case let .mapped(file) = storage else { return nil }
        var released = 0
        return { count in
            file.release(from: released, upTo: count)
            released = max(released, count)
        }
    }

    var count: Int {
        switch storage {
        case let .memory(bytes): return bytes.count
        case let .mapped(file): return file.buffer.count
        }
    }

    /// Calls `body` with the document's bytes, without copying them.
    func withBytes<Result, Failure: Error>(_ body: (UnsafeBufferPointer<UInt8>) throws(Failure) -> Result) throws(Failure) -> Result {
        switch storage {
        case let .memory(bytes):
            return try bytes.withUnsafeBufferPointer { buffer throws(Failure) in try body(buffer) }
        case let .mapped(file):
            return try withExtendedLifetime(file) { () throws(Failure) -> Result in try body(file.buffer) }
        }
    }

    /// - Parameter mapFile: map a file into memory instead of reading it (for one large document;
    ///   a file that cannot be mapped is read).
    static func load(_ source: String, mapFile: Bool = false) async throws(LoadError) -> DocumentSource {
        if source.hasPrefix("http://") || source.hasPrefix("https://") {
            let client = HTTPClient(settings: HTTPClientSettings(userAgent: FetchSettings.defaultUserAgent))
            defer { client.shutdown() }
            do {
                let response = try await client.fetch(FetchRequest(url: source))
                guard response.isSuccess else {
                    throw LoadError(message: "HTTP \(response.status) from \(response.effectiveURL)")
                }
                return DocumentSource(.memory(response.body), url: response.baseURL, contentType: response.headers["content-type"])
            } catch let error as FetchError {
                throw LoadError(message: error.description)
            } catch let error as LoadError {
                throw error
            } catch {
                throw LoadError(message: "\(source): \(error)")
            }
        }
        let fileURL = URL(fileURLWithPath: source).absoluteString
        if mapFile, let mapped = MappedFile(path: source) {
            return DocumentSource(.mapped(mapped), url: fileURL, contentType: nil)
        }
        guard let bytes = ParseCommand.readFile(source) else {
            throw LoadError(message: "cannot read \(source): no such file or not readable")
        }
        return DocumentSource(.memory(bytes), url: fileURL, contentType: nil)
    }
}

/// A regular file mapped read-only into memory for as long as the object lives.
///
/// The mapping is populated up front (one pass of page-table set-up instead of a fault per
/// page). Only for files nobody truncates while they are read: the command line's `parse`.
final class MappedFile: @unchecked Sendable {
    // @unchecked: the memory is read-only and unmapped only in deinit.
    let buffer: UnsafeBufferPointer<UInt8>

    /// nil when the file cannot be opened, is empty or is not a regular file, or mapping fails:
    /// the caller reads it instead (and reports the error then).
    init?(path: String) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG, status.st_size > 0 else { return nil }
        let size = Int(status.st_size)
        guard let address = mmap(nil, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, descriptor, 0),
              address != MAP_FAILED else { return nil }
        buffer = UnsafeBufferPointer(start: address.assumingMemoryBound(to: UInt8.self), count: size)
    }

    deinit {
        if let base = buffer.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), buffer.count) }
    }

    /// Drops the resident pages that lie wholly in bytes `start..<end`. The mapping is private
    /// and never written, so touching them again reads them back from the file.
    func release(from start: Int, upTo end: Int) {
        guard let base = buffer.baseAddress else { return }
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        let first = max(0, start) / pageSize * pageSize
        let last = min(end, buffer.count) / pageSize * pageSize
        if last > first { _ = madvise(UnsafeMutableRawPointer(mutating: base + first), last - first, MADV_DONTNEED) }
    }
}

extension ParseCommand {
    /// The whole file as bytes, read straight into one array (no intermediate Data copy).
    static func readFile(_ path: String) -> [UInt8]? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let size = try? handle.seekToEnd() else { return nil }
        try? handle.seek(toOffset: 0)
        let descriptor = handle.fileDescriptor
        var failed = false
        let bytes = [UInt8](unsafeUninitializedCapacity: Int(size)) { buffer, count in
            var total = 0
            while total < buffer.count {
                let result = read(descriptor, buffer.baseAddress! + total, buffer.count - total)
                if result <= 0 {
                    failed = result < 0
                    break
                }
                total += result
            }
            count = total
        }
        return failed ? nil : bytes
    }
}

/// Readies this thread's malloc heap for the model of one large document.
///
/// The parsed model is about as large as the document, built from many small allocations. A
/// worker thread's glibc heap grows one `mprotect` call per page it runs past and faults its
/// memory in one 4 KiB page at a time: for a 60 MB feed that is some 15,000 system calls and
/// 20,000 faults. Allocating one large block and freeing it again extends the heap in one step
/// (the protection stays when glibc trims the block's pages), and asking for transparent huge
/// pages on that range lets the kernel back it 2 MiB at a time. Only `feedcorpus parse` does
/// this, for one document, after its last suspension point (the heap belongs to the thread).
enum HeapReservation {
    /// Documents smaller than this parse fast enough as they are.
    static let minimumDocument = 8 << 20

    static func prepare(forDocumentOf size: Int) {
        guard size >= minimumDocument else { return }
        _ = fc_reserve_heap(size)
    }
}
