import Foundation

/// A one-line progress bar on standard error, drawn only when standard error is a terminal.
final class ProgressBar: @unchecked Sendable {
    private let total: Int
    private let enabled: Bool
    private let lock = NSLock()
    private var done = 0
    private var stored = 0

    init(total: Int, enabled: Bool = isatty(STDERR_FILENO) == 1) {
        self.total = total
        self.enabled = enabled && total > 0
    }

    /// One more feed finished; `line` (if any) is printed above the bar.
    func advance(stored newStories: Int, line: String?) {
        lock.lock()
        defer { lock.unlock() }
        done += 1
        stored += newStories
        if enabled { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        if let line { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
        if enabled { FileHandle.standardError.write(Data(Self.render(done: done, total: total, stored: stored).utf8)) }
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
