import Foundation

/// The figures of one `bench pipeline` run.
struct PipelineBenchmarkReport: Codable {
    /// The C produce loop before and after the worker's run (the machine drifts).
    struct Baseline: Codable {
        var before: KafkaBenchmarkReport.Throughput
        var after: KafkaBenchmarkReport.Throughput
        var meanMessagesPerSecond: Double

        init(before: KafkaBenchmarkReport.Throughput, after: KafkaBenchmarkReport.Throughput) {
            self.before = before
            self.after = after
            meanMessagesPerSecond = (before.messagesPerSecond + after.messagesPerSecond) / 2
        }
    }

    /// One tick through the worker: from publishing the tick to the reader's alerts.
    struct Window: Codable {
        var alerts: Int
        var firstAlertSeconds: Double
        var seconds: Double
        var alertsPerSecond: Double

        init(alerts: Int, firstAlertSeconds: Double, seconds: Double) {
            self.alerts = alerts
            self.firstAlertSeconds = firstAlertSeconds
            self.seconds = seconds
            alertsPerSecond = seconds > 0 ? Double(alerts) / seconds : 0
        }
    }

    /// Tick → first alert of small windows, in seconds.
    struct Latency: Codable {
        var ticks: Int
        var p50: Double
        var p99: Double
        var max: Double

        init(_ samples: [Double]) {
            let sorted = samples.sorted()
            func percentile(_ p: Double) -> Double { sorted.isEmpty ? 0 : sorted[Int((Double(sorted.count - 1) * p).rounded())] }
            ticks = sorted.count
            p50 = percentile(0.5)
            p99 = percentile(0.99)
            max = sorted.last ?? 0
        }
    }

    /// Big windows of the same size through the same worker on an empty alert ledger,
    /// and after `rows` rows were written into it: their medians compared.
    struct LedgerComparison: Codable {
        var rows: Int
        var empty: [Window]
        var full: [Window]
        var emptyMedian: Double
        var fullMedian: Double
        /// `fullMedian / emptyMedian`.
        var ratio: Double

        init(rows: Int, empty: [Window], full: [Window]) {
            func median(_ windows: [Window]) -> Double {
                let sorted = windows.map(\.alertsPerSecond).sorted()
                return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
            }
            self.rows = rows
            self.empty = empty
            self.full = full
            emptyMedian = median(empty)
            fullMedian = median(full)
            ratio = emptyMedian > 0 ? fullMedian / emptyMedian : 0
        }
    }

    /// Ticks sliding over an alerted window: each reads its rows again and alerts none.
    struct Sliding: Codable {
        /// Tick → completed, in seconds, per tick.
        var ticks: [Double]
        /// The rows all the ticks' windows held (each read and looked up).
        var rows: Int
        var workerCPUSeconds: Double?
        /// The worker's CPU per row read again, in µs.
        var workerMicrosecondsPerRow: Double?

        init(ticks: [Double], rows: Int, workerCPUSeconds: Double?) {
            self.ticks = ticks
            self.rows = rows
            self.workerCPUSeconds = workerCPUSeconds
            workerMicrosecondsPerRow = workerCPUSeconds.flatMap { rows > 0 ? $0 / Double(rows) * 1e6 : nil }
        }
    }

    /// A sharded window through `workers` worker processes on one group.
    struct Scaling: Codable {
        var workers: Int
        var alerts: Int
        var seconds: Double
        var alertsPerSecond: Double
    }

    /// What the big window left in PostgreSQL (see `PipelineBenchmark`).
    struct WindowStorage: Codable {
        /// WAL written by the cluster from the tick to its completion, per alert.
        var walBytesPerAlert: Double
        /// The window's day partition of the alert ledger (heap, arrays, key), per alert.
        var ledgerBytesPerAlert: Double?
    }

