//! Waiting that a long-running caller can cut short: the HTTP retry waits and the executor's back-off
//! sleep through a [`Pause`], and `watch` (or Ctrl-C) can end every wait at once with [`Pause::interrupt`].

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// A shared handle: clones wait on, and interrupt, the same flag.
#[derive(Debug, Clone, Default)]
pub(crate) struct Pause {
    shared: Arc<(Mutex<bool>, Condvar)>,
}

/// The wait was cut short.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Interrupted;

impl Pause {
    /// Sleeps for `wait`, or until [`Pause::interrupt`] is called (then, and ever after, at once).
    pub(crate) fn sleep(&self, wait: Duration) -> Result<(), Interrupted> {
        let (flag, signal) = &*self.shared;
        let deadline = Instant::now().checked_add(wait);
        let mut interrupted = flag.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        loop {
            if *interrupted {
                return Err(Interrupted);
            }
            let left = match deadline {
                Some(deadline) => deadline.saturating_duration_since(Instant::now()),
                None => wait,
            };
            if left.is_zero() {
                return Ok(());
            }
            interrupted = signal
                .wait_timeout(interrupted, left)
                .map(|(guard, _)| guard)
                .unwrap_or_else(|poisoned| poisoned.into_inner().0);
        }
    }

    /// Ends every current and future wait of this handle and its clones.
    pub(crate) fn interrupt(&self) {
        let (flag, signal) = &*self.shared;
        *flag.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = true;
        signal.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wait_runs_its_course_unless_interrupted() {
        let pause = Pause::default();
        let started = Instant::now();
        assert_eq!(pause.sleep(Duration::from_millis(20)), Ok(()));
        assert!(started.elapsed() >= Duration::from_millis(20));

        let other = pause.clone();
        let waiter = std::thread::spawn(move || other.sleep(Duration::from_secs(600)));
        std::thread::sleep(Duration::from_millis(20));
        pause.interrupt();
        assert_eq!(waiter.join().unwrap(), Err(Interrupted));
        assert_eq!(pause.sleep(Duration::from_secs(600)), Err(Interrupted), "interrupted for good");
    }
}
