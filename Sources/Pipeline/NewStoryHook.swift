import Foundation
import Logging

/// Runs the configured `on_new_stories` command after a pass that stored stories: `/bin/sh -c
/// COMMAND` with the new files' absolute paths on standard input, one per line. A hook that
/// fails or outlives its timeout is logged; the stories are stored whatever it does.
public enum NewStoryHook {
    /// Whichever comes first, the process's end or the timeout, decides; once.
    final class FirstOutcome: @unchecked Sendable {
        private let lock = NSLock()
        private var result: Bool?
        private var waiter: CheckedContinuation<Bool, Never>?

        func resolve(timedOut: Bool) {
            lock.lock()
            guard result == nil else { lock.unlock(); return }
            result = timedOut
            let waiting = waiter
            waiter = nil
            lock.unlock()
            waiting?.resume(returning: timedOut)
        }

        func value() async -> Bool {
            await withCheckedContinuation { continuation in
                lock.lock()
                if let result {
                    lock.unlock()
                    continuation.resume(returning: result)
                } else {
                    waiter = continuation
                    lock.unlock()
                }
            }
        }
    }

    /// How the hook ended.
    public enum Outcome: Sendable, Equatable {
        case succeeded
        case failed(status: Int32, stderr: String)
        case timedOut
        case couldNotStart(String)
    }

    @discardableResult
    public static func run(command: String, files: [String], timeout: TimeInterval, logger: Logger) async -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        let input = Pipe()
        let errors = Pipe()
        process.standardInput = input
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        let outcome = FirstOutcome()
        process.terminationHandler = { _ in outcome.resolve(timedOut: false) }
        do {
            try process.run()
        } catch {
            logger.error("on_new_stories could not start", metadata: ["command": "\(command)", "error": "\(error)"])
            return .couldNotStart("\(error)")
        }
        // The paths go in, then end of input; a hook that ignores its input must not block us.
        let text = Data(files.map { $0 + "\n" }.joined().utf8)
        let writer = Task.detached {
            try? input.fileHandleForWriting.write(contentsOf: text)
            try? input.fileHandleForWriting.close()
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { outcome.resolve(timedOut: true) }
        let timedOut = await outcome.value()
        if timedOut {
            // Foundation starts the child as a process group leader: the whole group goes, so no
            // grandchild is left holding the pipes (which would keep the hook "running").
            kill(-process.processIdentifier, SIGKILL)
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            writer.cancel()
            logger.error("on_new_stories ran longer than its timeout and was stopped; the stories are stored",
                         metadata: ["command": "\(command)", "timeout_seconds": "\(timeout)", "files": "\(files.count)"])
            return .timedOut
        }
        process.waitUntilExit()
        _ = await writer.value
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile().suffix(2000), as: UTF8.self)
        guard process.terminationStatus == 0 else {
            logger.error("on_new_stories failed; the stories are stored", metadata: [
                "command": "\(command)", "status": "\(process.terminationStatus)", "stderr": "\(stderr.trimmingCharacters(in: .whitespacesAndNewlines))"])
            return .failed(status: process.terminationStatus, stderr: stderr)
        }
        logger.info("on_new_stories ran", metadata: ["files": "\(files.count)"])
        return .succeeded
    }
}
