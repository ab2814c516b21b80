import Foundation
import Logging

/// The counts of a pass in progress (feeds done, stories stored, feeds failed), drawn as a
/// one-line bar on standard error when that is a terminal, and given to the progress log line
/// otherwise.
final class ProgressBar: @unchecked Sendable {
    private let total: Int
    private let enabled: Bool
    private let lock = NSLock()
    private let started = Date()
    private var done = 0
    private var stored = 0
    private var failed = 0

    init(total: Int, enabled: Bool = isatty(STDERR_FILENO) == 1) {
        self.total = total
        self.enabled = enabled && total > 0
    }

    /// One more feed finished; `line` (if any) is printed above the bar.
    func advance(stored newStories: Int, failed feedFailed: Bool = false, line: String?) {
        lock.lock()
        defer { lock.unlock() }
        done += 1
        stored += newStories
        if feedFailed { failed += 1 }
        if enabled { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        if let line { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
        if enabled { FileHandle.standardError.write(Data(Self.render(done: done, total: total, stored: stored).utf8)) }
    }

    /// The counts for the progress log line, with the time left at this pace.
    func metadata(waiting: Int) -> Logger.Metadata {
        lock.withLock {
            var metadata: Logger.Metadata = [
                "feeds_done": "\(done) of \(total)", "stories_stored": "\(stored)", "feeds_failed": "\(failed)",
                "requests_waiting_on_hosts": "\(waiting)",
            ]
            if done > 0 && done < total {
                metadata["estimated_seconds_left"] = "\(Int(Date().timeIntervalSince(started) / Double(done) * Double(total - done)))"
            }
            return metadata
        }
    }

    /// Removes the bar (before the total line).
    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }

    /// `[#########-----------] 12/50 feeds, 34 stories stored`
    static func render(done: Int, total: Int, stored: Int, width: Int = 30) -> String {
        let filled = total > 0 ? min(width, done * width / total) : width
        return "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "] "
            + "\(done)/\(total) feeds, \(stored) \(stored == 1 ? "story" : "stories") stored"
    }
}
