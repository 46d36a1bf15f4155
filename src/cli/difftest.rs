//! `muni difftest`: generated programs on the model and every fast-VM build.

use difftest::generate::Program;
use difftest::stats::Stats;
use difftest::{Campaign, Config, Verdict, check, strategy};
use proptest::test_runner::{
    Config as ProptestConfig, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner,
};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What `muni difftest` was asked.
#[derive(Clone, Debug, clap::Args)]
pub struct Settings {
    /// The seed of the run.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Programs to check (default 1000).
    #[arg(long, conflicts_with = "time")]
    pub count: Option<u64>,
    /// Seconds to run instead.
    #[arg(long, value_name = "SECS")]
    pub time: Option<u64>,
    /// Parallel jobs.
    #[arg(long, default_value_t = 1)]
    pub jobs: usize,
    /// Also run the fast VM with GC stress (a collection at every allocation).
    #[arg(long)]
    pub gc_stress: bool,
    /// Where reproducers of divergences go.
    #[arg(long, default_value = "difftest-out")]
    pub out: PathBuf,
    /// Print the statistics as JSON.
    #[arg(long)]
    pub json: bool,
    /// Record every program's model outcome (a baseline for spec authors).
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// Rerun a recorded baseline on the model and list the programs whose
    /// outcome changed.
    #[arg(long, value_name = "FILE")]
    pub against: Option<PathBuf>,
    /// Check the program a byte string generates (a `diff` fuzz artifact) and
    /// write it with its conformance script to --out.
    #[arg(long, value_name = "FILE")]
    pub replay: Option<PathBuf>,
    /// A program still running after this many seconds is a hang (budgets make
    /// every correct run end far sooner): the run stops and leaves it in
    /// OUT/hang.uir.
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    pub timeout: f64,
    /// How many smaller byte strings the shrinker tries on a divergence before
    /// it reports the smallest it found (0: report the program as found).
    #[arg(long, value_name = "N", default_value_t = 2000)]
    pub shrink: u32,
    /// Set a generator knob (repeatable), e.g. `--set w_float=0 --set functions=1`;
    /// `--config` lists them.
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// Print the generator's knobs, their values and what they do, and exit.
    #[arg(long)]
    pub config: bool,
}

impl Settings {
    /// The campaign these settings describe: the seed's C libraries, built and
    /// loaded, and the generator's configuration.
    fn campaign(&self) -> Result<Campaign, String> {
        let config = Config::default().with_settings(&self.set)?;
        Campaign::new(self.seed, config)
    }
}

struct Shared {
    stats: Mutex<Stats>,
    done: AtomicU64,
    stop: AtomicBool,
    found: Mutex<Vec<(Vec<u8>, String)>>,
    outcomes: Mutex<Vec<(u64, u64, String)>>,
    /// The first programs whose work was not done (rejected, undefined, not
    /// compiled), with why.
    not_done: Mutex<Vec<(String, Program)>>,
    /// What each job is running now (for the hang watchdog).
    running: Vec<Mutex<Option<Running>>>,
}

/// A program a job is running, and since when.
type Running = (Instant, Arc<Program>);

