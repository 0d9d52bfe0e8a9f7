import Foundation
import HandsOnFormats
import HandsOnMessages
import HandsOnProcesses
import Synchronization

/// An image's size as HandsOn measures it, the same on every engine and store: the bytes of the files in each layer
/// (as Docker's overlay2 store counts a layer), summed over the layers, read from the image's own layer archives;
/// and where those bytes are: each layer with the instruction that made it, the largest paths of the final file
/// system, and the bytes layers add that the final file system does not show.
public struct ImageSizeMeasurement: Sendable, Codable, Equatable {
    public struct Layer: Sendable, Codable, Equatable {
        /// The layer's name in the archive (`blobs/sha256/...`, `<id>/layer.tar`).
        public let entry: String
        public let fileBytes: Int64
        /// The layer's bytes as the engine stores and exports it (compressed on the containerd store).
        public let storedBytes: Int64
        public let compressed: Bool
        /// The instruction that made it, from the image's history (`RUN go build ...`, `COPY hash.go .`).
        public var instruction: String?
        /// Whether it belongs to the base image (`baseImage`).
        public var fromBase = false
    }

    public let sizeBytes: Int64
    /// `sizeBytes` written the way `docker image ls` writes sizes (`6.73MB`).
    public let size: String
    public var layers: [Layer]
    /// The largest paths of the final file system, files and directories (with everything beneath), largest first.
    public let largest: [PathSize]
    /// Bytes layers add that the final file system does not show (deleted or overwritten later).
    public let wastedBytes: Int64
    /// The largest of those files, largest first (all of them count in `wastedBytes`).
    public let wasted: [WastedFile]
    /// 1 - wasted / total, as dive defines it.
    public let efficiency: Double
    /// The layers' uncompressed digests (the config's `rootfs.diff_ids`), by which the base image is recognised.
    public let diffIDs: [String]
    /// The image the lowest layers come from, when it is one HandsOn knows (a lab image, or one the caller names).
    public var baseImage: String?
    /// Every path of the final file system up to `pathDepth` levels deep, with its bytes (a directory's include
    /// everything beneath it): what rules such as "no Go tool chain in the final image" look up.
    public let shallowPaths: [String: Int64]
    /// Setuid and setgid files and secrets, each with the layer (from 1) that holds it and whether the final file
    /// system still shows it (a secret deleted by a later layer is still in the layer that added it).
    public let marks: [LayerFinding]

    public struct LayerFinding: Sendable, Codable, Equatable {
        public let mark: LayerMark
        public let layer: Int
        public let inFinalImage: Bool
    }

    /// How deep `shallowPaths` goes.
    package static let pathDepth = 4

    /// How many of the largest paths and wasted files are kept.
    static let listed = 12

    public var baseBytes: Int64 { layers.filter(\.fromBase).reduce(0) { $0 + $1.fileBytes } }
    public var ownBytes: Int64 { sizeBytes - baseBytes }

    init(image: ArchivedImage) {
        let overlay = OverlayFileSystem()
        for (index, layer) in image.layers.enumerated() { overlay.apply(layer.count.entries, layer: index + 1) }
        let instructions = LayerHistory.instructions(image.config?.history, layerCount: image.layers.count)
        layers = image.layers.enumerated().map { index, layer in
            Layer(
                entry: layer.entry, fileBytes: layer.count.fileBytes, storedBytes: layer.count.storedBytes,
                compressed: layer.count.compression != .none, instruction: instructions?[index])
        }
        sizeBytes = layers.reduce(0) { $0 + $1.fileBytes }
        size = ByteFormatting.decimal(sizeBytes)
        // Paths under a thousandth of the image say nothing about its size (busybox's 7-byte links, say).
        let summary = overlay.summary(
            largest: Self.listed, atLeast: max(1, sizeBytes / 1000), shallowDepth: Self.pathDepth)
        largest = summary.largest
        shallowPaths = summary.shallow
        let hidden = overlay.wasted.sorted { $0.bytes > $1.bytes || ($0.bytes == $1.bytes && $0.path < $1.path) }
        wastedBytes = hidden.reduce(0) { $0 + $1.bytes }
        wasted = Array(hidden.prefix(Self.listed))
        efficiency = sizeBytes > 0 ? max(0, 1 - Double(wastedBytes) / Double(sizeBytes)) : 1
        diffIDs = image.config?.rootfs?.diffIDs ?? []
        marks = image.layers.enumerated().flatMap { index, layer in
            layer.count.marks.map { mark in
                LayerFinding(
                    mark: mark, layer: index + 1, inFinalImage: overlay.layer(of: mark.path) == index + 1)
            }
        }
    }

