//! Permission engine benchmark: 10,000 folders up to 12 deep, 50,000 rules, 1,000 users in
//! 100 groups. Measures one decision, filtering a 1,000-file result list, the bulk
//! "readable folders" set and building the snapshot; also prints decision latency
//! percentiles (p50/p99) measured call by call.
//!
//! Run: `cargo bench --bench permissions`

use std::hint::black_box;
use std::time::Instant;

use coffer::permissions::{
    Actor, FileRef, FolderNode, Grant, Policy, Principal, Right, Rule, Scope, Snapshot,
};
use criterion::{Criterion, criterion_group};

const FOLDERS: i64 = 10_000;
const MAX_DEPTH: usize = 12;
const RULES: i64 = 50_000;
const USERS: i64 = 1_000;
const GROUPS: i64 = 100;

/// xorshift64*: deterministic, dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

struct World {
    folders: Vec<FolderNode>,
    rules: Vec<Rule>,
    memberships: Vec<(i64, i64)>,
}

fn world() -> World {
    let mut rng = Rng(0x5eed_cafe);
    let mut folders = Vec::with_capacity(FOLDERS as usize);
    let mut depth = vec![0usize; FOLDERS as usize + 1];
    for id in 1..=FOLDERS {
        // Attach to a random earlier folder that is not yet at the maximum depth.
        let parent = if id <= 20 {
            None
        } else {
            let mut p = 1 + rng.below((id - 1) as u64) as i64;
            while depth[p as usize] + 1 >= MAX_DEPTH {
                p = 1 + rng.below((id - 1) as u64) as i64;
            }
            Some(p)
        };
        depth[id as usize] = parent.map_or(0, |p| depth[p as usize] + 1);
        let owner = (rng.below(10) == 0).then(|| 1 + rng.below(USERS as u64) as i64);
        folders.push(FolderNode {
            id,
            parent_id: parent,
            owner_id: owner,
        });
    }
    let grant = |rng: &mut Rng| match rng.below(4) {
        0 => Grant::Deny,
        1 => Grant::Inherit,
        _ => Grant::Allow,
    };
    let mut rules = Vec::with_capacity(RULES as usize);
    for id in 1..=RULES {
        let folder_id = (rng.below(200) != 0).then(|| 1 + rng.below(FOLDERS as u64) as i64);
        let scope = match (folder_id, rng.below(3)) {
            (None, _) => Scope::All,
            (_, 0) => Scope::This,
            _ => Scope::Children,
        };
        let principal = match rng.below(10) {
            0..=5 => Principal::User(1 + rng.below(USERS as u64) as i64),
            6..=8 => Principal::Group(1 + rng.below(GROUPS as u64) as i64),
            _ => Principal::Everybody,
        };
        rules.push(Rule {
            id,
            folder_id,
            scope,
            principal,
            read: grant(&mut rng),
            edit: grant(&mut rng),
            add_children: grant(&mut rng),
        });
    }
    let mut memberships = Vec::new();
    for user in 1..=USERS {
        for _ in 0..rng.below(4) {
            memberships.push((1 + rng.below(GROUPS as u64) as i64, user));
        }
    }
    World {
        folders,
        rules,
        memberships,
    }
}

fn actor(user: i64) -> Actor {
    Actor {
        user_id: user,
        is_active: true,
        is_superuser: false,
    }
}

fn percentiles(snapshot: &Snapshot, policy: Policy) {
    let mut rng = Rng(42);
    let mut samples = Vec::with_capacity(200_000);
    for _ in 0..200_000 {
        let a = actor(1 + rng.below(USERS as u64) as i64);
        let file = FileRef {
            owner_id: Some(0),
            folder_id: Some(1 + rng.below(FOLDERS as u64) as i64),
        };
        let start = Instant::now();
        black_box(snapshot.file_decision(policy, Some(&a), file, Right::Read));
        samples.push(start.elapsed().as_nanos() as u64);
    }
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q) as usize] as f64 / 1000.0;
    println!(
        "decision latency over {} calls: p50 {:.2} µs, p90 {:.2} µs, p99 {:.2} µs, p99.9 {:.2} µs, max {:.2} µs",
        samples.len(),
        at(0.50),
        at(0.90),
        at(0.99),
        at(0.999),
        at(1.0)
    );
}

fn benches(c: &mut Criterion) {
    let w = world();
    let build_start = Instant::now();
    let snapshot = Snapshot::new(w.folders.clone(), w.rules.clone(), w.memberships.clone());
    println!(
        "snapshot of {FOLDERS} folders, {RULES} rules built in {:?}",
        build_start.elapsed()
    );
    let policy = Policy {
        enable_permissions: true,
    };
    percentiles(&snapshot, policy);

    let mut rng = Rng(7);
    let queries: Vec<(Actor, FileRef)> = (0..4096)
        .map(|_| {
            (
                actor(1 + rng.below(USERS as u64) as i64),
                FileRef {
                    owner_id: Some(0),
                    folder_id: Some(1 + rng.below(FOLDERS as u64) as i64),
                },
            )
        })
        .collect();
    let mut i = 0;
    c.bench_function("decision: read one file", |b| {
        b.iter(|| {
            let (a, f) = &queries[i % queries.len()];
            i += 1;
            black_box(snapshot.file_decision(policy, Some(a), *f, Right::Read))
        })
    });

    let listing: Vec<FileRef> = (0..1000)
        .map(|_| FileRef {
            owner_id: Some(0),
            folder_id: Some(1 + rng.below(FOLDERS as u64) as i64),
        })
        .collect();
    let reader = actor(17);
    c.bench_function("listing filter: 1,000 files in random folders", |b| {
        b.iter(|| {
            listing
                .iter()
                .filter(|f| {
                    snapshot
                        .file_decision(policy, Some(&reader), **f, Right::Read)
                        .allowed
                })
                .count()
        })
    });
    c.bench_function("bulk: every folder a user may read", |b| {
        b.iter(|| black_box(snapshot.folders_with(policy, Some(&reader), Right::Read)))
    });
    c.bench_function("snapshot: build from 10k folders and 50k rules", |b| {
        b.iter(|| Snapshot::new(w.folders.clone(), w.rules.clone(), w.memberships.clone()))
    });
}

criterion_group! {
    name = group;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3));
    targets = benches
}

fn main() {
    group();
    Criterion::default().configure_from_args().final_summary();
}