    var dueItems: Int
    var tableRows: Int
    var users: Int
    var alertRecordBytes: Int
    /// The big window's query alone, read to its end without publishing.
    var querySeconds: Double
    var baseline: Baseline
    /// The C loop with records shaped as the alerts: their value size and their four
    /// headers (key + value records cost librdkafka and the broker less per record).
    var baselineWithHeaders: Baseline
    /// The C loop with the alerts' headers into the alerts topic, timed from its start to
    /// the reader's last record, as ``window`` is: the reader and the broker's fetches
    /// for it share the cores with both (each round's `cpu` says how).
    var baselineRead: Baseline
    /// The same rounds timed to the C loop's own last delivery report: close to
    /// ``baselineRead``, the loop sets the pace; well ahead of it, the reader does.
    var baselineReadProduced: Baseline
    var window: Window
    /// Where the CPU went during the first C loop (it runs in the benchmark's process).
    var baselineCPU: CPUUsage?
    /// Where the CPU went during the big window: the worker, the reader (the
    /// benchmark's process), the rest of the machine (PostgreSQL, the broker).
    var windowCPU: CPUUsage?
    var windowStorage: WindowStorage
    /// The most alerts/s the big window could reach on this machine if the worker itself
    /// used no CPU: its items over the time the rest of the window's work (PostgreSQL,
    /// the broker, the reader) takes on all cores, at the CPU it used per alert here.
    var ceilingAlertsPerSecond: Double?
    /// ``ceilingAlertsPerSecond`` divided by the C loop's alerts/s (mean).
    var ceilingRatioToBaseline: Double?
    /// The most alerts/s if neither the worker nor PostgreSQL used any CPU: what the
    /// broker (taking the alerts in and serving them to the reader), the reader and the
    /// machine's other load take per alert, on all cores. Dedupe cannot go faster.
    var brokerAndReaderCeilingAlertsPerSecond: Double?
    /// The worker's alerts/s divided by the C loop's (mean of before and after).
    var ratioToBaseline: Double
    /// The worker's alerts/s divided by the C loop's with the alerts' headers.
    var ratioToBaselineWithHeaders: Double
    /// The worker's alerts/s divided by ``baselineRead``'s (mean): dedupe against a loop
    /// that does not dedupe, both read by the same reader.
    var ratioToBaselineRead: Double
    var workerIdleMegabytes: Double
    var workerPeakMegabytes: Double
    var smallTicks: Latency
    /// Tick → first alert of 20-item ticks of another job, sent one after another while
    /// the big window runs.
    var concurrentSmallTicks: Latency
    var readerFetchWaitMilliseconds: Int
    /// Ticks sliding over the big window after it was alerted.
    var sliding: Sliding
    /// The big window on an empty ledger and on a large one, when measured.
    var ledger: LedgerComparison?
    var scaling: [Scaling]
    var librdkafka: String

