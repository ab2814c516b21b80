import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The lock that makes one process at a time work on a state file (`flock` on `STATE.lock`).
///
/// The holder's pid and command are written into the lock file so that a process that finds the
/// lock taken can say who holds it. The kernel releases the lock when the holder dies.
public final class StateLock: Sendable {
    public let path: String
    private let fd: Int32

    /// The lock is held by another process.
    public struct Busy: Error, Sendable, CustomStringConvertible {
        public var path: String
        public var holder: String
        /// What the lock guards ("state", "corpus").
        public var guarding = "state"
        public var description: String {
            "the \(guarding) is locked by another feedcorpus (\(holder)); lock file \(path). Another run is in progress: try again when it ends"
                + (guarding == "corpus" ? " (or, if it uses another config, give each config its own corpus folder)" : "")
        }
    }

    /// Takes the lock for `statePath` without waiting.
    public convenience init(statePath: String) throws {
        try self.init(lockFile: statePath + ".lock", guarding: "state")
    }

    /// Takes the lock file `path` (a state's, or a corpus root's) without waiting. The file is
    /// never opened through a symbolic link.
    public init(lockFile: String, guarding: String) throws {
        path = lockFile
        let folder = (path as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            let reason = errno == ELOOP ? "it is a symbolic link (remove it)" : String(cString: strerror(errno))
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path, NSLocalizedDescriptionKey: "cannot open lock file \(path): \(reason)"])
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            close(fd)
            throw Busy(path: path, holder: holder.flatMap { $0.isEmpty ? nil : $0 } ?? "unknown process", guarding: guarding)
        }
        let note = "pid \(getpid()), \(CommandLine.arguments.joined(separator: " ")), since \(ISO8601DateFormatter().string(from: Date()))\n"
        ftruncate(fd, 0)
        _ = note.withCString { write(fd, $0, strlen($0)) }
    }

    /// Who holds the lock of `statePath` (the note its holder wrote), or nil when nobody does.
    /// Probes with a shared lock taken and dropped at once; nothing is written.
    public static func holder(statePath: String) -> String? {
        let path = statePath + ".lock"
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return nil
        }
        let note = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        return note.flatMap { $0.isEmpty ? nil : $0 } ?? "unknown process"
    }

    /// The pid of the process holding the lock of `statePath`, or nil when nobody does (or its
    /// note names no pid).
    public static func holderPID(statePath: String) -> Int32? {
        guard let note = holder(statePath: statePath), note.hasPrefix("pid ") else { return nil }
        return Int32(note.dropFirst(4).prefix { $0.isNumber })
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
