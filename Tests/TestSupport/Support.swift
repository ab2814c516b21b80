import Foundation

/// A real HTTP server on 127.0.0.1 (Tests/TestSupport/http_server.py) serving files from a
/// temporary folder. It exits when the test process closes its standard input.
public final class TestHTTPServer: @unchecked Sendable {
    public let port: Int
    /// The loopback address it listens on (127.0.0.1 unless another was asked for).
    public let host: String
    /// With TLS: the self-signed certificate (PEM) a client must trust.
    public let certificate: String?
    /// Files placed here are served under `/files/NAME`.
    public let root: URL
    private let process: Process
    private let input: Pipe

    /// `host` may be any 127.x.y.z address: two servers on two loopback addresses stand in for
    /// two machines.
    /// With `tls` it serves https with a fresh self-signed certificate for `host`
    /// (made with the openssl command).
    public init(host: String = "127.0.0.1", tls: Bool = false) throws {
        self.host = host
        root = try TemporaryFolder.make(prefix: "http-root")
        var tlsArguments: [String] = []
        if tls {
            let certificate = root.appendingPathComponent("cert.pem").path
            let key = root.appendingPathComponent("key.pem").path
            let openssl = Process()
            openssl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            openssl.arguments = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=\(host)",
                                 "-addext", "subjectAltName=IP:\(host)", "-keyout", key, "-out", certificate]
            openssl.standardOutput = FileHandle.nullDevice
            openssl.standardError = FileHandle.nullDevice
            try openssl.run()
            openssl.waitUntilExit()
            guard openssl.terminationStatus == 0 else { throw SupportError("openssl could not make a test certificate (is the openssl package installed?)") }
            tlsArguments = [certificate, key]
            self.certificate = certificate
        } else {
            certificate = nil
        }
        guard let script = Bundle.module.url(forResource: "http_server", withExtension: "py") else {
            throw SupportError("http_server.py is missing from the test bundle")
        }
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, root.path, host] + tlsArguments
        input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        var line = Data()
        while !line.contains(0x0A) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { throw SupportError("the test HTTP server exited before reporting its port (is python3 installed?)") }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.hasPrefix("PORT "), let port = Int(text.dropFirst(5)) else {
            throw SupportError("unexpected first line from the test HTTP server: \(text)")
        }
        self.port = port
    }

    deinit { stop() }

    /// Stops the server and deletes the folder it served (the test is done with it).
    public func stop() {
        if process.isRunning {
            try? input.fileHandleForWriting.close()
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: root)
    }

    /// `http://HOST:PORT/path`.
    public func url(_ path: String) -> String {
        "\(certificate == nil ? "http" : "https")://\(host):\(port)/\(path.hasPrefix("/") ? String(path.dropFirst()) : path)"
    }

    /// The paths requested so far, in order (from ROOT/requests.log).
    public func requestedPaths() -> [String] {
        requests().map(\.path)
    }

    /// The requests so far with the server's monotonic clock reading when each arrived.
    public func requests() -> [(path: String, time: Double)] {
        let text = (try? String(contentsOf: root.appendingPathComponent("requests.log"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ")
            guard parts.count == 2, let time = Double(parts[1]) else { return nil }
            return (String(parts[0]), time)
        }
    }

    /// Writes (or replaces) a served file.
    public func put(_ name: String, _ contents: String) throws {
        try Data(contents.utf8).write(to: root.appendingPathComponent(name), options: .atomic)
    }
}

/// A fresh folder under the system's temporary directory.
public enum TemporaryFolder {
    public static func make(prefix: String = "feedcorpus-test") throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(prefix)-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

public struct SupportError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Small RSS documents for tests.
public enum FeedFixtures {
    public struct Item {
        public var guid: String
        public var title: String
        public var paragraphs: [String]
        public var link: String
        public init(guid: String, title: String, paragraphs: [String], link: String? = nil) {
            self.guid = guid
            self.title = title
            self.paragraphs = paragraphs
            self.link = link ?? "https://news.example/\(guid)"
        }
    }

    public static func rss(title: String, items: [Item]) -> String {
        func escape(_ text: String) -> String {
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;")
        }
        let body = items.map { item in
            let html = item.paragraphs.map { "<p>\(escape($0))</p>" }.joined()
            return """
                <item><title>\(escape(item.title))</title><link>\(escape(item.link))</link>
                <guid isPermaLink="false">\(escape(item.guid))</guid>
                <pubDate>Mon, 04 Nov 2024 12:00:00 GMT</pubDate>
                <description>\(escape(html))</description></item>
                """
        }.joined(separator: "\n")
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <rss version="2.0"><channel><title>\(escape(title))</title><link>https://news.example/</link>
            <description>test</description>
            \(body)
            </channel></rss>
            """
    }
}

/// gzip's own output for `data` (tests do not compress with the code they test).
public enum GzipTool {
    public static func compress(_ data: Data) throws -> Data {
        let input = FileManager.default.temporaryDirectory.appendingPathComponent("gzip-input-\(UUID().uuidString)")
        try data.write(to: input)
        defer { try? FileManager.default.removeItem(at: input) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "gzip -c < '\(input.path)'"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw SupportError("gzip exited with \(process.terminationStatus)") }
        return output
    }
}
