import DatesAndCharsets
import FeedModel
import Foundation
import Testing

@Suite struct FeedDateTests {
    @Test(arguments: [
        ("Mon, 04 Nov 2024 12:00:00 GMT", "2024-11-04T12:00:00Z"),
        ("Mon, 4 Nov 2024 12:00:00 +0100", "2024-11-04T11:00:00Z"),
        ("4 Nov 2024 12:00 EST", "2024-11-04T17:00:00Z"),
        ("Mon, 04 Nov 24 12:00:00 PDT", "2024-11-04T19:00:00Z"),
        ("mon, 04 nov 2024 12:00:00 gmt", "2024-11-04T12:00:00Z"),
        ("Tue, 04 Nov 2024 12:00:00 GMT", "2024-11-04T12:00:00Z"),  // wrong weekday is ignored
        ("Mon,  04  Nov  2024  12:00:00  Z", "2024-11-04T12:00:00Z"),
        ("04 Nov 2024 12:00:00 0530", "2024-11-04T06:30:00Z"),
        ("2024-11-04T12:00:00Z", "2024-11-04T12:00:00Z"),
        ("2024-11-04T12:00:00.123+02:00", "2024-11-04T10:00:00Z"),
        ("2024-11-04T12:00+0200", "2024-11-04T10:00:00Z"),
        ("2024-11-04", "2024-11-04T00:00:00Z"),
        ("2024-11-04 12:00:00", "2024-11-04T12:00:00Z"),
    ])
    func parsesDates(input: String, expected: String) throws {
        let parsed = try #require(FeedDate.parse(input), "\(input)")
        #expect(ISO8601.string(parsed) == expected, "\(input)")
    }

    @Test(arguments: ["", "yesterday", "32 Nov 2024", "2024-13-01", "Mon, 04 Foo 2024", "2024-02-30", "12:00"])
    func garbageGivesNoDate(input: String) {
        #expect(FeedDate.parse(input) == nil, "\(input)")
    }
}

@Suite struct MoreDateTests {
    @Test(arguments: [
        ("Mon Nov  4 12:00:00 2024", "2024-11-04T12:00:00Z"),           // asctime
        ("Montag, 4. November 2024 12:00:00 +0100", "2024-11-04T11:00:00Z"),
        ("lun., 4 nov. 2024 12:00:00 +0100", "2024-11-04T11:00:00Z"),
        ("4 de noviembre de 2024 12:00 GMT", "2024-11-04T12:00:00Z"),
        ("4 dicembre 2024 08:30 CET", "2024-12-04T07:30:00Z"),
        ("04 Mär 2024 10:00:00 GMT", "2024-03-04T10:00:00Z"),
        ("4 oktober 2024 10:00 +0200", "2024-10-04T08:00:00Z"),
        ("Mon, 04 Nov 2024 12:00:00 GMT+1", "2024-11-04T11:00:00Z"),
        ("Mon, 04 Nov 2024 12:00:00 -05:00", "2024-11-04T17:00:00Z"),
        ("2024-11-04T12:00:00.123456789Z", "2024-11-04T12:00:00Z"),
        ("20241104T120000Z", "2024-11-04T12:00:00Z"),
        ("2024-11", "2024-11-01T00:00:00Z"),
        ("2024", "2024-01-01T00:00:00Z"),
    ])
    func parses(input: String, expected: String) throws {
        let parsed = try #require(FeedDate.parse(input), "\(input)")
        #expect(ISO8601.string(parsed) == expected, "\(input)")
    }
}