    /// Reads a whole image archive held in memory (tests, small fixtures).
    static func read(archive bytes: [UInt8], reference: String? = nil) throws -> ImageSizeMeasurement {
        var reader = ImageArchiveReader()
        try bytes.withUnsafeBytes { try reader.feed($0) }
        return ImageSizeMeasurement(image: try reader.finish(reference: reference))
    }

    /// Marks the lowest layers that are `base`'s (its layer digests are a prefix of this image's).
    mutating func attributeBase(_ candidates: [(name: String, diffIDs: [String])]) {
        let matches = candidates.filter { !$0.diffIDs.isEmpty && diffIDs.starts(with: $0.diffIDs) }
        guard let best = matches.max(by: { $0.diffIDs.count < $1.diffIDs.count }) else { return }
        baseImage = best.name
        for index in layers.indices { layers[index].fromBase = index < best.diffIDs.count }
    }
}

/// The instruction behind each layer, from an image's history: the entries that made a layer (not `empty_layer`)
/// in order, written as the Dockerfile line (`RUN go build ...`) without the builders' decorations.
enum LayerHistory {
    static func instructions(_ history: [ImageConfig.HistoryEntry]?, layerCount: Int) -> [String]? {
        guard let history else { return nil }
        let making = history.filter { $0.emptyLayer != true }
        guard making.count == layerCount else { return nil }
        return making.map { instruction($0.createdBy ?? "", comment: $0.comment) }
    }

    /// `/bin/sh -c #(nop) COPY file:3f... in /app ` → `COPY file:3f... in /app`; `/bin/sh -c go build` → `RUN go build`;
    /// BuildKit's `RUN /bin/sh -c go build # buildkit` → `RUN go build`; an import → `imported (comment)`.
    static func instruction(_ createdBy: String, comment: String?) -> String {
        var text = createdBy.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.isEmpty {
            // `docker import` writes "Imported from -"; other tools their own words.
            guard let comment, !comment.isEmpty, !comment.hasPrefix("Imported from") else {
                return say(.size.instruction.imported)
            }
            return say(.size.instruction.importedWithComment, ["comment": comment])
        }
        if text.hasSuffix("# buildkit") {
            text = String(text.dropLast("# buildkit".count)).trimmingCharacters(in: .whitespaces)
        }
        let shell = "/bin/sh -c "
        if text.hasPrefix("RUN " + shell) {
            text = "RUN " + text.dropFirst(("RUN " + shell).count)
        } else if text.hasPrefix(shell + "#(nop) ") {
            text = String(text.dropFirst((shell + "#(nop) ").count)).trimmingCharacters(in: .whitespaces)
        } else if text.hasPrefix(shell) {
            text = "RUN " + text.dropFirst(shell.count)
        }
        return text
    }
}

/// Where an image's layers are read from.
public enum LayerSource: String, Sendable, CaseIterable {
    /// The store's layer folders when they are on this machine, else the archive.
    case any
    /// The layer folders only (fails where they are not reachable).
    case folders
    /// `image save`'s archive, streamed.
    case archive
}

