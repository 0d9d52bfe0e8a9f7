import HandsOnFormats

/// A base image the chapters use, and how to make a stand-in for it when it cannot be pulled.
public struct LabImage: Sendable, Equatable {
    /// The reference as chapters and Dockerfiles write it (`golang:1.19`).
    public let reference: String
    public let recipe: StandInRecipe

    public init(_ reference: String, recipe: StandInRecipe) {
        self.reference = reference
        self.recipe = recipe
    }

    /// Every image `handson lab prepare` makes sure of.
    public static let catalog: [LabImage] = [
        LabImage("golang:1.19", recipe: .golang),
        LabImage("gcr.io/distroless/static-debian12", recipe: .distrolessStatic),
        LabImage("gcr.io/distroless/static-debian12:nonroot", recipe: .distrolessStaticNonroot),
        LabImage("gcr.io/distroless/base-debian12", recipe: .distrolessBase),
        LabImage("busybox", recipe: .busybox),
        // The tag the course pins (the stand-in is Debian's static busybox either way).
        LabImage("busybox:1.36", recipe: .busybox),
        LabImage("debian:bookworm-slim", recipe: .debianSlim),
    ]

    public static func named(_ reference: String) -> LabImage? {
        let wanted = ImageReference(reference)
        return catalog.first { ImageReference($0.reference) == wanted }
    }
}

/// The local recipes; all come from Debian bookworm packages.
public enum StandInRecipe: String, Sendable, CaseIterable {
    case golang
    case distrolessStatic
    case distrolessStaticNonroot
    case distrolessBase
    case busybox
    case debianSlim
}

/// Labels every stand-in carries, so `lab prepare` and `doctor` can tell them from real images.
public enum StandInLabel {
    public static let key = "org.handson.stand-in"
    public static let value = "local stand-in built from Debian packages"
    public static let sourceKey = "org.handson.stand-in.source"
    public static let forKey = "org.handson.stand-in.for"
}
