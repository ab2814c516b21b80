import ArgumentParser
import DocumentInput
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
            let feed = try document.withBytes { bytes throws(FeedParseError) in
                try FeedParser.parse(buffer: bytes, url: documentURL, contentType: contentType, consumed: document.release)
            }
            guard JSONOutput.writeToStandardOutput(FeedJSON.render(feed)) else { throw ExitCode(1) }
            ProcessExit.withoutTeardown()
        } catch let error as FeedParseError {
            // Still the contract on standard output (format unknown, bozo and why), so a caller
            // reading JSON always gets JSON; the exit status says the document is no feed.
            FileHandle.standardError.write(Data("feedcorpus: \(source): \(error.description)\n".utf8))
            let unknown = ParsedFeed(format: .unknown, bozo: true, bozoReason: error.description)
            _ = JSONOutput.writeToStandardOutput(FeedJSON.render(unknown))
            throw ExitCode(1)
        }
    }
}

