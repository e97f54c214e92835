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
import ServiceLifecycle
import TestSupport
import Testing

/// The DLQ HTTP API reads its parameters strictly, pages honestly and replays all it says.
@Suite(.timeLimit(.minutes(4)))
struct DeadLetterAPIStrictnessTests {
    @Test func parametersAreStrictListsPageAndAllMeansAll() async throws {
        try await PipelineHarness.with { harness in
            let store = DeadLetterStore(client: harness.client, logger: harness.logger)
            let forged = ReplayTrustTests()
            for offset in 1...152 { try await forged.mirror(store, harness, offset: Int64(offset), origin: harness.ticksTopic) }
            // One row with a 1 MB value.
            let big = DeadLetterStore.Record(
                topic: harness.dlqTopic, partition: 0, offset: 1000, key: nil, value: Array(repeating: 0x41, count: 1_000_000), headers: [],
                letter: nil)
            try await store.mirror(big)
            let bigID = try await store.list(DeadLetterFilter(limit: 1000)).last!.id
            try await harness.withWorker(stages: [.mirror]) { assembly in
                let token: HTTPFields = [.authorization: "bearer \(PipelineHarness.apiToken)"]  // the scheme in any case
                try await ObservabilityApp.make(assembly).test(.router) { client in
                    for bad in ["/dlq?limit=abc", "/dlq?limit=0", "/dlq?processed=maybe", "/dlq?dryRun=true", "/dlq?since=yesterday"] {
                        try await client.execute(uri: bad, method: .get, headers: token) { response in
                            #expect(response.status == .badRequest, "\(bad)")
                            let name = bad.split(separator: "?")[1].split(separator: "=")[0]
                            #expect(String(buffer: response.body).contains(name), "the 400 names \(name)")
                        }
                    }
                    // Random query strings: an answer (200 or 400), never a 500 or a crash.
                    let names = ["job", "error", "error_class", "since", "until", "processed", "limit", "after", "all", "x", ""]
                    let values = ["", "1", "-1", "abc", "true", "TRUE", "99999999999999999999", "2026-11-25T10:00:00Z", "%00", "%FF", "transient"]
                    var random = try SeededRandom()
                    for _ in 0..<200 {
                        let query = (0..<Int.random(in: 0...4, using: &random)).map { _ in
                            "\(names.randomElement(using: &random)!)=\(values.randomElement(using: &random)!)"
                        }.joined(separator: "&")
                        try await client.execute(uri: "/dlq?\(query)", method: .get, headers: token) { response in
                            #expect([.ok, .badRequest].contains(response.status), "/dlq?\(query) answered \(response.status)")
                        }
                    }
                    try await client.execute(uri: "/dlq", method: .delete, headers: token) { response in
                        #expect(response.status == .methodNotAllowed && response.headers[.allow] == "GET")
                    }
                    try await client.execute(uri: "/dlq/replay", method: .get, headers: token) { response in
                        #expect(response.status == .methodNotAllowed && response.headers[.allow] == "POST")
                    }
                    // dry runs, however spelt, replay nothing.
                    for dryRun in ["1", "TRUE", "True"] {
                        try await client.execute(uri: "/dlq/replay?all=true&dry_run=\(dryRun)", method: .post, headers: token) {
                            #expect($0.status == .ok)
                        }
                    }
                    #expect(try await store.count(DeadLetterFilter(processed: true)) == 0, "a dry run replayed nothing")
                    // Pages with totals.
                    var after: Int64?
                    var seen = 0
                    repeat {
                        let uri = "/dlq?limit=100" + (after.map { "&after=\($0)" } ?? "")
                        after = try await client.execute(uri: uri, method: .get, headers: token) { response -> Int64? in
                            let page = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as! [String: Any]
                            #expect(page["total"] as? Int == 153)
                            let rows = page["rows"] as! [[String: Any]]
                            seen += rows.count
                            if let big = rows.first(where: { ($0["id"] as? Int).map(Int64.init) == bigID }) {
                                #expect(big["valueTruncated"] as? Bool == true && (big["value"] as? String)?.count ?? 0 < 6000)
                            }
                            return (page["nextAfter"] as? Int).map(Int64.init)
                        }
                    } while after != nil
                    #expect(seen == 153)
                    try await client.execute(uri: "/dlq/\(bigID)", method: .get, headers: token) { response in
                        let row = (try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as! [String: Any])["row"] as! [String: Any]
                        #expect(Data(base64Encoded: row["value"] as! String)?.count == 1_000_000, "the whole value")
                    }
                    // all means all: 152 replayable rows and one without an origin.
                    try await client.execute(uri: "/dlq/replay?all=1", method: .post, headers: token) { response in
                        let outcome = (try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as! [String: Any])["outcome"] as! [String: Any]
                        #expect((outcome["replayed"] as? [Any])?.count == 152)
                    }
                }
            }
            #expect(try await store.count(DeadLetterFilter(processed: true)) == 152)
            let missing = try await ProactivityProcess.run(["dlq", "replay", "999999"], environment: try harness.environment())
            #expect(missing.status == 1 && missing.output.contains("no DLQ row 999999"), "\(missing.output)")
        }
    }
}
