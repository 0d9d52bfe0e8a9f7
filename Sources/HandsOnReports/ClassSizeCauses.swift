import Foundation
import HandsOnEngine
import HandsOnKit
import HandsOnMessages

/// The class's most common causes of size: for each graded image, its largest contributor, grouped.
public enum ClassSizeCauses {
    public struct Cause: Sendable, Equatable {
        /// "the base image golang:1.19", "RUN go build ...", "wasted bytes (deleted or overwritten later)".
        public let cause: String
        public let submissions: [String]
        public let medianBytes: Int64
    }

    /// The largest contributor of one image: its waste when that is the biggest part, else its base image, else the
    /// instruction whose layer adds most.
    static func contributor(_ breakdown: SizeBreakdown) -> (cause: String, bytes: Int64)? {
        let largestOwn = breakdown.layers.filter { !$0.fromBase }.max { $0.fileBytes < $1.fileBytes }
        var candidates: [(String, Int64)] = []
        if let base = breakdown.baseImage {
            candidates.append((say(.classSizeCauses.baseImage, ["base": base]), breakdown.baseBytes))
        }
        if let layer = largestOwn, layer.fileBytes > 0 {
            candidates.append(
                (SizeExplanation.shortened(layer.instruction ?? say(.classSizeCauses.ownLayer)), layer.fileBytes))
        }
        candidates.append((say(.classSizeCauses.wastedBytes), breakdown.wastedBytes))
        return candidates.filter { $0.1 > 0 }.max { $0.1 < $1.1 }
    }

    public static func rank(_ grades: [GradeReport]) -> [Cause] {
        var groups: [String: [(String, Int64)]] = [:]
        for grade in grades {
            guard let breakdown = grade.image?.breakdown, let (cause, bytes) = contributor(breakdown) else { continue }
            groups[cause, default: []].append((grade.submission, bytes))
        }
        return groups.map { cause, members in
            let sorted = members.map(\.1).sorted()
            return Cause(cause: cause, submissions: members.map(\.0).sorted(), medianBytes: sorted[sorted.count / 2])
        }.sorted { ($0.submissions.count, $0.medianBytes) > ($1.submissions.count, $1.medianBytes) }
    }
}
