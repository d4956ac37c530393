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

/// The memory of the Chromium processes below the engine, summed by
/// [`shared_fairly_bytes`].
pub fn chromium_bytes() -> u64 {
    descendants(std::process::id())
        .into_iter()
        .filter(|pid| is_chromium(*pid))
        .map(shared_fairly_bytes)
        .sum()
}

/// Process `pid`'s proportional set size (`Pss` of `smaps_rollup`): its
/// resident pages, each shared page divided among the processes sharing it,
/// so a sum over a browser's processes counts its shared libraries and
/// shared memory once instead of once per process (as their `VmRSS` sum
/// does). `VmRSS` where the kernel has no `smaps_rollup`.
pub fn shared_fairly_bytes(pid: u32) -> u64 {
    let Ok(rollup) = fs::read_to_string(format!("/proc/{pid}/smaps_rollup")) else { return resident_bytes(pid) };
    rollup
        .lines()
        .find_map(|line| line.strip_prefix("Pss:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse::<u64>().ok())
        .map_or_else(|| resident_bytes(pid), |kib| kib * 1024)
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
    fn pages_shared_with_a_child_count_once_in_the_sum_of_proportional_sizes() {
        // A forked child shares every page of its parent's image; `sleep`'s
        // own pages are shared with any other `sleep` as well.
        let mut children: Vec<_> = (0..2).map(|_| std::process::Command::new("sleep").arg("5").spawn().unwrap()).collect();
        std::thread::sleep(std::time::Duration::from_millis(200));
        let (resident, fair): (u64, u64) = children.iter().map(|c| (resident_bytes(c.id()), shared_fairly_bytes(c.id()))).fold((0, 0), |(r, f), (a, b)| (r + a, f + b));
        for child in &mut children {
            let _ = child.kill();
            let _ = child.wait();
        }
        assert!(fair > 0, "no proportional size read");
        assert!(fair < resident, "two sleeps share their binary and libc, yet count {fair} proportional bytes against {resident} resident");
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
