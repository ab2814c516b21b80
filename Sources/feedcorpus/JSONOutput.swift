import DatesAndCharsets
import FeedModel
import FeedParser
import Foundation

/// JSON text written byte by byte: the commands print large documents, and building a
/// Foundation object tree to serialise costs far more than the parse it reports.
struct JSONOutput {
    private(set) var bytes: [UInt8] = []
    private var depth = 0

    init(reservingCapacity capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    /// A JSON string literal (RFC 8259): quotes, backslashes and control characters escaped,
    /// everything else (slashes and non-ASCII included) as it is.
    static func appendQuoted(_ value: String, to bytes: inout [UInt8]) {
        bytes.append(0x22)
        var value = value
        value.withUTF8 { utf8 in
            var runStart = 0
            var index = 0
            while index < utf8.count {
                // Eight bytes at a time while none is a control character, '"' or '\\' (the
                // usual bit tricks: a byte below 0x20, or equal to one of the two, sets its high bit).
                while index + 8 <= utf8.count, let base = utf8.baseAddress {
                    let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
                    let ones: UInt64 = 0x0101_0101_0101_0101
                    let quote = word ^ (ones &* 0x22), backslash = word ^ (ones &* 0x5C)
                    let flagged = ((word &- ones &* 0x20) & ~word) | ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash)
                    if flagged & (ones &* 0x80) != 0 { break }
                    index += 8
                }
                guard index < utf8.count else { break }
                let byte = utf8[index]
                index += 1
                guard byte < 0x20 || byte == 0x22 || byte == 0x5C else { continue }
                let at = index - 1
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<at]))
                runStart = at + 1
                switch byte {
                case 0x22: bytes += [0x5C, 0x22]
                case 0x5C: bytes += [0x5C, 0x5C]
                case 0x0A: bytes += [0x5C, 0x6E]
                case 0x0D: bytes += [0x5C, 0x72]
                case 0x09: bytes += [0x5C, 0x74]
                case 0x08: bytes += [0x5C, 0x62]
                case 0x0C: bytes += [0x5C, 0x66]
                default: bytes += [0x5C, 0x75, 0x30, 0x30, hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0xF)]]
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...]))
        }
        bytes.append(0x22)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    // MARK: Pretty-printed output (two-space indent, `"key" : value`), keys in the order given.

    mutating func string(_ value: String?) {
        if let value { Self.appendQuoted(value, to: &bytes) } else { raw("null") }
    }

    mutating func date(_ value: Date?) {
        string(value.map(ISO8601.string))
    }

    mutating func bool(_ value: Bool) {
        raw(value ? "true" : "false")
    }

    /// An object whose members `body` writes with `member`.
    mutating func object(_ body: (inout JSONOutput) -> Void) {
        bytes.append(UInt8(ascii: "{"))
        depth += 1
        let start = bytes.count
        body(&self)
        depth -= 1
        if bytes.count == start { bytes.append(0x0A) }
        newline()
        bytes.append(UInt8(ascii: "}"))
    }

    /// A member of the object being written; `key` must need no escaping.
    mutating func member(_ key: StaticString, _ value: (inout JSONOutput) -> Void) {
        if bytes.last != UInt8(ascii: "{") { bytes.append(UInt8(ascii: ",")) }
        newline()
        bytes.append(0x22)
        bytes.append(contentsOf: UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount))
        raw("\" : ")
        value(&self)
    }

    /// An array of `items`, each written by `element`.
    mutating func array<Items: Collection>(_ items: Items, _ element: (inout JSONOutput, Items.Element) -> Void) {
        bytes.append(UInt8(ascii: "["))
        depth += 1
        var first = true
        for item in items {
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            newline()
            element(&self, item)
        }
        depth -= 1
        if first { bytes.append(0x0A) }  // An empty array is "[", a blank line, "]", as Foundation wrote it.
        newline()
        bytes.append(UInt8(ascii: "]"))
    }

    /// The text with a final line break.
    consuming func finished() -> [UInt8] {
        bytes.append(0x0A)
        return bytes
    }

    /// Writes `bytes` to standard output, all of them (a pipe may take them in parts). When that
    /// fails (the reader went away, the disk is full) it says so on standard error and returns
    /// false.
    static func writeToStandardOutput(_ bytes: [UInt8]) -> Bool {
        let failure: Int32? = bytes.withUnsafeBufferPointer { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(STDOUT_FILENO, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { return written < 0 ? errno : EIO }
                offset += written
            }
            return nil
        }
        guard let failure else { return true }
        FileHandle.standardError.write(Data(
            "feedcorpus: cannot write the output to standard output (\(String(cString: strerror(failure)))); check where it is redirected\n".utf8))
        return false
    }

    private mutating func newline() {
        bytes.append(0x0A)
        bytes.append(contentsOf: repeatElement(0x20, count: depth * 2))
    }

    private mutating func raw(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }
}

