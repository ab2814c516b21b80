import FeedConfig
import Fetcher
import Foundation

/// A document named on the command line: a file, or an http(s) URL fetched once.
public struct DocumentSource: Sendable {
    /// Why a document could not be read or fetched.
    public struct LoadError: Error, Sendable {
        public let message: String
    }

    private enum Storage {
        case memory([UInt8])
        case mapped(MappedFile)
    }

    private let storage: Storage
    /// The file's URL, or the final URL after redirects.
    public var url: String
    /// The HTTP Content-Type, for a URL.
    public var contentType: String?

    private init(_ storage: Storage, url: String, contentType: String?) {
        self.storage = storage
        self.url = url
        self.contentType = contentType
    }

    /// The document's bytes as an array (a copy, for a mapped file).
    public var bytes: [UInt8] {
        switch storage {
        case let .memory(bytes): return bytes
        case let .mapped(file): return Array(file.buffer)
        }
    }

    /// For a mapped file: lets the pages of the first `count` bytes go (a later read brings them
    /// back from the file), so a large document does not stay resident while its model is built.
    public var release: ((Int) -> Void)? {
        guard case let .mapped(file) = storage else { return nil }
        var released = 0
        return { count in
            file.release(from: released, upTo: count)
            released = max(released, count)
        }
    }

    public var count: Int {
        switch storage {
        case let .memory(bytes): return bytes.count
        case let .mapped(file): return file.buffer.count
        }
    }

    /// Calls `body` with the document's bytes, without copying them.
    public func withBytes<Result, Failure: Error>(_ body: (UnsafeBufferPointer<UInt8>) throws(Failure) -> Result) throws(Failure) -> Result {
        switch storage {
        case let .memory(bytes):
            return try bytes.withUnsafeBufferPointer { buffer throws(Failure) in try body(buffer) }
        case let .mapped(file):
            return try withExtendedLifetime(file) { () throws(Failure) -> Result in try body(file.buffer) }
        }
    }

    /// - Parameter mapFile: map a file into memory instead of reading it (for one large document;
    ///   a file that cannot be mapped is read).
    public static func load(_ source: String, mapFile: Bool = false) async throws(LoadError) -> DocumentSource {
        if source.hasPrefix("http://") || source.hasPrefix("https://") {
            let client = HTTPClient(settings: HTTPClientSettings(userAgent: FetchSettings.defaultUserAgent))
            defer { client.shutdown() }
            do {
                let response = try await client.fetch(FetchRequest(url: source))
                guard response.isSuccess else {
                    throw LoadError(message: "HTTP \(response.status) from \(response.effectiveURL)")
                }
                return DocumentSource(.memory(response.body), url: response.baseURL, contentType: response.headers["content-type"])
            } catch let error as FetchError {
                throw LoadError(message: error.description)
            } catch let error as LoadError {
                throw error
            } catch {
                throw LoadError(message: "\(source): \(error)")
            }
        }
        let fileURL = URL(fileURLWithPath: source).absoluteString
        if mapFile, let mapped = MappedFile(path: source) {
            return DocumentSource(.mapped(mapped), url: fileURL, contentType: nil)
        }
        guard let bytes = DocumentSource.readFile(source) else {
            throw LoadError(message: "cannot read \(source): no such file or not readable")
        }
        return DocumentSource(.memory(bytes), url: fileURL, contentType: nil)
    }
}

/// A regular file mapped read-only into memory for as long as the object lives.
///
/// The mapping is populated up front (one pass of page-table set-up instead of a fault per
/// page). Only for files nobody truncates while they are read: the command line's `parse`.
final class MappedFile: @unchecked Sendable {
    // @unchecked: the memory is read-only and unmapped only in deinit.
    let buffer: UnsafeBufferPointer<UInt8>

    /// nil when the file cannot be opened, is empty or is not a regular file, or mapping fails:
    /// the caller reads it instead (and reports the error then).
    init?(path: String) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG, status.st_size > 0 else { return nil }
        let size = Int(status.st_size)
        guard let address = mmap(nil, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, descriptor, 0),
              address != MAP_FAILED else { return nil }
        buffer = UnsafeBufferPointer(start: address.assumingMemoryBound(to: UInt8.self), count: size)
    }

    deinit {
        if let base = buffer.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), buffer.count) }
    }

    /// Drops the resident pages that lie wholly in bytes `start..<end`. The mapping is private
    /// and never written, so touching them again reads them back from the file.
    func release(from start: Int, upTo end: Int) {
        guard let base = buffer.baseAddress else { return }
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        let first = max(0, start) / pageSize * pageSize
        let last = min(end, buffer.count) / pageSize * pageSize
        if last > first { _ = madvise(UnsafeMutableRawPointer(mutating: base + first), last - first, MADV_DONTNEED) }
    }
}

extension DocumentSource {
    /// The whole file as bytes, read straight into one array (no intermediate Data copy).
    static func readFile(_ path: String) -> [UInt8]? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let size = try? handle.seekToEnd() else { return nil }
        try? handle.seek(toOffset: 0)
        let descriptor = handle.fileDescriptor
        var failed = false
        let bytes = [UInt8](unsafeUninitializedCapacity: Int(size)) { buffer, count in
            var total = 0
            while total < buffer.count {
                let result = read(descriptor, buffer.baseAddress! + total, buffer.count - total)
                if result <= 0 {
                    failed = result < 0
                    break
                }
                total += result
            }
            count = total
        }
        return failed ? nil : bytes
    }
}


/// How the document commands end.
public enum ProcessExit {
    /// Ends the process once the output is written: freeing a large parsed model object by
    /// object (tens of thousands of entries) would only cost time the caller waits for.
    public static func withoutTeardown() -> Never {
        fflush(nil)  // every C stream, standard output included
        Foundation.exit(0)
    }
}
