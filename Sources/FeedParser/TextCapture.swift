import Foundation
import XMLSupport
import DatesAndCharsets

/// How the content of an element is captured.
enum CaptureMode {
    /// Character data verbatim (plain text or escaped HTML); stray child elements are kept as
    /// markup (RSS descriptions with unescaped HTML), except a leading XHTML `div`, which is a
    /// wrapper whose text is read as the field's own.
    case text
    /// Inline XHTML: child elements are serialised and text is escaped; the wrapping `div` of
    /// Atom's `type="xhtml"` is dropped.
    case xhtml
    /// Atom 0.3's inline XML (`mode="xml"`): serialised like `xhtml`, but every child is content,
    /// a `div` around the rest included (only Atom 1.0 makes that `div` a wrapper, RFC 4287
    /// 4.1.3.3; feedparser likewise drops it for Atom 1.0 only).
    case inlineXML
}

/// Accumulates the content of one element (see `CaptureMode`).
final class TextCapture {
    /// No single field may grow past this (a huge text node is cut, not kept whole).
    static let maximumBytes = 8 << 20
    // Per-event state of one parse on one thread, no access overlapping another: unchecked (see
    // FeedDocumentHandler).
    @exclusivity(unchecked) private(set) var mode: CaptureMode
    @exclusivity(unchecked) private(set) var truncated = false
    @exclusivity(unchecked) private(set) var childDepth = 0
    @exclusivity(unchecked) private var bytes: [UInt8] = []
    /// The common case, a field that is one run of text, becomes a String straight from the
    /// parser's buffer: one copy instead of two.
    @exclusivity(unchecked) private var single: String?
    @exclusivity(unchecked) private var skippedWrapper = false
    @exclusivity(unchecked) private var wrapperDepth = -1

    init(mode: CaptureMode) { self.mode = mode }

    /// Moves a pending single run into `bytes` before anything else is added.
    private func spillSingle() {
        if let text = single {
            bytes.append(contentsOf: text.utf8)
            single = nil
        }
    }

    /// Starts a new field, keeping the storage of the last one.
    func reset(mode: CaptureMode) {
        self.mode = mode
        truncated = false
        childDepth = 0
        skippedWrapper = false
        wrapperDepth = -1
        single = nil
        bytes.removeAll(keepingCapacity: true)
    }

    var text: String {
        var decoded = single ?? UTF8String.make(bytes)
        // C1 controls (U+0080–U+009F, C2 80 to C2 9F in UTF-8) never belong in text; they come
        // from Windows-1252 bytes or character references like &#146; written by tools that
        // meant Windows-1252.
        let replaced = decoded.withUTF8 { buffer -> String? in
            // memchr finds the candidate lead bytes (rare in most text) at memory speed.
            guard let base = buffer.baseAddress else { return nil }
            var firstC1: Int?
            var from = 0
            while from + 1 < buffer.count, let found = memchr(base + from, 0xC2, buffer.count - from - 1) {
                let offset = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
                if buffer[offset + 1] <= 0x9F {
                    firstC1 = offset
                    break
                }
                from = offset + 2
            }
            guard let firstC1 else { return nil }
            var index = firstC1
            var out = Array(buffer[..<firstC1])
            out.reserveCapacity(buffer.count + 8)
            while index < buffer.count {
                if buffer[index] == 0xC2, index + 1 < buffer.count, buffer[index + 1] <= 0x9F {
                    out.append(contentsOf: DocumentEncoding.windows1252ToUTF8([buffer[index + 1]], all: true))
                    index += 2
                } else {
                    out.append(buffer[index])
                    index += 1
                }
            }
            return UTF8String.make(out)
        }
        return replaced ?? decoded
    }

    func append(_ chunk: UnsafeBufferPointer<UInt8>) {
        guard bytes.count + (single?.utf8.count ?? 0) + chunk.count <= Self.maximumBytes else {
            truncated = true
            return
        }
        if escapesText {
            spillSingle()
            for byte in chunk { appendEscaped(byte) }
        } else if bytes.isEmpty && single == nil {
            single = UTF8String.make(chunk)
        } else {
            spillSingle()
            bytes.append(contentsOf: chunk)
        }
    }

    func appendDecoded(_ text: String) {
        spillSingle()
        if escapesText {
            for byte in text.utf8 { appendEscaped(byte) }
        } else {
            bytes.append(contentsOf: text.utf8)
        }
    }

    /// Whether character data is markup-escaped: inside serialised children, never in text
    /// mode's own level (which is the HTML or plain text as delivered).
    private var escapesText: Bool {
        mode != .text || childDepth > (wrapperDepth == 1 ? 1 : 0)
    }

    func openChild(_ name: XMLName, attributes: [XMLAttribute]) {
        spillSingle()
        childDepth += 1
        // Atom's `type="xhtml"` wraps its content in a `div`; so did TypePad's `type="html"`, an
        // XHTML `div` around escaped HTML, whose text is then the HTML, not text to escape.
        if childDepth == 1 && name.localName == "div" && !skippedWrapper
            && (mode == .xhtml || (mode == .text && name.namespaceURI == "http://www.w3.org/1999/xhtml"))
            && bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x09 || $0 == 0x0D }) {
            skippedWrapper = true
            wrapperDepth = 1
            bytes.removeAll()
            return
        }
        bytes.append(UInt8(ascii: "<"))
        bytes.append(contentsOf: name.localName.utf8)
        for attribute in attributes {
            bytes.append(UInt8(ascii: " "))
            bytes.append(contentsOf: attribute.name.localName.utf8)
            bytes.append(contentsOf: "=\"".utf8)
            for byte in attribute.value.utf8 {
                if byte == UInt8(ascii: "\"") { bytes.append(contentsOf: "&quot;".utf8) } else { appendEscaped(byte) }
            }
            bytes.append(UInt8(ascii: "\""))
        }
        bytes.append(contentsOf: Self.voidElements.contains(name.localName) ? Array(" />".utf8) : [UInt8(ascii: ">")])
    }

    func closeChild(_ name: XMLName) {
        spillSingle()
        defer { childDepth -= 1 }
        if childDepth == wrapperDepth {
            wrapperDepth = -1
            return
        }
        if Self.voidElements.contains(name.localName) { return }
        bytes.append(contentsOf: "</".utf8)
        bytes.append(contentsOf: name.localName.utf8)
        bytes.append(UInt8(ascii: ">"))
    }

    private func appendEscaped(_ byte: UInt8) {
        switch byte {
        case UInt8(ascii: "&"): bytes.append(contentsOf: "&amp;".utf8)
        case UInt8(ascii: "<"): bytes.append(contentsOf: "&lt;".utf8)
        case UInt8(ascii: ">"): bytes.append(contentsOf: "&gt;".utf8)
        default: bytes.append(byte)
        }
    }

    private static let voidElements: Set<String> = ["br", "img", "hr", "meta", "link", "input", "source", "wbr", "col", "area", "base", "embed", "param", "track"]
}