    init(
        dueItems: Int, tableRows: Int, users: Int, alertRecordBytes: Int, querySeconds: Double, baseline: Baseline, baselineWithHeaders: Baseline,
        baselineRead: Baseline, baselineReadProduced: Baseline, window: Window, baselineCPU: CPUUsage?, windowCPU: CPUUsage?, windowStorage: WindowStorage,
        workerIdleMegabytes: Double, workerPeakMegabytes: Double, smallTicks: Latency, concurrentSmallTicks: Latency, sliding: Sliding,
        readerFetchWaitMilliseconds: Int, ledger: LedgerComparison?,
        scaling: [Scaling], librdkafka: String
    ) {
        self.dueItems = dueItems
        self.tableRows = tableRows
        self.users = users
        self.alertRecordBytes = alertRecordBytes
        self.querySeconds = querySeconds
        self.baseline = baseline
        self.baselineWithHeaders = baselineWithHeaders
        self.baselineRead = baselineRead
        self.baselineReadProduced = baselineReadProduced
        self.window = window
        self.baselineCPU = baselineCPU
        self.windowCPU = windowCPU
        self.windowStorage = windowStorage
        if let windowCPU, windowCPU.machine > windowCPU.worker {
            let ceiling = Double(window.alerts) / ((windowCPU.machine - windowCPU.worker) / Double(windowCPU.cores))
            ceilingAlertsPerSecond = ceiling
            ceilingRatioToBaseline = baseline.meanMessagesPerSecond > 0 ? ceiling / baseline.meanMessagesPerSecond : nil
            let others = windowCPU.machine - windowCPU.worker - windowCPU.postgres
            brokerAndReaderCeilingAlertsPerSecond = others > 0 ? Double(window.alerts) / (others / Double(windowCPU.cores)) : nil
        }
        ratioToBaseline = baseline.meanMessagesPerSecond > 0 ? window.alertsPerSecond / baseline.meanMessagesPerSecond : 0
        ratioToBaselineWithHeaders =
            baselineWithHeaders.meanMessagesPerSecond > 0 ? window.alertsPerSecond / baselineWithHeaders.meanMessagesPerSecond : 0
        ratioToBaselineRead = baselineRead.meanMessagesPerSecond > 0 ? window.alertsPerSecond / baselineRead.meanMessagesPerSecond : 0
        self.workerIdleMegabytes = workerIdleMegabytes
        self.workerPeakMegabytes = workerPeakMegabytes
        self.smallTicks = smallTicks
        self.concurrentSmallTicks = concurrentSmallTicks
        self.readerFetchWaitMilliseconds = readerFetchWaitMilliseconds
        self.sliding = sliding
        self.ledger = ledger
        self.scaling = scaling
        self.librdkafka = librdkafka
    }

