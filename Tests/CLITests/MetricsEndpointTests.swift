import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import TestSupport
import Testing

/// The metrics listener of `feedcorpus run` and the textfile of a one-shot, through the binary.
@Suite(.offTheCooperativePool, .serialized) final class MetricsEndpointTests {
    let workspace: URL
    let server: TestHTTPServer
    var process: Process?

    init() throws {
        workspace = try TemporaryFolder.make(prefix: "metrics-cli")
        server = try TestHTTPServer()
    }

    deinit {
        if let process, process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        server.stop()
        try? FileManager.default.removeItem(at: workspace)
    }

    func writeConfig(metrics: String) throws -> String {
        let items = [FeedFixtures.Item(guid: "m1", title: "Metrics one", paragraphs: ["The first story for the metrics test, with its own words."]),
                     FeedFixtures.Item(guid: "m2", title: "Metrics two", paragraphs: ["A second story about something else entirely, zebra."])]
        try server.put("m.xml", FeedFixtures.rss(title: "M", items: items))
        let path = workspace.appendingPathComponent("feedcorpus.yaml").path
        try Data("""
            corpus: corpus
            state: state.sqlite
            fetch: {host_delay: 0}
            metrics: \(metrics)
            feeds:
              - {url: "\(server.url("files/m.xml"))", name: m, fulltext: never}

            """.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Lines of a child's standard error as they arrive, until one contains `marker` (nil at EOF).
    func readLines(_ handle: FileHandle, until marker: String) -> [String]? {
        var buffer = Data()
        var lines: [String] = []
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { return nil }
            buffer.append(chunk)
            while let newline = buffer.firstIndex(of: 0x0A) {
                let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...newline)
                lines.append(line)
                if line.contains(marker) { return lines }
            }
        }
    }