extension ContainerEngine {
    /// Measures an image from its own layers, remembered by image id (an unchanged image is read once) and each layer
    /// by its diff id (an image whose layers are all known costs one `inspect`). Where the engine keeps its layers on
    /// this machine in overlay folders (Docker's overlay2, Podman's overlay, the containerd store's overlayfs
    /// snapshots) their folders are walked, no file read; otherwise (a remote engine, a store HandsOn cannot read)
    /// `image save` is streamed through a tar reader (bounded memory, one pass).
    ///
    /// - Parameter baseCandidates: images the lowest layers may come from (the lab's, the answer's base), asked in the
    ///   same `inspect` as the image; the one whose layers start the image's is its `baseImage`.
    public func measureImage(
        _ reference: String, from source: LayerSource = .any, baseCandidates: [String] = [], timeout: Double = 900
    ) async throws -> ImageSizeMeasurement {
        let candidates = baseCandidates.map { ImageReference($0).qualified }
        let (image, bases) = try await inspectForMeasuring(reference, candidates: candidates)
        let id = image.id
        let onDisk = await layersOnDisk(
            of: image, snapshots: source != .archive && !(source == .any && sizeCache.lookUp(id) != nil))
        var measurement = try await measure(reference, id: id, onDisk: onDisk, from: source, timeout: timeout)
        if !candidates.isEmpty {
            measurement.attributeBase(LayersOnDisk.bases(images: bases, among: baseCandidates))
        }
        return measurement
    }

    /// The image's layers as folders on this machine, if the engine keeps them where HandsOn can read them; the
    /// containerd store's snapshots are looked for only when `snapshots` (finding them reads the store's database).
    func layersOnDisk(of image: InspectedImage, snapshots: Bool = true) async -> LayersOnDisk? {
        if let onDisk = LayersOnDisk.locate(image, isLocal: isLocal) { return onDisk }
        guard isLocal, snapshots, let diffIDs = LayersOnDisk.containerdSnapshotterLayers(image) else { return nil }
        return ContainerdLayers.locate(imageID: image.id, diffIDs: diffIDs, dataRoot: await cachedInfo()?.dataRoot)
    }

    /// The image's layers as folders on this machine (nil where they are not), by its reference.
    func layersOnDisk(_ reference: String) async throws -> LayersOnDisk? {
        await layersOnDisk(of: try await inspectForMeasuring(reference, candidates: []).image)
    }

    /// The image and those of the candidates the engine has, in one request each through the Engine API, else in
    /// one `inspect` (two when a candidate is missing: that fails the whole call). Candidates asked in the last
    /// `BaseImageMemo.lifetime` are not asked again: a batch measures every answer against the same base images.
    private func inspectForMeasuring(_ reference: String, candidates: [String]) async throws -> (
        image: InspectedImage, candidates: [InspectedImage]
    ) {
        let remembered = baseImageMemo.recall(candidates)
        // Each asked once: the answer's own base may be a lab image too.
        var seen: Set<String> = []
        let unasked = candidates.filter { remembered[$0] == nil && seen.insert($0).inserted }
        if let found = await viaAPI({ api -> (InspectedImage, [InspectedImage])? in
            guard let image = try await api.image(reference) else { return nil }
            var asked: [String: InspectedImage?] = [:]
            for candidate in unasked { asked[candidate] = .some(try await api.image(candidate)) }
            baseImageMemo.remember(asked)
            return (image, Self.inOrder(candidates, remembered, asked))
        }), let found {
            return found
        }
        let format = LayersOnDisk.inspectFormat(for: kind)
        var inspected = try await execute(
            ["image", "inspect", "--format", format, reference] + unasked, timeout: 30)
        var answered = unasked
        if !inspected.succeeded && !unasked.isEmpty {
            inspected = try await execute(["image", "inspect", "--format", format, reference], timeout: 30)
            answered = []
        }
        guard inspected.succeeded else { throw EngineError.commandFailed(inspected) }
        let images = TextLines.split(inspected.stdout).filter { !$0.isEmpty }.map(InspectedImage.init(inspectLine:))
        let answers = Array(images.dropFirst())
        let image = images.first ?? InspectedImage(inspectLine: "")
        guard answers.count == answered.count else { return (image, Self.inOrder(candidates, remembered, [:])) }
        let asked: [String: InspectedImage?] = Dictionary(
            zip(answered, answers.map { Optional($0) }), uniquingKeysWith: { first, _ in first })
        baseImageMemo.remember(asked)
        return (image, Self.inOrder(candidates, remembered, asked))
    }

