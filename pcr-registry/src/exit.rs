//! Process exit statuses, shared by every verb.

/// How a command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: the answer is yes (e.g. the attestation verified).
    Success,
    /// 1: the answer is no (e.g. the attestation was rejected).
    Rejected,
    /// 2: the command could not answer (bad arguments, unreadable file, RPC failure).
    Error,
}

impl ExitStatus {
    /// The numeric exit code.
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Rejected => 1,
            ExitStatus::Error => 2,
        }
    }
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(s: ExitStatus) -> Self {
        std::process::ExitCode::from(s.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert_eq!(
            [ExitStatus::Success, ExitStatus::Rejected, ExitStatus::Error].map(ExitStatus::code),
            [0, 1, 2]
        );
    }
}
