import FeedModel
import Foundation
import XMLSupport

/// A format adapter: receives the element events of one feed format and builds `ParsedFeed`.
protocol FeedFormatAdapter: AnyObject {
    /// Called for every element outside a captured text; returns how to capture the element's
    /// content, or nil when the adapter needs no text from it.
    func start(_ element: Element, attributes: [XMLAttribute], base: String?) -> CaptureMode?
    /// Called for every element end; `text` is the captured content when `start` asked for it.
    func end(_ element: Element, text: String?, base: String?)
    func finish() -> ParsedFeed
    /// Keep at most `limit` entries (count the rest).
    func limitEntries(to limit: Int?)
}
