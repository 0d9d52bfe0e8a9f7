import Foundation
import HandsOnEngine
import HandsOnFormats

/// Which answers are likely to share build cache: those whose first build stage reads the same (its base and
/// instructions, the stage's name aside) in folders whose other files are the same (the stage's COPY sources are
/// among them). A multi-stage answer's first stage is where the compiling is; two answers that differ only in what
/// they copy out of it into a final stage build it once on an engine that has built either. A guess for handing out
/// answers, not a promise: a wrong one costs a build, never a grade.
public enum BuildAffinity {
    /// The key of the answer in `folder` built from its `dockerfile` (a path inside the folder); nil when the
    /// Dockerfile cannot be read (the answer then goes wherever it falls). `cache`: the folder's file digests, where
    /// the caller hashes it too.
    public static func key(
        ofAnswerIn folder: String, dockerfile: String = "Dockerfile", cache: FileDigestCache? = nil
    ) -> String? {
        guard let data = FileManager.default.contents(atPath: "\(folder)/\(dockerfile)"),
            let stages = try? DockerfileReader.read(String(decoding: data, as: UTF8.self)),
            let first = stages.first
        else { return nil }
        var text = "FROM \(first.base)\n"
        for instruction in first.instructions {
            let flags = instruction.flags.sorted { $0.key < $1.key }.map { "--\($0.key)=\($0.value)" }
            text +=
                ([instruction.keyword] + flags + [instruction.arguments.trimmedSpaces]).joined(separator: " ") + "\n"
        }
        text += FolderContentHash.of(folder, cache: cache, excluding: [dockerfile, ".git"])
        return SHA256.hex(Data(text.utf8))
    }
}
