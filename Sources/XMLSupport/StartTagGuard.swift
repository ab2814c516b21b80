import Foundation

/// Watches the document as it is fed to libxml2, chunk by chunk, and refuses it before a start
/// tag with more than `maxAttributes` attributes reaches the parser (whose time is quadratic in
/// that number). Comments, CDATA sections, processing instructions and declarations are skipped,
/// so text that only looks like markup is never counted. Text, CDATA and comments are passed
/// over with `memchr`; only the inside of tags is read byte by byte.
struct StartTagGuard {
    static let maxAttributes = 1024

    // States, as plain integers (a tight loop over every tag byte).
    private static let text = 0, afterLessThan = 1, bang = 2, comment = 3, cdata = 4, instruction = 5,
                        declaration = 6, tagName = 7, inTag = 8

    private var state = StartTagGuard.text
    /// Per state: bytes of "[CDATA[" matched (`bang`, -1 after "<!-"), dashes or brackets seen
    /// (`comment`, `cdata`), a `?` seen (`instruction`).
    private var progress = 0
    private var quote: UInt8 = 0
    private var afterSpace = false
    private var afterEquals = false
    private var attributes = 0
    /// The line the scan has reached (1-based), for the error.
    private(set) var line = 1

    private static let cdataOpening: [UInt8] = Array("[CDATA[".utf8)

    mutating func admits(_ chunk: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = chunk.baseAddress else { return true }
        let count = chunk.count
        var state = self.state, progress = self.progress, quote = self.quote
        var afterSpace = self.afterSpace, afterEquals = self.afterEquals, attributes = self.attributes
        var lines = 0
        defer {
            self.state = state
            self.progress = progress
            self.quote = quote
            self.afterSpace = afterSpace
            self.afterEquals = afterEquals
            self.attributes = attributes
            self.line += lines
        }
        /// The index of the next `byte` at or after `from`, or nil; newlines passed are counted.
        func find(_ byte: UInt8, from: Int) -> Int? {
            guard from < count else { return nil }
            guard let found = memchr(base + from, Int32(byte), count - from) else {
                lines += Self.newlines(base + from, count - from)
                return nil
            }
            let position = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
            lines += Self.newlines(base + from, position - from)
            return position
        }
        var i = 0
        while i < count {
            switch state {
            case Self.text:
                guard let position = find(0x3C, from: i) else { return true }
                state = Self.afterLessThan
                i = position + 1
                continue
            case Self.cdata, Self.comment:
                // Jump to the next ']' or '-': "]]>" ends a CDATA section, "-->" a comment (the
                // closing run is counted across chunks).
                let closer: UInt8 = state == Self.cdata ? 0x5D : 0x2D
                if progress == 0 {
                    guard let position = find(closer, from: i) else { return true }
                    i = position
                }
                let b = base[i]
                if b == 0x3E && progress >= 2 { state = Self.text } else { progress = b == closer ? progress + 1 : 0 }
                i += 1
                continue
            default:
                break
            }
            let b = base[i]
            if b == 0x0A { lines += 1 }
            switch state {
            case Self.afterLessThan:
                if b == 0x21 {
                    state = Self.bang
                    progress = 0
                } else if b == 0x3F {
                    state = Self.instruction
                    progress = 0
                } else if (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A || b == 0x5F || b >= 0x80 {
                    state = Self.tagName
                    attributes = 0
                } else {
                    state = Self.text
                }
            case Self.bang:
                if progress == 0 && b == 0x2D {
                    progress = -1
                } else if progress == -1 {
                    state = b == 0x2D ? Self.comment : Self.declaration
                    progress = 0
                } else if progress >= 0 && progress < Self.cdataOpening.count && b == Self.cdataOpening[progress] {
                    progress += 1
                    if progress == Self.cdataOpening.count {
                        state = Self.cdata
                        progress = 0
                    }
                } else {
                    state = b == 0x3E ? Self.text : Self.declaration
                }
            case Self.instruction:
                if b == 0x3E && progress == 1 { state = Self.text } else { progress = b == 0x3F ? 1 : 0 }
            case Self.declaration:
                if b == 0x3E { state = Self.text }
            case Self.tagName:
                if b == 0x3E {
                    state = Self.text
                } else if b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D {
                    state = Self.inTag
                    quote = 0
                    afterSpace = true
                    afterEquals = false
                }
            default:  // inTag
                if quote == 0 && b == 0x3E {
                    state = Self.text
                } else if AttributeCounter.step(b, quote: &quote, afterSpace: &afterSpace, afterEquals: &afterEquals) {
                    attributes += 1
                    if attributes > Self.maxAttributes { return false }
                }
            }
            i += 1
        }
        return true
    }

    private static func newlines(_ start: UnsafePointer<UInt8>, _ count: Int) -> Int {
        var lines = 0
        var pointer = start
        var remaining = count
        while remaining > 0, let found = memchr(pointer, 0x0A, remaining) {
            let next = found.assumingMemoryBound(to: UInt8.self) + 1
            lines += 1
            remaining -= pointer.distance(to: UnsafePointer(next))
            pointer = UnsafePointer(next)
        }
        return lines
    }
}
