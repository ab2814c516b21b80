import Foundation
import DatesAndCharsets

/// A JSON value as the JSON Feed reader needs it: plain Swift values, numbers kept as their
/// text (an `id` of 123 reads as "123").
indirect enum JSONValue: Sendable, Equatable {
    case string(String)
    case number(String)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([String: JSONValue])

    var string: String? { if case let .string(text) = self { return text }; return nil }
    var object: [String: JSONValue]? { if case let .object(members) = self { return members }; return nil }
    var array: [JSONValue]? { if case let .array(items) = self { return items }; return nil }
    subscript(key: String) -> JSONValue? { object?[key] }
}

/// Why a document is not JSON, with the line and column where reading stopped.
struct JSONReadError: Error, Sendable, CustomStringConvertible {
    var message: String
    var line: Int
    var column: Int
    var description: String { "line \(line), column \(column): \(message)" }
}

/// A small strict JSON reader (RFC 8259) over bytes, with two protections a feed reader needs
/// against hostile documents: nesting deeper than `maxDepth` is refused, and the elements of
/// one chosen array (a JSON Feed's `items`) past `keep` are skipped without being built, so a
/// document of 300,000 tiny items costs the memory of `keep` of them.
struct JSONReader {
    static let maxDepth = 256

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    private var depth = 0
    /// Top-level member whose array elements are limited, and how many are kept.
    private let limitedMember: String?
    private let keep: Int?
    /// Elements of the limited array that were skipped.
    private(set) var skippedElements = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>, limiting member: String? = nil, keep: Int? = nil) {
        self.bytes = bytes
        self.limitedMember = member
        self.keep = keep
    }

    /// Reads the one value the document holds.
    mutating func read() throws(JSONReadError) -> JSONValue {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
        skipSpace()
        let value = try readValue(topLevel: true)
        skipSpace()
        guard index == bytes.count else { throw error("unexpected text after the JSON value") }
        return value
    }

    private func error(_ message: String) -> JSONReadError {
        var line = 1, column = 1
        for position in 0..<min(index, bytes.count) {
            if bytes[position] == 0x0A { line += 1; column = 1 } else if bytes[position] & 0xC0 != 0x80 { column += 1 }
        }
        return JSONReadError(message: message, line: line, column: column)
    }

    private mutating func skipSpace() {
        while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 {
            index += 1
        }
    }

    private mutating func readValue(topLevel: Bool = false, build: Bool = true) throws(JSONReadError) -> JSONValue {
        guard index < bytes.count else { throw error("the document ends where a value should be") }
        switch bytes[index] {
        case 0x7B: return try readObject(topLevel: topLevel, build: build)
        case 0x5B: return try readArray(limit: nil, build: build)
        case 0x22: return .string(try readString(build: build))
        case 0x74: try expect("true"); return .bool(true)
        case 0x66: try expect("false"); return .bool(false)
        case 0x6E: try expect("null"); return .null
        case 0x2D, 0x30...0x39: return .number(try readNumber())
        default: throw error("unexpected character '\(Unicode.Scalar(bytes[index]))' where a value should be")
        }
    }

    private mutating func expect(_ word: StaticString) throws(JSONReadError) {
        let length = word.utf8CodeUnitCount
        guard index + length <= bytes.count else { throw error("the document ends inside a literal") }
        for offset in 0..<length where bytes[index + offset] != word.utf8Start[offset] {
            throw error("unknown literal (expected \(word))")
        }
        index += length
    }

    private mutating func enter() throws(JSONReadError) {
        depth += 1
        if depth > Self.maxDepth { throw error("nested deeper than \(Self.maxDepth) levels") }
    }

    private mutating func readObject(topLevel: Bool, build: Bool) throws(JSONReadError) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        index += 1
        var members: [String: JSONValue] = [:]
        skipSpace()
        if index < bytes.count, bytes[index] == 0x7D { index += 1; return .object(members) }
        while true {
            skipSpace()
            guard index < bytes.count, bytes[index] == 0x22 else { throw error("expected a member name in quotes") }
            let name = try readString(build: true)
            skipSpace()
            guard index < bytes.count, bytes[index] == 0x3A else { throw error("expected ':' after the member name") }
            index += 1
            skipSpace()
            let value: JSONValue
            if topLevel, name == limitedMember, index < bytes.count, bytes[index] == 0x5B {
                value = try readArray(limit: keep, build: build)
            } else {
                value = try readValue(build: build)
            }
            if build { members[name] = value }
            skipSpace()
            guard index < bytes.count else { throw error("the document ends inside an object") }
            if bytes[index] == 0x2C { index += 1; continue }
            if bytes[index] == 0x7D { index += 1; return .object(members) }
            throw error("expected ',' or '}' in an object")
        }
    }

    private mutating func readArray(limit: Int?, build: Bool) throws(JSONReadError) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        index += 1
        var items: [JSONValue] = []
        skipSpace()
        if index < bytes.count, bytes[index] == 0x5D { index += 1; return .array(items) }
        var count = 0
        while true {
            skipSpace()
            let keepThis = build && (limit.map { count < $0 } ?? true)
            let value = try readValue(build: keepThis)
            if keepThis { items.append(value) } else if limit != nil { skippedElements += 1 }
            count += 1
            skipSpace()
            guard index < bytes.count else { throw error("the document ends inside an array") }
            if bytes[index] == 0x2C { index += 1; continue }
            if bytes[index] == 0x5D { index += 1; return .array(items) }
            throw error("expected ',' or ']' in an array")
        }
    }

    private mutating func readNumber() throws(JSONReadError) -> String {
        let start = index
        if bytes[index] == 0x2D { index += 1 }
        func digits() -> Int {
            let from = index
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 { index += 1 }
            return index - from
        }
        guard digits() > 0 else { throw error("a number without digits") }
        if index < bytes.count, bytes[index] == 0x2E {
            index += 1
            guard digits() > 0 else { throw error("no digits after a decimal point") }
        }
        if index < bytes.count, bytes[index] == 0x65 || bytes[index] == 0x45 {
            index += 1
            if index < bytes.count, bytes[index] == 0x2B || bytes[index] == 0x2D { index += 1 }
            guard digits() > 0 else { throw error("no digits in an exponent") }
        }
        return UTF8String.make(UnsafeBufferPointer(rebasing: bytes[start..<index]))
    }

    /// Reads a string token (at its opening quote); invalid UTF-8 becomes U+FFFD.
    private mutating func readString(build: Bool) throws(JSONReadError) -> String {
        index += 1
        let start = index
        // Fast path: no escapes.
        while index < bytes.count, bytes[index] != 0x22, bytes[index] != 0x5C {
            guard bytes[index] >= 0x20 else { throw error("a control character inside a string (escape it)") }
            index += 1
        }
        guard index < bytes.count else { throw error("the document ends inside a string") }
        if bytes[index] == 0x22 {
            index += 1
            return build ? UTF8String.make(UnsafeBufferPointer(rebasing: bytes[start..<(index - 1)])) : ""
        }
        var out: [UInt8] = build ? Array(UnsafeBufferPointer(rebasing: bytes[start..<index])) : []
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x22 {
                index += 1
                return build ? UTF8String.make(out) : ""
            }
            guard byte >= 0x20 else { throw error("a control character inside a string (escape it)") }
            guard byte == 0x5C else {
                if build { out.append(byte) }
                index += 1
                continue
            }
            index += 1
            guard index < bytes.count else { break }
            let escaped = bytes[index]
            index += 1
            switch escaped {
            case 0x22, 0x5C, 0x2F: out.append(escaped)
            case 0x62: out.append(0x08)
            case 0x66: out.append(0x0C)
            case 0x6E: out.append(0x0A)
            case 0x72: out.append(0x0D)
            case 0x74: out.append(0x09)
            case 0x75:
                var scalar = try readHex4()
                if (0xD800...0xDBFF).contains(scalar), index + 1 < bytes.count, bytes[index] == 0x5C, bytes[index + 1] == 0x75 {
                    index += 2
                    let low = try readHex4()
                    if (0xDC00...0xDFFF).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        out.append(contentsOf: Array("\u{FFFD}".utf8))
                        scalar = low
                    }
                }
                let value = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                if build { out.append(contentsOf: Array(String(Character(value)).utf8)) }
            default:
                throw error("an unknown escape '\\\(Unicode.Scalar(escaped))' in a string")
            }
        }
        throw error("the document ends inside a string")
    }

    private mutating func readHex4() throws(JSONReadError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw error("the document ends inside a \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case 0x30...0x39: digit = UInt32(byte - 0x30)
            case 0x41...0x46: digit = UInt32(byte - 0x41 + 10)
            case 0x61...0x66: digit = UInt32(byte - 0x61 + 10)
            default: throw error("a \\u escape needs four hex digits")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }
}
