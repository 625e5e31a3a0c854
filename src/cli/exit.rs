//! Exit codes, one convention for every verb (the table is in `--help` and the README), and
//! the error kinds that map onto them.

use std::process::ExitCode;

use super::out::OutputError;

/// What a command's exit code tells a script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: done.
    Ok = 0,
    /// 1: done, and the answer was a failure: HTTP 400 or above with `--fail`, a job that
    /// failed, a check that found problems; or a local failure (a file that cannot be
    /// written, a full disk).
    Failed = 1,
    /// 2: the request could not be sent or the server not reached (connection, TLS, timeout).
    Unreachable = 2,
    /// 64: the command line is wrong (EX_USAGE): an unknown option, a request, environment or
    /// workspace that is not there, a value that is not valid.
    Usage = 64,
    /// 130: stopped by Ctrl-C or SIGTERM before the end (128 + SIGINT, as shells report it);
    /// what was done is kept whole, nothing is half-written.
    Interrupted = 130,
}

impl Exit {
    pub fn code(self) -> u8 {
        self as u8
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e.code())
    }
}

/// The exit-code table as `--help` shows it.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0   ok (also when a reader such as `head` closes the output early)
  1   failed: HTTP 400 or above with --fail, a job failed, check found problems,
      or a local failure (a file not written, a full disk)
  2   could not send the request or reach the server
  64  usage: a wrong option or value, or a request, environment or workspace not found
  130 stopped by Ctrl-C or SIGTERM (import: what was written is whole)";

/// Why a command stopped; each kind has its exit code, and its text is one sentence.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Failed(String),
    #[error("{0}")]
    Unreachable(String),
    /// Nothing was sent because the environment's sign-in failed (and unsigned sends were not
    /// allowed): the caller can point at `--allow-unsigned`.
    #[error("{0}")]
    SignInFailed(String),
    #[error(transparent)]
    Output(#[from] OutputError),
}

impl CliError {
    pub fn exit(&self) -> Exit {
        match self {
            CliError::Usage(_) => Exit::Usage,
            CliError::Failed(_) => Exit::Failed,
            CliError::Unreachable(_) | CliError::SignInFailed(_) => Exit::Unreachable,
            CliError::Output(OutputError::Closed) => Exit::Ok,
            CliError::Output(OutputError::Failed(_)) => Exit::Failed,
        }
    }
}

/// What every command returns.
pub type CliResult = Result<Exit, CliError>;

/// Prints the error's sentence (nothing for a closed pipe) and gives its exit code.
pub fn report(e: &CliError) -> Exit {
    if !matches!(e, CliError::Output(OutputError::Closed)) {
        super::out::error(e);
    }
    e.exit()
}
