import Testing

@testable import HandsOnFormats

@Suite("A run of bytes found among others")
struct ByteSearchTests {
    @Test(
        arguments: [
            ("\r\n\r\n", "HTTP/1.1 200 OK\r\nA: b\r\n\r\nbody", 21),
            ("\r\n\r\n", "a\r\n\r\r\n\r\n", 4),  // a false start just before the real one
            ("end", "the end", 4),  // at the very end
            ("abc", "ab", nil),  // longer than what is searched
            ("x", "", nil),
            ("", "anything", nil),
            ("batch-1", "docker\0build\0-t\0handson-grade/x:batch-1-ab\0", 32),
        ] as [(String, String, Int?)])
    func theFirstPlaceItBeginsOrNone(needle: String, haystack: String, offset: Int?) {
        let bytes = Array(haystack.utf8)
        let found = bytes.withUnsafeBufferPointer { ByteSearch.firstOffset(of: Array(needle.utf8), in: $0) }
        #expect(found == offset, "\(needle.debugDescription) in \(haystack.debugDescription)")
    }
}
