import Foundation
import HandsOnEngine
import HandsOnMessages

/// A contest in which each team's answer is the state of its own machine (ICTSC's way): the image the team built
/// there, and the protected files there. A teams file names each team's engine; every team is graded on its own
/// engine, all at once, by image name (`Grader.gradeImage`): nothing is built, nothing left behind.
public enum TeamMachines {
    public struct Team: Sendable, Equatable {
        public let name: String
        public let address: EngineAddress
    }

    /// Reads a teams file: `TEAM HOST` a line (HOST as `--hosts` takes it); blank lines and `#` comments skipped.
    /// An error names the file, the line and what is wrong.
    public static func parse(_ contents: String, path: String) throws(EngineAddressError) -> [Team] {
        var teams: [Team] = []
        for (index, line) in contents.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let entry = line.trimmingCharacters(in: .whitespaces)
            if entry.isEmpty || entry.hasPrefix("#") { continue }
            let location = "\(path):\(index + 1)"
            let fields = entry.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard fields.count == 2 else {
                throw EngineAddressError(
                    entry: entry, problem: Message(.teamMachines.expectedTeamAndEngine),
                    location: location)
            }
            guard fields[0].first.map({ $0 != "." && $0 != "-" }) ?? false, !fields[0].contains("/") else {
                throw EngineAddressError(
                    entry: entry, problem: Message(.teamMachines.badTeamName), location: location)
            }
            if teams.contains(where: { $0.name == fields[0] }) {
                throw EngineAddressError(
                    entry: entry, problem: Message(.teamMachines.namedTwice, ["team": fields[0]]), location: location)
            }
            do {
                teams.append(Team(name: fields[0], address: try EngineAddress.parse(fields[1])))
            } catch {
                throw EngineAddressError(entry: entry, problem: error.problem, location: location)
            }
        }
        return teams
    }

    /// Grades every team's `image` on its own engine, all at once, and saves each grade (history included) as it
    /// comes; `onGraded` hears of each. A team whose engine does not answer gets 0 and a check that says so.
    public static func grade(
        _ teams: [Team], image: String, filesFolder: String?, template: Grader, store: BatchResultStore,
        onGraded: @escaping @Sendable (GradeReport, String?) -> Void = { _, _ in }
    ) async -> [GradeReport] {
        await teams.concurrentMap { team in
            var grader = template
            grader.engine = template.engine.reached(at: team.address)
            grader.engineInfo = nil
            grader.limits.cpuset = team.address.cpuset ?? template.limits.cpuset
            var report = await grader.gradeImage(image, name: team.name, filesFolder: filesFolder)
            report.gradedAt = grader.effects.now()
            var saveError: String?
            do { try store.save(report) } catch { saveError = "\(error)" }
            onGraded(report, saveError)
            return report
        }
    }
}
