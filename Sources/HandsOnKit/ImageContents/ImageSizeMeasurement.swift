import Foundation
import Synchronization

/// An image's size as HandsOn measures it, the same on every engine and store: the bytes of the files in each layer
/// (as Docker's overlay2 store counts a layer), summed over the layers, read from the image's own layer archives.
public struct ImageSizeMeasurement: Sendable, Codable, Equatable {
    public struct Layer: Sendable, Codable, Equatable {
        /// The layer's name in the archive (`blobs/sha256/...`, `<id>/layer.tar`).
        public let entry: String
        public let fileBytes: Int64
        /// The layer's bytes as the engine stores and exports it (compressed on the containerd store).
        public let storedBytes: Int64
        public let compressed: Bool
    }

    public let sizeBytes: Int64
    /// `sizeBytes` written the way `docker image ls` writes sizes (`6.73MB`).
    public let size: String
    public let layers: [Layer]

    public init(layers: [Layer]) {
        self.layers = layers
        sizeBytes = layers.reduce(0) { $0 + $1.fileBytes }
        size = ByteFormatting.decimal(sizeBytes)
    }

    /// Reads a whole image archive held in memory (tests, small fixtures).
    static func read(archive bytes: [UInt8], reference: String? = nil) throws -> ImageSizeMeasurement {
        var reader = ImageArchiveReader()
        try bytes.withUnsafeBytes { try reader.feed($0) }
        return ImageSizeMeasurement(archived: try reader.finish(reference: reference))
    }

    init(archived: [ArchivedLayer]) {
        self.init(layers: archived.map {
            Layer(entry: $0.entry, fileBytes: $0.count.fileBytes, storedBytes: $0.count.storedBytes,
                  compressed: $0.count.compression != .none)
        })
    }
}

extension ContainerEngine {
    /// Measures an image from its own layers: `image save` streamed through a tar reader (bounded memory, one pass),
    /// remembered by image id, so an unchanged image is read once.
    public func measureImage(_ reference: String, timeout: Double = 900) throws -> ImageSizeMeasurement {
        let id = try checked(["image", "inspect", "--format", "{{.Id}}", reference], timeout: 30).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        if let known = MeasuredSizeCache.shared.lookUp(id) { return known }
        // The runner hands output over on its own thread; the reader and its first error live behind one lock.
        let stream = Mutex<(reader: ImageArchiveReader, error: (any Error)?)>((ImageArchiveReader(), nil))
        let result = try execute(["image", "save", reference], timeout: timeout, outputLimit: 4096) { kind, chunk in
            guard kind == .standardOutput else { return }
            stream.withLock { state in
                guard state.error == nil else { return }
                do { try chunk.withUnsafeBytes { try state.reader.feed($0) } } catch { state.error = error }
            }
        }
        guard result.succeeded else { throw EngineError.commandFailed(result) }
        let measurement = try stream.withLock { state -> ImageSizeMeasurement in
            if let error = state.error { throw error }
            return ImageSizeMeasurement(archived: try state.reader.finish(reference: reference))
        }
        MeasuredSizeCache.shared.store(measurement, for: id)
        return measurement
    }
}

/// Measurements by image id: the id is a digest of the image's content, so its size never changes. Kept in memory
/// for this process and in `~/.cache/handson/sizes/` for the next (a lesson's check measures the same base image
/// each time it runs).
final class MeasuredSizeCache: Sendable {
    static let shared = MeasuredSizeCache(directory: MeasuredSizeCache.defaultDirectory)

    private let memory = Mutex<[String: ImageSizeMeasurement]>([:])
    let directory: String?

    init(directory: String?) { self.directory = directory }

    func lookUp(_ id: String) -> ImageSizeMeasurement? {
        guard Self.isDigest(id) else { return nil }
        if let known = memory.withLock({ $0[id] }) { return known }
        guard let directory, let data = FileManager.default.contents(atPath: "\(directory)/\(Self.fileName(id))"),
              let stored = try? JSONDecoder().decode(ImageSizeMeasurement.self, from: data) else { return nil }
        memory.withLock { $0[id] = stored }
        return stored
    }

    func store(_ measurement: ImageSizeMeasurement, for id: String) {
        guard Self.isDigest(id) else { return }
        memory.withLock { $0[id] = measurement }
        guard let directory, let data = try? JSONEncoder().encode(measurement) else { return }
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try? data.write(to: URL(fileURLWithPath: "\(directory)/\(Self.fileName(id))"), options: .atomic)
    }

    /// Only content-addressed ids (`sha256:` + hex, or bare hex as podman prints them) are remembered.
    static func isDigest(_ id: String) -> Bool {
        let hex = id.hasPrefix("sha256:") ? id.dropFirst(7) : id[...]
        return hex.count == 64 && hex.allSatisfy(\.isHexDigit)
    }

    static func fileName(_ id: String) -> String {
        (id.hasPrefix("sha256:") ? String(id.dropFirst(7)) : id) + ".json"
    }

    static var defaultDirectory: String? {
        let environment = ProcessInfo.processInfo.environment
        if let dir = environment["HANDSON_CACHE_DIR"], !dir.isEmpty { return "\(dir)/sizes" }
        if let dir = environment["XDG_CACHE_HOME"], !dir.isEmpty { return "\(dir)/handson/sizes" }
        guard let home = environment["HOME"], !home.isEmpty else { return nil }
        return "\(home)/.cache/handson/sizes"
    }
}