    /// The candidates the engine has, in the order given (of two with the same layers, the first names the base).
    private static func inOrder(
        _ candidates: [String], _ remembered: [String: InspectedImage], _ asked: [String: InspectedImage?]
    ) -> [InspectedImage] {
        candidates.compactMap { candidate in remembered[candidate] ?? asked[candidate] ?? nil }
    }

    private func measure(
        _ reference: String, id: String, onDisk: LayersOnDisk?, from source: LayerSource, timeout: Double
    ) async throws -> ImageSizeMeasurement {
        if source == .any, let known = sizeCache.lookUp(id) { return known }
        let measurement: ImageSizeMeasurement
        switch (source, onDisk) {
        case (.any, let layers?):
            // Another image of the same layers and history (a copy of the same answer, labelled for its own grade)
            // measures the same.
            if let known = sizeCache.lookUp(content: layers.contentKey) {
                measurement = known
            } else {
                measurement = try await Self.read(layers, known: sizeCache.layers)
                sizeCache.store(measurement, content: layers.contentKey)
            }
        case (.folders, let layers?):
            measurement = try await Self.read(layers, known: sizeCache.layers)
        case (.folders, nil):
            throw EngineError.unexpectedOutput(say(.imageSize.layersNotOnThisMachine, ["image": reference]))
        case (.any, nil), (.archive, _):
            measurement = try await measureArchive(reference, timeout: timeout)
        }
        if source == .any { sizeCache.store(measurement, for: id) }
        return measurement
    }

    /// The layers' folders walked (tens of thousands of entries for a Go toolchain's image) on a thread of their own.
    private static func read(_ layers: LayersOnDisk, known: KnownLayers) async throws -> ImageSizeMeasurement {
        try await BlockingWork.run { ImageSizeMeasurement(image: try layers.read(known: known)) }
    }

    /// Streams `image save` through the archive reader.
    private func measureArchive(_ reference: String, timeout: Double) async throws -> ImageSizeMeasurement {
        // The runner hands output over on its own thread; the reader and its first error live behind one lock.
        let stream = Mutex<(reader: ImageArchiveReader, error: (any Error)?)>(
            (ImageArchiveReader(known: sizeCache.layers), nil))
        let result = try await execute(["image", "save", reference], timeout: timeout, outputLimit: 4096) {
            kind, chunk in
            guard kind == .standardOutput else { return }
            stream.withLock { state in
                guard state.error == nil else { return }
                do { try chunk.withUnsafeBytes { try state.reader.feed($0) } } catch { state.error = error }
            }
        }
        guard result.succeeded else { throw EngineError.commandFailed(result) }
        return try stream.withLock { state -> ImageSizeMeasurement in
            if let error = state.error { throw error }
            let image = try state.reader.finish(reference: reference)
            for (layer, diffID) in zip(image.layers, image.config?.rootfs?.diffIDs ?? []) {
                sizeCache.layers.remember(layer.count, forDiffID: diffID)
            }
            return ImageSizeMeasurement(image: image)
        }
    }
}

/// Base images as the engine last described them, for `BaseImageMemo.lifetime`: measuring each answer of a batch
/// names the same candidates. An image the engine lacked is not remembered (an answer's build may bring it next), so
/// which base an answer is said to have does not depend on what was graded before it. Shared by the copies of a
/// `ContainerEngine`.
final class BaseImageMemo: Sendable {
    /// How long an answer stands: a base image re-made or pulled meanwhile is seen within this.
    static let lifetime: Duration = .seconds(60)

    private let known = Mutex<[String: (image: InspectedImage, at: ContinuousClock.Instant)]>([:])

    /// The candidates found within the lifetime, with their inspections.
    func recall(_ candidates: [String], now: ContinuousClock.Instant = .now) -> [String: InspectedImage] {
        known.withLock { known in
            var found: [String: InspectedImage] = [:]
            for candidate in candidates {
                if let entry = known[candidate], now - entry.at < Self.lifetime { found[candidate] = entry.image }
            }
            return found
        }
    }

