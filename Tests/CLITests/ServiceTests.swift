import Foundation
import TestSupport
import Testing

/// A datagram socket standing in for systemd's notify socket.
final class NotifySocket {
    let path: String
    private let fd: Int32

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("notify-\(UUID().uuidString.prefix(8)).sock").path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else { throw SupportError("cannot bind \(path)") }
        var timeout = timeval(tv_sec: 60, tv_usec: 0)  // a deadline, not a delay: receive returns as soon as a message arrives
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit {
        close(fd)
        unlink(path)
    }

    /// The next message, or nil after the deadline.
    func receive() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(fd, &buffer, buffer.count, 0)
        return count > 0 ? String(decoding: buffer.prefix(count), as: UTF8.self) : nil
    }

    /// Messages until one satisfies `condition` (all of them, that one last); nil at the deadline.
    func receive(until condition: (String) -> Bool) -> [String]? {
        var seen: [String] = []
        while let message = receive() {
            seen.append(message)
            if condition(message) { return seen }
        }
        return nil
    }
}

/// `feedcorpus run` as systemd runs it: notify protocol, signals, reload, lock.
@Suite(.offTheCooperativePool, .serialized) final class ServiceTests {
    let workspace: URL
    let server: TestHTTPServer
    var process: Process?

    init() throws {
        workspace = try TemporaryFolder.make(prefix: "service")
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

    func writeConfig(_ feeds: [String]) throws -> String {
        let path = workspace.appendingPathComponent("feedcorpus.yaml").path
        let lines = feeds.enumerated().map { "  - {url: \"\($0.element)\", name: f\($0.offset), fulltext: never}" }.joined(separator: "\n")
        try Data("""
            corpus: corpus
            state: state.sqlite
            fetch: {host_delay: 0, max_connections_per_host: 8}
            feeds:
            \(lines)

            """.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    func start(config: String, notify: NotifySocket, grace: Double = 10, environment extra: [String: String] = [:]) throws -> Process {
        let process = Process()
        process.executableURL = CLITests.binary
        process.arguments = ["run", "--config", config, "--grace", "\(grace)", "--log-level", "info"]
        var environment = ProcessInfo.processInfo.environment
        environment["NOTIFY_SOCKET"] = notify.path
        environment.merge(extra) { $1 }
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        return process
    }

    func storyFiles() -> [String] {
        let corpus = workspace.appendingPathComponent("corpus")
        let enumerator = FileManager.default.enumerator(atPath: corpus.path)
        return (enumerator?.allObjects as? [String] ?? []).filter { $0.hasSuffix(".txt") }
    }

    func item(_ id: String) -> FeedFixtures.Item {
        // Distinct words per story, so no two stories are near duplicates of each other.
        var generator = SystemRandomNumberGenerator()
        let words = (0..<30).map { _ in String((0..<6).map { _ in "abcdefghijklmnopqrstuvwxyz".randomElement(using: &generator)! }) }
        return FeedFixtures.Item(guid: id, title: "Story \(id)", paragraphs: ["Story \(id): " + words.joined(separator: " ") + "."])
    }

    /// Waits for a condition the test can observe, checking every 50 ms, up to a deadline.
    func waitUntil(seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() {
            if Date() > deadline { return false }
            usleep(50_000)
        }
        return true
    }

    @Test func notifiesReadyStatusWatchdogReloadAndStopping() throws {
        try server.put("a.xml", FeedFixtures.rss(title: "A", items: [item("a1")]))
        let notify = try NotifySocket()
        let config = try writeConfig([server.url("files/a.xml")])
        let process = try start(config: config, notify: notify, environment: ["WATCHDOG_USEC": "2000000", "WATCHDOG_PID": ""])
        let startup = try #require(notify.receive(until: { $0.contains("stored this pass") }))
        #expect(startup.first?.contains("READY=1") == true)
        #expect(startup.last?.contains("STATUS=1 ok, 0 failed, 1 stored this pass") == true)
        #expect(notify.receive(until: { $0 == "WATCHDOG=1" }) != nil)

        process.interrupt()  // SIGINT stops like SIGTERM
        kill(process.processIdentifier, SIGHUP)  // (a reload racing the stop must not matter)
        let stopping = try #require(notify.receive(until: { $0.contains("STOPPING=1") }))
        #expect(stopping.last == "STOPPING=1")
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }

    @Test func sighupAddsAFeedWhileRunningAndABadConfigIsRejected() throws {
        try server.put("a.xml", FeedFixtures.rss(title: "A", items: [item("a1")]))
        try server.put("b.xml", FeedFixtures.rss(title: "B", items: [item("b1")]))
        let notify = try NotifySocket()
        let config = try writeConfig([server.url("files/a.xml")])
        let process = try start(config: config, notify: notify)
        #expect(notify.receive(until: { $0.contains("stored this pass") }) != nil)
        #expect(storyFiles().count == 1)

        // A broken config is rejected; the service keeps running with the old one.
        try Data("feeds: [\n".utf8).write(to: URL(fileURLWithPath: config))
        kill(process.processIdentifier, SIGHUP)
        let rejected = try #require(notify.receive(until: { $0.hasPrefix("READY=1") }))
        #expect(rejected.contains { $0.hasPrefix("RELOADING=1") })
        #expect(rejected.last?.contains("reload failed") == true)
        #expect(process.isRunning)

        _ = try writeConfig([server.url("files/a.xml"), server.url("files/b.xml")])
        kill(process.processIdentifier, SIGHUP)
        #expect(notify.receive(until: { $0.contains("reloaded: 2 feeds") }) != nil)
        // The new feed was never polled, so it is due at once.
        let pass = try #require(notify.receive(until: { $0.contains("stored this pass") }))
        #expect(pass.last?.contains("1 stored this pass; 2 since start") == true)
        #expect(storyFiles().count == 2)
        process.terminate()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }

    @Test func pollSIGUSR1AndAReloadMakeTheRunningServicePollNow() throws {
        try server.put("a.xml", FeedFixtures.rss(title: "A", items: [item("a1")]))
        let notify = try NotifySocket()
        let config = try writeConfig([server.url("files/a.xml")])
        let process = try start(config: config, notify: notify)
        #expect(notify.receive(until: { $0.contains("1 since start") }) != nil)

        // `feedcorpus poll --feed`: the feed is not due for a long while, yet it is polled now.
        try server.put("a.xml", FeedFixtures.rss(title: "A", items: [item("a2"), item("a1")]))
        let poll = try CLITests.run(CLITests.binary, ["poll", "--feed", "f0", "--config", config])
        #expect(poll.status == 0)
        #expect(poll.stdout.contains("1 feed due now") && poll.stdout.contains("the running feedcorpus (pid \(process.processIdentifier)"), "\(poll.stdout)")
        #expect(notify.receive(until: { $0.contains("2 since start") }) != nil)

        // SIGUSR1: every feed now.
        try server.put("a.xml", FeedFixtures.rss(title: "A", items: [item("a3"), item("a2"), item("a1")]))
        kill(process.processIdentifier, SIGUSR1)
        #expect(notify.receive(until: { $0.contains("3 since start") }) != nil)

        // A reload that lowers max_interval brings the scheduled poll forward (within 10 s), not
        // only after the next poll at the old interval.
        try server.put("a.xml", FeedFixtures.rss(title: "A", items: [item("a4"), item("a3"), item("a2"), item("a1")]))
        try Data("""
            corpus: corpus
            state: state.sqlite
            fetch: {host_delay: 0}
            schedule: {min_interval: 10, max_interval: 10}
            feeds:
              - {url: "\(server.url("files/a.xml"))", name: f0, fulltext: never}

            """.utf8).write(to: URL(fileURLWithPath: config))
        kill(process.processIdentifier, SIGHUP)
        #expect(notify.receive(until: { $0.contains("4 since start") }) != nil)
        #expect(storyFiles().count == 4)
        process.terminate()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)

        // Without a service, poll says what will poll the feeds.
        let idle = try CLITests.run(CLITests.binary, ["poll", "--config", config])
        #expect(idle.stdout.contains("no feedcorpus is running: `feedcorpus fetch --once` polls them"), "\(idle.stdout)")
        #expect(try CLITests.run(CLITests.binary, ["poll", "--feed", "nope", "--config", config]).status == 2)
    }

    @Test func aFeedDisabledBy410CanBeEnabledAgain() throws {
        let config = try writeConfig([server.url("status/410")])
        #expect(try CLITests.run(CLITests.binary, ["fetch", "--once", "--config", config]).status == 1)
        #expect(try CLITests.run(CLITests.binary, ["status", "--config", config]).stdout.contains("DISABLED: HTTP 410"))
        let enable = try CLITests.run(CLITests.binary, ["enable", "f0", "--config", config])
        #expect(enable.status == 0)
        #expect(enable.stdout.contains("f0 is enabled again and due now (it was disabled: HTTP 410"), "\(enable.stdout)")
        let status = try CLITests.run(CLITests.binary, ["status", "--config", config]).stdout
        #expect(!status.contains("DISABLED") && status.contains("0 disabled"), "\(status)")
        // It is polled again (and, still gone, disabled again).
        let again = try CLITests.run(CLITests.binary, ["fetch", "--once", "--config", config])
        #expect(again.stdout.contains("FAILED     f0: disabled: HTTP 410"), "\(again.stdout)")
        // A feed re-added under a new URL starts fresh.
        try server.put("new.xml", FeedFixtures.rss(title: "N", items: [item("n1")]))
        let moved = try writeConfig([server.url("files/new.xml")])
        let fresh = try CLITests.run(CLITests.binary, ["fetch", "--once", "--config", moved])
        #expect(fresh.status == 0 && fresh.stdout.contains("ok         f0: 1 entries"), "\(fresh.stdout)")
    }

    @Test func sigtermDuringALargeFetchLeavesNoPartialFileAndExitsZero() throws {
        var feeds: [String] = []
        for index in 0..<24 {
            try server.put("feed\(index).xml", FeedFixtures.rss(title: "F\(index)", items: (0..<5).map { item("f\(index)-\($0)") }))
            // Half answer at once, half trickle for 20 s: the stop comes while those are in flight.
            feeds.append(index % 2 == 0 ? server.url("files/feed\(index).xml") : server.url("slow/20/feed\(index).xml"))
        }
        let notify = try NotifySocket()
        let process = try start(config: try writeConfig(feeds), notify: notify, grace: 1)
        #expect(notify.receive(until: { $0.contains("READY=1") }) != nil)
        // Stop once slow transfers are in flight (the server has seen them).
        #expect(waitUntil(seconds: 30) { server.requestedPaths().filter { $0.hasPrefix("/slow/") }.count >= 4 })
        let stoppedAt = Date()
        process.terminate()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(Date().timeIntervalSince(stoppedAt) < 15)  // the 20 s transfers were abandoned after the 1 s grace

        let corpus = workspace.appendingPathComponent("corpus")
        let all = (FileManager.default.enumerator(atPath: corpus.path)?.allObjects as? [String]) ?? []
        #expect(all.allSatisfy { !($0 as NSString).lastPathComponent.hasPrefix(".tmp-") })
        // Every story file is whole and listed exactly once in its manifest.
        var listed: [String] = []
        for manifest in all.filter({ $0.hasSuffix("manifest.jsonl") }) {
            let text = try String(contentsOf: corpus.appendingPathComponent(manifest), encoding: .utf8)
            for line in text.split(separator: "\n") {
                let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                listed.append(try #require(object["file"] as? String))
            }
        }
        #expect(listed.sorted() == storyFiles().sorted())
        #expect(Set(listed).count == listed.count)
        #expect(storyFiles().count % 5 == 0)  // a feed's stories are stored together or not at all
        #expect(storyFiles().count < 24 * 5)  // and the slow ones were not
        for file in storyFiles() {
            let text = try String(contentsOf: corpus.appendingPathComponent(file), encoding: .utf8)
            #expect(text.hasSuffix("\n") && text.split(separator: "\n").count == 2)
        }
    }

    @Test func theServiceHoldsTheLockSoAOneShotExits75() throws {
        try server.put("a.xml", FeedFixtures.rss(title: "A", items: [item("a1")]))
        let notify = try NotifySocket()
        let config = try writeConfig([server.url("files/a.xml")])
        let process = try start(config: config, notify: notify)
        #expect(notify.receive(until: { $0.contains("READY=1") }) != nil)
        #expect(notify.receive(until: { $0.contains("stored this pass") }) != nil)
        // status reads the state without the lock, while the service holds it.
        let status = Process()
        status.executableURL = CLITests.binary
        status.arguments = ["status", "--config", config]
        let statusOutput = Pipe()
        status.standardOutput = statusOutput
        try status.run()
        let statusText = String(decoding: statusOutput.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        status.waitUntilExit()
        #expect(status.terminationStatus == 0)
        #expect(statusText.contains("total: 1 feeds, 1 stories stored"))

        let oneShot = Process()
        oneShot.executableURL = CLITests.binary
        oneShot.arguments = ["fetch", "--once", "--config", config]
        let errors = Pipe()
        oneShot.standardError = errors
        oneShot.standardOutput = FileHandle.nullDevice
        try oneShot.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        oneShot.waitUntilExit()
        #expect(oneShot.terminationStatus == 75)
        #expect(message.contains("locked by another feedcorpus (pid \(process.processIdentifier)"))
        process.terminate()
        process.waitUntilExit()
    }

    /// The access scheme the units and install.sh set up, with the real binary: a setgid corpus
    /// folder of the readers' group and the units' UMask=0027 give every day folder and story
    /// file that group, readable and not writable by it; the state stays the service's.
    @Test(.enabled(if: getuid() == 0, "needs root to give the corpus folder another group"))
    func theCorpusIsReadableByItsGroupAndTheStateIsNot() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        try server.put("g.xml", FeedFixtures.rss(title: "G", items: [DurabilityTests.item("g1")]))
        let corpus = workspace.appendingPathComponent("group-corpus")
        try FileManager.default.createDirectory(at: corpus, withIntermediateDirectories: true)
        let readers: gid_t = 4  // adm: any group other than root's stands in for feedcorpus-readers
        #expect(chown(corpus.path, 0, readers) == 0)
        #expect(chmod(corpus.path, 0o2750) == 0)
        let config = workspace.appendingPathComponent("group.yaml").path
        try Data("""
            corpus: group-corpus
            state: group-state/feedcorpus.sqlite
            fetch: {host_delay: 0}
            feeds:
              - {url: "\(server.url("files/g.xml"))", name: g, fulltext: never}

            """.utf8).write(to: URL(fileURLWithPath: config))
        let run = try CLITests.run(URL(fileURLWithPath: "/bin/sh"), ["-c", "umask 0027 && exec \"$0\" fetch --once --config \"$1\"", CLITests.binary.path, config])
        #expect(run.status == 0, "\(run.stderr)")
        let day = try #require(try FileManager.default.contentsOfDirectory(atPath: corpus.path).first { $0.hasPrefix("20") })
        let story = try #require(try FileManager.default.contentsOfDirectory(atPath: corpus.appendingPathComponent(day).path).first { $0.hasSuffix(".txt") })
        func mode(_ path: String) -> (mode: mode_t, group: gid_t) {
            var info = stat()
            stat(path, &info)
            return (info.st_mode & 0o7777, info.st_gid)
        }
        let dayInfo = mode(corpus.appendingPathComponent(day).path)
        #expect(dayInfo.group == readers && dayInfo.mode == 0o2750, "day folder \(String(dayInfo.mode, radix: 8))")
        for file in [day + "/" + story, day + "/manifest.jsonl"] {
            let info = mode(corpus.appendingPathComponent(file).path)
            #expect(info.group == readers && info.mode == 0o640, "\(file) \(String(info.mode, radix: 8)) group \(info.group)")
        }
        let state = mode(workspace.appendingPathComponent("group-state/feedcorpus.sqlite").path)
        #expect(state.group != readers && state.mode & 0o007 == 0)
    }

    @Test func installStagesIntoDESTDIRWithoutBuildingOrTouchingTheSystem() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let stage = workspace.appendingPathComponent("pkg")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [root.appendingPathComponent("deploy/install.sh").path, "--no-build"]
        var environment = ProcessInfo.processInfo.environment
        environment["DESTDIR"] = stage.path
        environment["BIN"] = CLITests.binary.path
        environment["NO_MANUAL"] = "1"
        environment["PREFIX"] = "/usr"
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(text)")
        for file in ["usr/bin/feedcorpus", "etc/feedcorpus/feedcorpus.yaml", "etc/systemd/system/feedcorpus.service",
                     "etc/systemd/system/feedcorpus-fetch.timer", "usr/share/bash-completion/completions/feedcorpus",
                     "usr/share/zsh/vendor-completions/_feedcorpus", "usr/share/fish/vendor_completions.d/feedcorpus.fish"] {
            #expect(FileManager.default.fileExists(atPath: stage.appendingPathComponent(file).path), "\(file) missing")
        }
        let unit = try String(contentsOf: stage.appendingPathComponent("etc/systemd/system/feedcorpus.service"), encoding: .utf8)
        #expect(unit.contains("ExecStart=/usr/bin/feedcorpus run"))
        let completion = try String(contentsOf: stage.appendingPathComponent("usr/share/bash-completion/completions/feedcorpus"), encoding: .utf8)
        #expect(completion.contains("poll") && completion.contains("enable"))
        #expect(text.contains("staged into"))
    }

    @Test func aConfigWithoutFeedsIsSaidLoudly() throws {
        let config = workspace.appendingPathComponent("empty.yaml").path
        try Data("corpus: corpus\nstate: state.sqlite\nfeeds: []\n".utf8).write(to: URL(fileURLWithPath: config))
        let fetch = try CLITests.run(CLITests.binary, ["fetch", "--once", "--config", config])
        #expect(fetch.stderr.contains("lists no feeds: nothing to poll"))
        let notify = try NotifySocket()
        let process = try start(config: config, notify: notify)
        let startup = try #require(notify.receive(until: { $0.hasPrefix("READY=1") }))
        #expect(startup.last?.contains("NO FEEDS") == true, "\(startup)")
        process.terminate()
        process.waitUntilExit()
    }

    @Test func theDeployUnitsPassSystemdAnalyzeVerify() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let analyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first { FileManager.default.isExecutableFile(atPath: $0) }
        let tool = try #require(analyze, "systemd-analyze is missing: apt-get install systemd (make test does it as root)")
        // As deploy/install.sh does for another PREFIX: the units name the binary by its path.
        var units: [String] = []
        for name in ["feedcorpus.service", "feedcorpus-fetch.service", "feedcorpus-fetch.timer", "feedcorpus-materialize.service", "feedcorpus-worker.service"] {
            let text = try String(contentsOf: root.appendingPathComponent("deploy/\(name)"), encoding: .utf8)
                .replacingOccurrences(of: "/usr/local/bin/feedcorpus", with: CLITests.binary.path)
            let path = workspace.appendingPathComponent(name).path
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            units.append(path)
        }
        let verify = Process()
        verify.executableURL = URL(fileURLWithPath: tool)
        verify.arguments = ["verify"] + units
        let output = Pipe()
        verify.standardError = output
        verify.standardOutput = output
        try verify.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        verify.waitUntilExit()
        #expect(verify.terminationStatus == 0, "\(text)")
        #expect(!text.contains("feedcorpus"), "\(text)")
    }
}
