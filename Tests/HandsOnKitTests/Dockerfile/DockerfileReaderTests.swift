import Foundation
import HandsOnMessages
import HandsOnTestSupport
import Testing

@testable import HandsOnEngine
@testable import HandsOnKit

@Suite("Reading Dockerfiles: stages, bases, forms, cgo")
struct DockerfileReaderTests {
    static let repositoryRoot = Repository.root

    @Test func theCoursesStartingDockerfileIsOneDynamicStage() async throws {
        let facts = try DockerfileFacts(
            text: try String(contentsOfFile: "\(Self.repositoryRoot)/apps/Dockerfile", encoding: .utf8))
        #expect(facts.stageCount == 1)
        #expect(facts.finalBase == "golang:1.19")
        #expect(facts.unpinnedBases.isEmpty)
        #expect(facts.command?.isExecForm == true)
        #expect(facts.cgoDisabledForScratch == nil)
    }

    @Test func theScratchSolutionDisablesCgoInTheStageItCopiesFrom() async throws {
        let path = "\(Self.repositoryRoot)/Chapters/optimize-image/solutions/scratch.Dockerfile"
        let facts = try DockerfileFacts(text: try String(contentsOfFile: path, encoding: .utf8))
        #expect(facts.stageCount == 2)
        #expect(facts.finalBase == "scratch")
        #expect(facts.cgoDisabledForScratch == true)
        #expect(facts.finalStage.instructions.first { $0.keyword == "COPY" }?.flags["from"] == "builder")
    }

    @Test func continuationsCommentsAndArgsAreRead() async throws {
        let facts = try DockerfileFacts(
            text: """
                # syntax=docker/dockerfile:1
                ARG GO_VERSION=1.19
                FROM golang:${GO_VERSION} AS base
                WORKDIR /src

                FROM base AS deps
                COPY go.mod ./
                RUN go mod download

                FROM deps AS builder
                COPY . .
                # build a static, stripped binary
                RUN CGO_ENABLED=0 GOOS=linux \\
                    # comments inside a continuation are dropped
                    go build -ldflags '-s -w' \\
                    -o /out/server ./server

                FROM scratch
                COPY --from=builder --chown=65532:65532 /out/server /server
                ENTRYPOINT ./server
                """)
        #expect(facts.stageCount == 4)
        #expect(facts.stages.map(\.name) == ["base", "deps", "builder", nil])
        #expect(facts.stages[0].base == "golang:1.19")
        #expect(facts.resolvedBase(of: facts.stages[2]) == "golang:1.19")
        let run = try #require(facts.stages[2].instructions.last)
        #expect(run.arguments == "CGO_ENABLED=0 GOOS=linux  go build -ldflags '-s -w'  -o /out/server ./server")
        #expect(run.line == 13)
        #expect(facts.cgoDisabledForScratch == true)
        #expect(facts.entrypoint?.isExecForm == false, "shell form: fails where there is no shell")
        #expect(facts.finalStage.instructions[0].flags == ["from": "builder", "chown": "65532:65532"])
    }

    @Test func cgoLeftOnBeforeScratchIsSeen() async throws {
        let facts = try DockerfileFacts(
            text:
                "FROM golang:1.19 AS b\nRUN go build -o /s ./server\nFROM scratch\nCOPY --from=b /s /s\nCMD [\"/s\"]\n")
        #expect(facts.cgoDisabledForScratch == false)
    }

    @Test(arguments: [
        ("FROM golang", ["golang"]), ("FROM golang:latest", ["golang:latest"]),
        ("FROM golang:1.19", []), ("FROM golang@sha256:abc", []), ("FROM scratch", []),
        ("FROM docker.io/library/golang:latest AS b\nFROM b", ["docker.io/library/golang:latest"]),
    ])
    func unpinnedBasesAreNamed(text: String, unpinned: [String]) throws {
        #expect(try DockerfileFacts(text: text).unpinnedBases == unpinned)
    }

    @Test func theEscapeDirectiveChangesTheContinuationCharacter() async throws {
        let stages = try DockerfileReader.read("# escape=`\nFROM busybox\nRUN echo a `\n  b\n")
        #expect(stages[0].instructions[0].arguments == "echo a  b")
    }

    @Test(arguments: [
        ("", 1, Message(.dockerfile.noFrom)),
        ("# only a comment\n", 1, Message(.dockerfile.noFrom)),
        ("RUN echo hi\nFROM busybox\n", 1, Message(.dockerfile.beforeFirstFrom, ["keyword": "RUN"])),
        ("FROM busybox\nFORM x\n", 2, Message(.dockerfile.unknownInstruction, ["keyword": "FORM"])),
        ("FROM\n", 1, Message(.dockerfile.fromNeedsImage)),
        ("FROM a b c d\n", 1, Message(.dockerfile.fromTakes, ["arguments": "a b c d"])),
    ])
    func whatCannotBeReadNamesTheLine(text: String, line: Int, problem: Message) {
        #expect {
            try DockerfileReader.read(text)
        } throws: { error in
            let error = error as? DockerfileError
            return error?.line == line && error?.problem == problem
                && error?.reason == Message(.dockerfile.line, ["line": "\(line)"], then: [problem])
                && error?.description == english(.dockerfile.line, ["line": "\(line)"]) + problem.text(in: .en)
        }
    }

    @Test func targetsDependencyOrderAndUser() async throws {
        let facts = try DockerfileFacts(
            text: """
                FROM golang:1.19 AS base
                WORKDIR /src
                FROM base AS deps
                COPY go.mod ./
                RUN go mod download
                FROM deps AS builder
                COPY . .
                RUN CGO_ENABLED=0 go build -o /out/server ./server
                FROM gcr.io/distroless/static-debian12:nonroot AS runner-distroless
                COPY --from=builder /out/server /server
                USER nonroot
                ENTRYPOINT ["/server"]
                FROM alpine:3.20 AS runner-alpine
                COPY --from=builder /out/server /server
                ENTRYPOINT ./server
                """)
        #expect(facts.finalBase == "alpine:3.20")
        #expect(facts.finalUser == nil)
        let distroless = try #require(facts.forTarget("runner-distroless"))
        #expect(distroless.finalBase == "gcr.io/distroless/static-debian12:nonroot")
        #expect(distroless.finalUser == "nonroot")
        #expect(distroless.entrypoint?.isExecForm == true)
        #expect(facts.forTarget("runner-alpine")?.entrypoint?.isExecForm == false)
        #expect(facts.forTarget("nope") == nil)
        #expect(distroless.downloadsDependenciesBeforeSource == true)
    }

    @Test func sourceCopiedBeforeTheDownloadDefeatsTheCache() async throws {
        let late = try DockerfileFacts(
            text: "FROM golang:1.19\nWORKDIR /src\nCOPY . .\nRUN go mod download\nRUN go build ./...\n")
        #expect(late.downloadsDependenciesBeforeSource == false)
        let early = try DockerfileFacts(
            text: "FROM golang:1.19\nWORKDIR /src\nCOPY go.mod go.sum ./\nRUN go mod download\nCOPY . .\n")
        #expect(early.downloadsDependenciesBeforeSource == true)
        let none = try DockerfileFacts(text: "FROM golang:1.19\nCOPY . .\n")
        #expect(none.downloadsDependenciesBeforeSource == nil)
    }
}
