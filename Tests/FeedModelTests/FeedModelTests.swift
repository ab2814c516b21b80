import FeedModel
import Foundation
import Testing

@Suite struct LogTextTests {
    @Test func controlCharactersAreEscapedAndOtherTextKept() {
        #expect(LogText.escaped("plain café – text") == "plain café – text")
        #expect(LogText.escaped("a\nforged line\r\t") == "a\\nforged line\\r\\t")
        #expect(LogText.escaped("\u{1B}[31mred") == "\\u{1B}[31mred")
        // Bidirectional overrides and the line separator can hide or reorder a log line.
        #expect(LogText.escaped("x\u{202E}y\u{2028}z") == "x\\u{202E}y\\u{2028}z")
    }
}

@Suite struct URLCredentialsTests {
    @Test func credentialsLeaveTheURLAndNothingElseDoes() {
        #expect(URLCredentials.stripped("https://user:secret@news.example/feed?a=b@c") == "https://news.example/feed?a=b@c")
        #expect(URLCredentials.stripped("https://news.example/@handle/feed") == "https://news.example/@handle/feed")
        #expect(URLCredentials.stripped("not a url") == "not a url")
    }

    @Test func everyURLInAMessageLosesItsCredentials() {
        let message = "fetch of https://a:b@one.example/x failed; moved to http://c:d@two.example/y (mail me@example.org)"
        #expect(URLCredentials.strippedInText(message) == "fetch of https://one.example/x failed; moved to http://two.example/y (mail me@example.org)")
    }
}

@Suite struct AddressRangeTests {
    @Test func rangesContainTheirAddressesOnly() throws {
        let range = try #require(AddressRange("10.1.0.0/16"))
        #expect(range.contains(try #require(IPAddress("10.1.200.3"))))
        #expect(!range.contains(try #require(IPAddress("10.2.0.1"))))
        // An IPv4 range never contains an IPv6 address.
        #expect(!range.contains(try #require(IPAddress("::ffff:10.1.0.1"))))
        let v6 = try #require(AddressRange("fd00::/8"))
        #expect(v6.contains(try #require(IPAddress("fd12:3456::1%eth0"))))
        #expect(!v6.contains(try #require(IPAddress("fe80::1"))))
        let single = try #require(AddressRange("192.168.1.5"))
        #expect(single.prefixLength == 32)
        #expect(single.contains(try #require(IPAddress("192.168.1.5"))))
        #expect(!single.contains(try #require(IPAddress("192.168.1.6"))))
    }

    @Test func textThatIsNoRangeIsRefused() {
        for text in ["", "10.1.0.0/33", "fd00::/129", "news.example", "10.1.0.0/x", "300.1.1.1"] {
            #expect(AddressRange(text) == nil, "\(text)")
        }
    }
}

@Suite struct ISO8601Tests {
    @Test func formatsAndReadsWholeSecondsInUTC() throws {
        let date = Date(timeIntervalSince1970: 1_730_721_600.75)
        #expect(ISO8601.string(date) == "2024-11-04T12:00:00Z")
        #expect(ISO8601.parse("2024-11-04T12:00:00Z") == Date(timeIntervalSince1970: 1_730_721_600))
        #expect(ISO8601.parse("2024-11-04") == Date(timeIntervalSince1970: 1_730_678_400))
        #expect(ISO8601.string(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00Z")
        #expect(ISO8601.parse("yesterday") == nil)
    }
}
