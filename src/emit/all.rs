//! What `gen all` consists of: every emitter and the migration plan, as
//! independent jobs in the order they are best started (the most expensive
//! first, so that the last to start are short and the threads that take
//! them finish together). Each job writes into whatever sink it is given;
//! the shell decides the threads and the disk.

use super::migrations::{self, Existing, MigrationError, MigrationRequest, Plan};
use super::{EmitContext, EmitError, Emitter, OutputSink};

/// One of `gen all`'s independent jobs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Job {
    Emit(Emitter),
    Migrations,
}

/// Why a job failed.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(transparent)]
    Emit(#[from] EmitError),
    #[error(transparent)]
    Migrations(#[from] MigrationError),
}

impl Job {
    /// Every job, the most expensive first, as `--timings` measures them on
    /// the documents and at 1,000 tables.
    pub fn all() -> Vec<Job> {
        let expensive = [Emitter::OpenApi, Emitter::Glossary];
        let middling = [Emitter::Models, Emitter::Consolidation];
        let mut jobs: Vec<Job> = expensive.iter().map(|&e| Job::Emit(e)).collect();
        jobs.push(Job::Migrations);
        jobs.extend(middling.iter().map(|&e| Job::Emit(e)));
        jobs.extend(
            Emitter::ALL
                .iter()
                .filter(|e| !expensive.contains(e) && !middling.contains(e))
                .map(|&e| Job::Emit(e)),
        );
        jobs
    }

    /// What `--timings` calls the job.
    pub fn label(self) -> String {
        match self {
            Job::Emit(emitter) => format!("emit {}", emitter.name()),
            Job::Migrations => "plan migrations".to_owned(),
        }
    }

    /// Runs the job into `sink`; the migration job gives back its plan,
    /// whose files it has handed to the sink when it has any.
    pub fn run(
        self,
        context: &EmitContext<'_>,
        migrations: (&Existing, &MigrationRequest<'_>),
        sink: &mut dyn OutputSink,
    ) -> Result<Option<Plan>, JobError> {
        match self {
            Job::Emit(emitter) => {
                emitter.emit(context, sink)?;
                Ok(None)
            }
            Job::Migrations => {
                let (existing, request) = migrations;
                let plan = migrations::plan(context, existing, request)?;
                if let Plan::Write { files, .. } = &plan {
                    for file in files {
                        sink.file(file.clone())?;
                    }
                }
                Ok(Some(plan))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_emitter_and_the_migrations_are_one_job_each() {
        let jobs = Job::all();
        assert_eq!(jobs.len(), Emitter::ALL.len() + 1);
        for &emitter in Emitter::ALL {
            assert_eq!(jobs.iter().filter(|&&j| j == Job::Emit(emitter)).count(), 1);
        }
        assert_eq!(jobs[0], Job::Emit(Emitter::OpenApi));
    }
}
