//! The console log, through `tracing` as in `host-proxy` (filter with `RUST_LOG`, default `info`).
//!
//! The enclave's console is read by people and by CI (`ci/boot-test` waits for
//! `enclave-app: listening on vsock port`, `ci/boot-proxy-test` for `enclave-app: engine key 0x`),
//! so every event is one plain line: `enclave-app: ` + (`error: ` | `warning: ` | `debug: ` |
//! `trace: `, by level; nothing for info) + the message + the event's fields as `key=value`.
//! No time stamp: the console has its own, and the enclave's clock is not the host's.
//!
//! Nothing secret reaches the log: no key material, no request bodies, no sealed bids.

use std::fmt;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::TryInitError;

/// The prefix of every console line.
const PREFIX: &str = "enclave-app: ";

/// Installs the console subscriber (stderr). Fails only if one is installed already.
pub(crate) fn init() -> Result<(), TryInitError> {
    use tracing_subscriber::util::SubscriberInitExt as _;
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    subscriber(std::io::stderr, filter).try_init()
}

/// The subscriber writing console lines to `writer`.
fn subscriber<W>(writer: W, filter: EnvFilter) -> impl Subscriber + Send + Sync + 'static
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .event_format(ConsoleLine)
        .finish()
}

/// One event, one line: `enclave-app: [level: ]message key=value…`.
struct ConsoleLine;

impl<S, N> FormatEvent<S, N> for ConsoleLine
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        writer.write_str(PREFIX)?;
        writer.write_str(match *event.metadata().level() {
            Level::ERROR => "error: ",
            Level::WARN => "warning: ",
            Level::INFO => "",
            Level::DEBUG => "debug: ",
            Level::TRACE => "trace: ",
        })?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// A `MakeWriter` collecting everything written into one buffer.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'w> tracing_subscriber::fmt::MakeWriter<'w> for Buffer {
        type Writer = Buffer;
        fn make_writer(&'w self) -> Buffer {
            self.clone()
        }
    }

    #[test]
    fn each_event_is_one_prefixed_line_that_ci_can_grep() {
        let buffer = Buffer::default();
        tracing::subscriber::with_default(subscriber(buffer.clone(), "info".into()), || {
            let port = 5005;
            tracing::info!("listening on vsock port {port}");
            tracing::warn!(peer = "vsock:16:1", "closed for a newer client");
            tracing::error!("no NSM device");
            tracing::trace!("filtered out at the default level");
        });
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        assert_eq!(
            text,
            "enclave-app: listening on vsock port 5005\n\
             enclave-app: warning: closed for a newer client peer=\"vsock:16:1\"\n\
             enclave-app: error: no NSM device\n"
        );
    }
}
