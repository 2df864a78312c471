//! The devnet's printer: numbered steps with the seconds since the run began, indented lines
//! under them, and the failure line. Everything goes to standard error, as `ci/devnet` prints.

use std::time::{SystemTime, UNIX_EPOCH};

/// Step counter and clock.
#[derive(Debug)]
pub(crate) struct Out {
    n: usize,
    total: usize,
    /// Seconds since the epoch when the run began (`ci/devnet` passes its own start).
    started: u64,
    step: String,
}

/// Seconds since the epoch.
pub(crate) fn now_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn bold(s: &str) -> String {
    format!("\x1b[1m{s}\x1b[0m")
}

impl Out {
    /// A printer in step `current` of `total` (the next heading is `current + 1`).
    pub(crate) fn new(current: usize, total: usize, started: u64) -> Out {
        Out {
            n: current,
            total,
            started,
            step: "setup".into(),
        }
    }

    /// Seconds since the run began.
    pub(crate) fn elapsed(&self) -> u64 {
        now_s().saturating_sub(self.started)
    }

    /// Continues step `n` (started by `ci/devnet`) under its name, without a new heading.
    pub(crate) fn resume(&mut self, name: &str) {
        self.step = name.into();
    }

    /// Starts the next numbered step.
    pub(crate) fn step(&mut self, name: &str) {
        self.n += 1;
        self.step = name.into();
        eprintln!(
            "\n{}",
            bold(&format!(
                "[{}/{}] {name}  (+{} s)",
                self.n,
                self.total,
                self.elapsed()
            ))
        );
    }

    /// The steps counted so far, and the total announced.
    pub(crate) fn progress(&self) -> (usize, usize) {
        (self.n, self.total)
    }

    /// A line under the step.
    pub(crate) fn info(&self, line: &str) {
        eprintln!("      {line}");
    }

    /// A labelled value under the step.
    pub(crate) fn show(&self, label: &str, value: &str) {
        eprintln!("      {label:<22} {value}");
    }

    /// The failure line.
    pub(crate) fn failed(&self, error: &dyn std::fmt::Display) {
        eprintln!(
            "\n\x1b[1;31mdevnet: FAILED in step \"{}\": {error}\x1b[0m",
            self.step
        );
    }
}

/// `amount` (18 decimals) as a decimal number of whole units, as `cast from-wei` prints it.
pub(crate) fn units(amount: alloy::primitives::U256) -> String {
    let one = alloy::primitives::U256::from(10u64).pow(alloy::primitives::U256::from(18u64));
    let (whole, frac) = amount.div_rem(one);
    if frac.is_zero() {
        return format!("{whole}.000000000000000000");
    }
    format!("{whole}.{:0>18}", frac.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::U256;

    #[test]
    fn units_prints_eighteen_decimals() {
        let e18 = U256::from(1_000_000_000_000_000_000u64);
        assert_eq!(units(U256::from(20) * e18), "20.000000000000000000");
        assert_eq!(units(U256::from(5)), "0.000000000000000005");
        assert_eq!(units(e18 + U256::from(1)), "1.000000000000000001");
    }

    #[test]
    fn steps_count_on_from_the_current_one() {
        let mut out = Out::new(4, 17, now_s());
        assert_eq!(out.step, "setup");
        out.step("marketplace chain");
        assert_eq!(out.progress(), (5, 17));
        assert_eq!(out.step, "marketplace chain");
    }
}
