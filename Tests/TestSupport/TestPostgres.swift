import Foundation

/// A scratch PostgreSQL server (Debian's `postgresql` package) on 127.0.0.1 for one test: its own
/// data folder and a free port, trust authentication for the user `feedcorpus`, fsync off.
/// Started with `initdb` and `pg_ctl` (as the `postgres` user when the tests run as root, which
/// PostgreSQL refuses to be); stopped and removed by `stop()`.
public final class TestPostgres: @unchecked Sendable {
    public let port: Int
    public let folder: URL
    private let binaries: URL
    private let asUser: String?
    private var stopped = false

    /// `postgres://feedcorpus@127.0.0.1:PORT/feedcorpus`
    public var url: String { "postgres://feedcorpus@127.0.0.1:\(port)/feedcorpus" }

    /// The folder of `initdb` and `pg_ctl`: `$PG_BIN`, else the newest /usr/lib/postgresql/N/bin.
    public static func binaries() -> URL? {
        if let explicit = ProcessInfo.processInfo.environment["PG_BIN"] { return URL(fileURLWithPath: explicit) }
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted()
        guard let newest = versions.last else { return nil }
        let folder = URL(fileURLWithPath: "\(root)/\(newest)/bin")
        return FileManager.default.isExecutableFile(atPath: folder.appendingPathComponent("initdb").path) ? folder : nil
    }

    /// Whether tests that need a PostgreSQL server run: when its programs are installed, or when
    /// `FEEDCORPUS_REQUIRE_POSTGRES=1` says they must (CI), so that a missing server fails them
    /// there instead of skipping them.
    public static var available: Bool {
        binaries() != nil || ProcessInfo.processInfo.environment["FEEDCORPUS_REQUIRE_POSTGRES"] == "1"
    }

    public init() throws {
        guard let binaries = Self.binaries() else {
            throw SupportError("PostgreSQL's server programs are not installed (apt-get install postgresql; or set PG_BIN)")
        }
        self.binaries = binaries
        folder = try TemporaryFolder.make(prefix: "postgres")
        asUser = getuid() == 0 ? "postgres" : nil
        if let asUser {
            try Self.run("/bin/chown", ["-R", asUser, folder.path])
        }
        port = try Self.freePort()
        let data = folder.appendingPathComponent("data").path
        try runAsServerUser("initdb", ["-D", data, "-U", "feedcorpus", "--auth=trust", "-E", "UTF8", "--no-sync", "--locale=C"])
        try runAsServerUser("pg_ctl", ["-D", data, "-l", folder.appendingPathComponent("server.log").path, "-w", "-t", "60",
                                       "-o", "-c listen_addresses=127.0.0.1 -p \(port) -k \(folder.path) -c fsync=off -c full_page_writes=off -c max_connections=200",
                                       "start"])
        try Self.run(binaries.appendingPathComponent("createdb").path, ["-h", "127.0.0.1", "-p", "\(port)", "-U", "feedcorpus", "feedcorpus"])
    }

    deinit { stop() }

    /// Stops the server at once and removes its folder.
    public func stop() {
        guard !stopped else { return }
        stopped = true
        try? runAsServerUser("pg_ctl", ["-D", folder.appendingPathComponent("data").path, "-m", "immediate", "-w", "stop"])
        try? FileManager.default.removeItem(at: folder)
    }

    /// Runs SQL through `psql` (for setting a test's scene: it is not the code under test).
    public func psql(_ sql: String) throws -> String {
        try Self.run(binaries.appendingPathComponent("psql").path,
                     ["-h", "127.0.0.1", "-p", "\(port)", "-U", "feedcorpus", "-d", "feedcorpus", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql])
    }

    private func runAsServerUser(_ program: String, _ arguments: [String]) throws {
        let path = binaries.appendingPathComponent(program).path
        if let asUser {
            try Self.run("/usr/sbin/runuser", ["-u", asUser, "--", path] + arguments)
        } else {
            try Self.run(path, arguments)
        }
    }

    /// Runs a program to its end. It starts with every descriptor above 2 closed, and its output
    /// goes to a file: the server that `pg_ctl start` leaves running would otherwise inherit the
    /// descriptors Foundation watches to see the program end, and `waitUntilExit` would never return.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import os, sys; os.closerange(3, 65536); os.execv(sys.argv[1], sys.argv[1:])", executable] + arguments
        let outputFile = FileManager.default.temporaryDirectory.appendingPathComponent("postgres-tool-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: outputFile.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: outputFile) }
        let output = try FileHandle(forWritingTo: outputFile)
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try? output.close()
        let text = (try? String(contentsOf: outputFile, encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0 else {
            throw SupportError("\(executable) \(arguments.joined(separator: " ")) exited with \(process.terminationStatus): \(text)")
        }
        return text
    }

    /// A port nothing listens on now (bound to 0, read, released).
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SupportError("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw SupportError("bind() failed") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw SupportError("getsockname() failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
