//! The `event_id` of a callback event, which receivers deduplicate on.

/// The id of a job's `seq`-th callback event: `"{job_id}:{seq}"`.
///
/// It depends only on its inputs, so an event re-sent after a restart (the
/// outbox keeps `seq`) carries the same id and a receiver that already saw it
/// can drop the duplicate. It is unique as long as `seq` is unique within a
/// job: the part after the last `:` is always the decimal `seq`, so two
/// different (job id, seq) pairs never give the same string, even when job
/// ids contain `:`.
pub fn event_id(job_id: &str, seq: u64) -> String {
    format!("{job_id}:{seq}")
}

#[cfg(test)]
mod tests {
    use super::event_id;

    #[test]
    fn is_deterministic_and_tells_job_and_sequence_apart() {
        assert_eq!(event_id("job-1", 7), "job-1:7");
        assert_eq!(event_id("job-1", 7), event_id("job-1", 7));
        assert_ne!(event_id("job-1", 7), event_id("job-1", 8));
        assert_ne!(event_id("a:1", 2), event_id("a", 12));
    }
}
