import Foundation

/// One byte of a start tag after its name: tracks quotes, spaces and `=`, and says when an
/// attribute name begins (shared by the HTML tag cap and the XML start-tag guard).
enum AttributeCounter {
    @inline(__always)
    static func step(_ b: UInt8, quote: inout UInt8, afterSpace: inout Bool, afterEquals: inout Bool) -> Bool {
        if quote != 0 {
            if b == quote { quote = 0 }
            afterSpace = false
            afterEquals = false
            return false
        }
        switch b {
        case 0x22, 0x27:
            quote = b
            afterSpace = false
            afterEquals = false
            return false
        case 0x20, 0x09, 0x0A, 0x0D, 0x0C:
            afterSpace = true
            return false
        case 0x3D:
            afterEquals = true
            afterSpace = false
            return false
        default:
            let starts = afterSpace && !afterEquals && b != 0x2F
            afterSpace = false
            afterEquals = false
            return starts
        }
    }
}
