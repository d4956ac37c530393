//! How long loading (parse, resolve, validate, type) and alive-interval
//! computation take for scenarios of growing size.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use motionrender_benches::subtitle_scenario;
use motionrender_engine::scenario::load;

fn scenario_loading(c: &mut Criterion) {
    let mut group = c.benchmark_group("scenario_load");
    for cues in [25, 250, 2500] {
        let text = subtitle_scenario(cues, 8, 2.0).to_string();
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(cues), &text, |b, text| {
            b.iter(|| load(text).map(|s| s.alive_intervals().len()));
        });
    }
    group.finish();
}

criterion_group!(benches, scenario_loading);
criterion_main!(benches);