    /// What the engine answered for each candidate (nil: it lacks it, which is not kept).
    func remember(_ answers: [String: InspectedImage?], now: ContinuousClock.Instant = .now) {
        known.withLock { known in
            for case (let candidate, let image?) in answers { known[candidate] = (image, now) }
        }
    }
}

/// Measurements by image id: the id is a digest of the image's content, so its size never changes. Kept in memory
/// and, given a folder, on disk for the next process (a lesson's check measures the same base image each time it
/// runs). The command line gives the user's folder (`userFolder`); a test gives its own or none. Also holds the
/// layers already read (`KnownLayers`), so a batch on one base image inflates the base's layers once.
public final class MeasuredSizeCache: Sendable {
    /// Where measurements are kept between runs; nil: in memory only.
    public let directory: String?
    /// Layers read in this process, and given a folder the large ones' counts from earlier runs (`layers/` in it).
    let layers: KnownLayers

    public init(directory: String?) {
        self.directory = directory
        layers = KnownLayers(limit: 64, folder: directory.map { LayerCountFolder(path: "\($0)/layers") })
    }

    private let memory = Mutex<[String: ImageSizeMeasurement]>([:])
    func lookUp(_ id: String) -> ImageSizeMeasurement? {
        guard Self.isDigest(id) else { return nil }
        if let known = memory.withLock({ $0[id] }) { return known }
        guard let directory, let data = FileManager.default.contents(atPath: "\(directory)/\(Self.fileName(id))"),
            let stored = try? JSONOutput.decode(ImageSizeMeasurement.self, from: data)
        else { return nil }
        memory.withLock { $0[id] = stored }
        return stored
    }

    /// Measurements by what they depend on (`LayersOnDisk.contentKey`), for this process: the images of one answer
    /// graded for several teams differ in their labels only.
    private let byContent = Mutex<[String: ImageSizeMeasurement]>([:])

    func lookUp(content key: String) -> ImageSizeMeasurement? { byContent.withLock { $0[key] } }

    func store(_ measurement: ImageSizeMeasurement, content key: String) {
        byContent.withLock { known in
            if known.count >= 64 { known.removeAll() }
            known[key] = measurement
        }
    }

    func store(_ measurement: ImageSizeMeasurement, for id: String) {
        guard Self.isDigest(id) else { return }
        memory.withLock { $0[id] = measurement }
        guard let directory, let data = try? JSONOutput.cacheLine(measurement) else { return }
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        CacheFile.replace("\(directory)/\(Self.fileName(id))", with: data)
        trim(directory)
    }

    /// Every graded answer is a new image id: past `keptFiles` measurements, the least recently written go.
    static let keptFiles = 256

    private func trim(_ directory: String) {
        NewestFiles.keep(Self.keptFiles, in: directory, slack: 32) { $0.hasSuffix(".json") }
    }

    /// Only content-addressed ids (`sha256:` + hex, or bare hex as podman prints them) are remembered.
    static func isDigest(_ id: String) -> Bool {
        let hex = id.hasPrefix("sha256:") ? id.dropFirst(7) : id[...]
        return hex.count == 64 && hex.allSatisfy(\.isHexDigit)
    }

    /// Raised whenever what a measurement holds or how it is computed changes, so older files are not read.
    static let format = 4

    static func fileName(_ id: String) -> String {
        (id.hasPrefix("sha256:") ? String(id.dropFirst(7)) : id) + ".v\(format).json"
    }

    /// `$HANDSON_CACHE_DIR/sizes`, else `$XDG_CACHE_HOME/handson/sizes`, else `~/.cache/handson/sizes`.
    public static func userFolder(environment: [String: String]) -> String? {
        if let dir = environment["HANDSON_CACHE_DIR"], !dir.isEmpty { return "\(dir)/sizes" }
        if let dir = environment["XDG_CACHE_HOME"], !dir.isEmpty { return "\(dir)/handson/sizes" }
        guard let home = environment["HOME"], !home.isEmpty else { return nil }
        return "\(home)/.cache/handson/sizes"
    }
}
