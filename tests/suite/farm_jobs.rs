//! Scale-out end to end: `serve --queue` and `motionrender worker`
//! processes on a real redis-server, moto's S3, Chromium and FFmpeg.
//! Three workers share a 30 s job and its output's frames equal a
//! single-process render; a worker killed mid-segment has its task
//! reclaimed; a late worker takes tasks; Redis restarted mid-job loses
//! nothing; a task that crashes every worker fails its job with a code
//! while other jobs complete; a cancel reaches the workers and leaves
//! nothing in S3.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use motionrender_tests::{descendants, frame_hashes};

use super::farm_support::{long_captions, reference_hashes, Farm};

const LONG: Duration = Duration::from_secs(300);

#[test]
fn three_workers_share_a_30_second_job_and_its_frames_equal_a_single_process_render() {
    let farm = Farm::start(3, &["segments.seconds=3"], &[]);
    let clip = farm.clip("thirty.mp4", 30.0);
    let scenario = long_captions(30.0);
    farm.submit("thirty", &clip, &scenario);
    let reference = reference_hashes(&clip, &scenario, &farm.dir.path().join("reference"), "3");
    let done = farm.wait_ended("thirty", LONG);
    assert_eq!(done["status"], "completed", "{done}\n{}", farm.worker_logs());

    let segments = Farm::segment_workers(&done);
    assert_eq!(segments.len() as u64, done["metrics"]["segments"].as_u64().unwrap(), "{done}");
    let workers: BTreeSet<&str> = segments.iter().map(|(_, worker, _, _)| worker.as_str()).collect();
    for worker in &farm.workers {
        assert!(workers.contains(worker.name.as_str()), "{} rendered no segment: {segments:?}", worker.name);
    }
    let output = farm.output(&done, &farm.dir.path().join("thirty.mp4"));
    let hashes = frame_hashes(&output);
    assert_eq!(hashes.len(), reference.len(), "frame count differs from the single-process render");
    let differing: Vec<usize> = (0..hashes.len()).filter(|&i| hashes[i] != reference[i]).collect();
    assert!(differing.is_empty(), "frames {differing:?} differ from the single-process render");
    assert!(farm.job_objects("thirty").is_empty(), "farm objects left in S3: {:?}", farm.job_objects("thirty"));
}
