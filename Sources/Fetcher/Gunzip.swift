import CZlib

/// Decompresses gzip files served as such (`sitemap.xml.gz`), as opposed to a gzip
/// Content-Encoding, which libcurl already undoes.
public enum Gunzip {
    /// Why a body could not be decompressed.
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case corrupt(String)
        case tooLarge(limit: Int)

        public var description: String {
            switch self {
            case let .corrupt(reason): "the gzip data is corrupt (\(reason))"
            case let .tooLarge(limit): "it decompresses to more than \(limit) bytes (the body size limit); the file is refused"
            }
        }
    }

    /// Whether `bytes` start with the gzip magic number.
    public static func isGzip(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B
    }

    /// The decompressed bytes of a gzip file (concatenated members too), refusing output past
    /// `limit` bytes: a small file can inflate a thousandfold.
    public static func decompress(_ bytes: [UInt8], limit: Int) throws(Failure) -> [UInt8] {
        var stream = z_stream()
        // 15 window bits + 16: gzip wrapper only.
        guard inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .corrupt("zlib could not start")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var input = bytes
        var status: Int32 = Z_OK
        var offset = 0
        while true {
            status = input.withUnsafeMutableBufferPointer { inputBuffer -> Int32 in
                chunk.withUnsafeMutableBufferPointer { chunkBuffer -> Int32 in
                    stream.next_in = inputBuffer.baseAddress.map { $0 + offset }
                    stream.avail_in = UInt32(inputBuffer.count - offset)
                    stream.next_out = chunkBuffer.baseAddress
                    stream.avail_out = UInt32(chunkBuffer.count)
                    let result = inflate(&stream, Z_NO_FLUSH)
                    offset = inputBuffer.count - Int(stream.avail_in)
                    return result
                }
            }
            let produced = chunk.count - Int(stream.avail_out)
            if output.count + produced > limit { throw .tooLarge(limit: limit) }
            output.append(contentsOf: chunk[0..<produced])
            switch status {
            case Z_STREAM_END:
                // Another gzip member may follow (concatenated files are valid gzip).
                guard offset < input.count, isGzip(Array(input[offset...].prefix(2))) else { return output }
                input = Array(input[offset...])
                offset = 0
                guard inflateReset(&stream) == Z_OK else { throw .corrupt("zlib could not restart") }
            case Z_OK:
                if offset >= input.count && produced == 0 { throw .corrupt("the data ends before the gzip stream does") }
            case Z_BUF_ERROR:
                throw .corrupt("the data ends before the gzip stream does")
            default:
                let message = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                throw .corrupt(message)
            }
        }
    }
}
