//! `gen all`: every emitter and the migration plan, run as independent jobs
//! on as many threads as there are cores, each staging its files in the
//! output directory, which are committed together at the end. With
//! `--timings` it also says how long each phase and job took, so that a
//! slow run can be explained without a profiler.

use super::{
    Outcome, Staging, load_for_generation, plan_paths, read_existing, report_blockers, templates,
};
use crate::cli::{AllArgs, Config};
use crate::diag;
use crate::emit::EmitContext;
use crate::emit::all::{Job, JobError};
use crate::emit::migrations::{Existing, MigrationRequest, Plan};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// What `gen all` does besides reading: every emitter and the migration
/// plan, as jobs that threads take in turn.
struct AllWork<'a> {
    timeline: &'a Timeline,
    context: &'a EmitContext<'a>,
    existing: &'a Existing,
    request: &'a MigrationRequest<'a>,
}

impl AllWork<'_> {
    /// Runs every job and returns the migration plan, whose files are
    /// staged when it has any. Each thread stages
    /// into its own worker staging, which `staging` absorbs at the end.
    /// When jobs fail, the error of the first in job order is returned, so
    /// the message does not depend on timing, and the workers' temporary
    /// files are removed as their stagings drop.
    fn run_on_threads(&self, staging: &mut Staging) -> anyhow::Result<Plan> {
        let jobs = Job::all();
        let next = AtomicUsize::new(0);
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(jobs.len());
        let workers: Vec<Staging> = (0..threads).map(|_| staging.worker()).collect();
        let finished: Vec<(Staging, JobResults)> = std::thread::scope(|scope| {
            let handles: Vec<_> = workers
                .into_iter()
                .enumerate()
                .map(|(thread, mut worker)| {
                    let (jobs, next) = (&jobs, &next);
                    let lane = format!("thread {}", thread + 1);
                    scope.spawn(move || {
                        let mut results = JobResults::new();
                        loop {
                            let index = next.fetch_add(1, Ordering::SeqCst);
                            let Some(&job) = jobs.get(index) else { break };
                            let result = self.timeline.time(&lane, &job.label(), || {
                                job.run(self.context, (self.existing, self.request), &mut worker)
                            });
                            let failed = result.is_err();
                            results.push((index, result));
                            if failed {
                                break;
                            }
                        }
                        (worker, results)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|handle| {
                    handle
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        });
        let mut plan = None;
        let mut errors: Vec<(usize, JobError)> = Vec::new();
        for (worker, results) in finished {
            for (index, result) in results {
                match result {
                    Ok(None) => {}
                    Ok(Some(planned)) => plan = Some(planned),
                    Err(error) => errors.push((index, error)),
                }
            }
            staging.absorb(worker);
        }
        match errors.into_iter().min_by_key(|(index, _)| *index) {
            Some((_, error)) => Err(error.into()),
            None => plan.ok_or_else(|| anyhow::anyhow!("the migration job did not run")),
        }
    }
}

/// What a thread of `gen all` did: the index of each job it ran and how
/// that went.
type JobResults = Vec<(usize, Result<Option<Plan>, JobError>)>;

/// Every emitter, then the migrations: the main job.
pub(super) fn all(config: &Config, args: &AllArgs) -> anyhow::Result<Outcome> {
    let timeline = Timeline::new();
    let outcome = all_on(config, args, &timeline);
    if args.timings {
        eprint!("{}", timeline.report());
    }
    outcome
}

fn all_on(config: &Config, args: &AllArgs, timeline: &Timeline) -> anyhow::Result<Outcome> {
    // Overrides (`--templates`) compile while the documents are read; the
    // embedded templates compile in the jobs that first render them.
    let (project, templates) = std::thread::scope(|scope| {
        let templates =
            scope.spawn(|| timeline.time("templates", "load templates", || templates(config)));
        let project = timeline.time("main", "read, model and realise the documents", || {
            load_for_generation(config)
        });
        let templates = templates
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (project, templates)
    });
    let project = match project? {
        Ok(project) => project,
        Err(outcome) => return Ok(outcome),
    };
    let templates = templates?;
    let out_dir = config.output_dir_or(args.out.as_deref());
    // Each template group is compiled once for every emitter, and each
    // emitter's files staged on disk as soon as they are rendered. The
    // emitters, the migration plan and the lint summary are independent,
    // so they run on as many threads as there are cores.
    let context = EmitContext::new(&project, &templates);
    let existing = timeline.time("main", "read existing migrations", || {
        read_existing(&out_dir)
    })?;
    let version = chrono::Utc::now().format("%Y%m%d%H%M%S").to_string();
    let request = MigrationRequest {
        name: &args.name,
        version: &version,
        allowed: args.hazards.allowed(),
    };
    let work = AllWork {
        timeline,
        context: &context,
        existing: &existing,
        request: &request,
    };
    let mut staging = Staging::new(&out_dir);
    let plan = work.run_on_threads(&mut staging)?;
    let paths = plan_paths(config, &out_dir);
    let outcome = Outcome::of_plan(plan.status());
    if outcome != Outcome::Clean {
        // The other outputs describe a schema whose migration was not
        // written: none of them is written either. Dropping the staging
        // removes every temporary file.
        report_blockers(&plan, &paths, config);
        drop(staging);
        eprintln!("gen all: nothing written in {}", paths.output);
        return Ok(outcome);
    }
    let summary = timeline.time("main", "commit the outputs", || staging.commit())?;
    eprintln!(
        "gen all: {} file(s) written, {} unchanged in {}",
        summary.written, summary.unchanged, paths.output
    );
    match &plan {
        Plan::Write {
            up_name,
            later_parts,
            summary,
            hazardous,
            ..
        } => {
            eprintln!(
                "migrations: wrote {up_name} ({} change(s)){}",
                summary.count,
                crate::emit::migrations::later_parts_note(later_parts),
            );
            super::report_hazards(hazardous);
        }
        _ => eprintln!("migrations: up to date"),
    }
    let counts = diag::SeverityCounts::of(project.diagnostics());
    eprintln!(
        "{}; diagnostics: {} error(s), {} warning(s), {} info (run `gen lint` to see them)",
        project.summary(),
        counts.error,
        counts.warning,
        counts.info
    );
    Ok(outcome)
}

/// When each phase of `gen all` ran, for `--timings`: on which thread
/// ("lane") and from when to when, counted from the start of the command.
struct Timeline {
    origin: Instant,
    phases: Mutex<Vec<Phase>>,
}

struct Phase {
    lane: String,
    label: String,
    start: Duration,
    end: Duration,
}

impl Timeline {
    fn new() -> Timeline {
        Timeline {
            origin: Instant::now(),
            phases: Mutex::new(Vec::new()),
        }
    }

    /// Runs `work` and records how long it took. Phases are recorded
    /// whether or not `--timings` was given: two clock reads per job cost
    /// nothing beside the jobs.
    fn time<T>(&self, lane: &str, label: &str, work: impl FnOnce() -> T) -> T {
        let start = self.origin.elapsed();
        let result = work();
        let end = self.origin.elapsed();
        let phase = Phase {
            lane: lane.to_owned(),
            label: label.to_owned(),
            start,
            end,
        };
        // A thread that panicked while holding the lock left a whole list;
        // the timings are still worth printing.
        self.phases
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(phase);
        result
    }

    /// One line per phase, in the order they started, then the total.
    fn report(&self) -> String {
        use std::fmt::Write;
        let total = self.origin.elapsed();
        let mut phases = std::mem::take(
            &mut *self
                .phases
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
        phases.sort_by(|a, b| a.start.cmp(&b.start).then_with(|| a.lane.cmp(&b.lane)));
        let millis = |d: Duration| d.as_secs_f64() * 1000.0;
        let mut out = String::from("timings (milliseconds since the command started):\n");
        for phase in &phases {
            let _ = writeln!(
                out,
                "  {:>9.1} .. {:>9.1}  {:>9.1}  {:<10} {}",
                millis(phase.start),
                millis(phase.end),
                millis(phase.end - phase.start),
                phase.lane,
                phase.label
            );
        }
        let _ = writeln!(out, "  total {:.1}", millis(total));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::Timeline;

    #[test]
    fn the_timeline_lists_phases_in_the_order_they_started() {
        let timeline = Timeline::new();
        let value = timeline.time("main", "first", || 7);
        timeline.time("thread 1", "second", || {
            std::thread::sleep(std::time::Duration::from_millis(2))
        });
        assert_eq!(value, 7);
        let report = timeline.report();
        let first = report.find("main       first").expect(&report);
        let second = report.find("thread 1   second").expect(&report);
        assert!(first < second, "{report}");
        assert!(
            report.lines().last().unwrap().starts_with("  total "),
            "{report}"
        );
    }
}
