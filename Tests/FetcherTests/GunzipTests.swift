import Fetcher
import Foundation
import TestSupport
import Testing

@Suite struct GunzipTests {
    func gzip(_ data: Data) throws -> [UInt8] {
        [UInt8](try GzipTool.compress(data))
    }

    @Test func decompressesWhatGzipWrote() throws {
        let text = String(repeating: "<url><loc>https://news.example/a</loc></url>\n", count: 5000)
        let compressed = try gzip(Data(text.utf8))
        #expect(Gunzip.isGzip(compressed))
        #expect(compressed.count < text.utf8.count / 10)
        #expect(try Gunzip.decompress(compressed, limit: 1 << 20) == Array(text.utf8))
        // Two members one after the other are one file.
        let second = try gzip(Data("tail".utf8))
        #expect(try Gunzip.decompress(compressed + second, limit: 1 << 20) == Array((text + "tail").utf8))
    }

    @Test func refusesABombAndCorruptData() throws {
        let zeros = try gzip(Data(count: 4 << 20))
        #expect(throws: Gunzip.Failure.tooLarge(limit: 1 << 20)) { try Gunzip.decompress(zeros, limit: 1 << 20) }
        let compressed = try gzip(Data(String(repeating: "news ", count: 1000).utf8))
        #expect(throws: Gunzip.Failure.self) { try Gunzip.decompress(Array(compressed.prefix(compressed.count / 2)), limit: 1 << 20) }
        var flipped = compressed
        flipped[12] ^= 0xFF
        #expect(throws: Gunzip.Failure.self) { try Gunzip.decompress(flipped, limit: 1 << 20) }
        #expect(!Gunzip.isGzip(Array("<urlset>".utf8)))
    }
}
