/// The console's one stylesheet, served as `/console/console.css` (the
/// Content-Security-Policy allows no inline style). Plain CSS, no build step; narrow
/// screens (phones) get stacked forms and tables that scroll sideways.
enum ConsoleStyle {
    static let css = """
        :root { --fg: #1d2430; --muted: #5f6b7a; --line: #d8dee6; --bg: #f6f8fa; --accent: #0b5cad; --bad: #b3261e; --ok: #1e7a3a; --warn: #9a6700; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
        header { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1.25rem; padding: .6rem 1rem; background: #14213d; color: #fff; }
        header a { color: #fff; text-decoration: none; }
        header .brand { font-weight: 700; letter-spacing: .02em; }
        header nav { display: flex; flex-wrap: wrap; gap: .25rem 1rem; flex: 1; }
        header nav a { opacity: .8; padding: .15rem 0; }
        header nav a[aria-current=page] { opacity: 1; border-bottom: 2px solid #fca311; }
        header .sign-out button { background: transparent; color: #fff; border: 1px solid #ffffff66; }
        main { padding: 1rem; max-width: 1200px; margin: 0 auto; }
        h1 { font-size: 1.35rem; margin: .25rem 0 1rem; }
        h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
        a { color: var(--accent); }
        .panel { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .75rem 1rem; margin-bottom: 1rem; }
        .scroll { overflow-x: auto; background: #fff; border: 1px solid var(--line); border-radius: 6px; margin-bottom: 1rem; }
        table { border-collapse: collapse; width: 100%; }
        th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
        th { font-size: .8rem; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); background: #fafbfc; white-space: nowrap; }
        td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
        tr:last-child td { border-bottom: 0; }
        code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .85rem; }
        pre { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .75rem; overflow-x: auto; white-space: pre-wrap; word-break: break-all; max-height: 32rem; }
        dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0; }
        dt { color: var(--muted); }
        dd { margin: 0; word-break: break-all; }
        form.filters { display: flex; flex-wrap: wrap; gap: .5rem .75rem; align-items: flex-end; }
        label { display: flex; flex-direction: column; font-size: .8rem; color: var(--muted); gap: .15rem; }
        input, select, button { font: inherit; padding: .35rem .5rem; border: 1px solid var(--line); border-radius: 4px; background: #fff; color: var(--fg); }
        button { cursor: pointer; background: var(--accent); color: #fff; border-color: var(--accent); }
        button.secondary { background: #fff; color: var(--accent); }
        button.danger { background: var(--bad); border-color: var(--bad); }
        .actions { display: flex; flex-wrap: wrap; gap: .5rem; margin: .75rem 0; }
        .muted { color: var(--muted); }
        .error { color: var(--bad); font-weight: 600; }
        .note { border-left: 4px solid var(--warn); background: #fff8e5; padding: .5rem .75rem; margin: .5rem 0; }
        .state-pending { color: var(--warn); font-weight: 600; }
        .state-parked { color: var(--bad); font-weight: 600; }
        .state-replayed, .status-success, .state-alerted, .state-completed { color: var(--ok); font-weight: 600; }
        .status-failure, .state-dead_lettered, .state-failed { color: var(--bad); font-weight: 600; }
        input[name=alert_id] { width: 34rem; max-width: 100%; }
        input[name=since], input[name=until] { width: 13rem; max-width: 100%; }
        form.filters input, form.filters select { height: 2.1rem; box-sizing: border-box; }
        #headers td { word-break: break-all; }
        #headers td:first-child { width: 40%; }
        .signin { max-width: 24rem; margin: 3rem auto; }
        .signin form { display: flex; flex-direction: column; gap: .75rem; }
        @media (max-width: 640px) {
            main { padding: .6rem; }
            header nav { order: 3; flex-basis: 100%; }
            header .sign-out { margin-left: auto; }
            form.filters { flex-direction: column; align-items: stretch; }
            input[name=since], input[name=until] { width: auto; }
            dl { grid-template-columns: 1fr; }
            dt { margin-top: .4rem; }
            th, td { padding: .35rem .4rem; }
        }
        """
}
