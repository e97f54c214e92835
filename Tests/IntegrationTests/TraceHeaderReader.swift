import Foundation
import Testing

/// Reads records with an independent Kafka client, Python's confluent-kafka (installed
/// into `.local/python` by `scripts/stack`), and checks each `traceparent` header against
/// the W3C Trace Context format with a Python regular expression: version, trace id,
/// parent id, flags; lower-case hex; version `ff` and all-zero ids invalid.
enum TraceHeaderReader {
    /// One record as the Python client read it.
    struct Record: Decodable {
        struct TraceParent: Decodable {
            let version: String
            let traceId: String
            let parentId: String
            let flags: String

            enum CodingKeys: String, CodingKey {
                case version, flags
                case traceId = "trace_id"
                case parentId = "parent_id"
            }
        }

        let topic: String
        let value: String
        /// Header values as text (`nil`: a header without value); the last of a name.
        let headers: [String: String?]
        /// The parsed `traceparent`, when it is valid.
        let traceparent: TraceParent?
        /// Why the `traceparent` is not valid; `nil` when valid or absent.
        let problem: String?

        func header(_ name: String) -> String? { headers[name] ?? nil }
    }

    /// Reads `count` records (every record written so far, when that is all of them) of
    /// each topic from the start.
    static func read(_ counts: [String: Int], within limit: Duration = .seconds(90)) throws -> [Record] {
        let script = """
            import json, re, sys, time
            from confluent_kafka import Consumer
            W3C = re.compile(r'^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$')
            def check(value):
                if value is None:
                    return None, 'traceparent without a value'
                match = W3C.match(value)
                if not match:
                    return None, 'not version-traceid-parentid-flags in lower-case hex'
                version, trace_id, parent_id, flags = match.groups()
                if version == 'ff':
                    return None, 'version ff is invalid'
                if version != '00':
                    return None, 'this reader knows version 00 only'
                if trace_id == '0' * 32:
                    return None, 'all-zero trace id'
                if parent_id == '0' * 16:
                    return None, 'all-zero parent id'
                return {'version': version, 'trace_id': trace_id, 'parent_id': parent_id, 'flags': flags}, None
            bootstrap, group, limit, counts = sys.argv[1], sys.argv[2], float(sys.argv[3]), json.loads(sys.argv[4])
            consumer = Consumer({'bootstrap.servers': bootstrap, 'group.id': group, 'auto.offset.reset': 'earliest',
                                 'enable.auto.commit': False, 'session.timeout.ms': 6000, 'fetch.wait.max.ms': 20})
            consumer.subscribe(list(counts))
            seen = {topic: 0 for topic in counts}
            deadline = time.monotonic() + limit
            while any(seen[t] < counts[t] for t in counts) and time.monotonic() < deadline:
                message = consumer.poll(0.2)
                if message is None or message.error():
                    continue
                headers = {}
                for name, value in message.headers() or []:
                    headers[name] = None if value is None else value.decode('utf-8', errors='replace')
                traceparent, problem = (None, None)
                if 'traceparent' in headers:
                    traceparent, problem = check(headers['traceparent'])
                seen[message.topic()] += 1
                print(json.dumps({'topic': message.topic(), 'value': (message.value() or b'').decode('utf-8', errors='replace'),
                                  'headers': headers, 'traceparent': traceparent, 'problem': problem}))
            consumer.close()
            if any(seen[t] < counts[t] for t in counts):
                sys.exit(f'read {seen} of {counts}')
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let countsJSON = String(decoding: try JSONEncoder().encode(counts), as: UTF8.self)
        process.arguments = [
            "python3", "-c", script, try TestEnvironment.variable("KAFKA_BOOTSTRAP_SERVERS"), TestEnvironment.unique("python-reader"),
            String(Double(limit.components.seconds)), countsJSON,
        ]
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONPATH"] = PipelineHarness.repositoryRoot.appendingPathComponent(".local/python").path
        process.environment = environment
        let output = Pipe()
        // Standard error in a file: a pipe nobody reads could fill and stall the reader.
        let errors = FileManager.default.temporaryDirectory.appendingPathComponent("python-reader-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errors) }
        process.standardOutput = output
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        let text = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let problems = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0 else {
            Issue.record("the Python reader failed: \(problems.suffix(2000))")
            throw CancellationError()
        }
        return try text.split(separator: UInt8(ascii: "\n")).map { try JSONDecoder().decode(Record.self, from: Data($0)) }
    }
}
