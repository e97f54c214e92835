import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Kafka
import Observability
import ProactivityCore
import ProactivityLauncher
import ProactivityStages
import ProactivityStore
import Testing

/// DLQ triage: rows grouped by class, job and error fingerprint (CLI and HTTP), replay by
/// fingerprint at a rate, and the parked state reached end to end.
@Suite(.timeLimit(.minutes(4)))
struct DeadLetterTriageTests {
    let slot = MessageCoding.parseTimestamp("2020-01-06T10:00:00Z")!
    static let missingTable = #"relation "?" does not exist"#
    static let timeout = "canceling statement due to statement timeout after <n> ms"

    /// Mirrors a DLQ record as the mirror would: origin the ticks topic, this message and class.
    func mirror(
        _ store: DeadLetterStore, _ harness: PipelineHarness, offset: Int64, job: String, errorClass: FailureClass, message: String
    ) async throws {
        let letter = DeadLetter(
            originTopic: harness.ticksTopic, originPartition: 0, originOffset: offset, originTimestamp: nil, consumerGroup: harness.group,
            stage: "worker", jobName: job, errorClass: errorClass, errorMessage: message, attempts: 1, firstFailure: Date(), lastFailure: Date(),
            correlationId: "\(harness.ticksTopic)/0/\(offset)")
        try await store.mirror(
            DeadLetterStore.Record(
                topic: harness.dlqTopic, partition: 0, offset: offset, key: Array("k\(offset)".utf8), value: Array(#"{"n":\#(offset)}"#.utf8),
                headers: letter.headers.map { DeadLetterRow.Header(name: $0.name, value: Data($0.value.utf8).base64EncodedString()) },
                letter: letter))
    }

    /// 30 rows of a missing table (each naming another), 5 timeouts, 2 undecodable records.
    func mirrorThreeFailures(_ store: DeadLetterStore, _ harness: PipelineHarness) async throws {
        for offset in 0..<30 {
            try await mirror(store, harness, offset: Int64(offset), job: "broken", errorClass: .jobSQL, message: #"relation "invoices_\#(offset)" does not exist"#)
        }
        for offset in 30..<35 {
            try await mirror(
                store, harness, offset: Int64(offset), job: "event-reminder", errorClass: .transient,
                message: "canceling statement due to statement timeout after \(offset * 1000 + 17) ms")
        }
        for offset in 35..<37 {
            try await mirror(store, harness, offset: Int64(offset), job: "unknown", errorClass: .undecodable, message: "not JSON: byte \(offset)")
        }
    }

    @Test func rowsGroupByClassJobAndFingerprintFromTheCLIAndHTTPAndOlderRowsAreBackfilled() async throws {
        try await PipelineHarness.with { harness in
            let store = DeadLetterStore(client: harness.client, logger: harness.logger)
            try await mirrorThreeFailures(store, harness)
            let (groups, total) = try await store.groups(DeadLetterFilter(), by: .fingerprint)
            #expect(total == 3)
            #expect(groups.map(\.key) == [Self.missingTable, Self.timeout, "not JSON: byte <n>"])
            #expect(groups.map(\.rows) == [30, 5, 2] && groups.map(\.pending) == [30, 5, 2])
            #expect(groups[0].firstSeen <= groups[0].lastSeen)
            let (jobs, _) = try await store.groups(DeadLetterFilter(errorClass: "transient"), by: .job)
            #expect(jobs.map(\.key) == ["event-reminder"] && jobs.map(\.rows) == [5], "filters apply before grouping")

            // The CLI: a table, JSON, and a bad grouping refused.
            let environment = try harness.environment()
            let table = try await ProactivityProcess.run(["dlq", "list", "--group-by", "fingerprint"], environment: environment)
            #expect(table.status == 0, "\(table.output)")
            let lines = table.stdout.split(separator: "\n").map(String.init)
            #expect(lines.first?.hasPrefix("ROWS") == true && lines.last == "3 group(s)", "\(table.stdout)")
            let missing = try #require(lines.first { $0.hasSuffix(Self.missingTable) }, "\(table.stdout)")
            #expect(missing.split(separator: " ", omittingEmptySubsequences: true).prefix(4) == ["30", "30", "0", "0"], "\(missing)")
            let json = try await ProactivityProcess.run(["dlq", "list", "--group-by", "class", "--json"], environment: environment)
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            let classes = try decoder.decode([DeadLetterGroup].self, from: Data(json.stdout.utf8))
            #expect(classes.map(\.key) == ["job_sql", "transient", "undecodable"] && classes.map(\.rows) == [30, 5, 2], "\(json.output)")
            let limited = try await ProactivityProcess.run(["dlq", "list", "--group-by", "job", "--limit", "1"], environment: environment)
            #expect(limited.stdout.contains("1 of 3 groups"), "\(limited.output)")
            let bad = try await ProactivityProcess.run(["dlq", "list", "--group-by", "reason"], environment: environment)
            #expect(bad.status != 0 && bad.output.contains("group-by"), "\(bad.output)")

            // HTTP, behind the same token.
            try await harness.withWorker(stages: [.mirror]) { assembly in
                let token: HTTPFields = [.authorization: "Bearer \(PipelineHarness.apiToken)"]
                try await ObservabilityApp.make(assembly).test(.router) { client in
                    try await client.execute(uri: "/dlq?group_by=fingerprint", method: .get) { #expect($0.status == .unauthorized) }
                    try await client.execute(uri: "/dlq?group_by=fingerprint&limit=2", method: .get, headers: token) { response in
                        #expect(response.status == .ok)
                        let body = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
                        let groups = try #require(body?["groups"] as? [[String: Any]])
                        #expect(groups.compactMap { $0["key"] as? String } == [Self.missingTable, Self.timeout])
                        #expect(groups.compactMap { $0["rows"] as? Int } == [30, 5])
                        #expect(body?["total"] as? Int == 3 && body?["groupBy"] as? String == "fingerprint")
                    }
                    let fingerprint = Self.missingTable.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
                    try await client.execute(uri: "/dlq?fingerprint=\(fingerprint)&limit=1000", method: .get, headers: token) { response in
                        #expect(response.status == .ok)
                        let body = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
                        #expect(body?["total"] as? Int == 30)
                    }
                }
            }

            // Rows an older mirror wrote without a fingerprint: `migrate` fills them in.
            try await harness.execute("UPDATE worker_dlq SET error_fingerprint = NULL WHERE id % 2 = 0")
            // Generous: `migrate` waits for every other test's migration of its own schema (one lock per database).
            let migrate = try await ProactivityProcess.run(["migrate"], environment: environment, within: .seconds(150))
            #expect(migrate.status == 0 && migrate.stdout.contains("error fingerprints filled in for 18 worker_dlq row(s)"), "\(migrate.output)")
            let backfilled = try await store.groups(DeadLetterFilter(), by: .fingerprint).groups
            #expect(backfilled.map(\.key) == groups.map(\.key) && backfilled.map(\.rows) == groups.map(\.rows))
        }
    }

    @Test func hostileValuesOfTheNewParametersAreRefusedWith400() async throws {
        try await PipelineHarness.with { harness in
            try await harness.withWorker(stages: [.mirror]) { assembly in
                let token: HTTPFields = [.authorization: "Bearer \(PipelineHarness.apiToken)"]
                let long = String(repeating: "x", count: ErrorFingerprint.maximumLength + 1)
                let refused: [(String, HTTPRequest.Method)] = [
                    ("/dlq?group_by=reason", .get), ("/dlq?group_by=", .get), ("/dlq?group_by=class&after=5", .get),
                    ("/dlq?group_by=error_class%3B%20DROP%20TABLE%20worker_dlq", .get), ("/dlq?group_by=class&group_by=job", .get),
                    ("/dlq?fingerprint=\(long)", .get), ("/dlq?fingerprint=", .get), ("/dlq?parked=maybe", .get), ("/dlq?parked=%00", .get),
                    ("/dlq?group_by=class&limit=0", .get), ("/dlq/replay?all=true&rate=0/s", .post), ("/dlq/replay?all=true&rate=-5/s", .post),
                    ("/dlq/replay?all=true&rate=1e9/s", .post), ("/dlq/replay?all=true&rate=5/h", .post), ("/dlq/replay?all=true&rate=abc", .post),
                    ("/dlq/replay?all=true&rate=", .post), ("/dlq/replay?all=true&rate=\(String(repeating: "9", count: 5000))", .post),
                    ("/dlq/replay?all=true&rate=nan", .post), ("/dlq/replay?fingerprint=\(long)", .post), ("/dlq/replay?all=true&group_by=job", .post),
                    ("/dlq/1/replay?rate=5/s", .post),
                ]
                try await ObservabilityApp.make(assembly).test(.router) { client in
                    for (uri, method) in refused {
                        try await client.execute(uri: uri, method: method, headers: token) { response in
                            #expect(response.status == .badRequest, "\(method) \(uri.prefix(120)): \(response.status)")
                        }
                    }
                    try await client.execute(uri: "/dlq?group_by=class&parked=true", method: .get, headers: token) { #expect($0.status == .ok) }
                }
            }
        }
    }

    @Test func aReplayByFingerprintRepublishesOnlyThatGroupAtTheRate() async throws {
        try await PipelineHarness.with { harness in
            let store = DeadLetterStore(client: harness.client, logger: harness.logger)
            try await mirrorThreeFailures(store, harness)
            let (rows, rate) = (30, 10.0)
            let started = ContinuousClock.now
            let replay = try await ProactivityProcess.run(
                ["dlq", "replay", "--fingerprint", Self.missingTable, "--rate", "10/s"], environment: try harness.environment())
            let elapsed = (ContinuousClock.now - started) / .seconds(1)
            #expect(replay.status == 0, "\(replay.output)")
            #expect(replay.stdout.contains("replayed 30, skipped 0, failed 0"), "\(replay.output)")
            #expect(replay.output.contains("handled 30/30"), "a progress line: \(replay.output)")
            // A lower bound only: the pacing must not let 30 rows out faster than 10/s.
            #expect(elapsed >= Double(rows - 1) / rate - 0.2, "30 rows at 10/s took \(elapsed) s")
            let (groups, _) = try await store.groups(DeadLetterFilter(), by: .fingerprint)
            #expect(groups.map(\.replayed) == [30, 0, 0] && groups.map(\.pending) == [0, 5, 2], "only the group named was replayed")
            let published = try await harness.records(in: harness.ticksTopic).compactMap { $0.headers.string(named: DeadLetter.Header.replayID) }
            #expect(published.count == 30 && Set(published).count == 30)

            // The same over HTTP, for the timeouts' group.
            try await harness.withWorker(stages: [.mirror]) { assembly in
                let token: HTTPFields = [.authorization: "Bearer \(PipelineHarness.apiToken)"]
                let fingerprint = Self.timeout.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
                let started = ContinuousClock.now
                try await ObservabilityApp.make(assembly).test(.router) { client in
                    try await client.execute(uri: "/dlq/replay?fingerprint=\(fingerprint)&rate=4/s", method: .post, headers: token) { response in
                        #expect(response.status == .ok)
                        #expect(String(buffer: response.body).contains(#""replayed":["#))
                    }
                }
                let elapsed = (ContinuousClock.now - started) / .seconds(1)
                #expect(elapsed >= 4.0 / 4 - 0.2, "5 rows at 4/s took \(elapsed) s")
                #expect(try await store.count(DeadLetterFilter(processed: false, fingerprint: Self.timeout)) == 0)
                // Replaying the group again does nothing: replay stays idempotent.
                try await ObservabilityApp.make(assembly).test(.router) { client in
                    try await client.execute(uri: "/dlq/replay?fingerprint=\(fingerprint)&rate=4/s", method: .post, headers: token) { response in
                        #expect(String(buffer: response.body).contains(#""replayed":[]"#))
                    }
                }
            }
        }
    }

    @Test func aTransientFailureThatFailsAfterItsLastAutomaticReplayIsParkedAndShownEverywhere() async throws {
        try await PipelineHarness.with { harness in
            let flaky = TransientFailureTests()
            let (file, job) = try await flaky.createFlakyJob(harness)
            let store = DeadLetterStore(client: harness.client, logger: harness.logger)
            let environment = try harness.environment(jobsFile: file)
            let tick = TickMessage(job: job, slot: slot, producedAt: slot)
            try await harness.withWorker(stages: [.worker, .mirror], jobsFile: file, environment: flaky.autoReplay(attempts: 1, maxReplays: 1)) {
                assembly in
                try await harness.publish([tick])
                try await eventually("the replayed tick failed again and was parked") {
                    try await store.count(DeadLetterFilter(parked: true)) == 1
                }
                let rows = try await store.list(DeadLetterFilter())
                #expect(rows.map(\.state) == [.replayed, .parked], "the first failure was replayed automatically, the second parked")
                #expect(rows.last?.earlierReplays == 1)
                try await eventually("the metric says so") { assembly.metrics.render().contains("proactivity_dlq_parked 1") }

                let list = try await ProactivityProcess.run(["dlq", "list", "--parked"], environment: environment)
                #expect(list.stdout.contains("parked") && list.stdout.contains("1 row(s)"), "\(list.output)")
                let status = try await ProactivityProcess.run(["status"], environment: environment)
                #expect(status.stdout.contains("DLQ backlog: 1 unprocessed row, 1 parked"), "\(status.output)")
                let grouped = try await ProactivityProcess.run(["dlq", "list", "--group-by", "class", "--json"], environment: environment)
                #expect(grouped.stdout.contains(#""parked" : 1"#), "\(grouped.output)")

                // The operator fixes the cause and replays the parked rows: the tick runs.
                try await harness.execute("UPDATE flaky_switch SET failing = false")
                let replay = try await ProactivityProcess.run(["dlq", "replay", "--parked", "--rate", "5/s"], environment: environment)
                #expect(replay.status == 0 && replay.stdout.contains("replayed 1,"), "\(replay.output)")
                try await harness.waitForCompletion(of: [tick])
                #expect(try await store.count(DeadLetterFilter(parked: true)) == 0, "a replayed row is no longer parked")
                try await eventually("the metric follows") { assembly.metrics.render().contains("proactivity_dlq_parked 0") }
            }
        }
    }
}
