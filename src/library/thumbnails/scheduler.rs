//! The thumbnail scheduler: a bounded number of jobs at once (slots shared by the
//! background queue, requests and commands), one job per thumbnail at a time (a request for
//! a thumbnail being made waits for that job instead of starting another), and the
//! background queue that makes the eager presets after uploads. Its worker threads start
//! when work arrives and stop after a short idle time.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// How long an idle background worker waits for work before it stops.
const WORKER_IDLE: Duration = Duration::from_secs(2);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How a finished job ended, as seen by those who waited for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FlightEnd {
    /// The thumbnail is recorded.
    Done,
    /// The image cannot be thumbnailed (the reason is recorded).
    Failed(String),
    /// Something went wrong that may not happen again (storage, database, overload).
    Error(String),
}

/// One thumbnail being made.
#[derive(Debug, Default)]
pub struct Flight {
    end: Mutex<Option<FlightEnd>>,
    finished: Condvar,
}

impl Flight {
    /// Waits until the job that owns this flight ends.
    pub fn wait(&self) -> FlightEnd {
        let mut end = lock(&self.end);
        loop {
            if let Some(e) = end.as_ref() {
                return e.clone();
            }
            end = self
                .finished
                .wait(end)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// A flight this job owns. Dropping it without [`OwnedFlight::finish`] (an early return or
/// a panic) ends it with an error, so nobody waits forever.
pub struct OwnedFlight {
    key: (i64, String),
    flight: Arc<Flight>,
    scheduler: Arc<Inner>,
    done: bool,
}

impl OwnedFlight {
    /// The spec key this flight makes.
    pub fn spec(&self) -> &str {
        &self.key.1
    }

    /// Ends the flight and wakes the waiters.
    pub fn finish(mut self, end: FlightEnd) {
        self.end(end);
    }

    fn end(&mut self, end: FlightEnd) {
        if self.done {
            return;
        }
        self.done = true;
        lock(&self.scheduler.flights).remove(&self.key);
        *lock(&self.flight.end) = Some(end);
        self.flight.finished.notify_all();
    }
}

impl Drop for OwnedFlight {
    fn drop(&mut self) {
        self.end(FlightEnd::Error("the thumbnail job stopped early".into()));
    }
}

/// A claim on one thumbnail: made by this job, or by another one already running.
pub enum Claim {
    Mine(OwnedFlight),
    Theirs(Arc<Flight>),
}

/// A running-job slot; released on drop.
pub struct Slot {
    scheduler: Arc<Inner>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        *lock(&self.scheduler.free_slots) += 1;
        self.scheduler.slot_freed.notify_one();
    }
}

#[derive(Default)]
struct Queue {
    pending: VecDeque<i64>,
    queued: HashSet<i64>,
    busy: usize,
    workers: usize,
}

struct Inner {
    free_slots: Mutex<usize>,
    slot_freed: Condvar,
    flights: Mutex<HashMap<(i64, String), Arc<Flight>>>,
    queue: Mutex<Queue>,
    work_arrived: Condvar,
    idle: Condvar,
    max_workers: usize,
}

/// See the module documentation. Knows nothing of what a job does: the background queue
/// runs the function it is given.
#[derive(Clone)]
pub struct Scheduler {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler").finish_non_exhaustive()
    }
}

impl Scheduler {
    /// A scheduler with `concurrency` slots. The background queue uses at most one slot
    /// fewer (but at least one), so requests always find room to start.
    pub fn new(concurrency: usize) -> Self {
        let slots = concurrency.max(1);
        Self {
            inner: Arc::new(Inner {
                free_slots: Mutex::new(slots),
                slot_freed: Condvar::new(),
                flights: Mutex::new(HashMap::new()),
                queue: Mutex::new(Queue::default()),
                work_arrived: Condvar::new(),
                idle: Condvar::new(),
                max_workers: slots.saturating_sub(1).max(1),
            }),
        }
    }