/// Runs the differential tester.
pub fn run(s: &Settings) -> ExitCode {
    if !(s.timeout.is_finite() && s.timeout >= 0.0) {
        eprintln!(
            "muni: --timeout takes a number of seconds, not {}",
            s.timeout
        );
        return ExitCode::from(2);
    }
    if s.config {
        return match Config::default().with_settings(&s.set) {
            Ok(c) => {
                print!("{}", c.table());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("muni: {e}");
                ExitCode::from(2)
            }
        };
    }
    let campaign = match s.campaign() {
        Ok(c) => Arc::new(c),
        Err(e) => {
            eprintln!("muni: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(base) = &s.against {
        return against(&campaign, base);
    }
    if let Some(bytes) = &s.replay {
        return replay(s, &campaign, bytes);
    }
    // A crash of the fast VM leaves the program that caused it.
    let crash = s.out.join("crash.uir");
    if let Err(e) = std::fs::create_dir_all(&s.out).and_then(|()| fast_vm::crash::install(&crash)) {
        eprintln!("muni: {}: {e}", crash.display());
        return ExitCode::from(2);
    }
    let count = match (s.count, s.time) {
        (Some(n), _) => n,
        (None, Some(_)) => u64::MAX,
        (None, None) => 1000,
    };
    let deadline = s.time.map(|t| Instant::now() + Duration::from_secs(t));
    let shared = Arc::new(Shared {
        stats: Mutex::new(Stats::default()),
        done: AtomicU64::new(0),
        stop: AtomicBool::new(false),
        found: Mutex::new(Vec::new()),
        outcomes: Mutex::new(Vec::new()),
        not_done: Mutex::new(Vec::new()),
        running: (0..s.jobs.max(1)).map(|_| Mutex::new(None)).collect(),
    });
    let bar = match s.count {
        Some(n) => indicatif::ProgressBar::new(n),
        None => indicatif::ProgressBar::new(s.time.unwrap_or(0)),
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    if s.json {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let start = Instant::now();
    let jobs = s.jobs.max(1);
    let mut handles = Vec::new();
    let run = Run {
        seed: s.seed,
        deadline,
        gc_stress: s.gc_stress,
        record: s.record.is_some(),
        out: s.out.clone(),
        campaign: campaign.clone(),
        shrink: s.shrink,
    };
    // Each job says when it is done, so the wait for the last ends with it.
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    for j in 0..jobs {
        let shared = shared.clone();
        let per_job = count / jobs as u64 + u64::from((j as u64) < count % jobs as u64);
        let run = run.clone();
        let done_tx = done_tx.clone();
        handles.push(std::thread::spawn(move || {
            job(&run, j as u64, per_job, &shared);
            let _ = done_tx.send(());
        }));
    }
    let mut finished = 0;
    while finished < jobs {
        match done_rx.recv_timeout(Duration::from_millis(200)) {
            Ok(()) => finished += 1,
            // A job that panicked sends nothing: its thread is finished all the same.
            Err(_) if handles.iter().all(|h| h.is_finished()) => break,
            Err(_) => {}
        }
        let mut st = shared.stats.lock().map(|g| g.clone()).unwrap_or_default();
        st.seconds = start.elapsed().as_secs_f64();
        match s.count {
            Some(_) => bar.set_position(shared.done.load(Ordering::Relaxed)),
            None => bar.set_position(start.elapsed().as_secs()),
        }
        bar.set_message(st.line());
        if let Some(p) = hung(&shared, s.timeout) {
            bar.finish_and_clear();
            let path = s.out.join("hang.uir");
            let what = format!("a run went on longer than {} s", s.timeout);
            if let Err(e) = std::fs::write(&path, evidence(&run, "hang.uir", &what, &p)) {
                eprintln!("muni: {}: {e}", path.display());
            }
            println!(
                "HANG: a program ran longer than {} s (--timeout)\n  program: {}",
                s.timeout,
                path.display()
            );
            let _ = std::fs::remove_file(&crash);
            // The job is stuck in generated code, which cannot be interrupted:
            // end the process.
            std::process::exit(1);
        }
    }
    for h in handles {
        let _ = h.join();
    }
    bar.finish_and_clear();
    let mut stats = shared.stats.lock().map(|g| g.clone()).unwrap_or_default();
    stats.seconds = start.elapsed().as_secs_f64();
    let found = shared.found.lock().map(|g| g.clone()).unwrap_or_default();
    let mut written = Vec::new();
    for (k, (bytes, why)) in found.iter().enumerate() {
        match write_case(&s.out, &campaign, k, &campaign.program(bytes), why) {
            Ok(p) => written.push(p),
            Err(e) => eprintln!("muni: cannot write the reproducer: {e}"),
        }
    }
    if let Some(path) = &s.record {
        let mut rows = shared
            .outcomes
            .lock()
            .map(|g| g.clone())
            .unwrap_or_default();
        rows.sort();
        let v: Vec<serde_json::Value> = rows
            .iter()
            .map(|(j, i, o)| serde_json::json!({"job": j, "case": i, "model": o}))
            .collect();
        let base = serde_json::json!({"seed": s.seed, "jobs": jobs, "count": count, "programs": v});
        if let Err(e) = std::fs::write(path, serde_json::to_string(&base).unwrap_or_default()) {
            eprintln!("muni: {}: {e}", path.display());
        }
    }
    let json = s.json;
    if json {
        println!("{}", stats.json());
    } else {
        print!("{}", stats.report());
        for (p, (_, why)) in written.iter().zip(&found) {
            println!("DIVERGENCE: {why}\n  reproducer: {}", p.display());
        }
    }
    if stats.failed_work() > 0 {
        // With --json, standard output holds the JSON alone.
        let say = |s: String| {
            if json {
                eprintln!("{s}");
            } else {
                println!("{s}");
            }
        };
        say(format!(
            "NOT DONE: {} programs did not load or the model could not run them, {} the model \
             found undefined (generator bugs), {} the fast VM did not compile",
            stats.rejected, stats.generator_ub, stats.not_compiled
        ));
        let bugs = shared
            .not_done
            .lock()
            .map(|g| g.clone())
            .unwrap_or_default();
        for (k, (why, p)) in bugs.iter().enumerate() {
            let path = s.out.join(format!("not-done-{k}.uir"));
            let _ = std::fs::create_dir_all(&s.out);
            let _ = std::fs::write(&path, evidence(&run, &format!("not-done-{k}.uir"), why, p));
            say(format!(
                "  {}: {}",
                path.display(),
                why.lines().next().unwrap_or_default()
            ));
        }
    }
    // No crash: the evidence file stays empty; remove it.
    if std::fs::metadata(&crash).is_ok_and(|m| m.len() == 0) {
        let _ = std::fs::remove_file(&crash);
    }
    if stats.diverged == 0 && found.is_empty() && stats.failed_work() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The program a job has been running for longer than `timeout` seconds.
fn hung(shared: &Shared, timeout: f64) -> Option<Arc<Program>> {
    shared.running.iter().find_map(|slot| {
        let slot = slot.lock().ok()?;
        let (since, p) = slot.as_ref()?;
        (since.elapsed().as_secs_f64() > timeout).then(|| p.clone())
    })
}

/// The proptest runner of job `j` of a run with `seed`: `cases` byte strings, the
/// same ones every time for the same seed and job (so baselines replay).
pub(crate) fn runner(seed: u64, j: u64, cases: u64, max_shrink_iters: u32) -> TestRunner {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&j.to_le_bytes());
    let config = ProptestConfig {
        cases: u32::try_from(cases).unwrap_or(u32::MAX),
        failure_persistence: None,
        max_shrink_iters,
        // The only rejection is "the run is over" (time is up, or another job found a
        // divergence): it ends the runner at once.
        max_global_rejects: 0,
        ..ProptestConfig::default()
    };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &key))
}

/// What every job of a run shares.
#[derive(Clone)]
struct Run {
    seed: u64,
    deadline: Option<Instant>,
    gc_stress: bool,
    record: bool,
    out: PathBuf,
    campaign: Arc<Campaign>,
    /// The shrinker's iterations (`--shrink`).
    shrink: u32,
}

/// The text of `file`, which keeps a program that crashed or hung the fast VM:
/// what happened, the command that reruns it, and the program.
fn evidence(run: &Run, file: &str, what: &str, p: &Program) -> String {
    let b = difftest::BUDGETS;
    let stress = if run.gc_stress {
        " (add --gc-stress if it does not without)"
    } else {
        ""
    };
    let what = what.lines().next().unwrap_or_default();
    let more: String = p
        .inputs
        .iter()
        .skip(1)
        .map(|i| format!("//   (or the arguments {})\n", i.join(" ")))
        .collect();
    let client = difftest::client::plan_to_text(&p.client);
    format!(
        "// difftest: {what} on this program; rerun it with{stress}\n\
         //   muni run {} --engine fast --lib {} --lib {} --fn {} --fuel {} --alloc {} --stack {} -- {}\n{more}{client}{}",
        run.out.join(file).display(),
        run.campaign.fixed_lib.display(),
        run.campaign.random_lib.display(),
        p.entry,
        b.fuel,
        b.alloc,
        b.stack,
        p.inputs.first().map(|i| i.join(" ")).unwrap_or_default(),
        p.text
    )
}

/// One job: proptest generates byte strings from the job's seed, checks each
/// program, and on a divergence shrinks the bytes to a smaller program that still
/// diverges.
fn job(run: &Run, j: u64, count: u64, shared: &Shared) {
    let (seed, deadline, gc_stress, record) = (run.seed, run.deadline, run.gc_stress, run.record);
    let mut runner = runner(seed, j, count, run.shrink);
    let shrinking = AtomicBool::new(false);
    let case = AtomicU64::new(0);
    let last = Mutex::new(String::new());
    let result = runner.run(&strategy(4096), |bytes| {
        if !shrinking.load(Ordering::Relaxed)
            && (shared.stop.load(Ordering::Relaxed)
                || deadline.is_some_and(|d| Instant::now() >= d))
        {
            return Err(TestCaseError::reject("the run is over"));
        }
        let p = Arc::new(run.campaign.program(&bytes));
        // A crash leaves this text (the signal handler cannot build it); a hang is
        // written out by the watchdog from the program.
        let crashed = evidence(run, "crash.uir", "the fast VM crashed", &p);
        let slot = &shared.running[usize::try_from(j).unwrap_or(0)];
        if let Ok(mut r) = slot.lock() {
            *r = Some((Instant::now(), p.clone()));
        }
        fast_vm::crash::set_current(&crashed);
        let c = check(&p, gc_stress);
        // The text stays named until the next program's is: a bug that corrupts
        // memory may crash only in what follows the check (the next generation, an
        // allocation), and then this program is the one to look at.
        if let Ok(mut l) = last.lock() {
            *l = crashed;
        }
        if let Ok(mut r) = slot.lock() {
            *r = None;
        }
        if !shrinking.load(Ordering::Relaxed) {
            let i = case.fetch_add(1, Ordering::Relaxed);
            shared.done.fetch_add(1, Ordering::Relaxed);
            if let Ok(mut st) = shared.stats.lock() {
                st.add(&c);
            }
            if record && let Ok(mut o) = shared.outcomes.lock() {
                o.push((j, i, c.outcomes.join(" | ")));
            }
        }
        if let Verdict::Rejected(why) | Verdict::GeneratorUb(why) | Verdict::NotCompiled(why) =
            &c.verdict
            && !shrinking.load(Ordering::Relaxed)
            && let Ok(mut g) = shared.not_done.lock()
            && g.len() < 3
        {
            g.push((why.clone(), (*p).clone()));
        }
        match c.verdict {
            Verdict::Diverge(why) => {
                shrinking.store(true, Ordering::Relaxed);
                // The other jobs stop; this one shrinks what it found.
                shared.stop.store(true, Ordering::Relaxed);
                Err(TestCaseError::fail(why))
            }
            _ => Ok(()),
        }
    });
    // `last` is about to go; the handler must not write it.
    fast_vm::crash::set_current("");
    if let Err(TestError::Fail(why, bytes)) = result
        && let Ok(mut f) = shared.found.lock()
    {
        f.push((bytes, why.to_string()));
    }
}

/// `--replay`: the program a byte string generates, checked and written out.
fn replay(s: &Settings, campaign: &Campaign, path: &Path) -> ExitCode {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("muni: {}: {e}", path.display());
            return ExitCode::from(2);
        }
    };
    let p = campaign.program(&bytes);
    let c = check(&p, s.gc_stress);
    let why = match &c.verdict {
        Verdict::Diverge(w) => w.clone(),
        v => format!("{v:?}"),
    };
    match write_case(&s.out, campaign, 0, &p, &why) {
        Ok(script) => {
            println!("{why}\n  reproducer: {}", script.display());
            if matches!(c.verdict, Verdict::Agree) {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("muni: {e}");
            ExitCode::from(2)
        }
    }
}

/// Writes a divergence: the program, and a conformance script with the model's
/// answer (and the C libraries it needs next to it).
fn write_case(
    out: &Path,
    campaign: &Campaign,
    k: usize,
    p: &Program,
    why: &str,
) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(out)?;
    std::fs::write(out.join("difftest.c"), difftest::CLIB_SOURCE)?;
    let clib = format!("difftest-seed{}.c", campaign.seed);
    std::fs::write(out.join(&clib), campaign.library_source())?;
    let base = format!("seed{}-case{k}", campaign.seed);
    std::fs::write(out.join(format!("{base}.uir")), &p.text)?;
    let script = out.join(format!("{base}.conform.uir"));
    std::fs::write(&script, difftest::reproducer(p, why, &clib))?;
    Ok(script)
}

