import ArgumentParser
import CommandLineSupport
import Foundation
import ProactivityCore
import ProactivityStages
import ProactivityStore

/// `proactivity explain`: why an alert was sent, or why an item was not alerted.
struct ExplainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Why an alert was sent, or why an item was not alerted.",
        discussion: """
            With an alert id (job:item@due, the alert's alert_id): the tick that published it \
            (slot, window, shard, who asked for a manual run), its attempts and dead letters, \
            when it was published, the job's definition and SQL as the tick ran it, and the user \
            as the job's SQL returns the item now. With --job and --item: the item's alerts; with \
            --due as well, every tick whose window covered that due time and what it did. \
            Examples: proactivity explain 'event-reminder:42@2026-11-25T15:30:00.000Z'; \
            proactivity explain --job event-reminder --item 42 --due 2026-11-25T15:30:00Z
            """)

    @OptionGroup var engine: EngineOptions
    @Argument(help: "An alert id (job:item@due).") var alertID: String?
    @Option(help: "A job (with --item).") var job: String?
    @Option(help: "An item id of the job.") var item: String?
    @Option(help: "The item's due time (ISO 8601): also show every tick that covered it.") var due: String?
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        if let alertID {
            guard job == nil, item == nil, due == nil else { throw ValidationError("give an alert id, or --job and --item, not both") }
            do { _ = try AlertID(parsing: alertID) } catch { throw ValidationError(error.description) }
        } else {
            guard let job, let item, !job.isEmpty, !item.isEmpty else { throw ValidationError("give an alert id, or --job and --item") }
            if let due, MessageCoding.parseTimestamp(due) == nil {
                throw ValidationError("--due must be an ISO 8601 time like 2026-11-25T15:30:00Z")
            }
        }
    }

    func run() async throws {
        let (settings, logger) = try await engine.load(label: "proactivity.explain")
        let (alertID, job, item, due, json) = (alertID, job, item, due.flatMap(MessageCoding.parseTimestamp), json)
        let output = try await withDatabase(settings, logger: logger) { client -> String? in
            let explainer = Explainer(catalog: settings.jobs, store: LineageStore(client: client, logger: logger))
            if let alertID {
                do {
                    let alert = try await explainer.alert(alertID)
                    return json ? Self.json(alert) : ExplanationText.alert(alert)
                } catch let error as Explainer.NotFound {
                    FileHandle.standardError.write(Data("\(error)\n".utf8))
                    return nil
                }
            }
            let explanation = try await explainer.item(job: job!, item: item!, due: due)
            return json ? Self.json(explanation) : ExplanationText.item(explanation)
        }
        guard let output else { throw ExitCode(1) }
        print(output)
    }

    static func json(_ value: some Encodable) -> String { String(decoding: MessageCoding.encode(value), as: UTF8.self) }
}
