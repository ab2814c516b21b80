import DatesAndCharsets
import Testing
import TestSupport

@Suite struct UTF8StringTests {
    /// Every boundary of Unicode's table of well-formed sequences, each alone and inside ASCII
    /// long enough for the eight-byte skip, must get the standard library's answer.
    @Test func acceptsExactlyWhatTheStandardLibraryAccepts() {
        let sequences: [[UInt8]] = [
            [0x7F], [0x80], [0xC1, 0xBF], [0xC2, 0x80], [0xDF, 0xBF], [0xDF, 0xC0], [0xC2],
            [0xE0, 0x9F, 0x80], [0xE0, 0xA0, 0x80], [0xED, 0x9F, 0xBF], [0xED, 0xA0, 0x80], [0xEF, 0xBF, 0xBF],
            [0xEF, 0xBF], [0xE1, 0x80, 0x7F],
            [0xF0, 0x8F, 0xBF, 0xBF], [0xF0, 0x90, 0x80, 0x80], [0xF4, 0x8F, 0xBF, 0xBF], [0xF4, 0x90, 0x80, 0x80],
            [0xF5, 0x80, 0x80, 0x80], [0xF1, 0x80, 0x80], [0xFF], [0xFE],
        ]
        for sequence in sequences {
            for padding in [0, 3, 9, 17] {
                let bytes = Array(repeating: UInt8(ascii: "a"), count: padding) + sequence + Array("tail text".utf8)
                let expected = String(validating: bytes, as: UTF8.self)
                let valid = bytes.withUnsafeBufferPointer { UTF8String.validate($0) } != nil
                #expect(valid == (expected != nil), "\(sequence) after \(padding) ASCII bytes")
                #expect(UTF8String.make(bytes) == String(decoding: bytes, as: UTF8.self))
            }
        }
    }

    @Test func randomBytesGetTheStandardLibrarysTextAndASCIIFlag() {
        var generator = SplitMix(seed: 20261203)
        for round in 0..<20_000 {
            let count = Int(generator.next() % 40)
            // Mostly ASCII with lead and continuation bytes mixed in, so that valid multi-byte
            // sequences turn up as well as broken ones.
            let bytes = (0..<count).map { _ -> UInt8 in
                let value = generator.next()
                switch value % 4 {
                case 0: return UInt8(truncatingIfNeeded: 0x80 | (value >> 8) & 0x3F)
                case 1: return UInt8(truncatingIfNeeded: 0xC0 | (value >> 8) & 0x3F)
                default: return UInt8(truncatingIfNeeded: (value >> 8) & 0x7F)
                }
            }
            let expected = String(validating: bytes, as: UTF8.self)
            let answer = bytes.withUnsafeBufferPointer { UTF8String.validate($0) }
            #expect((answer != nil) == (expected != nil), "round \(round): \(bytes)")
            if let answer { #expect(answer == bytes.allSatisfy { $0 < 0x80 }) }
            #expect(UTF8String.make(bytes) == String(decoding: bytes, as: UTF8.self), "round \(round)")
            #expect(UTF8String.ifValid(bytes) == expected, "round \(round)")
            #expect(ByteDecoding.isValidUTF8(bytes) == (expected != nil), "round \(round)")
        }
    }

    @Test func madeStringsCompareAndCountLikeDecodedOnes() {
        let text = "Straße – “quoted” 東京 🙂 and plain ASCII after it"
        let made = UTF8String.make(Array(text.utf8))
        #expect(made == text)
        #expect(made.count == text.count)
        #expect(made.hashValue == text.hashValue)
        #expect(UTF8String.make([UInt8]()) == "")
    }
}