    /// The figures for a person.
    func table() -> String {
        func number(_ value: Double, _ digits: Int = 0) -> String { String(format: "%.\(digits)f", value) }
        var lines = [
            "window: \(dueItems) items due in \(tableRows) rows, \(users) users; alert records of \(alertRecordBytes) B; librdkafka \(librdkafka)",
            "",
            "                         alerts/s   first alert   total",
            "C produce loop (before)  \(number(baseline.before.messagesPerSecond).padding(9))  —             \(number(baseline.before.seconds, 2)) s",
            "proactivity worker       \(number(window.alertsPerSecond).padding(9))  \((number(window.firstAlertSeconds * 1000) + " ms").padding(12))  \(number(window.seconds, 2)) s",
            "C produce loop (after)   \(number(baseline.after.messagesPerSecond).padding(9))  —             \(number(baseline.after.seconds, 2)) s",
            "worker / C (mean)        \(number(ratioToBaseline, 2))",
            "C loop with the alerts' headers: \(number(baselineWithHeaders.before.messagesPerSecond)) before, \(number(baselineWithHeaders.after.messagesPerSecond)) after; worker / it (mean) \(number(ratioToBaselineWithHeaders, 2))",
            "the same loop into the alerts topic, timed to the reader's last record as the worker is: \(number(baselineRead.before.messagesPerSecond)) before, \(number(baselineRead.after.messagesPerSecond)) after (to its own last delivery \(number(baselineReadProduced.before.messagesPerSecond)) and \(number(baselineReadProduced.after.messagesPerSecond))); worker / it (mean) \(number(ratioToBaselineRead, 2))",
            "",
            "reminder query alone: \(number(querySeconds, 3)) s",
            "worker memory: \(number(workerIdleMegabytes)) MB idle, \(number(workerPeakMegabytes)) MB peak",
            "20-item ticks of another job during the big window: tick → first alert p50 \(number(concurrentSmallTicks.p50 * 1000, 1)) ms, max \(number(concurrentSmallTicks.max * 1000, 1)) ms over \(concurrentSmallTicks.ticks) ticks",
            "small windows: tick → first alert p50 \(number(smallTicks.p50 * 1000, 1)) ms, p99 \(number(smallTicks.p99 * 1000, 1)) ms, max \(number(smallTicks.max * 1000, 1)) ms over \(smallTicks.ticks) ticks (the reader's fetch wait of \(readerFetchWaitMilliseconds) ms included)",
        ]
        let perTick = sliding.ticks.isEmpty ? 0 : sliding.rows / sliding.ticks.count
        var slidingLine =
            "ticks sliding 5 minutes over the alerted big window (\(perTick) rows each read again, none alerted): \(sliding.ticks.map { number($0 * 1000) + " ms" }.joined(separator: ", "))"
        if let perRow = sliding.workerMicrosecondsPerRow { slidingLine += "; worker \(number(perRow, 1)) µs of CPU per row" }
        lines.append(slidingLine)
        if let cpu = windowCPU {
            lines.append(
                "CPU during the big window (\(number(cpu.seconds, 2)) s × \(cpu.cores) cores): worker \(number(cpu.worker, 2)) s (\(number(cpu.worker / Double(window.alerts) * 1e6, 1)) µs per alert), reader \(number(cpu.benchmark, 2)) s, rest of the machine \(number(cpu.rest, 2)) s (PostgreSQL \(number(cpu.postgres, 2)) s: \(number(cpu.postgres / Double(window.alerts) * 1e6, 1)) µs per alert; broker \(number(cpu.broker, 2)) s: \(number(cpu.broker / Double(window.alerts) * 1e6, 1)) µs per alert); \(number(cpu.busy * 100))% busy")
        }
        var storageLine = "PostgreSQL's WAL during the big window: \(number(windowStorage.walBytesPerAlert, 1)) B per alert"
        if let ledger = windowStorage.ledgerBytesPerAlert { storageLine += "; its day's alert ledger partition: \(number(ledger, 1)) B per alert" }
        lines.append(storageLine)
        if let cpu = baselineCPU {
            lines.append(
                "CPU during the C loop (\(number(cpu.seconds, 2)) s × \(cpu.cores) cores): its process \(number(cpu.benchmark, 2)) s, rest of the machine \(number(cpu.rest, 2)) s (broker \(number(cpu.broker, 2)) s); \(number(cpu.busy * 100))% busy")
        }
        if let cpu = baselineRead.before.cpu {
            let records = Double(baselineRead.before.messages)
            lines.append(
                "CPU during the C loop read by the reader (\(number(cpu.seconds, 2)) s × \(cpu.cores) cores): the C loop and the reader \(number(cpu.benchmark, 2)) s, rest of the machine \(number(cpu.rest, 2)) s (broker \(number(cpu.broker, 2)) s: \(number(cpu.broker / records * 1e6, 1)) µs per record); \(number(cpu.busy * 100))% busy")
        }
        if let ceiling = ceilingAlertsPerSecond, let ratio = ceilingRatioToBaseline {
            lines.append(
                "a worker using no CPU at all would reach at most \(number(ceiling)) alerts/s here (\(number(ratio, 2)) × C): the window's other work fills the cores")
        }
        if let ceiling = brokerAndReaderCeilingAlertsPerSecond {
            lines.append("with neither the worker nor PostgreSQL using any CPU, the broker and the reader alone would allow \(number(ceiling)) alerts/s")
        }
        if let ledger {
            func runs(_ windows: [Window]) -> String { windows.map { number($0.alertsPerSecond) }.joined(separator: ", ") }
            lines.append(
                "with \(ledger.rows) alerts in the ledger: median \(number(ledger.fullMedian)) alerts/s (\(runs(ledger.full))), \(number(ledger.ratio * 100))% of the empty ledger's median \(number(ledger.emptyMedian)) (\(runs(ledger.empty)))")
        }
        for run in scaling {
            lines.append("sharded window through \(run.workers) worker(s): \(number(run.alertsPerSecond)) alerts/s (\(number(run.seconds, 2)) s)")
        }
        return lines.joined(separator: "\n")
    }
}

extension String {
    fileprivate func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