/// The fixed JSON contract of `feedcorpus parse`: keys in sorted order, pretty-printed.
enum FeedJSON {
    static func render(_ feed: ParsedFeed) -> [UInt8] {
        let contentBytes = feed.entries.reduce(0) { $0 + ($1.content?.utf8.count ?? 0) + ($1.summary?.utf8.count ?? 0) }
        var out = JSONOutput(reservingCapacity: contentBytes + feed.entries.count * 1024 + 1024)
        out.object { out in
            out.member("bozo") { $0.bool(feed.bozo) }
            out.member("bozo_reason") { $0.string(feed.bozoReason) }
            out.member("entries") { out in
                out.array(feed.entries) { out, entry in
                    out.object { out in
                        out.member("author") { $0.string(entry.author) }
                        out.member("categories") { out in out.array(entry.categories) { $0.string($1) } }
                        // Relative links in the markup resolve against the base where it stood.
                        out.member("content") { $0.string(entry.content.map { entry.contentIsPlainText ? XMLWhitespace.trimmed($0) : MarkupLinks.forOutput($0, base: entry.contentBase) }) }
                        out.member("enclosures") { out in
                            out.array(entry.enclosures) { out, enclosure in
                                out.object { out in
                                    out.member("length") { $0.string(enclosure.length) }
                                    out.member("type") { $0.string(enclosure.type) }
                                    out.member("url") { $0.string(enclosure.url) }
                                }
                            }
                        }
                        out.member("id") { $0.string(entry.id) }
                        out.member("link") { $0.string(entry.link) }
                        out.member("links") { out in
                            out.array(entry.links) { out, link in
                                out.object { out in
                                    out.member("href") { $0.string(link.href) }
                                    out.member("rel") { $0.string(link.rel) }
                                    out.member("type") { $0.string(link.type) }
                                }
                            }
                        }
                        out.member("published") { $0.date(entry.published) }
                        out.member("summary") { $0.string(entry.summary.map { entry.summaryIsPlainText ? XMLWhitespace.trimmed($0) : MarkupLinks.forOutput($0, base: entry.summaryBase) }) }
                        out.member("title") { $0.string(entry.title) }
                        out.member("updated") { $0.date(entry.updated) }
                    }
                }
            }
            out.member("feed") { out in
                out.object { out in
                    out.member("author") { $0.string(feed.author) }
                    out.member("generator") { $0.string(feed.generator) }
                    out.member("id") { $0.string(feed.id) }
                    out.member("image") { $0.string(feed.image) }
                    out.member("language") { $0.string(feed.language) }
                    out.member("link") { $0.string(feed.link) }
                    out.member("subtitle") { $0.string(feed.subtitle.map { feed.subtitleIsPlainText ? XMLWhitespace.trimmed($0) : MarkupLinks.forOutput($0, base: feed.subtitleBase) }) }
                    out.member("title") { $0.string(feed.title) }
                    out.member("updated") { $0.date(feed.updated) }
                }
            }
            out.member("format") { $0.string(feed.format.rawValue) }
        }
        return out.finished()
    }
}
