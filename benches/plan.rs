//! How long the pure companion plan takes for large templates (issue 8: 500 image functions in
//! at most 50 ms): `plan` followed by `phase1_template`, for a first deploy of N functions (no
//! companion stack yet) and for an update that retires one repository and adds one, so that its
//! phase-1 template also holds N repositories (N - 1 wanted plus the retired one kept).
//!
//! Run with `cargo bench --bench plan`.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use indexmap::IndexMap;
use samrs::companion::{phase1_template, plan, DeployedResource, PlanInput, RepoSettings};

const STACK: &str = "bench-app";
const SIZES: [usize; 3] = [10, 100, 500];

/// `n` image functions with nested-looking and long names, as a large real template has.
fn functions(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("Service{}/ImageFunctionNumber{i}Handler", i % 7))
        .collect()
}

fn input<'a>(
    functions: &'a [String],
    no_mapping: &'a IndexMap<String, String>,
    settings: &'a RepoSettings,
    status: Option<&'a str>,
    deployed: &'a [DeployedResource],
) -> PlanInput<'a> {
    PlanInput {
        stack_name: STACK,
        functions,
        image_repositories: no_mapping,
        resolve_image_repos: true,
        account: "123456789012",
        region: "us-east-1",
        companion_status: status,
        deployed,
        settings,
        tags: &[],
        version: "0.1.0",
    }
}

/// The companion stack a first deploy of `functions` leaves, as ListStackResources reports it.
fn deployed_after_create(functions: &[String], settings: &RepoSettings) -> Vec<DeployedResource> {
    let no_mapping = IndexMap::new();
    let created = plan(&input(functions, &no_mapping, settings, None, &[])).unwrap();
    created
        .repos
        .iter()
        .map(|repo| DeployedResource {
            logical_id: repo.logical_id.clone(),
            physical_id: repo.repository_name.clone(),
            resource_type: "AWS::ECR::Repository".to_string(),
        })
        .collect()
}

fn companion_plan(c: &mut Criterion) {
    let settings = RepoSettings::default();
    let no_mapping = IndexMap::new();
    let mut group = c.benchmark_group("companion_plan");
    for n in SIZES {
        let all = functions(n);
        // The update removes the first function and adds the last one.
        let deployed = deployed_after_create(&all[..n - 1], &settings);
        let after = &all[1..];

        group.bench_with_input(BenchmarkId::new("create", n), &all, |b, functions| {
            b.iter(|| {
                let planned = plan(&input(functions, &no_mapping, &settings, None, &[])).unwrap();
                black_box(phase1_template(&planned))
            })
        });
        group.bench_with_input(BenchmarkId::new("update", n), after, |b, functions| {
            b.iter(|| {
                let status = Some("UPDATE_COMPLETE");
                let planned =
                    plan(&input(functions, &no_mapping, &settings, status, &deployed)).unwrap();
                assert_eq!(planned.retire.len(), 1);
                black_box(phase1_template(&planned))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, companion_plan);
criterion_main!(benches);
