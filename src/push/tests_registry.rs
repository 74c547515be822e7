//! Pushes against a real registry and moto (see [`super::testserver`]): images sharing a base
//! layer, re-pushes, the platform preflight, the plain-HTTP guard and the engine source.
//! Tests print why and pass when `docker-registry`, `htpasswd`, the moto server or (for the
//! engine test) a container engine is missing.

// Test code: it reads the test environment and says why a test is skipped.
#![allow(clippy::disallowed_methods, clippy::print_stderr)]

use super::report::Event;
use super::testimage::{
    docker_archive, layer_tar, oci_layout, tagged_docker_archive, ArchiveLayout,
};
use super::testserver::{direct_transport, engine_curl, start, unique, Recorder, ACCOUNT_HOST};
use super::*;
use std::time::Duration;

fn job(function: &str, source: ImageSource, repo: &str) -> PushJob {
    PushJob {
        function: function.into(),
        source,
        repository_uri: format!("{ACCOUNT_HOST}/{repo}"),
        tag: "latest".into(),
        architecture: "x86_64".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_images_sharing_a_base_layer_once_and_repushes_nothing() {
    let Some(emulators) = start() else { return };
    let seed = unique();
    let base = layer_tar(&format!("base-{seed}"), 300 * 1024);
    let dir = emulators.dir.path();
    let archive_a = dir.join("a.tar");
    docker_archive(
        &archive_a,
        &[base.clone(), layer_tar(&format!("a-{seed}"), 1000)],
        "amd64",
        ArchiveLayout::Podman,
    );
    let archive_c = dir.join("c.tar");
    docker_archive(
        &archive_c,
        &[base.clone(), layer_tar(&format!("c-{seed}"), 1000)],
        "amd64",
        ArchiveLayout::Dockerd,
    );
    let layout = dir.join("layout");
    let oci = oci_layout(
        &layout,
        "v7",
        &[
            (
                "amd64",
                vec![base.clone(), layer_tar(&format!("b-{seed}"), 1000)],
            ),
            ("arm64", vec![layer_tar(&format!("arm-{seed}"), 1000)]),
        ],
    );
    let jobs = vec![
        job(
            "FunctionA",
            ImageSource::DockerArchive(archive_a.clone()),
            "stack/fna",
        ),
        job(
            "FunctionB",
            image_source(&format!("oci:{}:v7", layout.display())).unwrap(),
            "stack/fnb",
        ),
        job(
            "FunctionC",
            ImageSource::DockerArchive(archive_c),
            "stack/fnc",
        ),
    ];
    let recorder = Recorder::default();
    let pushed = emulators.push(jobs.clone(), &recorder, None).await.unwrap();

    assert_eq!(pushed.len(), 3);
    assert_eq!(
        pushed[1].digest, oci.manifests[0],
        "the OCI manifest is pushed byte for byte"
    );
    let image_a = archive::read(&archive_a, "x86_64", None, tempfile::tempdir().unwrap()).unwrap();
    let expected_tags = [
        sam_tag("FunctionA", &image_a.image_id, None),
        "FunctionB".to_string(),
        "FunctionC".to_string(),
    ];
    for ((image, repo), tag_start) in pushed
        .iter()
        .zip(["stack/fna", "stack/fnb", "stack/fnc"])
        .zip(&expected_tags)
    {
        let tags = emulators.tags(repo);
        let tag = tags[0].as_str().unwrap();
        assert!(tag.starts_with(tag_start.as_str()), "{tag} vs {tag_start}");
        assert_eq!(emulators.manifest_digest(repo, tag), image.digest);
        assert_eq!(
            image.uri_with_digest,
            format!("{ACCOUNT_HOST}/{repo}@{}", image.digest)
        );
    }
    assert!(emulators.tags("stack/fnb")[0]
        .as_str()
        .unwrap()
        .ends_with("-v7"));

    // The shared base layer (same gzip bytes from both archives and the layout) went up once.
    let base_digest = image_a.blobs[1].descriptor.digest.clone();
    let mut outcomes = recorder.outcomes(&base_digest);
    outcomes.sort_by_key(|o| *o as u8);
    assert_eq!(
        outcomes,
        [
            BlobOutcome::Mounted,
            BlobOutcome::Mounted,
            BlobOutcome::Uploaded
        ]
    );
    let mounts = emulators.requests("POST /v2/stack/");
    let mounts: Vec<_> = mounts
        .iter()
        .filter(|l| l.contains(&format!("mount={base_digest}")))
        .collect();
    assert_eq!(mounts.len(), 2, "{mounts:?}");
    assert!(mounts.iter().all(|l| l.contains("\" 201 ")), "{mounts:?}");
    // Uploaded, each blob in one streamed PATCH: the base layer once, three configs and three
    // own layers.
    assert_eq!(emulators.requests("PATCH ").len(), 1 + 3 + 3);

    // Progress adds up to each image's total.
    for function in ["FunctionA", "FunctionB", "FunctionC"] {
        let events = recorder.0.borrow();
        let total = events.iter().find_map(|e| match e {
            Event::Start { name, total } if name == function => Some(*total),
            _ => None,
        });
        let done: u64 = events
            .iter()
            .filter_map(|e| match e {
                Event::Progress { name, bytes } if name == function => Some(*bytes),
                _ => None,
            })
            .sum();
        assert_eq!(total, Some(done), "{function}");
    }

    // A second run finds every manifest in place and uploads nothing.
    let writes_before = emulators.requests("PATCH ").len() + emulators.requests("POST ").len();
    let again = Recorder::default();
    let repushed = emulators.push(jobs, &again, None).await.unwrap();
    assert_eq!(repushed, pushed);
    assert_eq!(
        emulators.requests("PATCH ").len() + emulators.requests("POST ").len(),
        writes_before
    );
    assert_eq!(
        emulators.requests("PUT ").len(),
        7 + 3,
        "7 blobs and 3 manifests, all in the first run"
    );
    assert!(again
        .0
        .borrow()
        .iter()
        .all(|e| !matches!(e, Event::Blob { .. })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_platform_fails_before_any_upload() {
    let Some(emulators) = start() else { return };
    let seed = unique();
    let dir = emulators.dir.path();
    let archive = dir.join("ok.tar");
    docker_archive(
        &archive,
        &[layer_tar(&format!("ok-{seed}"), 1000)],
        "amd64",
        ArchiveLayout::Dockerd,
    );
    let layout = dir.join("arm-only");
    oci_layout(
        &layout,
        "v1",
        &[("arm64", vec![layer_tar(&format!("arm-{seed}"), 1000)])],
    );
    let jobs = vec![
        job("Ok", ImageSource::DockerArchive(archive), "stack/ok"),
        job(
            "ArmOnly",
            image_source(&format!("oci:{}", layout.display())).unwrap(),
            "stack/armonly",
        ),
    ];
    let err = emulators
        .push(jobs, &Recorder::default(), None)
        .await
        .unwrap_err();
    assert!(
        format!("{err:#}").contains("has no linux/amd64 manifest (it has: linux/arm64)"),
        "{err:#}"
    );
    let catalog = emulators.curl(&[&format!(
        "http://127.0.0.1:{}/v2/_catalog",
        emulators.registry_port
    )]);
    assert_eq!(catalog.trim(), r#"{"repositories":[]}"#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_to_a_remote_endpoint_is_refused() {
    let config = aws_sdk_ecr::Config::builder()
        .behavior_version(aws_sdk_ecr::config::BehaviorVersion::latest())
        .region(aws_sdk_ecr::config::Region::new("us-east-1"))
        .build();
    let ecr = aws_sdk_ecr::Client::from_conf(config);
    let options = Options {
        endpoint: Some("http://192.0.2.1:5000".into()),
        ..Options::default()
    };
    let jobs = vec![job(
        "F",
        ImageSource::DockerArchive("missing.tar".into()),
        "r",
    )];
    let err = push_with(
        &ecr,
        &direct_transport(),
        jobs,
        &Recorder::default(),
        options,
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("plain HTTP to a non-loopback host"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_an_image_from_the_container_engine() {
    let docker_host =
        std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into());
    if engine_curl(&docker_host, &[], "/_ping") != "OK" {
        eprintln!("skipped: no container engine answers at {docker_host}; start `podman system service` and export DOCKER_HOST");
        return;
    }
    let Some(emulators) = start() else { return };
    let seed = unique();
    let reference = format!("samrs-it-{seed}:python3.12-v1");
    let archive = emulators.dir.path().join("engine.tar");
    let layers = [layer_tar(&format!("engine-{seed}"), 5000)];
    tagged_docker_archive(
        &archive,
        &reference,
        &layers,
        "amd64",
        ArchiveLayout::Dockerd,
    );
    let loaded = engine_curl(
        &docker_host,
        &[
            "-X",
            "POST",
            "-H",
            "Content-Type: application/x-tar",
            "--data-binary",
            &format!("@{}", archive.display()),
        ],
        "/images/load",
    );
    assert!(loaded.contains("Loaded image"), "{loaded}");
    let inspect = engine_curl(&docker_host, &[], &format!("/images/{reference}/json"));
    let id = serde_json::from_str::<serde_json::Value>(&inspect).unwrap()["Id"]
        .as_str()
        .unwrap()
        .to_string();

    let jobs = vec![job(
        "EngineFunction",
        image_source(&reference).unwrap(),
        "stack/engine",
    )];
    let pushed = emulators.push(jobs, &Recorder::default(), None).await;
    engine_curl(
        &docker_host,
        &["-X", "DELETE"],
        &format!("/images/{reference}"),
    );

    let pushed = pushed.unwrap();
    let tag = sam_tag(&format!("samrs-it-{seed}"), &id, Some("python3.12-v1"));
    assert_eq!(emulators.tags("stack/engine"), serde_json::json!([tag]));
    assert_eq!(
        emulators.manifest_digest("stack/engine", &tag),
        pushed[0].digest
    );
}

/// A registry that goes quiet is reported through the reporter, with what samrs waits for; one
/// that stays quiet past the patience is abandoned and the call retried.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiet_registry_is_reported_and_a_silent_one_retried() {
    let Some(emulators) = start() else { return };
    let seed = unique();
    let archive = emulators.dir.path().join("quiet.tar");
    docker_archive(
        &archive,
        &[layer_tar(&format!("quiet-{seed}"), 1000)],
        "amd64",
        ArchiveLayout::Dockerd,
    );
    let proxy = emulators.fault_proxy(serde_json::json!([
        // Held long enough to be reported, answered in time.
        {"match": "^registry:PUT /v2/.*/manifests/", "fault": "delay", "seconds": 0.8, "times": 1},
        // Held past the patience: abandoned, then retried.
        {"match": "^registry:HEAD /v2/.*/manifests/", "fault": "delay", "seconds": 3, "times": 1},
    ]));
    let options = Options {
        endpoint: Some(proxy.endpoint()),
        patience: Patience {
            report_after: Duration::from_millis(300),
            give_up_after: Duration::from_millis(1500),
            connect: Duration::from_secs(5),
        },
        ..emulators.options()
    };
    let recorder = Recorder::default();
    let jobs = vec![job(
        "Quiet",
        ImageSource::DockerArchive(archive),
        "stack/quiet",
    )];
    let pushed = emulators
        .push(jobs, &recorder, Some(options))
        .await
        .unwrap();
    assert_eq!(
        emulators.manifest_digest(
            "stack/quiet",
            emulators.tags("stack/quiet")[0].as_str().unwrap()
        ),
        pushed[0].digest
    );
    let waits: Vec<(String, Duration)> = recorder
        .0
        .borrow()
        .iter()
        .filter_map(|e| match e {
            Event::Waiting { what, quiet, .. } => Some((what.clone(), *quiet)),
            _ => None,
        })
        .collect();
    let about = |needle: &str| {
        waits
            .iter()
            .filter(|(what, _)| what.contains(needle))
            .count()
    };
    assert!(
        about("putting the manifest of stack/quiet:") >= 1,
        "{waits:?}"
    );
    assert!(
        about("looking up stack/quiet:") >= 2,
        "reported at 0.3 s and 0.6 s: {waits:?}"
    );
    let registry = format!(
        "the registry {} (Quiet: ",
        &proxy.endpoint()["http://".len()..]
    );
    assert!(
        waits.iter().all(
            |(what, quiet)| what.starts_with(&registry) && *quiet >= Duration::from_millis(300)
        ),
        "{waits:?}"
    );
}

/// The first image that fails ends the push at once; the others do not run on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_failing_image_stops_the_others() {
    let Some(emulators) = start() else { return };
    let seed = unique();
    let dir = emulators.dir.path();
    let mut jobs = Vec::new();
    for name in ["fail", "slow"] {
        let archive = dir.join(format!("{name}.tar"));
        let layer = layer_tar(&format!("{name}-{seed}"), 1000);
        docker_archive(&archive, &[layer], "amd64", ArchiveLayout::Dockerd);
        let repo = format!("stack/{name}");
        jobs.push(job(name, ImageSource::DockerArchive(archive), &repo));
    }
    let proxy = emulators.fault_proxy(serde_json::json!([
        {"match": "^registry:PUT /v2/stack/fail/manifests/", "fault": "401", "times": null},
        {"match": "^registry:HEAD /v2/stack/slow/manifests/", "fault": "delay", "seconds": 20, "times": 1},
    ]));
    let options = Options {
        endpoint: Some(proxy.endpoint()),
        ..emulators.options()
    };
    let started = std::time::Instant::now();
    let err = emulators
        .push(jobs, &Recorder::default(), Some(options))
        .await
        .unwrap_err();
    assert!(
        format!("{err:#}").contains("putting the manifest of stack/fail:"),
        "{err:#}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}
