//! The gate a memory controller closes to pause the rasterizers: while it is
//! closed, producers hold their next overlay (as long as the queue still has
//! frames whose encoding will free memory).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Open by default; a controller closes it above the memory high-water mark.
#[derive(Debug, Default)]
pub struct PressureGate {
    closed: AtomicBool,
    /// Times the gate was closed (a decision of the controller).
    closings: AtomicU64,
}

impl PressureGate {
    /// Whether producers should pause now.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }

    /// Sets the gate; returns true when that changed it.
    pub fn set_closed(&self, closed: bool) -> bool {
        let was = self.closed.swap(closed, Ordering::Relaxed);
        if closed && !was {
            self.closings.fetch_add(1, Ordering::Relaxed);
        }
        was != closed
    }

    /// How many times the gate has been closed.
    pub fn closings(&self) -> u64 {
        self.closings.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closing_twice_counts_once_and_reopening_reports_a_change() {
        let gate = PressureGate::default();
        assert!(!gate.is_closed());
        assert!(gate.set_closed(true));
        assert!(!gate.set_closed(true));
        assert!(gate.is_closed());
        assert!(gate.set_closed(false));
        assert_eq!(gate.closings(), 1);
    }
}
