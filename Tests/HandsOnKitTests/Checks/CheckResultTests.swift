import Foundation
import HandsOnTestSupport
import Testing

@testable import HandsOnEngine
@testable import HandsOnKit
@testable import HandsOnMessages

/// A check result carries its reason as a key and values: tools match on the key, a report renders it in its reader's
/// language, and results saved before reasons were recorded still read.
@Suite("Check results and their reasons")
struct CheckResultTests {
    static let made = Language.$current.withValue(.en) {
        CheckResult(
            id: .builds, passed: false,
            reason: Message(.grader.buildDidFinishWithin, ["seconds": "300"]) + .literal(" (ERROR: oops)"))
    }

    @Test func aResultMadeInOneLanguageIsShownInAnother() {
        #expect(Self.made.message == english(.grader.buildDidFinishWithin, ["seconds": "300"]) + " (ERROR: oops)")
        for language in [Language.ja, .ko] {
            let shown = Self.made.rendered(in: language)
            #expect(shown.message != Self.made.message)
            #expect(shown.message.contains("300") && shown.message.hasSuffix(" (ERROR: oops)"), "\(shown.message)")
            #expect(shown.reason == Self.made.reason, "the key and values stay")
            #expect(shown.text(in: .en) == Self.made.message)
        }
        #expect(CourseLanguageTests.isIn(.ja, Self.made.text(in: .ja)))
        #expect(CourseLanguageTests.isIn(.ko, Self.made.text(in: .ko)))
    }

    @Test func theReasonGoesThroughJSONAndOlderResultsStillRead() throws {
        let data = try JSONEncoder().encode(Self.made)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let reason = try #require(object["reason"] as? [String: Any])
        #expect(reason["key"] as? String == "grader.buildDidFinishWithin")
        #expect((reason["values"] as? [String: String])?["seconds"] == "300")
        #expect(object["id"] as? String == "builds")
        let back = try JSONDecoder().decode(CheckResult.self, from: data)
        #expect(back.reason == Self.made.reason && back.message == Self.made.message)

        let older = #"{"id":"size","passed":true,"message":"27.1MB: 70%","measured":"27.1MB"}"#
        let read = try JSONDecoder().decode(CheckResult.self, from: Data(older.utf8))
        #expect(read.reason == nil && read.id == .size)
        #expect(read.text(in: .ja) == "27.1MB: 70%", "an older result shows the sentence it saved")
    }

    @Test func listsAndLiteralsRenderInTheLanguageAsked() {
        let list = Message.list([Message(.grader.dockerfileBuilds), .literal("x")], separator: .list.clauseSeparator)
        #expect(list.text(in: .en) == english(.grader.dockerfileBuilds) + english(.list.clauseSeparator) + "x")
        #expect(list.text(in: .ja).hasSuffix("x") && CourseLanguageTests.isIn(.ja, list.text(in: .ja)))
        #expect(Message.literal("/app/server").text(in: .ko) == "/app/server")
        #expect(Message.list([]).text() == "")
    }
}