    /// Takes a slot, waiting at most `wait` (forever with `None`).
    pub fn slot(&self, wait: Option<Duration>) -> Option<Slot> {
        let until = wait.map(|w| Instant::now() + w);
        let mut free = lock(&self.inner.free_slots);
        loop {
            if *free > 0 {
                *free -= 1;
                return Some(Slot {
                    scheduler: self.inner.clone(),
                });
            }
            free = match until {
                None => self
                    .inner
                    .slot_freed
                    .wait(free)
                    .unwrap_or_else(PoisonError::into_inner),
                Some(until) => {
                    let left = until.checked_duration_since(Instant::now())?;
                    self.inner
                        .slot_freed
                        .wait_timeout(free, left)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
        }
    }

    /// Claims the thumbnail `spec` of `file_id`: ours to make, or a running job's to wait for.
    pub fn claim(&self, file_id: i64, spec: &str) -> Claim {
        let key = (file_id, spec.to_owned());
        let mut flights = lock(&self.inner.flights);
        if let Some(running) = flights.get(&key) {
            return Claim::Theirs(running.clone());
        }
        let flight = Arc::new(Flight::default());
        flights.insert(key.clone(), flight.clone());
        Claim::Mine(OwnedFlight {
            key,
            flight,
            scheduler: self.inner.clone(),
            done: false,
        })
    }

    /// Queues `file_id` for the background workers, which call `job` with it (a worker
    /// started now takes this `job`; one already running keeps its own).
    pub fn enqueue<J>(&self, file_id: i64, job: J)
    where
        J: Fn(i64) + Send + 'static,
    {
        let mut q = lock(&self.inner.queue);
        if q.queued.insert(file_id) {
            q.pending.push_back(file_id);
        }
        let idle_workers = q.workers.saturating_sub(q.busy);
        if idle_workers < q.pending.len() && q.workers < self.inner.max_workers {
            let inner = self.inner.clone();
            match std::thread::Builder::new()
                .name("coffer-thumbnails".into())
                .spawn(move || worker(inner, job))
            {
                Ok(_) => q.workers += 1,
                Err(e) => tracing::error!(error = %e, "cannot start a thumbnail worker"),
            }
        }
        self.inner.work_arrived.notify_one();
    }

    /// Files waiting in the background queue or being worked on.
    pub fn backlog(&self) -> usize {
        let q = lock(&self.inner.queue);
        q.pending.len() + q.busy
    }

    /// Waits until the background queue is empty and no background job runs.
    pub fn wait_idle(&self) {
        let mut q = lock(&self.inner.queue);
        while !q.pending.is_empty() || q.busy > 0 {
            if q.workers == 0 {
                // Nobody to do the work (a worker could not start): give up waiting.
                return;
            }
            q = self
                .inner
                .idle
                .wait_timeout(q, Duration::from_millis(200))
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

fn worker(inner: Arc<Inner>, job: impl Fn(i64)) {
    loop {
        let file_id = {
            let mut q = lock(&inner.queue);
            loop {
                if let Some(id) = q.pending.pop_front() {
                    q.queued.remove(&id);
                    q.busy += 1;
                    break id;
                }
                let (next, timeout) = inner
                    .work_arrived
                    .wait_timeout(q, WORKER_IDLE)
                    .unwrap_or_else(PoisonError::into_inner);
                q = next;
                if timeout.timed_out() && q.pending.is_empty() {
                    q.workers -= 1;
                    inner.idle.notify_all();
                    return;
                }
            }
        };
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(file_id)));
        if outcome.is_err() {
            tracing::error!(file_id, "a thumbnail job panicked");
        }
        let mut q = lock(&inner.queue);
        q.busy -= 1;
        if q.pending.is_empty() && q.busy == 0 {
            inner.idle.notify_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_flight_per_thumbnail() {
        let t = Scheduler::new(2);
        let Claim::Mine(mine) = t.claim(1, "40x40_crop_q85") else {
            panic!("the first claim owns the flight")
        };
        let Claim::Theirs(theirs) = t.claim(1, "40x40_crop_q85") else {
            panic!("the second claim waits")
        };
        assert!(matches!(t.claim(2, "40x40_crop_q85"), Claim::Mine(_)));
        let waiter = std::thread::spawn(move || theirs.wait());
        std::thread::sleep(Duration::from_millis(50));
        mine.finish(FlightEnd::Failed("broken".into()));
        assert_eq!(waiter.join().unwrap(), FlightEnd::Failed("broken".into()));
        // Finished flights are forgotten: the next claim starts a new job.
        assert!(matches!(t.claim(1, "40x40_crop_q85"), Claim::Mine(_)));
    }

    #[test]
    fn a_dropped_flight_releases_its_waiters() {
        let t = Scheduler::new(1);
        let Claim::Mine(mine) = t.claim(1, "k") else {
            panic!()
        };
        let Claim::Theirs(theirs) = t.claim(1, "k") else {
            panic!()
        };
        drop(mine);
        assert!(matches!(theirs.wait(), FlightEnd::Error(_)));
    }

    #[test]
    fn slots_are_bounded() {
        let t = Scheduler::new(2);
        let a = t.slot(None).unwrap();
        let _b = t.slot(None).unwrap();
        let started = Instant::now();
        assert!(t.slot(Some(Duration::from_millis(50))).is_none());
        assert!(started.elapsed() >= Duration::from_millis(50));
        drop(a);
        assert!(t.slot(Some(Duration::from_millis(50))).is_some());
    }
}
