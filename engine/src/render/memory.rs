//! Resident memory of the engine and of its Chromium processes, read from
//! /proc (Linux). Where /proc is missing, every reading is zero.

use std::fs;

/// Resident bytes of process `pid` (`VmRSS`).
pub fn resident_bytes(pid: u32) -> u64 {
    status_kib(pid, "VmRSS:") * 1024
}

/// The engine's own peak resident bytes (`VmHWM`).
pub fn engine_peak_bytes() -> u64 {
    status_kib(std::process::id(), "VmHWM:") * 1024
}

/// Summed resident bytes of the Chromium processes below the engine.
pub fn chromium_bytes() -> u64 {
    descendants(std::process::id())
        .into_iter()
        .filter(|pid| is_chromium(*pid))
        .map(resident_bytes)
        .sum()
}

fn is_chromium(pid: u32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|comm| comm.contains("chrom") || comm.contains("headless"))
}

/// Every process below `root`, children first found through each thread's
/// `children` list.
pub fn descendants(root: u32) -> Vec<u32> {
    let mut found = Vec::new();
    let mut pending = vec![root];
    while let Some(pid) = pending.pop() {
        let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else { continue };
        for task in tasks.flatten() {
            let Ok(children) = fs::read_to_string(task.path().join("children")) else { continue };
            for child in children.split_whitespace().filter_map(|c| c.parse::<u32>().ok()) {
                if !found.contains(&child) {
                    found.push(child);
                    pending.push(child);
                }
            }
        }
    }
    found
}

fn status_kib(pid: u32, key: &str) -> u64 {
    let Ok(status) = fs::read_to_string(format!("/proc/{pid}/status")) else { return 0 };
    status
        .lines()
        .find_map(|line| line.strip_prefix(key))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_engine_has_resident_memory_and_a_peak_at_least_as_high() {
        let now = resident_bytes(std::process::id());
        assert!(now > 0);
        // The kernel sums per-CPU RSS counters approximately, so two reads
        // (of other threads' allocations in between) can disagree by a few
        // hundred KiB; the peak is never below the current reading by more.
        let peak = engine_peak_bytes();
        assert!(peak + (1 << 20) >= now, "peak {peak} below resident {now}");
    }

    #[test]
    fn a_child_process_is_a_descendant() {
        let mut child = std::process::Command::new("sleep").arg("5").spawn().unwrap();
        let found = descendants(std::process::id());
        let _ = child.kill();
        let _ = child.wait();
        assert!(found.contains(&child.id()), "{found:?} lacks {}", child.id());
    }
}
