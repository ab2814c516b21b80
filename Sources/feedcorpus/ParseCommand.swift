import ArgumentParser
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

    @Flag(help: "Print counts and parse throughput instead of the JSON (for benchmarks).")
    var stats = false

    func run() async throws {
        let document: DocumentSource
        do {
            document = try await DocumentSource.load(source)
        } catch {
            FileHandle.standardError.write(Data("feedcorpus: \(error.message)\n".utf8))
            throw ExitCode(1)
        }
        let bytes = document.bytes
        var documentURL = document.url
        let contentType = self.contentType ?? document.contentType
        if let baseURL { documentURL = baseURL }
        do {
            let started = ContinuousClock.now
            let feed = try FeedParser.parse(bytes, url: documentURL, contentType: contentType)
            let elapsed = ContinuousClock.now - started
            if stats {
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                let megabytes = Double(bytes.count) / 1_000_000
                print("format=\(feed.format.rawValue) entries=\(feed.entries.count) bozo=\(feed.bozo) bytes=\(bytes.count) "
                    + String(format: "parse_seconds=%.4f mb_per_second=%.1f", seconds, megabytes / max(seconds, 1e-9)))
                return
            }
            print(try FeedJSON.render(feed))
        } catch let error as FeedParseError {
            FileHandle.standardError.write(Data("feedcorpus: \(source): \(error.description)\n".utf8))
            throw ExitCode(1)
        }
    }
}

/// A document named on the command line: a file, or an http(s) URL fetched once.
struct DocumentSource: Sendable {
    struct LoadError: Error, Sendable {
        let message: String
    }

    var bytes: [UInt8]
    /// The file's URL, or the final URL after redirects.
    var url: String
    /// The HTTP Content-Type, for a URL.
    var contentType: String?

    static func load(_ source: String) async throws(LoadError) -> DocumentSource {
        if source.hasPrefix("http://") || source.hasPrefix("https://") {
            let client = HTTPClient(settings: HTTPClientSettings(userAgent: FetchSettings.defaultUserAgent))
            defer { client.shutdown() }
            do {
                let response = try await client.fetch(FetchRequest(url: source))
                guard response.isSuccess else {
                    throw LoadError(message: "HTTP \(response.status) from \(response.effectiveURL)")
                }
                return DocumentSource(bytes: response.body, url: response.effectiveURL, contentType: response.headers["content-type"])
            } catch let error as FetchError {
                throw LoadError(message: error.description)
            } catch let error as LoadError {
                throw error
            } catch {
                throw LoadError(message: "\(source): \(error)")
            }
        }
        guard let bytes = ParseCommand.readFile(source) else {
            throw LoadError(message: "cannot read \(source): no such file or not readable")
        }
        return DocumentSource(bytes: bytes, url: URL(fileURLWithPath: source).absoluteString, contentType: nil)
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

/// The fixed JSON contract of `feedcorpus parse`.
enum FeedJSON {
    static func render(_ feed: ParsedFeed) throws -> String {
        func value(_ string: String?) -> Any { string ?? NSNull() }
        func date(_ date: Date?) -> Any { date.map(ISO8601.string) ?? NSNull() }
        let object: [String: Any] = [
            "format": feed.format.rawValue,
            "bozo": feed.bozo,
            "bozo_reason": value(feed.bozoReason),
            "feed": [
                "title": value(feed.title), "link": value(feed.link), "subtitle": value(feed.subtitle),
                "language": value(feed.language), "updated": date(feed.updated), "author": value(feed.author),
                "id": value(feed.id), "generator": value(feed.generator), "image": value(feed.image),
            ] as [String: Any],
            "entries": feed.entries.map { entry -> [String: Any] in
                [
                    "id": value(entry.id), "title": value(entry.title), "link": value(entry.link),
                    "published": date(entry.published), "updated": date(entry.updated), "author": value(entry.author),
                    "summary": value(entry.summary), "content": value(entry.content),
                    "links": entry.links.map { ["href": $0.href, "rel": value($0.rel), "type": value($0.type)] as [String: Any] },
                    "categories": entry.categories,
                    "enclosures": entry.enclosures.map { ["url": $0.url, "type": value($0.type), "length": value($0.length)] as [String: Any] },
                ]
            },
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }
}
