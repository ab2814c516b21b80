import CSpawn
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Runs the configured `on_new_stories` command after a pass that stored stories: `/bin/sh -c
/// COMMAND` in the config's folder, with the new files' absolute paths on standard input (one
/// per line) and `FEEDCORPUS_CORPUS` (the corpus root) and `FEEDCORPUS_STORED` (how many) in
/// its environment. Its standard output and error are read while it runs (a hook that writes a
/// lot never blocks), and it inherits no descriptor but 0, 1 and 2 (no socket or lock of ours).
/// A hook that fails or outlives its timeout is logged; the stories are stored whatever it does.
public enum NewStoryHook {
    /// How the hook ended.
    public enum Outcome: Sendable, Equatable {
        case succeeded
        case failed(status: Int32, stderr: String)
        case timedOut
        case couldNotStart(String)
    }

    /// How much of each output stream is kept for the log (the end of it).
    static let keptOutputBytes = 2000

    @discardableResult
    public static func run(command: String, files: [String], timeout: TimeInterval, logger: Logger,
                           directory: String? = nil, corpus: String? = nil) async -> Outcome {
        let input = Data(files.map { $0 + "\n" }.joined().utf8)
        var environment = ProcessInfo.processInfo.environment
        if let corpus { environment["FEEDCORPUS_CORPUS"] = corpus }
        environment["FEEDCORPUS_STORED"] = "\(files.count)"
        let folder = directory ?? FileManager.default.currentDirectoryPath
        let variables = environment
        let (outcome, stdout) = await withCheckedContinuation { (continuation: CheckedContinuation<(Outcome, String), Never>) in
            let thread = Thread {
                continuation.resume(returning: supervise(command: command, input: input, environment: variables, directory: folder, timeout: timeout))
            }
            thread.name = "feedcorpus-hook"
            thread.start()
        }
        let context: Logger.Metadata = ["command": "\(command)", "directory": "\(folder)"]
        switch outcome {
        case .succeeded:
            logger.info("on_new_stories ran", metadata: context.merging(["files": "\(files.count)"]) { $1 })
            if !stdout.isEmpty { logger.debug("on_new_stories output", metadata: context.merging(["stdout": "\(stdout)"]) { $1 }) }
        case let .failed(status, stderr):
            logger.error("on_new_stories failed; the stories are stored", metadata: context.merging([
                "status": "\(status)", "stderr": "\(stderr.trimmingCharacters(in: .whitespacesAndNewlines))"]) { $1 })
        case .timedOut:
            logger.error("on_new_stories ran longer than its timeout and was stopped; the stories are stored",
                         metadata: context.merging(["timeout_seconds": "\(timeout)", "files": "\(files.count)"]) { $1 })
        case let .couldNotStart(reason):
            logger.error("on_new_stories could not start", metadata: context.merging(["error": "\(reason)"]) { $1 })
        }
        return outcome
    }

    /// Spawns the hook and stays with it to the end, on its own thread: feeds its input, reads
    /// both outputs as they come, kills its process group at the deadline.
    private static func supervise(command: String, input: Data, environment: [String: String], directory: String,
                                  timeout: TimeInterval) -> (Outcome, String) {
        var inPipe: [Int32] = [-1, -1], outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1]
        func makePipe(_ ends: inout [Int32]) -> Bool {
            guard pipe(&ends) == 0 else { return false }
            for fd in ends { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            return true
        }
        guard makePipe(&inPipe), makePipe(&outPipe), makePipe(&errPipe) else {
            for fd in inPipe + outPipe + errPipe where fd >= 0 { close(fd) }
            return (.couldNotStart("cannot create pipes: \(String(cString: strerror(errno)))"), "")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        fc_spawn_closefrom(&actions, 3)  // Nothing of ours above 2 reaches the hook.
        fc_spawn_chdir(&actions, directory)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Its own process group, so a timeout kills what it started too; default signal handling.
        var defaults = sigset_t()
        sigfillset(&defaults)
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &unblocked)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let arguments = ["/bin/sh", "-c", command]
        let environmentLines = environment.map { "\($0.key)=\($0.value)" }
        var pid: pid_t = 0
        let spawned = withCStrings(arguments) { argv in
            withCStrings(environmentLines) { envp in posix_spawn(&pid, "/bin/sh", &actions, &attributes, argv, envp) }
        }
        close(inPipe[0]); close(outPipe[1]); close(errPipe[1])
        guard spawned == 0 else {
            close(inPipe[1]); close(outPipe[0]); close(errPipe[0])
            let reason = spawned == ENOENT ? "the folder \(directory) or /bin/sh does not exist" : String(cString: strerror(spawned))
            return (.couldNotStart(reason), "")
        }

        // The paths go in on a thread of their own; a hook that ignores its input must not block.
        let writer = inPipe[1]
        let inputThread = Thread {
            input.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let written = Glibc.write(writer, buffer.baseAddress! + offset, buffer.count - offset)
                    if written < 0 && errno == EINTR { continue }
                    if written <= 0 { break }  // EPIPE: it closed its input
                    offset += written
                }
            }
            close(writer)
        }
        inputThread.start()

        var outputs: [Int32: [UInt8]] = [outPipe[0]: [], errPipe[0]: []]
        var open: [Int32] = [outPipe[0], errPipe[0]]
        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0
        var exited = false
        var timedOut = false
        var buffer = [UInt8](repeating: 0, count: 16_384)
        func drain(_ fd: Int32) -> Bool {
            let count = read(fd, &buffer, buffer.count)
            if count > 0 {
                outputs[fd, default: []].append(contentsOf: buffer.prefix(count))
                if let kept = outputs[fd], kept.count > 4 * keptOutputBytes { outputs[fd] = Array(kept.suffix(keptOutputBytes)) }
                return true
            }
            return count < 0 && (errno == EINTR || errno == EAGAIN)
        }
        while !exited {
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 {
                kill(-pid, SIGKILL)
                kill(pid, SIGKILL)
                timedOut = true
                break
            }
            var polls = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            _ = poll(&polls, nfds_t(polls.count), Int32(min(100, max(1, remaining * 1000))))
            for entry in polls where entry.revents != 0 {
                if !drain(entry.fd) { open.removeAll { $0 == entry.fd } }
            }
            if waitpid(pid, &status, WNOHANG) == pid { exited = true }
        }
        if timedOut {
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        } else {
            // It has exited: take what is already written, without waiting for a grandchild
            // that may still hold the pipes.
            for fd in open {
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
                while drain(fd) && errno != EAGAIN {}
            }
        }
        for fd in [outPipe[0], errPipe[0]] { close(fd) }
        let stdout = String(decoding: (outputs[outPipe[0]] ?? []).suffix(keptOutputBytes), as: UTF8.self)
        let stderr = String(decoding: (outputs[errPipe[0]] ?? []).suffix(keptOutputBytes), as: UTF8.self)
        if timedOut { return (.timedOut, stdout) }
        // WIFEXITED / WEXITSTATUS, written out (the macros do not import).
        let exitStatus = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        return (exitStatus == 0 ? .succeeded : .failed(status: exitStatus, stderr: stderr), stdout)
    }

    /// Calls `body` with a NULL-terminated C array of `strings`.
    private static func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
        var pointers = strings.map { strdup($0) }
        pointers.append(nil)
        defer { pointers.forEach { free($0) } }
        return body(pointers)
    }
}
