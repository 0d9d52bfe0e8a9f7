import Foundation
import HandsOnFormats
import HandsOnMessages
import HandsOnProcesses

/// What the audit could not read.
public enum ImageAuditError: Equatable, MessageError {
    /// The engine keeps the image's layers where HandsOn cannot read their files (a remote engine).
    case layersNotReadable(image: String)
    case configUnreadable(image: String, output: String)

    public var message: Message {
        switch self {
        case .layersNotReadable(let image): Message(.audit.layersNotReadable, ["image": image])
        case .configUnreadable(let image, let output):
            Message(.audit.configUnreadable, ["image": image, "output": output])
        }
    }
}

/// The parts of an image's config the audit and the rebuild's evidence read (`docker image inspect`'s `.Config`).
struct ImageRuntimeConfig: Decodable, Sendable {
    var user: String?
    var env: [String]?
    var labels: [String: String]?
    var cmd: [String]?
    var entrypoint: [String]?
    var workingDir: String?

    enum CodingKeys: String, CodingKey {
        case user = "User"
        case env = "Env"
        case labels = "Labels"
        case cmd = "Cmd"
        case entrypoint = "Entrypoint"
        case workingDir = "WorkingDir"
    }
}

extension ContainerEngine {
    /// Reads an image for the security audit: its layers measured (the base image's told by `bases` and the lab's),
    /// every file of the layers above the base scanned, its config and history, its user resolved against its own
    /// `/etc/passwd`. `runningUsers` is what the engine showed for a running container of it, where one was run.
    ///
    /// The files are read from the layers' folders where the engine keeps them on this machine, else (and with
    /// `source` `.archive`) from `image save`: both give the same findings.
    public func auditImage(
        _ reference: String, bases: [String], runningUsers: [String]?, from source: LayerSource
    ) async throws -> AuditedImage {
        let measurement = try await analyzeImage(reference, bases: bases)
        let baseLayers = measurement.layers.prefix(while: \.fromBase).count
        let runtime = try await imageRuntimeConfig(reference)
        let history = try await imageHistory(reference)
        let read: (contents: [AuditedImage.LayerContent], baseOwn: Set<String>, passwd: String?)
        if source != .archive, let onDisk = try await layersOnDisk(reference),
            onDisk.folders.count == measurement.layers.count
        {
            read = await Self.auditFolders(LayerFolderFiles(folders: onDisk.folders), measurement, baseLayers)
        } else {
            read = try await auditArchive(reference, measurement: measurement, baseLayers: baseLayers)
        }
        var config: [AuditedImage.ConfigText] = []
        for entry in runtime.env ?? [] {
            config.append(.init(field: .env, name: String(entry.prefix { $0 != "=" }), text: entry))
        }
        for (name, value) in (runtime.labels ?? [:]).sorted(by: { $0.key < $1.key }) {
            config.append(.init(field: .labels, name: name, text: "\(name)=\(value)"))
        }
        if let cmd = runtime.cmd { config.append(.init(field: .cmd, name: "", text: cmd.joined(separator: " "))) }
        if let entrypoint = runtime.entrypoint {
            config.append(.init(field: .entrypoint, name: "", text: entrypoint.joined(separator: " ")))
        }
        for line in history { config.append(.init(field: .history, name: line, text: line)) }
        return AuditedImage(
            measurement: measurement, baseLayers: baseLayers,
            user: ImageUser(configured: runtime.user ?? "", passwd: read.passwd), runningUsers: runningUsers,
            contents: read.contents, config: config, baseOwnFiles: read.baseOwn, passwd: read.passwd)
    }

    /// The audit's reading of the layers' folders on this machine, on a thread of its own.
    static func auditFolders(_ files: LayerFolderFiles, _ measurement: ImageSizeMeasurement, _ baseLayers: Int) async
        -> (contents: [AuditedImage.LayerContent], baseOwn: Set<String>, passwd: String?)
    {
        await BlockingWork.run {
            let scanner = FileContentScanner()
            var contents: [AuditedImage.LayerContent] = []
            for index in baseLayers..<files.folders.count {
                for finding in files.scan(layer: index, with: scanner) {
                    let outer = String(finding.path.split(separator: "!").first ?? "")
                    contents.append(
                        AuditedImage.LayerContent(
                            finding: finding, layer: index + 1, inFinalImage: !files.isHidden(outer, above: index)))
                }
            }
            var baseOwn = Set<String>()
            for (layer, path) in AuditedImage.secretFiles(measurement, contents, baseLayers: baseLayers)
            where files.isBaseOwn(path, layer: layer - 1, baseLayers: baseLayers) {
                baseOwn.insert("\(layer) \(path)")
            }
            let passwd = files.file("etc/passwd", upTo: files.folders.count - 1).map {
                String(decoding: $0, as: UTF8.self)
            }
            return (contents, baseOwn, passwd)
        }
    }

    /// `.Config` of the image: its user, environment, labels, command.
    func imageRuntimeConfig(_ reference: String) async throws -> ImageRuntimeConfig {
        let result = try await execute(["image", "inspect", "--format", "{{json .Config}}", reference], timeout: 30)
        guard result.succeeded else { throw EngineError.commandFailed(result) }
        let line = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        guard line != "null", let data = line.data(using: .utf8),
            let config = try? JSONDecoder().decode(ImageRuntimeConfig.self, from: data)
        else {
            if line == "null" { return ImageRuntimeConfig() }
            throw ImageAuditError.configUnreadable(image: reference, output: String(line.prefix(200)))
        }
        return config
    }

    /// Every line of the image's history, the ones that made no layer too (`ENV`, `ARG`, `LABEL`): where a build
    /// argument's value used by a `RUN` is kept.
    func imageHistory(_ reference: String) async throws -> [String] {
        let result = try await execute(
            ["image", "history", "--no-trunc", "--format", "{{.CreatedBy}}", reference], timeout: 30)
        guard result.succeeded else { throw EngineError.commandFailed(result) }
        return TextLines.split(result.stdout).filter { !$0.isEmpty }.reversed()
    }
}
