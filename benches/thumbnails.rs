//! Thumbnail speed of Coffer's code path (header probe, limits, DCT-scaled JPEG decode,
//! SIMD Lanczos resize, JPEG encode), one image at a time on one thread. Driven by
//! `scripts/bench-thumbnails.sh`, which runs the baselines on the same photos:
//!
//! `cargo bench --bench thumbnails -- --size 256 --rounds 5 photo1.jpg photo2.jpg …`
//! (`--admin` instead of `--size`: the six admin presets of each photo from one decode, as
//! after an upload.)
//!
//! Prints one line per image: `<file>\t<median ms>`, then `peak_rss_kib\t<VmHWM>`.

use std::time::{Duration, Instant};

use coffer::images::decode::Deadline;
use coffer::images::{self, Format, Limits, OutputFormat, ThumbnailSpec};

fn main() {
    let mut size = 256u32;
    let mut rounds = 5usize;
    let mut admin = false;
    let mut files = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--size" => size = args.next().and_then(|v| v.parse().ok()).unwrap_or(size),
            "--rounds" => rounds = args.next().and_then(|v| v.parse().ok()).unwrap_or(rounds),
            "--admin" => admin = true,
            "--stages" => STAGES.store(true, std::sync::atomic::Ordering::Relaxed),
            "--bench" => {}
            other => files.push(other.to_owned()),
        }
    }
    let specs: Vec<ThumbnailSpec> = if admin {
        images::Preset::admin()
            .iter()
            .map(|p| p.spec(None))
            .collect()
    } else {
        vec![ThumbnailSpec {
            width: size,
            height: size,
            crop: false,
            upscale: false,
            subject: None,
            quality: 85,
            format: OutputFormat::Jpeg,
        }]
    };
    let limits = Limits::default();
    for path in &files {
        let mut times = Vec::with_capacity(rounds);
        for _ in 0..rounds {
            let started = Instant::now();
            let bytes = thumbnails(path, &specs, &limits);
            times.push(started.elapsed());
            std::hint::black_box(bytes);
        }
        times.sort();
        println!(
            "{path}\t{:.2}",
            times[times.len() / 2].as_secs_f64() * 1000.0
        );
    }
    let peak = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .map(|v| v.trim().trim_end_matches("kB").trim().to_owned())
        })
        .unwrap_or_default();
    println!("peak_rss_kib\t{peak}");
}

/// With `--stages`, each stage's time goes to stderr.
static STAGES: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn stage(name: &str, since: &mut Instant) {
    if STAGES.load(std::sync::atomic::Ordering::Relaxed) {
        eprintln!("  {name}: {:.2} ms", since.elapsed().as_secs_f64() * 1000.0);
    }
    *since = Instant::now();
}

/// What a thumbnail job does, minus the database and the storage writes: one decode at the
/// size the largest spec needs, then every spec.
fn thumbnails(path: &str, specs: &[ThumbnailSpec], limits: &Limits) -> Vec<Vec<u8>> {
    let mut t = Instant::now();
    let file = std::fs::File::open(path).expect("open");
    let probe = images::probe(file.try_clone().expect("clone"), Format::Jpeg).expect("probe");
    limits
        .check_dimensions(probe.stored_width, probe.stored_height)
        .expect("limits");
    let need = specs
        .iter()
        .map(|s| images::render::decode_size((probe.width, probe.height), s))
        .fold((1, 1), |a, b| (a.0.max(b.0), a.1.max(b.1)));
    let mut file = file;
    std::io::Seek::rewind(&mut file).expect("rewind");
    let decoded = images::decode(
        file,
        &probe,
        need,
        limits,
        Deadline::after(Duration::from_secs(30)),
    )
    .expect("decode");
    stage("probe + decode", &mut t);
    let out = specs
        .iter()
        .map(|s| images::render(&decoded, s).expect("render").bytes)
        .collect();
    stage("resize + encode", &mut t);
    out
}
