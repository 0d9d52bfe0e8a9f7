import HandsOnMessages
import HandsOnTestSupport
import Testing

@testable import HandsOnEngine
@testable import HandsOnFormats
@testable import HandsOnKit
@testable import handson

@Suite("doctor against a fake engine")
struct DoctorTests {
    func dockerThatAnswers(withImages present: Bool) -> FakeProcessRunner {
        let runner = FakeProcessRunner()
        runner.on(["docker", "version", "--format", "{{.Server.Version}}"], stdout: "20.10.24+dfsg1\n")
        runner.on(
            ["docker", "info", "--format"],
            stdout: "28.2.2|26.1.5+dfsg1|overlay2|[[Backing Filesystem extfs]]|buildx |cgroupfs\n")
        runner.on(
            ["docker", "image", "inspect", "--format", "{{.Id}}"], exit: present ? 0 : 1,
            stderr: present ? "" : "Error: No such image")
        runner.on(
            ["docker", "image", "inspect", "--format", "{{json .Config.Labels}}"],
            stdout: #"{"org.handson.stand-in":"local stand-in built from Debian packages"}"#)
        for image in LabImage.catalog {
            FakeImageArchive.serve(ImageReference(image.reference).qualified, fileBytes: 1_550_000, on: runner)
        }
        runner.on(["podman"], exit: 127, stderr: "podman: not here")
        return runner
    }

    @Test func missingLabImagesMakeItExitOneAndSayWhatToRun() async {
        let run = await CLIRun.run(["doctor"], runner: dockerThatAnswers(withImages: false))
        #expect(run.exitCode == 1)
        let answers = english(
            .doctor.engineAnswers,
            ["name": "docker", "client": "28.2.2", "server": "26.1.5+dfsg1", "driver": "overlay2"])
        #expect(run.stdout.contains(answers), "\(run.stdout)")
        #expect(run.stdout.contains(english(.doctor.builder.buildkit)))
        #expect(run.stdout.contains("golang:1.19"))
        #expect(run.stdout.contains(english(.doctor.lab.missing)))
        #expect(run.stdout.contains(english(.doctor.notReady)))
    }

    @Test func standInsAreNamedAsSuch() async {
        let run = await CLIRun.run(["doctor", "--json"], runner: dockerThatAnswers(withImages: true))
        #expect(run.stdout.contains("\"isStandIn\" : true"))
        #expect(run.stdout.contains(english(.doctor.lab.standIn)), "\(run.stdout)")
        #expect(run.stdout.contains("\"sizeBytes\" : 1550000"), "lab sizes are measured from the images' layers")
    }

    @Test func noEngineSaysHowToStartOne() async {
        let runner = FakeProcessRunner()
        runner.on(["docker"], exit: 1, stderr: "Cannot connect to the Docker daemon at unix:///var/run/docker.sock.")
        let run = await CLIRun.run(["doctor"], runner: runner)
        #expect(run.exitCode == 1)
        #expect(run.stdout.contains("Cannot connect to the Docker daemon"))
        // How to start one, after what each engine said.
        #expect(run.stdout.contains(english(.engine.noneAnswers, before: "reasons")), "\(run.stdout)")
        #expect(run.stdout.contains(english(.engine.noneAnswers, after: "reasons")), "\(run.stdout)")
    }
}
