import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The sd_notify protocol, written by hand: datagrams to the socket named by `$NOTIFY_SOCKET`
/// (a path, or `@name` for the abstract namespace). Without the variable every call does nothing,
/// so the same code runs under systemd and outside it.
public struct SystemdNotifier: Sendable {
    public let socketPath: String?

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        socketPath = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        let usec = environment["WATCHDOG_USEC"].flatMap(UInt64.init)
        let pid = environment["WATCHDOG_PID"].flatMap(Int32.init)
        watchdogInterval = (pid == nil || pid == getpid()) ? usec.map { Double($0) / 1_000_000 } : nil
    }

    /// `$WATCHDOG_USEC` in seconds, when systemd expects keep-alive pings from this process.
    public let watchdogInterval: TimeInterval?

    public var isActive: Bool { socketPath != nil }

    /// Start-up is complete.
    public func ready(status: String? = nil) { send(["READY=1"] + (status.map { ["STATUS=\($0)"] } ?? [])) }
    /// A one-line summary shown by `systemctl status`.
    public func status(_ text: String) { send(["STATUS=\(text.replacingOccurrences(of: "\n", with: " "))"]) }
    /// A configuration reload begins (followed by `ready()` when done).
    public func reloading() { send(["RELOADING=1", "MONOTONIC_USEC=\(Self.monotonicMicroseconds())"]) }
    /// Shutdown begins.
    public func stopping() { send(["STOPPING=1"]) }
    /// The keep-alive ping for `WatchdogSec=`.
    public func watchdog() { send(["WATCHDOG=1"]) }

    /// Sends one datagram of newline-separated assignments; failures are ignored, as sd_notify does.
    public func send(_ assignments: [String]) {
        guard let socketPath else { return }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var pathBytes = Array(socketPath.utf8)
        if pathBytes.first == UInt8(ascii: "@") { pathBytes[0] = 0 }  // abstract namespace
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard pathBytes.count < capacity else { return }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + pathBytes.count + (pathBytes.first == 0 ? 0 : 1))
        let message = Array(assignments.joined(separator: "\n").utf8)
        _ = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sockaddrPointer in
                message.withUnsafeBytes { bytes in
                    sendto(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL), sockaddrPointer, length)
                }
            }
        }
    }

    static func monotonicMicroseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000 + UInt64(time.tv_nsec) / 1000
    }
}