    func get(_ url: String) async throws -> (status: Int, body: String, contentType: String?) {
        let (data, response) = try await URLSession.shared.data(from: try #require(URL(string: url)))
        let http = try #require(response as? HTTPURLResponse)
        return (http.statusCode, String(decoding: data, as: UTF8.self), http.value(forHTTPHeaderField: "Content-Type"))
    }

    /// Starts `run` with `config` (whose metrics listen on port 0) and reads its log up to the
    /// listener's line: the process, its log, the lines read, and the /metrics URL.
    func startRun(_ config: String) throws -> (Process, Pipe, [String], String) {
        let process = Process()
        process.executableURL = CLITests.binary
        process.arguments = ["run", "--config", config, "--log-level", "info", "--log-format", "text"]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        self.process = process
        let startup = try #require(readLines(errors.fileHandleForReading, until: "metrics listening"))
        let line = try #require(startup.last)
        let address = try #require(line.range(of: #"http://127\.0\.0\.1:[0-9]+/metrics"#, options: .regularExpression))
        return (process, errors, startup, String(line[address]))
    }

    @Test func runServesMetricsAndHealthOnLoopback() async throws {
        let config = try writeConfig(metrics: "{listen: \"127.0.0.1:0\"}")
        let (process, errors, startup, metricsURL) = try startRun(config)
        if !startup.contains(where: { $0.contains("pass finished") }) {
            _ = try #require(readLines(errors.fileHandleForReading, until: "pass finished"))
        }

        let metrics = try await get(metricsURL)
        #expect(metrics.status == 200)
        #expect(metrics.contentType?.hasPrefix("text/plain; version=0.0.4") == true)
        #expect(metrics.body.contains("feedcorpus_stories_stored_total 2\n"))
        #expect(metrics.body.contains("feedcorpus_polls_total{result=\"ok\"} 1\n"))
        #expect(metrics.body.contains("# TYPE feedcorpus_fetch_duration_seconds histogram"))
        #expect(metrics.body.contains("feedcorpus_feeds{state=\"ok\"} 1"))
        #expect(metrics.body.contains("# HELP feedcorpus_stories_stored_total Stories written to the corpus.\n# TYPE feedcorpus_stories_stored_total counter"))
        #expect(metrics.body.contains("feedcorpus_build_info{version=\"0.1.0\",commit=\""))
        #expect(metrics.body.contains(",libcurl=\"") && metrics.body.contains(",sqlite=\""))
        for name in ["process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds", "process_max_fds", "process_start_time_seconds"] {
            #expect(metrics.body.contains("\n\(name) "), "\(name) missing")
        }
        #expect(!metrics.body.contains("result=\"skipped\""))

        let health = try await get(metricsURL.replacingOccurrences(of: "/metrics", with: "/healthz"))
        #expect(health.status == 200)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(health.body.utf8)) as? [String: Any])
        #expect(object["status"] as? String == "ok")
        #expect(object["passes"] as? Int == 1)
        #expect(object["stored_since_start"] as? Int == 2)

        let missing = try await get(metricsURL.replacingOccurrences(of: "/metrics", with: "/other"))
        #expect(missing.status == 404)

        // A malformed request gets its 400 and the connection is closed, not left open.
        let port = try #require(Int(metricsURL.split(separator: ":").last?.split(separator: "/").first ?? ""))
        let bad = try Self.connect(port: port)
        Self.send(bad, "NOT HTTP AT ALL\r\n\r\n")
        let answer = Self.readAll(bad, timeout: 30)
        #expect(answer.text.hasPrefix("HTTP/1.1 400"), "\(answer.text)")
        #expect(answer.closed, "the connection should be closed after the 400")
        close(bad)
        // Connections beyond the cap are closed at once; idle ones are closed after the timeout.
        let idle = try (0..<40).map { _ in try Self.connect(port: port) }
        let closedAtOnce = idle.filter { Self.readAll($0, timeout: 2).closed }.count
        #expect(closedAtOnce >= 8, "\(closedAtOnce) of 40 idle connections were refused")
        let survivors = idle.filter { Self.readAll($0, timeout: 0.2).closed == false }
        #expect(survivors.count <= 32)
        for connection in survivors { #expect(Self.readAll(connection, timeout: 30).closed, "an idle connection outlived the idle timeout") }
        idle.forEach { close($0) }
        #expect(try await get(metricsURL).status == 200)  // served again once the idle ones are gone

        process.terminate()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }

    static func connect(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { throw SupportError("cannot connect to 127.0.0.1:\(port)") }
        return fd
    }

    static func send(_ fd: Int32, _ text: String) {
        _ = text.withCString { Glibc.send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
    }

    /// What the peer sends until it closes the connection or `timeout` seconds pass in silence.
    static func readAll(_ fd: Int32, timeout: Double) -> (text: String, closed: Bool) {
        var limit = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count > 0 { data += buffer.prefix(count); continue }
            let closed = count == 0 || errno == ECONNRESET
            return (String(decoding: data, as: UTF8.self), closed)
        }
    }

    @Test func feedStatesAreRightBeforeTheFirstPassEnds() async throws {
        try server.put("m.xml", FeedFixtures.rss(title: "M", items: [FeedFixtures.Item(guid: "s1", title: "Slow", paragraphs: ["Slow words."])]))
        let path = workspace.appendingPathComponent("slow.yaml").path
        try Data("corpus: corpus\nstate: state.sqlite\nfetch: {host_delay: 0}\nmetrics: {listen: \"127.0.0.1:0\"}\nfeeds:\n"
            .appending("  - {url: \"\(server.url("slow/30/m.xml"))\", name: slow, fulltext: never}\n").utf8).write(to: URL(fileURLWithPath: path))
        let (process, errors, startup, metricsURL) = try startRun(path)
        if !startup.contains(where: { $0.contains("feedcorpus service started") }) {
            _ = try #require(readLines(errors.fileHandleForReading, until: "feedcorpus service started"))
        }
        // The first pass is still waiting on the slow feed: the gauge already says what the state says.
        let metrics = try await get(metricsURL)
        #expect(metrics.body.contains("feedcorpus_feeds{state=\"never_polled\"} 1"), "\(metrics.body)")
        #expect(!metrics.body.contains("feedcorpus_passes_total 1"))
        process.terminate()
        process.waitUntilExit()
    }

    @Test func anAddressInUseIsAClearErrorWithExit2() throws {
        // The test HTTP server already listens on its port.
        let config = try writeConfig(metrics: "{listen: \"127.0.0.1:\(server.port)\"}")
        let process = Process()
        process.executableURL = CLITests.binary
        process.arguments = ["run", "--config", config]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // A deadline, so a regression (a service that does not exit) fails instead of hanging the suite.
        DispatchQueue.global().asyncAfter(deadline: .now() + 60) { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 2)
        #expect(text.contains("cannot listen for metrics on 127.0.0.1:\(server.port)"))
        #expect(text.contains("metrics.listen"))
    }

    @Test func oneShotWritesTheTextfileAtomically() throws {
        let config = try writeConfig(metrics: "{textfile: metrics/feedcorpus.prom}")
        try FileManager.default.createDirectory(at: workspace.appendingPathComponent("metrics"), withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = CLITests.binary
        process.arguments = ["fetch", "--once", "--config", config]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let text = try String(contentsOf: workspace.appendingPathComponent("metrics/feedcorpus.prom"), encoding: .utf8)
        #expect(text.contains("feedcorpus_stories_stored_total 2\n"))
        #expect(text.contains("feedcorpus_passes_total 1\n"))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: workspace.appendingPathComponent("metrics").path)
        #expect(leftovers == ["feedcorpus.prom"])
        // Every later write replaces it too (the file once vanished on every other write).
        for pass in 2...4 {
            let again = try CLITests.run(CLITests.binary, ["fetch", "--once", "--all", "--config", config])
            #expect(again.status == 0)
            #expect(!again.stderr.contains("cannot write"), "\(again.stderr)")
            let text = try String(contentsOf: workspace.appendingPathComponent("metrics/feedcorpus.prom"), encoding: .utf8)
            #expect(text.contains("feedcorpus_passes_total 1\n"), "pass \(pass)")  // one pass per process
            #expect(try FileManager.default.contentsOfDirectory(atPath: workspace.appendingPathComponent("metrics").path) == ["feedcorpus.prom"])
        }
    }

    @Test func aMissingTextfileFolderSaysWhichFolderToCreate() throws {
        let config = try writeConfig(metrics: "{textfile: missing/feedcorpus.prom}")
        let run = try CLITests.run(CLITests.binary, ["fetch", "--once", "--config", config])
        #expect(run.status == 0)  // the corpus work is done; only the metrics file is not
        #expect(run.stderr.contains("the folder \(workspace.appendingPathComponent("missing").path) does not exist; create it"), "\(run.stderr)")
    }
}
