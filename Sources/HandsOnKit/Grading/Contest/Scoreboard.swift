import Foundation
import HandsOnEngine
import HandsOnMessages

/// A contest's standing, counted from every team's history of grades: with `best`, a team's highest score (the
/// earliest grade that reached it); with `last`, its latest grade. Ranked by score, then by the earlier time of the
/// counted grade, then by name.
public struct Scoreboard: Sendable {
    public struct Row: Sendable {
        public let rank: Int
        public let team: String
        /// The grade the scoreboard counts, and the team's latest (the same with `last`).
        public let counted: GradeReport
        public let latest: GradeReport
        /// Every grade, oldest first.
        public let history: [GradeReport]

        public var score: Int { counted.score }
        public var countedAt: Date? { counted.gradedAt }
    }

    public let chapterID: String
    public let chapterTitle: String
    public let scoring: Grading.Scoring
    public let rows: [Row]
    public let generated: Date

    public init(chapter: Chapter, histories: [String: [GradeReport]], generated: Date = Date()) {
        chapterID = chapter.id
        chapterTitle = chapter.title.text(in: Language.current)
        scoring = chapter.grading?.scoring ?? .best
        self.generated = generated
        let scoring = self.scoring
        let counted: [(team: String, counted: GradeReport, history: [GradeReport])] = histories.compactMap {
            team, grades in
            let ordered = grades.sorted { ($0.gradedAt ?? .distantPast) < ($1.gradedAt ?? .distantPast) }
            guard let last = ordered.last else { return nil }
            switch scoring {
            case .last: return (team, last, ordered)
            case .best:
                let best = ordered.map(\.score).max() ?? 0
                return (team, ordered.first { $0.score == best } ?? last, ordered)
            }
        }
        let ranked = counted.sorted { a, b in
            if a.counted.score != b.counted.score { return a.counted.score > b.counted.score }
            let (timeA, timeB) = (a.counted.gradedAt ?? .distantFuture, b.counted.gradedAt ?? .distantFuture)
            if timeA != timeB { return timeA < timeB }
            return a.team < b.team
        }
        rows = ranked.enumerated().map { index, entry in
            Row(
                rank: index + 1, team: entry.team, counted: entry.counted, latest: entry.history.last ?? entry.counted,
                history: entry.history)
        }
    }
}
