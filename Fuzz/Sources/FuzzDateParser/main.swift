import DatesAndCharsets
import FeedParser
import Foundation

/// Any text as a feed date: a date or nil, never a crash; a date it gives is a real instant.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDateParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if let date = FeedDate.parse(text) {
        precondition(date.timeIntervalSince1970.isFinite, "FeedDate.parse returned a non-finite date for \(text.debugDescription)")
    }
    return 0
}