/// The spec authors' check: regenerate the recorded programs and report those
/// whose outcome on the (changed) model differs from the baseline.
fn against(campaign: &Campaign, base: &Path) -> ExitCode {
    let text = match std::fs::read_to_string(base) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("muni: {}: {e}", base.display());
            return ExitCode::from(2);
        }
    };
    let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
        eprintln!("muni: {} is not a difftest baseline", base.display());
        return ExitCode::from(2);
    };
    let seed = v["seed"].as_u64().unwrap_or(campaign.seed);
    let jobs = v["jobs"].as_u64().unwrap_or(1);
    let count = v["count"].as_u64().unwrap_or(0);
    let mut want: std::collections::HashMap<(u64, u64), String> = Default::default();
    for p in v["programs"].as_array().into_iter().flatten() {
        let key = (
            p["job"].as_u64().unwrap_or(0),
            p["case"].as_u64().unwrap_or(0),
        );
        want.insert(key, p["model"].as_str().unwrap_or_default().to_string());
    }
    let mut changed = 0;
    for j in 0..jobs {
        let per_job = count / jobs + u64::from(j < count % jobs);
        let mut runner = runner(seed, j, per_job, 0);
        let case = AtomicU64::new(0);
        let diffs = Mutex::new(Vec::new());
        let _ = runner.run(&strategy(4096), |bytes| {
            let i = case.fetch_add(1, Ordering::Relaxed);
            let p = campaign.program(&bytes);
            let now = match spec_model::load(&[("generated.uir", &p.text)]) {
                Ok(l) => p
                    .inputs
                    .iter()
                    .map(|input| {
                        difftest::run_model(&l, &p, input)
                            .map(|m| m.observed.outcome.to_string())
                            .unwrap_or_default()
                    })
                    .collect::<Vec<_>>()
                    .join(" | "),
                Err(_) => String::new(),
            };
            if let Some(old) = want.get(&(j, i))
                && *old != now
                && let Ok(mut d) = diffs.lock()
            {
                d.push(format!("job {j} case {i}: `{old}` is now `{now}`"));
            }
            Ok(())
        });
        for d in diffs.into_inner().unwrap_or_default() {
            println!("{d}");
            changed += 1;
        }
    }
    println!("{changed} of {count} generated programs changed outcome on the model");
    ExitCode::SUCCESS
}

/// How often each rule fires on the model over `n` generated programs (seed 1),
/// indexed by `RuleId as usize`: the generated-program column of `muni coverage`.
pub fn generated_rule_counts(n: u64) -> Result<Vec<u64>, String> {
    let campaign = Campaign::new(1, Config::default())?;
    let mut total = vec![0u64; spec_model::RuleId::ALL.len()];
    let mut runner = runner(1, 0, n, 0);
    let sums = Mutex::new(&mut total);
    let _ = runner.run(&strategy(4096), |bytes| {
        let p = campaign.program(&bytes);
        if let Ok(l) = spec_model::load(&[("generated.uir", &p.text)])
            && let Ok(mut t) = sums.lock()
        {
            for input in &p.inputs {
                if let Ok(m) = difftest::run_model(&l, &p, input) {
                    t.iter_mut().zip(m.rules).for_each(|(a, b)| *a += b);
                }
            }
        }
        Ok(())
    });
    Ok(total)
}
