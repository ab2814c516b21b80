import FeedConfig

/// Any text as a configuration file: a configuration or a ConfigError, never a crash. The path
/// is in a folder that does not exist, so relative `opml:` files are never found.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfigLoader(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if let configuration = try? ConfigLoader.parse(yaml: text, path: "/nonexistent-fuzz-folder/feedcorpus.yaml") {
        _ = configuration.feeds.count
    }
    return 0
}
