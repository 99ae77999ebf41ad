//! A contender's own pools and server: a peer's `/book`, maitred end to end in this process
//! (intake, RabbitMQ, the worker), or maitred as separate API and worker processes. The steady
//! and peak-event benchmarks start and stop them alike.

use super::*;
use crate::peers::{peer_book, Peer, PeerState};
use crate::support::MaitredProcesses;

/// The contender that runs maitred as this many `maitred serve` and `maitred work` processes.
pub(crate) const PROCESSES_CONTENDER: &str = "maitred_processes";
const PROCESSES: u16 = 3;

pub(crate) struct Served {
    /// Where bookings are posted: one server, or each API process.
    pub(crate) urls: Vec<String>,
    /// The pools this process opened (none for separate processes, which open their own).
    pools: Vec<PgPool>,
    peer: Option<(
        tokio::task::JoinHandle<()>,
        tokio_util::sync::CancellationToken,
    )>,
    maitred: Option<Maitred>,
    processes: Option<MaitredProcesses>,
}

/// Opens the contender's pools of `pool` connections in all (maitred's workers get
/// `worker_pool` of them to themselves, as `maitred up` gives them a pool of their own; 0: one
/// shared pool) and starts its server.
pub(crate) async fn serve_contender(
    name: &str,
    db_url: &str,
    (pool_size, worker_pool_size): (u32, u32),
    (partitions, prefetch): (u16, u16),
) -> Served {
    if name == PROCESSES_CONTENDER {
        // The in-process contender's split, shared out: each API process gets its share of
        // intake's connections, each worker its share of the workers' and two for its relay,
        // emails and payments (so 24 connections for 20 by default).
        let intake_share =
            (pool_size.saturating_sub(worker_pool_size) / u32::from(PROCESSES)).max(2);
        let worker_share = worker_pool_size / u32::from(PROCESSES) + 2;
        let processes = MaitredProcesses::start(
            db_url,
            (partitions, prefetch),
            PROCESSES,
            (intake_share, worker_share),
        )
        .await;
        return Served {
            urls: processes.urls.clone(),
            pools: Vec::new(),
            peer: None,
            maitred: None,
            processes: Some(processes),
        };
    }
    let split = name == "maitred" && worker_pool_size > 0 && worker_pool_size < pool_size;
    let intake_size = if split {
        pool_size - worker_pool_size
    } else {
        pool_size
    };
    let pool = fair_pool(db_url, intake_size).await;
    let worker_pool = if split {
        fair_pool(db_url, worker_pool_size).await
    } else {
        pool.clone()
    };
    if let Some(peer) = Peer::named(name) {
        let app = Router::new()
            .route("/book", post(peer_book))
            .with_state(PeerState {
                peer,
                pool: pool.clone(),
            });
        let (addr, server, stop) = serve(app).await;
        return Served {
            urls: vec![format!("http://{addr}/book")],
            pools: vec![pool, worker_pool],
            peer: Some((server, stop)),
            maitred: None,
            processes: None,
        };
    }
    let maitred = Maitred::start(
        Store::new(pool.clone()),
        Store::new(worker_pool.clone()),
        partitions,
        1_000_000,
        prefetch,
    )
    .await;
    Served {
        urls: vec![maitred.url.clone()],
        pools: vec![pool, worker_pool],
        peer: None,
        maitred: Some(maitred),
        processes: None,
    }
}

impl Served {
    /// Stops the server (and maitred's tasks or processes, and its topology), then closes the
    /// pools.
    pub(crate) async fn stop(self) {
        if let Some((server, stop)) = self.peer {
            stop.cancel();
            server.await.unwrap();
        }
        if let Some(maitred) = self.maitred {
            maitred.stop().await;
        }
        if let Some(processes) = self.processes {
            processes.stop().await;
        }
        for pool in self.pools {
            pool.close().await;
        }
    }
}
