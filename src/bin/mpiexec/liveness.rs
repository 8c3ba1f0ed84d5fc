//! Liveness of the control stream between mpiexec and a proxy (issue 14 item 4): each side
//! sends a `Ping` frame when it has sent nothing for a while, and counts the other side as
//! lost when it has heard nothing for `OXIMPI_PROXY_TIMEOUT` seconds.
//!
//! Why an application heartbeat and not TCP keepalive or `TCP_USER_TIMEOUT`: a link that
//! vanishes (a cable pulled, a host powered off, a network namespace deleted) sends neither
//! FIN nor RST, so an idle stream looks healthy forever. Keepalive probes are answered by
//! the peer's kernel, so a proxy that is stopped (SIGSTOP, a debugger) or wedged still looks
//! alive, and `TCP_USER_TIMEOUT` only acts while data (or, with keepalive, a probe) waits
//! for its acknowledgement, which an idle job never has. A ping written by the peer process itself covers all of these,
//! costs one 5-byte frame every `timeout / PINGS_PER_TIMEOUT` and needs nothing of the
//! network (ssh tunnels, NAT, firewalls that drop keepalives). Without it, TCP gives up on
//! a vanished peer only after its retransmissions time out (about 15 min, `tcp_retries2`),
//! and only when data is pending; an idle stream waits forever.
//!
//! Any frame counts as a sign of life, so a busy stream carries no extra pings.

use std::time::{Duration, Instant};

/// The environment variable that sets the timeout (seconds; `0` turns the check off).
pub const TIMEOUT_VAR: &str = "OXIMPI_PROXY_TIMEOUT";
/// Silence longer than this ends the job. mpiexec is single-threaded and may legitimately
/// send nothing for a while: starting the proxies of a job spawned on other hosts waits up
/// to 60 s for them to connect (`launch::CONNECT_TIMEOUT`, ssh can be that slow), and a
/// write to a peer that stopped reading waits up to 30 s (`frames::write_all_waiting`). The
/// timeout exceeds both with a margin, so a healthy job is not ended by a slow launcher,
/// and still bounds the wait for a vanished host to a minute and a half (a ping is due
/// every 18 s).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(90);
/// Pings per timeout: a few may be delayed (a busy host, a full socket buffer) before the
/// peer gives up.
const PINGS_PER_TIMEOUT: u32 = 5;

/// The timeout `OXIMPI_PROXY_TIMEOUT` asks for: `None` when the check is off (`0`).
pub fn timeout_from(value: Option<&str>) -> Result<Option<Duration>, String> {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(Some(DEFAULT_TIMEOUT));
    };
    match v.parse::<f64>() {
        Ok(s) if s == 0.0 => Ok(None),
        // At least 10 ms: a ping is due every fifth of it.
        Ok(s) if s.is_finite() && (0.01..=86_400.0).contains(&s) => {
            Ok(Some(Duration::from_secs_f64(s)))
        }
        _ => Err(format!(
            "{TIMEOUT_VAR}={v}: want seconds between 0.01 and 86400, or 0 (no check)"
        )),
    }
}

/// What one side knows of the other's liveness.
#[derive(Debug, Clone)]
pub struct Liveness {
    timeout: Option<Duration>,
    heard: Instant,
    sent: Instant,
}

impl Liveness {
    pub fn new(timeout: Option<Duration>, now: Instant) -> Liveness {
        Liveness {
            timeout,
            heard: now,
            sent: now,
        }
    }

    /// Bytes arrived from the peer.
    pub fn heard(&mut self, now: Instant) {
        self.heard = now;
    }

    /// A frame went to the peer.
    pub fn sent(&mut self, now: Instant) {
        self.sent = now;
    }

    fn period(&self) -> Option<Duration> {
        self.timeout.map(|t| t / PINGS_PER_TIMEOUT)
    }

    /// Whether we should send a ping now (nothing sent for a period).
    pub fn ping_due(&self, now: Instant) -> bool {
        self.period()
            .is_some_and(|p| now.saturating_duration_since(self.sent) >= p)
    }

    /// How long the peer has been silent, if past the timeout.
    pub fn silent_for(&self, now: Instant) -> Option<Duration> {
        let t = self.timeout?;
        let silent = now.saturating_duration_since(self.heard);
        (silent >= t).then_some(silent)
    }

    /// When the next ping or the timeout falls due (`None`: never).
    pub fn next_deadline(&self) -> Option<Instant> {
        let (t, p) = (self.timeout?, self.period()?);
        Some((self.sent + p).min(self.heard + t))
    }
}

/// Milliseconds from `now` to `at` for poll(2), rounded up so the wake-up is not early.
pub fn poll_ms(now: Instant, at: Instant) -> i32 {
    at.saturating_duration_since(now)
        .as_micros()
        .div_ceil(1000)
        .min(i32::MAX as u128) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_knob() {
        assert_eq!(timeout_from(None), Ok(Some(DEFAULT_TIMEOUT)));
        assert_eq!(timeout_from(Some(" ")), Ok(Some(DEFAULT_TIMEOUT)));
        assert_eq!(timeout_from(Some("0")), Ok(None));
        assert_eq!(
            timeout_from(Some("2.5")),
            Ok(Some(Duration::from_millis(2500)))
        );
        for bad in ["-1", "x", "1e9", "0.001", "nan", "inf"] {
            assert!(timeout_from(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn pings_when_quiet_and_times_out_when_silent() {
        let t0 = Instant::now();
        let s = Duration::from_secs(1);
        let mut l = Liveness::new(Some(10 * s), t0);
        assert!(!l.ping_due(t0));
        assert_eq!(l.next_deadline(), Some(t0 + 2 * s));
        assert!(l.ping_due(t0 + 2 * s));
        l.sent(t0 + 2 * s);
        assert!(!l.ping_due(t0 + 3 * s));
        assert_eq!(l.next_deadline(), Some(t0 + 4 * s));
        // Silent just under the timeout: alive; at it: lost, for as long as it lasted.
        assert_eq!(l.silent_for(t0 + 10 * s - Duration::from_millis(1)), None);
        assert_eq!(l.silent_for(t0 + 10 * s), Some(10 * s));
        // Hearing anything pushes the timeout back.
        l.heard(t0 + 9 * s);
        assert_eq!(l.silent_for(t0 + 12 * s), None);
        l.sent(t0 + 17 * s);
        assert_eq!(l.next_deadline(), Some(t0 + 19 * s));
        assert_eq!(l.silent_for(t0 + 19 * s), Some(10 * s));
    }

    #[test]
    fn off_means_never() {
        let t0 = Instant::now();
        let l = Liveness::new(None, t0);
        let later = t0 + Duration::from_secs(1_000_000);
        assert!(!l.ping_due(later));
        assert_eq!(l.silent_for(later), None);
        assert_eq!(l.next_deadline(), None);
    }

    #[test]
    fn poll_ms_rounds_up() {
        let t0 = Instant::now();
        assert_eq!(poll_ms(t0, t0), 0);
        assert_eq!(poll_ms(t0 + Duration::from_secs(1), t0), 0);
        assert_eq!(poll_ms(t0, t0 + Duration::from_micros(1500)), 2);
    }
}
