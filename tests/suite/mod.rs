//! The end-to-end test modules; add a module here to add it to the binary.

mod cli_config;
mod cli_faults;
mod cli_render;
mod cli_render_options;
mod cli_validate;
mod fidelity;
mod reference_page;
mod render_assets;
mod render_quality;
mod scenario_fixtures;
mod scenario_migration;
mod scenario_samples;
mod service_dashboard;
mod service_embedding;
mod service_hardening;
mod service_jobs;
mod service_load;
mod service_requests;
mod service_s3;
mod service_support;
mod service_tree;
mod tune;
