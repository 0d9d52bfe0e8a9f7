import Foundation
import HandsOnMessages

/// The OCI image layout both an `image save` archive (OCI form) and containerd's content store use: blobs named
/// `blobs/<algorithm>/<hex>`, an index leading to a manifest (or a further index), a manifest naming its config and
/// layers.
enum OCILayout {
    struct Descriptor: Decodable {
        struct Platform: Decodable {
            let architecture: String?
            let os: String?
        }
        let mediaType: String?
        let digest: String
        let platform: Platform?
        let annotations: [String: String]?
    }

    struct Manifest: Decodable {
        let mediaType: String?
        let manifests: [Descriptor]?
        let layers: [Descriptor]?
        let config: Descriptor?
    }

    /// Where a blob lies in the layout: `sha256:ab...` → `blobs/sha256/ab...`.
    static func blobPath(_ digest: String) -> String {
        "blobs/" + digest.replacingOccurrences(of: ":", with: "/")
    }

    /// This machine's architecture as image platforms name it.
    static var architecture: String {
        #if arch(arm64)
            return "arm64"
        #else
            return "amd64"
        #endif
    }

    /// The manifest `top` leads to (`top` itself when it has layers): through each index, the first manifest present
    /// for this machine's platform, else the first present. `blob` gives a blob's bytes by digest, nil when absent;
    /// `file` names `top` in errors.
    static func manifest(from top: [UInt8], file: String, blob: (String) -> [UInt8]?) throws(ImageArchiveError)
        -> Manifest
    {
        var document = try decode(top, file: file)
        for _ in 0..<4 {
            if document.layers != nil { return document }
            guard let manifests = document.manifests, !manifests.isEmpty else { break }
            let present = manifests.compactMap { descriptor in blob(descriptor.digest).map { (descriptor, $0) } }
            guard
                let next = present.first(where: {
                    $0.0.platform?.os == "linux" && $0.0.platform?.architecture == architecture
                }) ?? present.first
            else {
                throw ImageArchiveError.badManifest(file: file, reason: Message(.error.archive.noManifestInArchive))
            }
            document = try decode(next.1, file: blobPath(next.0.digest))
        }
        throw ImageArchiveError.badManifest(file: file, reason: Message(.error.archive.noManifestWithLayers))
    }

    private static func decode(_ bytes: [UInt8], file: String) throws(ImageArchiveError) -> Manifest {
        do { return try JSONDecoder().decode(Manifest.self, from: Data(bytes)) } catch {
            throw ImageArchiveError.badManifest(file: file, reason: Message(describing: error))
        }
    }
}
