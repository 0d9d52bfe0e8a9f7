import Foundation
import Testing

@testable import HandsOnKit

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

    @Test func assignmentsAreReadInAnythingButAProgram() {
        var padded = [UInt8](repeating: 0, count: 9000) + Array("API_TOKEN=handson-course-not-a-real-token-3f9a".utf8)
        let hidden = padded.withUnsafeMutableBytes { SecretPatterns.builtIn.matches(in: UnsafeRawBufferPointer($0)) }
        #expect(hidden.map(\.pattern.id) == ["assigned-token"], "text after NUL bytes is still read")
        var program = Array("\u{7f}ELF".utf8) + Array("tokenexpected=abcdefghijklmnopqrstuvwxyz0123".utf8)
        let code = program.withUnsafeMutableBytes { SecretPatterns.builtIn.matches(in: UnsafeRawBufferPointer($0)) }
        #expect(code.map(\.pattern.id) == [], "a program's string table runs names and values together")
        var token = Array("\u{7f}ELF\0\0ghp_R2d4Xk9vQpL7mN3sT8wZ1yB6cF0hJ5gA2eUi\0".utf8)
        let binary = token.withUnsafeMutableBytes { SecretPatterns.builtIn.matches(in: UnsafeRawBufferPointer($0)) }
        #expect(binary.map(\.pattern.id) == ["github-token"], "a token's shape counts in a program too")
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
