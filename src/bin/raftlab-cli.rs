//! The native command-line tool: run one seeded simulation, fuzz thousands
//! of seeds in parallel, replay a failing seed, write the determinism
//! fixture. `raftlab-cli --help` lists everything.

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    std::process::exit(native::main());
}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use clap::{Args, Parser, Subcommand};
    use indicatif::{ProgressBar, ProgressStyle};
    use raftlab::check::linearizability::{check_bounded, CheckError, Limits, Violation};
    use raftlab::json::{self, Json, JsonOut, ToJson};
    use raftlab::kv::ClientId;
    use raftlab::sim::fuzz::{self, Failure, FuzzOptions, Outcome};
    use raftlab::sim::trace::Stamped;
    use raftlab::sim::view::{narrate, narrate_kind};
    use raftlab::sim::Simulation;
    use std::collections::{BTreeMap, BTreeSet, BinaryHeap, VecDeque};
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Arc, Mutex};

    #[derive(Parser)]
    #[command(
        name = "raftlab",
        version,
        about = "Raft and a replicated KV store on a deterministic simulator"
    )]
    struct Cli {
        #[command(subcommand)]
        command: Command,
    }

    /// Most concurrent clients in a run: the clients' calls all go through
    /// the linearizability check at the end, whose work grows quickly with
    /// the number of calls that overlap.
    const MAX_CLIENTS: usize = 1000;
    /// Most worker threads `fuzz` starts.
    const MAX_JOBS: usize = 1024;
    /// The longest run, and the longest liveness bound, in simulated seconds.
    const MAX_SECONDS: f64 = 1e6;
    /// Most trace events `run --trace-out` keeps and writes: of a longer
    /// run, the last ones (a run of 1000000 simulated seconds makes
    /// hundreds of millions). At most about 320 MB of memory and a 130 MB
    /// file; 60 simulated seconds of the default run make about 50 000.
    const TRACE_OUT_KEEP: usize = 1_000_000;
    /// Trace events `replay` keeps in memory (the newest, a ring): it reads
    /// them as the run goes, every [`fuzz::PROGRESS_EVENTS`] simulator
    /// events, which make a few thousand.
    const REPLAY_RING: usize = 1 << 17;
    /// Most events `replay --context` prints.
    const MAX_CONTEXT: usize = 10_000;

    /// A whole-number argument. Clap, left alone, reads `-1` as an unknown
    /// flag; these arguments accept it (`allow_negative_numbers`) and come
    /// here, which says what is wrong with it.
    fn whole<T>(s: &str) -> Result<T, String>
    where
        T: std::str::FromStr<Err = std::num::ParseIntError>,
    {
        let t = s.trim();
        if t.starts_with('-') {
            return Err("must not be negative".into());
        }
        t.parse()
            .map_err(|e| format!("must be a whole number ({e})"))
    }

    /// A number of seconds: finite and not negative (the upper limits are
    /// checked in [`RunArgs::options`]).
    fn seconds(s: &str) -> Result<f64, String> {
        let v: f64 = s
            .trim()
            .parse()
            .map_err(|_| "must be a number of seconds".to_string())?;
        if v.is_nan() || v.is_infinite() {
            return Err("must be a finite number of seconds".into());
        }
        if v < 0.0 {
            return Err("must not be negative".into());
        }
        Ok(v)
    }

    #[derive(Args, Clone)]
    struct RunArgs {
        /// Simulated seconds of faults and client load (0 to 1000000).
        #[arg(long, default_value_t = 60.0, allow_negative_numbers = true, value_parser = seconds)]
        duration: f64,
        /// Nodes in the cluster (1 to 9).
        #[arg(long, default_value_t = 5, allow_negative_numbers = true, value_parser = whole::<usize>)]
        nodes: usize,
        /// Concurrent clients (0 to 1000). With many clients per key (about
        /// forty on one key), the linearizability check at the end of a
        /// run (bounded to a few seconds per key) may come out undecided,
        /// which counts as a failure.
        #[arg(long, default_value_t = 5, allow_negative_numbers = true, value_parser = whole::<usize>)]
        clients: usize,
        /// Keys the clients use (at least 1).
        #[arg(long, default_value_t = 5, allow_negative_numbers = true, value_parser = whole::<u32>)]
        keys: u32,
        /// Run without faults.
        #[arg(long)]
        no_faults: bool,
        /// Seconds allowed, after faults heal, for a leader and every pending
        /// call (0.000001 to 1000000).
        #[arg(long, default_value_t = 10.0, allow_negative_numbers = true, value_parser = seconds)]
        liveness_bound: f64,
    }

    impl RunArgs {
        fn options(&self) -> Result<FuzzOptions, String> {
            if self.duration > MAX_SECONDS {
                return Err(format!(
                    "--duration must be at most {MAX_SECONDS} seconds, got {}",
                    self.duration
                ));
            }
            // Whole µs, rounded: 0.05 s is 50 000 µs, not 49 999.
            let liveness_bound_us = (self.liveness_bound * 1e6).round() as u64;
            if !(liveness_bound_us >= 1 && self.liveness_bound <= MAX_SECONDS) {
                return Err(format!(
                    "--liveness-bound must be from 0.000001 to {MAX_SECONDS} seconds, got {}",
                    self.liveness_bound
                ));
            }
            if self.clients > MAX_CLIENTS {
                return Err(format!(
                    "--clients must be at most {MAX_CLIENTS}, got {}",
                    self.clients
                ));
            }
            if self.keys == 0 {
                return Err("--keys must be at least 1".into());
            }
            Ok(FuzzOptions {
                nodes: self.nodes,
                clients: self.clients,
                duration_us: (self.duration * 1e6).round() as u64,
                liveness_bound_us,
                faults: !self.no_faults,
                keys: self.keys,
            })
        }

        fn flags(&self) -> String {
            let d = RunArgs {
                duration: 60.0,
                nodes: 5,
                clients: 5,
                keys: 5,
                no_faults: false,
                liveness_bound: 10.0,
            };
            let mut s = String::new();
            if self.duration != d.duration {
                s += &format!(" --duration {}", self.duration);
            }
            if self.nodes != d.nodes {
                s += &format!(" --nodes {}", self.nodes);
            }
            if self.clients != d.clients {
                s += &format!(" --clients {}", self.clients);
            }
            if self.keys != d.keys {
                s += &format!(" --keys {}", self.keys);
            }
            if self.no_faults {
                s += " --no-faults";
            }
            if self.liveness_bound != d.liveness_bound {
                s += &format!(" --liveness-bound {}", self.liveness_bound);
            }
            s
        }
    }

    #[derive(Subcommand)]
    enum Command {
        /// Run one seed and print a summary.
        Run {
            /// The seed.
            #[arg(long, allow_negative_numbers = true, value_parser = whole::<u64>)]
            seed: u64,
            #[command(flatten)]
            args: RunArgs,
            /// Write the trace as JSON to this file: every event, or of a
            /// run with more than 1000000 trace events, the last 1000000
            /// (the file's hash still identifies the whole run).
            #[arg(long)]
            trace_out: Option<std::path::PathBuf>,
            /// Write the clients' history as JSON to this file.
            #[arg(long)]
            history_out: Option<std::path::PathBuf>,
        },
        /// Run many seeds, each with its own fault schedule; exit non-zero on any failure.
        Fuzz {
            /// Seeds as A..B (B excluded), e.g. 0..1000.
            #[arg(long, default_value = "0..100", allow_hyphen_values = true)]
            seeds: String,
            /// Worker threads, 1 to 1024 (default: all cores); never more
            /// than there are seeds.
            #[arg(long, allow_negative_numbers = true, value_parser = whole::<usize>)]
            jobs: Option<usize>,
            #[command(flatten)]
            args: RunArgs,
            /// No progress bar.
            #[arg(long)]
            quiet: bool,
        },
        /// Re-run a seed, printing its faults and, on failure, the events that led to it.
        Replay {
            /// The seed.
            #[arg(long, allow_negative_numbers = true, value_parser = whole::<u64>)]
            seed: u64,
            #[command(flatten)]
            args: RunArgs,
            /// How many events before the failure to print, at most 10000.
            /// For a linearizability failure: how many besides those of the
            /// calls it names, in the time those calls span.
            #[arg(long, default_value_t = 40, allow_negative_numbers = true, value_parser = whole::<usize>)]
            context: usize,
            /// Include message sends and deliveries in the printed events.
            #[arg(long)]
            messages: bool,
        },
        /// Check a history file (as written by `run --history-out`, or by any
        /// tool in that format; see src/check/history.rs) for linearizability.
        Check {
            /// The history file (JSON, format "raftlab-history/1").
            history: std::path::PathBuf,
            /// Search steps allowed per key before the check gives up as
            /// undecided (exit code 3); 0: no limit (a history with many
            /// concurrent calls on one key may then take very long).
            #[arg(long, default_value_t = Limits::default().steps)]
            steps: u64,
            /// Memory allowed per key for the search, in MiB, before it gives
            /// up as undecided (exit code 3); 0: no limit.
            #[arg(long, default_value_t = Limits::default().bytes >> 20)]
            memory_mb: u64,
        },
        /// Print the seed → trace-hash fixture checked by the browser tests.
        Fixture,
    }

    /// Read and check a history file within `limits` per key: exit code 0
    /// if linearizable, 1 (with the explanation printed) if not, 3 if the
    /// search gave up undecided; `Err` for a file that cannot be read or is
    /// not a valid history.
    fn check_file(path: &std::path::Path, limits: Limits) -> Result<i32, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let history = raftlab::check::history::History::from_json(&text)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let keys: std::collections::BTreeSet<&str> =
            history.calls.iter().map(|c| c.op.key()).collect();
        let started = std::time::Instant::now();
        let verdict = check_bounded(&history, limits);
        let took = started.elapsed();
        match verdict {
            Ok(()) => {
                println!(
                    "linearizable: {} calls on {} keys, checked in {:.1} ms",
                    history.calls.len(),
                    keys.len(),
                    took.as_secs_f64() * 1e3
                );
                Ok(0)
            }
            Err(CheckError::Violation(v)) => {
                println!("NOT linearizable:\n{v}");
                Ok(1)
            }
            Err(CheckError::Undecided(u)) => {
                println!(
                    "UNDECIDED after {:.1} s: {u}\nRaise --steps or --memory-mb (0: no limit) to search further.",
                    took.as_secs_f64()
                );
                Ok(3)
            }
        }
    }

    /// Claim the next seed below `end` from the workers' shared counter,
    /// or `None` once every seed is claimed. The counter never moves past
    /// `end`, so it cannot wrap around: with `fetch_add`, a range ending at
    /// `u64::MAX` sent a worker back to seed 0 and the run never ended.
    fn claim_seed(next: &AtomicU64, end: u64) -> Option<u64> {
        next.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |s| {
            (s < end).then(|| s + 1)
        })
        .ok()
    }

    /// Worker threads for `fuzz`: as `requested` (default: `cores`), but
    /// never more than there are `seeds`.
    fn worker_count(requested: Option<usize>, seeds: u64, cores: usize) -> Result<usize, String> {
        let jobs = match requested {
            Some(0) => return Err("--jobs must be at least 1".into()),
            Some(j) if j > MAX_JOBS => {
                return Err(format!("--jobs must be at most {MAX_JOBS}, got {j}"))
            }
            Some(j) => j,
            None => cores.max(1),
        };
        Ok(jobs.min(usize::try_from(seeds).unwrap_or(usize::MAX)))
    }

    fn parse_range(s: &str) -> Result<(u64, u64), String> {
        let (a, b) = s
            .split_once("..")
            .ok_or_else(|| format!("--seeds must look like A..B, got {s:?}"))?;
        if a.trim().starts_with('-') || b.trim().starts_with('-') {
            return Err(format!("--seeds must not be negative, got {s:?}"));
        }
        let a: u64 = a
            .trim()
            .parse()
            .map_err(|_| format!("bad start of range in {s:?}"))?;
        let b: u64 = b
            .trim()
            .parse()
            .map_err(|_| format!("bad end of range in {s:?}"))?;
        if b <= a {
            return Err(format!("the range {s:?} is empty"));
        }
        Ok((a, b))
    }

    /// The trace file (`raftlab-trace/3`): `{"events": […], "format": …,
    /// "hash": …, "seed": …}`.
    ///
    /// Its objects have their keys in sorted order, at every level (it was
    /// first written through serde_json's `Value`, a sorted map, and is
    /// kept so). Each event is the stamp (`seq`, `at_us`) with the event's
    /// fields (see [`Stamped`]). Version 3: an `Applied` event names the
    /// client call it applied (`client`, `call`; `null` for a no-op), and
    /// a client crash is a `ClientCrashed` event. Version 2: a client
    /// event's call number is its `call` field; in version 1 it was `seq`
    /// and replaced the stamp's.
    fn trace_file(seed: u64, hash: u64, events: &[&Stamped]) -> Result<String, String> {
        let mut out = JsonOut::new();
        out.begin_obj();
        out.key("events");
        out.begin_arr();
        for s in events {
            let mut event = json::parse(&json::to_string(s)).map_err(|e| e.to_string())?;
            sort_keys(&mut event).write_json(&mut out);
        }
        out.end_arr();
        out.field("format", "raftlab-trace/3");
        out.field("hash", &format!("{hash:016x}"));
        out.field("seed", &seed.to_string());
        out.end_obj();
        Ok(out.into_string())
    }

    /// `v` with every object's fields in key order (by bytes, as in a
    /// `BTreeMap<String, _>`).
    fn sort_keys(v: &mut Json) -> &Json {
        match v {
            Json::Obj(fields) => {
                fields.sort_by(|a, b| a.0.cmp(&b.0));
                for (_, x) in fields.iter_mut() {
                    sort_keys(x);
                }
            }
            Json::Arr(items) => {
                for x in items.iter_mut() {
                    sort_keys(x);
                }
            }
            _ => {}
        }
        v
    }

    /// String fields as an indented object, in key order, as serde_json's
    /// `to_string_pretty` wrote the fixture: `{\n  "0": "…",\n  …\n}`.
    fn pretty_object(mut fields: Vec<(String, String)>) -> String {
        if fields.is_empty() {
            return "{}".into();
        }
        fields.sort();
        let lines: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("  {}: {}", json::to_string(k), json::to_string(v)))
            .collect();
        format!("{{\n{}\n}}", lines.join(",\n"))
    }

    /// One line about a run: ok or FAILED, and what it did. Simulator
    /// events are what the simulator processed (a delivery, a timeout, a
    /// client step); trace events, what it recorded (a trace file's
    /// events): one simulator event records none to several.
    fn summary(o: &Outcome) -> String {
        format!(
            "seed {}: {} — {:.1} s simulated, {} simulator events ({} trace events), {} faults, \
             {}/{} calls answered{}, trace {:016x}",
            o.seed,
            if o.failure.is_some() { "FAILED" } else { "ok" },
            o.end_us as f64 / 1e6,
            o.events,
            o.trace_events,
            o.faults,
            o.completed,
            o.calls,
            match o.abandoned {
                0 => String::new(),
                1 => " (1 abandoned by a crashed client)".into(),
                n => format!(" ({n} abandoned by crashed clients)"),
            },
            o.trace_hash
        )
    }

    /// [`summary`], then the failure, if any, indented below it.
    fn report(o: &Outcome) -> String {
        match &o.failure {
            None => summary(o),
            Some(f) => format!("{}\n  {}", summary(o), f.to_string().replace('\n', "\n  ")),
        }
    }

    /// A progress bar over a run's simulated seconds, on stderr when it is
    /// a terminal (hidden otherwise), as `fuzz` has: its length is the
    /// faulty part and the most that healing may take, so a run usually
    /// ends before the bar's end.
    fn run_bar(opts: &FuzzOptions) -> ProgressBar {
        if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            return ProgressBar::hidden();
        }
        let most = opts.duration_us.saturating_add(opts.liveness_bound_us);
        let pb = ProgressBar::new(most.div_ceil(1_000_000));
        pb.set_style(
            ProgressStyle::with_template(
                "{bar:40} {pos}/{len} s simulated (at most), {elapsed} elapsed {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        pb
    }

    /// How many trace events a file holds, of how many the run made.
    fn trace_count(written: usize, total: u64) -> String {
        if written as u64 == total {
            format!("{written} trace events")
        } else {
            format!("the last {written} of {total} trace events")
        }
    }

    /// Reads a simulation's trace events as the run makes them, each once
    /// and in order, from a trace that keeps only the newest: read often
    /// enough (see [`REPLAY_RING`]), it loses none; `missed` counts any
    /// that were gone before they were read.
    #[derive(Default)]
    struct TraceReader {
        /// The sequence number of the next event to read.
        next: u64,
        /// Events dropped from the trace before they were read.
        missed: u64,
    }

    impl TraceReader {
        /// The events made since the last read.
        fn read<'a>(&mut self, sim: &'a Simulation) -> impl Iterator<Item = &'a Stamped> {
            let trace = sim.trace();
            // Kept events have consecutive numbers: the oldest is `first`.
            let first = trace.events().next().map_or(trace.len(), |s| s.seq);
            if first > self.next {
                self.missed += first - self.next;
                self.next = first;
            }
            let skip = usize::try_from(self.next - first).unwrap_or(usize::MAX);
            self.next = trace.len();
            trace.events().skip(skip)
        }
    }

    /// A seed run again for `replay`.
    struct Replayed {
        /// How it went.
        outcome: Outcome,
        /// The last events (at most `context`), read as the run went;
        /// without `messages`, none of the message traffic.
        last: VecDeque<Stamped>,
        /// Trace events lost before they could be read (none, unless the
        /// ring is too small).
        missed: u64,
    }

    /// Run `seed` as `replay` does: print each fault (through `bar`) as it
    /// comes, and keep the last `context` events, with a trace that holds
    /// only the newest `ring` events.
    fn replay_run(
        seed: u64,
        opts: &FuzzOptions,
        ring: usize,
        context: usize,
        messages: bool,
        bar: &ProgressBar,
    ) -> Result<Replayed, String> {
        let mut sim = fuzz::build(seed, opts, ring)?;
        let mut reader = TraceReader::default();
        let mut last = VecDeque::new();
        let mut keep = |sim: &Simulation, reader: &mut TraceReader| {
            for s in reader.read(sim) {
                if context > 0 && (messages || narrate_kind(&s.event) != "message") {
                    if last.len() == context {
                        last.pop_front();
                    }
                    last.push_back(s.clone());
                }
            }
        };
        let outcome = fuzz::run_seed_observed(
            &mut sim,
            opts,
            |at, f| bar.suspend(|| println!("{:>10.3} s  fault: {f}", at as f64 / 1e6)),
            |s| {
                bar.set_position(s.now() / 1_000_000);
                keep(s, &mut reader);
            },
        );
        keep(&sim, &mut reader);
        Ok(Replayed {
            outcome,
            last,
            missed: reader.missed,
        })
    }

    /// What an event in a [`Window`] is to the violation.
    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    enum Part {
        /// An invocation, answer, read or application of a call the
        /// violation names: always shown.
        Named,
        /// Context: shown if among the nearest in time to the named calls.
        Context,
    }

    /// An event of the context, ordered by distance in time to the named
    /// calls, then by position.
    struct Near {
        distance: u64,
        position: u64,
        event: Stamped,
    }

    impl PartialEq for Near {
        fn eq(&self, other: &Near) -> bool {
            self.cmp(other) == std::cmp::Ordering::Equal
        }
    }
    impl Eq for Near {}
    impl PartialOrd for Near {
        fn partial_cmp(&self, other: &Near) -> Option<std::cmp::Ordering> {
            Some(self.cmp(other))
        }
    }
    impl Ord for Near {
        fn cmp(&self, other: &Near) -> std::cmp::Ordering {
            (self.distance, self.position).cmp(&(other.distance, other.position))
        }
    }

    /// The events `replay` shows for a linearizability failure, which is
    /// found when the run is over, so the last events of the run say
    /// nothing about it: those from the first invocation to the last
    /// answer among the calls the violation names. Every invocation,
    /// answer, served read and application of those calls is shown; of
    /// the context (the key's other calls, retries, elections, faults,
    /// truncated logs, and message traffic with `--messages`; not other
    /// keys' calls, nor log appends and commits), the `context` events
    /// nearest in time to the named calls' invocations and answers. It
    /// keeps only what it shows.
    struct Window {
        from_us: u64,
        to_us: u64,
        key: String,
        /// The named calls, by client and invocation time.
        invoked: BTreeSet<(ClientId, u64)>,
        /// The named calls by client and call number, once invoked.
        named: BTreeSet<(ClientId, u64)>,
        /// The key's other calls by client and call number.
        on_key: BTreeSet<(ClientId, u64)>,
        /// Each client's latest call number.
        current: BTreeMap<ClientId, u64>,
        /// The named calls' invocations and answers, in time order.
        anchors: Vec<u64>,
        context: usize,
        messages: bool,
        /// The named calls' events, with their positions.
        shown: Vec<(u64, Stamped)>,
        /// The context nearest to the named calls (a max-heap of `context`).
        nearest: BinaryHeap<Near>,
        /// Events of the window seen so far, shown or not.
        seen: u64,
    }

    impl Window {
        fn new(v: &Violation, context: usize, messages: bool) -> Window {
            let from_us = v.calls.iter().map(|c| c.invoke_us).min().unwrap_or(0);
            let to_us = Failure::violation_time(v).0.max(from_us);
            let mut anchors: Vec<u64> = v
                .calls
                .iter()
                .flat_map(|c| [Some(c.invoke_us), c.return_us])
                .flatten()
                .collect();
            anchors.sort_unstable();
            Window {
                from_us,
                to_us,
                key: v.key.clone(),
                invoked: v.calls.iter().map(|c| (c.client, c.invoke_us)).collect(),
                named: BTreeSet::new(),
                on_key: BTreeSet::new(),
                current: BTreeMap::new(),
                anchors,
                context,
                messages,
                shown: Vec::new(),
                nearest: BinaryHeap::new(),
                seen: 0,
            }
        }

        /// What a call's event is to the violation.
        fn call_part(&self, client: ClientId, seq: u64) -> Option<Part> {
            if self.named.contains(&(client, seq)) {
                Some(Part::Named)
            } else if self.on_key.contains(&(client, seq)) {
                Some(Part::Context)
            } else {
                None
            }
        }

        /// What `s` is to the violation, if anything.
        fn part(&mut self, s: &Stamped) -> Option<Part> {
            use raftlab::sim::trace::TraceEvent as E;
            if s.at_us < self.from_us || s.at_us > self.to_us {
                return None;
            }
            match &s.event {
                E::ClientInvoke { client, seq, op } => {
                    self.current.insert(*client, *seq);
                    if self.invoked.contains(&(*client, s.at_us)) {
                        self.named.insert((*client, *seq));
                        Some(Part::Named)
                    } else if op.key() == self.key {
                        self.on_key.insert((*client, *seq));
                        Some(Part::Context)
                    } else {
                        None
                    }
                }
                E::ClientReturn { client, seq, .. } => self.call_part(*client, *seq),
                E::ClientSend { client, seq, .. }
                | E::ClientRedirect { client, seq, .. }
                | E::ClientTimeout { client, seq, .. } => {
                    self.call_part(*client, *seq).map(|_| Part::Context)
                }
                E::ReadServed { client, .. } => {
                    let seq = *self.current.get(client)?;
                    self.call_part(*client, seq)
                }
                E::StaleRead { key, .. } => (*key == self.key).then_some(Part::Context),
                E::Applied { call, .. } => {
                    let (client, seq) = (*call)?;
                    self.call_part(client, seq)
                }
                // A named call's client crashed: part of the story.
                E::ClientCrashed {
                    client,
                    seq: Some(seq),
                } => self.call_part(*client, *seq).or(Some(Part::Context)),
                E::Appended { .. } | E::Committed { .. } => None,
                e if narrate_kind(e) == "message" => self.messages.then_some(Part::Context),
                _ => Some(Part::Context),
            }
        }

        /// How far `at_us` is from the nearest invocation or answer of a
        /// named call.
        fn distance(&self, at_us: u64) -> u64 {
            let i = self.anchors.partition_point(|&a| a < at_us);
            let after = self.anchors.get(i).map(|&a| a - at_us);
            let before = i.checked_sub(1).map(|j| at_us - self.anchors[j]);
            after.into_iter().chain(before).min().unwrap_or(0)
        }

        /// Look at the next event of the run.
        fn feed(&mut self, s: &Stamped) {
            let Some(part) = self.part(s) else {
                return;
            };
            let position = self.seen;
            self.seen += 1;
            if part == Part::Named {
                self.shown.push((position, s.clone()));
                return;
            }
            let distance = self.distance(s.at_us);
            if self.context == 0
                || self.nearest.len() == self.context
                    && self.nearest.peek().is_some_and(|n| n.distance <= distance)
            {
                return;
            }
            self.nearest.push(Near {
                distance,
                position,
                event: s.clone(),
            });
            if self.nearest.len() > self.context {
                self.nearest.pop();
            }
        }

        /// The heading and the lines to print, in order, with a line
        /// saying how many were left out wherever some were.
        fn lines(self) -> Vec<String> {
            let mut shown = self.shown;
            let named = shown.len();
            shown.extend(self.nearest.into_iter().map(|n| (n.position, n.event)));
            shown.sort_by_key(|(position, _)| *position);
            let mut lines = vec![
                format!(
                    "The events from {:.3} s (the first invocation among the calls below) to \
                     {:.3} s (their last answer):",
                    self.from_us as f64 / 1e6,
                    self.to_us as f64 / 1e6,
                ),
                format!(
                    "{} of {} shown: every event of those calls and the {} others nearest to \
                     them in time (--context sets how many{}).",
                    shown.len(),
                    self.seen,
                    shown.len() - named,
                    if self.messages {
                        ""
                    } else {
                        "; --messages adds message traffic"
                    },
                ),
            ];
            let left_out = |n: u64| format!("{:>12}  … {n} more", "");
            let mut next = 0;
            for (position, s) in &shown {
                if *position > next {
                    lines.push(left_out(position - next));
                }
                next = position + 1;
                let l = narrate(s);
                lines.push(format!("{:>10.3} s  {}", l.at_ms / 1000.0, l.text));
            }
            if self.seen > next {
                lines.push(left_out(self.seen - next));
            }
            lines
        }
    }

    /// Run `seed` again to find the events around a linearizability
    /// violation (see [`Window`]).
    fn window_run(
        seed: u64,
        opts: &FuzzOptions,
        v: &Violation,
        context: usize,
        messages: bool,
        bar: &ProgressBar,
    ) -> Result<Vec<String>, String> {
        let mut sim = fuzz::build(seed, opts, REPLAY_RING)?;
        let mut reader = TraceReader::default();
        let mut window = Window::new(v, context, messages);
        fuzz::run_seed_observed(
            &mut sim,
            opts,
            |_, _| {},
            |s| {
                bar.set_position(s.now() / 1_000_000);
                reader.read(s).for_each(|e| window.feed(e));
            },
        );
        reader.read(&sim).for_each(|e| window.feed(e));
        let mut lines = window.lines();
        if reader.missed > 0 {
            lines.push(format!(
                "({} trace events could not be kept)",
                reader.missed
            ));
        }
        Ok(lines)
    }

    pub fn main() -> i32 {
        let cli = Cli::parse();
        match run(cli) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("error: {e}");
                2
            }
        }
    }

    fn run(cli: Cli) -> Result<i32, String> {
        match cli.command {
            Command::Run {
                seed,
                args,
                trace_out,
                history_out,
            } => {
                let opts = args.options()?;
                let keep = if trace_out.is_some() {
                    TRACE_OUT_KEEP
                } else {
                    0
                };
                let mut sim = fuzz::build(seed, &opts, keep)?;
                let bar = run_bar(&opts);
                let o = fuzz::run_seed_observed(
                    &mut sim,
                    &opts,
                    |_, _| {},
                    |s| bar.set_position(s.now() / 1_000_000),
                );
                bar.finish_and_clear();
                println!("{}", report(&o));
                if let Some(p) = trace_out {
                    let events: Vec<_> = sim.trace().events().collect();
                    let text = trace_file(seed, sim.trace_hash(), &events)?;
                    std::fs::write(&p, text)
                        .map_err(|e| format!("cannot write {}: {e}", p.display()))?;
                    println!(
                        "trace: {} written to {}",
                        trace_count(events.len(), sim.trace().len()),
                        p.display()
                    );
                }
                if let Some(p) = history_out {
                    std::fs::write(&p, sim.history().to_json())
                        .map_err(|e| format!("cannot write {}: {e}", p.display()))?;
                    println!(
                        "history: {} calls written to {}",
                        sim.history().calls.len(),
                        p.display()
                    );
                }
                Ok(if o.failure.is_some() { 1 } else { 0 })
            }
            Command::Fuzz {
                seeds,
                jobs,
                args,
                quiet,
            } => {
                let (a, b) = parse_range(&seeds)?;
                let opts = args.options()?;
                let total = b - a;
                let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
                let jobs = worker_count(jobs, total, cores)?;
                let bar = if quiet || !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
                    ProgressBar::hidden()
                } else {
                    let pb = ProgressBar::new(total);
                    pb.set_style(
                        ProgressStyle::with_template(
                            "{bar:40} {pos}/{len} seeds, {elapsed} elapsed, eta {eta} {msg}",
                        )
                        .unwrap_or_else(|_| ProgressStyle::default_bar()),
                    );
                    pb
                };
                let next = Arc::new(AtomicU64::new(a));
                let failures: Arc<Mutex<Vec<Outcome>>> = Arc::new(Mutex::new(Vec::new()));
                let stats = Arc::new(Mutex::new((0u64, 0u64, 0u64, 0u64)));
                let started = std::time::Instant::now();
                std::thread::scope(|s| {
                    for _ in 0..jobs {
                        let (next, failures, stats, bar, opts) = (
                            next.clone(),
                            failures.clone(),
                            stats.clone(),
                            bar.clone(),
                            opts.clone(),
                        );
                        s.spawn(move || {
                            while let Some(seed) = claim_seed(&next, b) {
                                let o = fuzz::fuzz_one(seed, &opts);
                                if let Ok(mut st) = stats.lock() {
                                    st.0 += o.events;
                                    st.1 += o.completed;
                                    st.2 += o.faults;
                                    st.3 += o.abandoned;
                                }
                                if o.failure.is_some() {
                                    bar.suspend(|| eprintln!("{}", report(&o)));
                                    if let Ok(mut f) = failures.lock() {
                                        f.push(o);
                                    }
                                }
                                bar.inc(1);
                            }
                        });
                    }
                });
                bar.finish_and_clear();
                let mut failures = failures.lock().map(|f| f.clone()).unwrap_or_default();
                failures.sort_by_key(|o| o.seed);
                let (events, completed, faults, abandoned) =
                    stats.lock().map(|s| *s).unwrap_or_default();
                let secs = started.elapsed().as_secs_f64();
                println!(
                    "fuzz: {} seeds × {:.0} s simulated in {:.1} s ({} jobs): {} simulator events, {} faults, {} calls answered, {} abandoned by crashed clients",
                    total,
                    opts.duration_us as f64 / 1e6,
                    secs,
                    jobs,
                    events,
                    faults,
                    completed,
                    abandoned
                );
                for o in &failures {
                    println!("{}", report(o));
                    println!(
                        "  replay: cargo run --release --bin raftlab-cli -- replay --seed {}{}",
                        o.seed,
                        args.flags()
                    );
                }
                println!(
                    "fuzz: {} passed, {} failed",
                    total - failures.len() as u64,
                    failures.len()
                );
                Ok(if failures.is_empty() { 0 } else { 1 })
            }
            Command::Replay {
                seed,
                args,
                context,
                messages,
            } => {
                let opts = args.options()?;
                if context > MAX_CONTEXT {
                    return Err(format!(
                        "--context must be at most {MAX_CONTEXT}, got {context}"
                    ));
                }
                let bar = run_bar(&opts);
                let r = replay_run(seed, &opts, REPLAY_RING, context, messages, &bar)?;
                bar.finish_and_clear();
                println!("{}", summary(&r.outcome));
                if let Some(
                    f @ Failure {
                        violation: Some(v), ..
                    },
                ) = &r.outcome.failure
                {
                    let bar = run_bar(&opts);
                    bar.set_message("finding the events of those calls");
                    let lines = window_run(seed, &opts, v, context, messages, &bar)?;
                    bar.finish_and_clear();
                    println!();
                    for l in lines {
                        println!("{l}");
                    }
                    println!("\n{}", f);
                    return Ok(1);
                }
                if let Some(f) = &r.outcome.failure {
                    println!("\nThe last {} events before the failure:", r.last.len());
                    for l in r.last.iter().map(narrate) {
                        println!("{:>10.3} s  {}", l.at_ms / 1000.0, l.text);
                    }
                    if r.missed > 0 {
                        println!("({} trace events could not be kept)", r.missed);
                    }
                    println!("\n{f}");
                    return Ok(1);
                }
                Ok(0)
            }
            Command::Check {
                history,
                steps,
                memory_mb,
            } => {
                let limits = Limits {
                    steps: if steps == 0 { u64::MAX } else { steps },
                    bytes: if memory_mb == 0 {
                        u64::MAX
                    } else {
                        memory_mb.saturating_mul(1 << 20)
                    },
                };
                check_file(&history, limits)
            }
            Command::Fixture => {
                let hashes: Vec<(String, String)> = (0..raftlab::sim::FIXTURE_SEEDS)
                    .map(|seed| {
                        let hash = format!("{:016x}", raftlab::sim::fixture_hash(seed));
                        (seed.to_string(), hash)
                    })
                    .collect();
                println!("{}", pretty_object(hashes));
                Ok(0)
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        /// The trace file: keys sorted at every level, the stamp's `seq`
        /// kept beside a client event's `call`.
        fn trace_files_sort_keys_and_keep_both_numbers() {
            use raftlab::kv::{ClientId, Op};
            use raftlab::raft::NodeId;
            use raftlab::sim::trace::TraceEvent;
            let invoke = Stamped {
                seq: 8,
                at_us: 5,
                event: TraceEvent::ClientInvoke {
                    client: ClientId(2),
                    seq: 1,
                    op: Op::Put {
                        key: "k".into(),
                        value: "v".into(),
                    },
                },
            };
            let crash = Stamped {
                seq: 9,
                at_us: 6,
                event: TraceEvent::Crashed { node: NodeId(1) },
            };
            assert_eq!(
                trace_file(7, 255, &[&invoke, &crash]).unwrap(),
                concat!(
                    r#"{"events":[{"at_us":5,"call":1,"client":2,"op":{"key":"k","op":"put","value":"v"},"#,
                    r#""seq":8,"type":"ClientInvoke"},{"at_us":6,"node":1,"seq":9,"type":"Crashed"}],"#,
                    r#""format":"raftlab-trace/3","hash":"00000000000000ff","seed":"7"}"#
                )
            );
        }

        #[test]
        /// The fixture as `to_string_pretty` wrote it, keys in string order.
        fn fixture_objects_are_indented_in_key_order() {
            let fields = ["10", "2", "1"].map(|k| (k.to_string(), format!("h{k}")));
            assert_eq!(
                pretty_object(fields.to_vec()),
                "{\n  \"1\": \"h1\",\n  \"10\": \"h10\",\n  \"2\": \"h2\"\n}"
            );
            assert_eq!(pretty_object(Vec::new()), "{}");
        }

        #[test]
        fn seed_ranges_parse_or_explain() {
            assert_eq!(parse_range("0..500"), Ok((0, 500)));
            assert_eq!(parse_range(" 7 .. 9 "), Ok((7, 9)));
            assert!(parse_range("5").unwrap_err().contains("A..B"));
            assert!(parse_range("x..3").unwrap_err().contains("start"));
            assert!(parse_range("3..y").unwrap_err().contains("end"));
            assert!(parse_range("9..9").unwrap_err().contains("empty"));
        }

        #[test]
        /// Seeds are claimed once each, in order, up to the end of the
        /// range, and the counter stays there even at `u64::MAX`.
        fn seeds_are_claimed_once_without_wrapping() {
            let next = AtomicU64::new(u64::MAX - 2);
            assert_eq!(claim_seed(&next, u64::MAX), Some(u64::MAX - 2));
            assert_eq!(claim_seed(&next, u64::MAX), Some(u64::MAX - 1));
            for _ in 0..3 {
                assert_eq!(claim_seed(&next, u64::MAX), None);
            }
            assert_eq!(next.load(Ordering::SeqCst), u64::MAX);
            let next = AtomicU64::new(3);
            let claimed: Vec<_> = std::iter::from_fn(|| claim_seed(&next, 6)).collect();
            assert_eq!(claimed, [3, 4, 5]);
            assert_eq!(claim_seed(&next, 6), None);
        }

        #[test]
        fn the_command_line_is_well_formed() {
            use clap::CommandFactory;
            Cli::command().debug_assert();
            assert!(
                Cli::try_parse_from(["raftlab", "run"]).is_err(),
                "run needs --seed"
            );
            assert!(
                Cli::try_parse_from(["raftlab", "fuzz", "--seeds", "0..10", "--jobs", "2"]).is_ok()
            );
        }

        /// The options of `run --seed 1` with `extra` arguments, or the
        /// message that refuses them.
        fn run_options(extra: &[&str]) -> Result<FuzzOptions, String> {
            let argv = ["raftlab", "run", "--seed", "1"].iter().chain(extra);
            let cli = Cli::try_parse_from(argv).map_err(|e| e.to_string())?;
            let Command::Run { args, .. } = cli.command else {
                panic!("not a run command")
            };
            args.options()
        }

        #[test]
        /// Negative numbers are refused as negative, not taken for flags.
        fn negative_numbers_are_refused_as_negative() {
            for (flag, value) in [
                ("--duration", "-1"),
                ("--liveness-bound", "-0.5"),
                ("--nodes", "-1"),
                ("--clients", "-2"),
                ("--keys", "-3"),
            ] {
                let e = run_options(&[flag, value]).unwrap_err();
                assert!(e.contains("must not be negative"), "{flag} {value}: {e}");
            }
            for argv in [
                &["raftlab", "run", "--seed", "-1"][..],
                &["raftlab", "fuzz", "--jobs", "-1"],
                &["raftlab", "replay", "--seed", "2", "--context", "-4"],
            ] {
                let e = Cli::try_parse_from(argv).err().map(|e| e.to_string());
                assert!(
                    e.as_deref()
                        .is_some_and(|e| e.contains("must not be negative")),
                    "{argv:?}: {e:?}"
                );
            }
            let cli = Cli::try_parse_from(["raftlab", "fuzz", "--seeds", "-1..3"])
                .unwrap_or_else(|e| panic!("{e}"));
            let Command::Fuzz { seeds, .. } = cli.command else {
                panic!("not a fuzz command")
            };
            assert!(parse_range(&seeds)
                .unwrap_err()
                .contains("must not be negative"));
            let e = run_options(&["--duration", "x"]).unwrap_err();
            assert!(e.contains("must be a number of seconds"), "{e}");
        }

        #[test]
        /// Values that would exhaust memory or be silently changed are
        /// refused, naming the limit.
        fn out_of_range_values_name_their_limits() {
            let e = run_options(&["--clients", "100000000000"]).unwrap_err();
            assert!(e.contains("at most 1000"), "{e}");
            assert_eq!(
                run_options(&["--clients", "1000"]).map(|o| o.clients),
                Ok(1000)
            );
            let e = run_options(&["--keys", "0"]).unwrap_err();
            assert!(e.contains("--keys must be at least 1"), "{e}");
            let e = run_options(&["--liveness-bound", "1e9"]).unwrap_err();
            assert!(e.contains("from 0.000001 to 1000000 seconds"), "{e}");
            let e = run_options(&["--liveness-bound", "0"]).unwrap_err();
            assert!(e.contains("from 0.000001"), "{e}");
            let e = run_options(&["--duration", "1000001"]).unwrap_err();
            assert!(e.contains("at most 1000000 seconds"), "{e}");
            let o = run_options(&["--liveness-bound", "1.001", "--duration", "1.003"]);
            assert_eq!(
                o.map(|o| (o.liveness_bound_us, o.duration_us)),
                Ok((1_001_000, 1_003_000))
            );
            assert!(worker_count(Some(0), 10, 2)
                .unwrap_err()
                .contains("at least 1"));
            let e = worker_count(Some(200_000), 1_000_000, 2).unwrap_err();
            assert!(e.contains("at most 1024"), "{e}");
            assert_eq!(
                worker_count(Some(1024), 2, 2),
                Ok(2),
                "one per seed at most"
            );
            assert_eq!(worker_count(None, 100, 4), Ok(4));
            assert_eq!(worker_count(None, 100, 0), Ok(1));
            assert_eq!(worker_count(Some(3), u64::MAX, 4), Ok(3));
        }

        #[test]
        /// `replay` keeps a bounded ring of trace events, reading them as
        /// the run goes, and still finds the same last events as a run
        /// that keeps them all.
        fn replay_keeps_a_bounded_trace() {
            let opts = FuzzOptions {
                duration_us: 30_000_000,
                ..FuzzOptions::default()
            };
            let mut full = fuzz::build(4, &opts, usize::MAX).expect("builds");
            fuzz::run_seed(&mut full, &opts, |_, _| {});
            for messages in [false, true] {
                let ring = 10_000;
                let r =
                    replay_run(4, &opts, ring, 25, messages, &ProgressBar::hidden()).expect("runs");
                assert_eq!(r.outcome.trace_hash, full.trace_hash());
                assert!((ring as u64) < full.trace().len());
                assert_eq!(r.missed, 0);
                let all: Vec<&Stamped> = full
                    .trace()
                    .events()
                    .filter(|s| messages || narrate_kind(&s.event) != "message")
                    .collect();
                let last: Vec<&Stamped> = r.last.iter().collect();
                assert_eq!(last, all[all.len() - 25..]);
            }
            // The ring is all it keeps: one too small to hold what a
            // progress step makes loses events, and says so.
            let r = replay_run(4, &opts, 100, 25, false, &ProgressBar::hidden()).expect("runs");
            assert!(r.missed > 0);
        }

        #[test]
        fn trace_files_say_when_they_hold_the_last_events_only() {
            assert_eq!(trace_count(3, 3), "3 trace events");
            assert_eq!(trace_count(2, 5), "the last 2 of 5 trace events");
        }

        #[test]
        /// For a linearizability failure, `replay` shows the events of the
        /// calls that cannot be ordered, and the context nearest to them,
        /// in the time they span; not other keys' calls, not messages
        /// (unless asked), not what came before or after.
        fn replay_shows_the_events_of_a_linearizability_violation() {
            use raftlab::check::history::Call;
            use raftlab::kv::{Op, OpResult};
            use raftlab::raft::{NodeId, Term};
            use raftlab::sim::trace::{Endpoint, MsgKind, TraceEvent as E};
            use std::sync::Arc;
            let (c1, c2, c3) = (ClientId(1), ClientId(2), ClientId(3));
            let put = |key: &str| Op::Put {
                key: key.into(),
                value: "v".into(),
            };
            let get = Op::Get { key: "k1".into() };
            let v = Violation {
                key: "k1".into(),
                calls: vec![
                    Call {
                        id: 4,
                        client: c1,
                        op: Arc::new(put("k1")),
                        invoke_us: 1_000,
                        return_us: Some(2_000),
                        outcome: Some(OpResult::Ok),
                    },
                    Call {
                        id: 5,
                        client: c2,
                        op: Arc::new(get.clone()),
                        invoke_us: 1_500,
                        return_us: Some(3_000),
                        outcome: Some(OpResult::Value { value: None }),
                    },
                ],
                explanation: "the get missed the put".into(),
            };
            let n1 = NodeId(1);
            let mut events = vec![
                (
                    500,
                    E::ClientInvoke {
                        client: c3,
                        seq: 1,
                        op: put("k1"),
                    },
                ),
                (
                    1_000,
                    E::ClientInvoke {
                        client: c1,
                        seq: 7,
                        op: put("k1"),
                    },
                ),
                (
                    1_100,
                    E::ClientInvoke {
                        client: c3,
                        seq: 2,
                        op: put("k2"),
                    },
                ),
                (
                    1_200,
                    E::Sent {
                        id: 1,
                        from: Endpoint::Node(n1),
                        to: Endpoint::Node(NodeId(2)),
                        kind: MsgKind::AppendEntries,
                        duplicate: false,
                    },
                ),
                (1_300, E::Crashed { node: NodeId(5) }),
                (
                    1_400,
                    E::Applied {
                        node: n1,
                        index: raftlab::raft::LogIndex(3),
                        term: Term(1),
                        call: Some((ClientId(1), 7)),
                        what: "C1 #7: put k1".into(),
                    },
                ),
                (
                    1_500,
                    E::ClientInvoke {
                        client: c2,
                        seq: 3,
                        op: get,
                    },
                ),
            ];
            for i in 0..30 {
                events.push((
                    2_400 + i,
                    E::ElectionTimeout {
                        node: n1,
                        term: Term(i),
                    },
                ));
            }
            events.extend([
                (
                    2_000,
                    E::ClientReturn {
                        client: c1,
                        seq: 7,
                        result: OpResult::Ok,
                        latency_us: 1_000,
                    },
                ),
                (
                    3_000,
                    E::ClientReturn {
                        client: c2,
                        seq: 3,
                        result: OpResult::Value { value: None },
                        latency_us: 1_500,
                    },
                ),
                (3_500, E::Crashed { node: n1 }),
            ]);
            events.sort_by_key(|(at, _)| *at);
            let lines = |context, messages| {
                let mut w = Window::new(&v, context, messages);
                for (seq, (at_us, event)) in events.iter().enumerate() {
                    let s = Stamped {
                        seq: seq as u64,
                        at_us: *at_us,
                        event: event.clone(),
                    };
                    w.feed(&s);
                }
                w.lines()
            };
            let l = lines(3, false);
            let text = l.join("\n");
            assert!(
                l[0].starts_with("The events from 0.001 s (the first invocation"),
                "{text}"
            );
            assert!(l[1].starts_with("8 of 36 shown"), "{text}");
            // The 3 nearest others: the crash (200 µs from C2's call),
            // the first two timeouts (400 and 401 µs from C1's answer).
            for seen in [
                "C1 called #7",
                "S1 applied entry 3: C1 #7",
                "C2 called #3",
                "C1 #7 returned",
                "C2 #3 returned",
                "S5 crashed",
                "term 0\n",
                "term 1\n",
                "… 28 more",
            ] {
                assert!(text.contains(seen), "{seen:?} not in\n{text}");
            }
            for unseen in ["#1", "#2", "AppendEntries", "S1 crashed", "term 2\n"] {
                assert!(!text.contains(unseen), "{unseen:?} in\n{text}");
            }
            let with_messages = lines(3, true).join("\n");
            assert!(with_messages.contains("AppendEntries"), "{with_messages}");
            let all = lines(100, false);
            assert!(!all.join("\n").contains("more"));
            assert_eq!(all.len(), 2 + 36);
        }

        #[test]
        /// On a real run, the window finds the calls a violation names in
        /// the trace: their invocations, answers and applications.
        fn replay_finds_a_violations_calls_in_a_run() {
            let opts = FuzzOptions {
                duration_us: 10_000_000,
                ..FuzzOptions::default()
            };
            let mut sim = fuzz::build(3, &opts, 0).expect("builds");
            fuzz::run_seed(&mut sim, &opts, |_, _| {});
            let calls: Vec<_> = sim
                .history()
                .calls
                .iter()
                .filter(|c| c.op.key() == "k1" && c.return_us.is_some())
                .skip(10)
                .take(2)
                .cloned()
                .collect();
            assert_eq!(calls.len(), 2);
            let v = Violation {
                key: "k1".into(),
                calls: calls.clone(),
                explanation: String::new(),
            };
            let lines = window_run(3, &opts, &v, 10, false, &ProgressBar::hidden())
                .expect("runs")
                .join("\n");
            for c in &calls {
                // Its invocation (the window may show the client's next
                // call too, as context).
                let called = format!("{:.3} s  {} called #", c.invoke_us as f64 / 1e6, c.client);
                assert_eq!(lines.matches(&called).count(), 1, "{called}\n{lines}");
                let applied = format!(": {} #", c.client);
                // At least the leader's, which comes before the answer
                // (followers may apply after the window ends).
                assert!(lines.matches(&applied).count() >= 1, "{applied}\n{lines}");
            }
            assert_eq!(lines.matches(" returned ").count(), 2, "{lines}");
        }

        #[test]
        /// A failed run says FAILED once, its failure below; simulator and
        /// trace events are told apart, and the trace file has as many as
        /// the summary says.
        fn summaries_say_failed_once_and_name_their_counts() {
            let opts = FuzzOptions {
                duration_us: 5_000_000,
                ..FuzzOptions::default()
            };
            let mut sim = fuzz::build(3, &opts, TRACE_OUT_KEEP).expect("builds");
            let mut o = fuzz::run_seed(&mut sim, &opts, |_, _| {});
            assert_eq!(o.trace_events, sim.trace().events().count() as u64);
            let line = report(&o);
            assert!(line.starts_with("seed 3: ok — "), "{line}");
            let counts = format!(
                "{} simulator events ({} trace events)",
                o.events, o.trace_events
            );
            assert!(line.contains(&counts), "{line}");
            o.failure = Some(Failure {
                kind: fuzz::FailureKind::Liveness,
                message: "no leader\nat all".into(),
                at_us: 7_000_000,
                violation: None,
            });
            let text = report(&o);
            assert_eq!(text.matches("FAILED").count(), 1, "{text}");
            assert!(text.starts_with("seed 3: FAILED — "), "{text}");
            assert!(
                text.ends_with("\n  Liveness failure at 7.000 s: no leader\n  at all"),
                "{text}"
            );
        }

        fn temp(name: &str, text: &str) -> std::path::PathBuf {
            let p = std::env::temp_dir().join(format!("raftlab-cli-{}-{name}", std::process::id()));
            std::fs::write(&p, text).expect("temp file");
            p
        }

        #[test]
        fn check_reads_a_history_written_by_run() {
            let cli = Cli::try_parse_from(["raftlab", "run", "--seed", "3", "--duration", "5"])
                .unwrap_or_else(|e| panic!("{e}"));
            let Command::Run { args, .. } = cli.command else {
                panic!("not a run command")
            };
            let opts = args.options().expect("options");
            let mut sim = fuzz::build(3, &opts, 0).expect("builds");
            let o = fuzz::run_seed(&mut sim, &opts, |_, _| {});
            assert!(o.failure.is_none(), "{:?}", o.failure);
            assert!(!sim.history().calls.is_empty());
            let p = temp("good.json", &sim.history().to_json());
            assert_eq!(check_file(&p, Limits::default()), Ok(0));
            // Too few steps to decide: exit code 3, not a verdict.
            let tight = Limits {
                steps: 3,
                bytes: u64::MAX,
            };
            assert_eq!(check_file(&p, tight), Ok(3));
            let _ = std::fs::remove_file(p);
        }

        #[test]
        fn check_refuses_bad_files_with_a_message() {
            let missing = std::env::temp_dir().join("raftlab-cli-no-such-file.json");
            assert!(check_file(&missing, Limits::default())
                .unwrap_err()
                .contains("cannot read"));
            let p = temp(
                "bad.json",
                "{\"format\": \"raftlab-history/1\", \"calls\": [1, 2]}",
            );
            let e = check_file(&p, Limits::default()).unwrap_err();
            assert!(e.contains("not a history file"), "{e}");
            let _ = std::fs::remove_file(p);
        }
    }
}
