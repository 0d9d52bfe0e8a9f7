import Foundation
import HandsOnTestSupport
import Testing

@testable import HandsOnEngine
@testable import HandsOnMessages

@Suite("Secret patterns (the rules file)")
struct SecretPatternsTests {
    /// Made-up values in the shapes the services issue: none of them is real.
    static let found: [(text: String, pattern: String)] = [
        ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB\n", "private-key"),
        (
            "{\"private_key\": \"-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\\n\"}",
            "private-key"
        ),
        ("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBF6bmFkBCADSh4Ny8yZ6bFo9KQbq3Kx2Nv8JgYt\n", "private-key"),
        ("key: LS0tLS1CRUdJTiBPUEVOU1NIIFBSSVZBVEUgS0VZLS0tLS0KYjNCbGJu", "private-key-base64"),
        ("aws_access_key_id = AKIAQ3EGRZ7XHLTWX4PN", "aws-access-key-id"),
        ("aws_secret_access_key = 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", "aws-secret-access-key"),
        ("export GITHUB_TOKEN=ghp_R2d4Xk9vQpL7mN3sT8wZ1yB6cF0hJ5gA2eUi", "github-token"),
        ("url = https://deploy:ghp_R2d4Xk9vQpL7mN3sT8wZ1yB6cF0hJ5gA2eUi@github.com/org/app.git", "url-credentials"),
        ("[remote \"origin\"]\n\turl = https://alice:s3cr3tPass@git.example.com/app.git\n", "url-credentials"),
        ("GITLAB=glpat-x7Rk2mPq9LsT4vWz8NbY", "gitlab-token"),
        ("SLACK_BOT=xoxb-2384923849-2384923849234-Kx8RmP2qL9sT4vWz", "slack-token"),
        ("hook https://hooks.slack.com/services/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", "slack-webhook"),
        ("google = AIzaSyD3k9Xq2Lm7Np4Rt8Vw1Yz6Bc0Fh5Jk2Ms", "gcp-api-key"),
        ("DATABASE_PASSWORD=Tr0ub4dor&3x", "assigned-password"),
        ("db:\n  password: \"k7#Qm2!pLz\"\n", "assigned-password"),
        ("API_TOKEN=handson-course-not-a-real-token-3f9a", "assigned-token"),
        ("client_secret := \"f7Kq2LmZ9xR4tW8vB3nP6sY1cH5jD0gE\"", "assigned-token"),
        ("{\"auths\": {\"registry.example\": {\"auth\": \"YWxpY2U6czNjcjN0UGFzcw==\"}}}", "docker-config-auth"),
        ("npm_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8", "npm-token"),
    ]

    @Test(arguments: found)
    func findsEachKind(_ sample: (text: String, pattern: String)) {
        let ids = SecretPatterns.builtIn.matches(in: sample.text).map(\.pattern.id)
        #expect(ids.contains(sample.pattern), "\(ids)")
    }

    /// What a program's code or a documented setting holds without holding a secret.
    static let clean: [String] = [
        "if block.Type == \"PRIVATE KEY\" || strings.HasSuffix(block.Type, \" PRIVATE KEY\") {",
        "-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----",
        "git clone https://github.com/example/app.git",
        "DB_URL=postgres://app:${DB_PASSWORD}@db:5432/app",
        "password: ${DB_PASSWORD}",
        "PASSWORD=changeme",
        "token := r.Header.Get(\"Authorization\")",
        "ghp_short",
        "AKIA is the prefix of an AWS key id",
        "the secret = of a good image is small",
        "docs at http://localhost:9090/health",
    ]

    @Test(arguments: clean)
    func leavesCodeAndPlaceholdersAlone(_ text: String) {
        #expect(SecretPatterns.builtIn.matches(in: text).map(\.pattern.id) == [])
    }

    /// An ELF header (64-bit, little-endian, an executable) and `tail` after it.
    static func program(_ tail: String) -> [UInt8] {
        var header = [UInt8](repeating: 0, count: 64)
        header.replaceSubrange(0..<7, with: [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1])
        header[16] = 2
        return header + Array(tail.utf8)
    }

    @Test func assignmentsAreReadInAnythingButAProgram() {
        var padded = [UInt8](repeating: 0, count: 9000) + Array("API_TOKEN=handson-course-not-a-real-token-3f9a".utf8)
        let hidden = padded.withUnsafeMutableBytes { SecretPatterns.builtIn.matches(in: UnsafeRawBufferPointer($0)) }
        #expect(hidden.map(\.pattern.id) == ["assigned-token"], "text after NUL bytes is still read")
        var program = Self.program("\0PasswordEprotobuf:\"bytes,2,opt,name=password,proto3\" json:\"password\"")
        let code = program.withUnsafeMutableBytes { SecretPatterns.builtIn.matches(in: UnsafeRawBufferPointer($0)) }
        #expect(code.map(\.pattern.id) == [], "a program's string table runs names, tags and values together")
        var token = Self.program("\0\0ghp_R2d4Xk9vQpL7mN3sT8wZ1yB6cF0hJ5gA2eUi\0")
        let binary = token.withUnsafeMutableBytes { SecretPatterns.builtIn.matches(in: UnsafeRawBufferPointer($0)) }
        #expect(binary.map(\.pattern.id) == ["github-token"], "a token's shape counts in a program too")
        var disguised = Array("\u{7f}ELF\n".utf8) + Array("API_TOKEN=handson-course-not-a-real-token-3f9a".utf8)
        let fake = disguised.withUnsafeMutableBytes { SecretPatterns.builtIn.matches(in: UnsafeRawBufferPointer($0)) }
        #expect(fake.map(\.pattern.id) == ["assigned-token"], "four bytes of ELF magic do not make a program")
    }

    @Test func utf16TextIsReadToo() {
        let text = "API_TOKEN=handson-course-not-a-real-token-3f9a\n"
        for (bom, bytes) in [
            ([0xff, 0xfe] as [UInt8], Array(text.utf16).flatMap { [UInt8($0 & 0xff), UInt8($0 >> 8)] }),
            ([], Array(text.utf16).flatMap { [UInt8($0 >> 8), UInt8($0 & 0xff)] }),
        ] {
            var all = bom + bytes
            let found = all.withUnsafeMutableBytes { SecretPatterns.builtIn.matches(in: UnsafeRawBufferPointer($0)) }
            #expect(found.map(\.pattern.id) == ["assigned-token"])
        }
    }

    @Test(arguments: [
        "DB_PASSWORD_FILE=/run/secrets/db_password", "TOKEN_PATH=/var/run/secrets/kubernetes.io/token",
        "PWD=/usr/src/app", "password_dir: ./secrets/",
    ])
    func whereASecretIsKeptIsNoSecret(_ text: String) {
        #expect(SecretPatterns.builtIn.matches(in: text).map(\.pattern.id) == [])
    }

    @Test func aLongRunOfNameCharactersIsReadOnce() {
        // Two megabytes of `token`, then a base64 run past the longest a key is: each hit would walk the whole run;
        // passed over whole, it takes a moment.
        let run = String(repeating: "token", count: 400_000) + "=" + String(repeating: "LS0tLS1CRUdJTi", count: 10_000)
        #expect(SecretPatterns.builtIn.matches(in: run).map(\.pattern.id) == [])
    }

    @Test func everyKindIsSaidInEveryLanguage() {
        for pattern in SecretPatterns.builtIn.patterns {
            for language in Language.allCases {
                let key = "security.kind.\(pattern.kind)"
                #expect(MessageCatalog.table(language)[key] != nil, "\(key) in \(language)")
            }
        }
    }
}
