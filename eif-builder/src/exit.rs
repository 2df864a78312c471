//! The exit statuses of the toolchain's commands (`eif-builder`, `pcr-registry`): one convention,
//! so that scripts read every tool the same way.

/// How a command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: the answer is yes (the image is valid, the attestation verified, the command did it).
    Success,
    /// 1: the answer is no (a failed CRC or signature check, a rejected attestation).
    Rejected,
    /// 2: the command could not answer (bad arguments, an unreadable file, an RPC failure).
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
